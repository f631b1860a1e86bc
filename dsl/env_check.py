"""Checks of one file's command steps, before its schema check: the variables their `env` passes.

A command gets a small environment (docs/running.md) and the variables its step lists
in `env`, by name. A name that no environment variable can have would fail the step at
run time; one of dro's own (DRO_...) would be replaced by dro's value. A flow runs inside
dro, with dro's environment, so `env` does not apply to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from dsl.diagnostics import Diagnostic, error
from dsl.document import Document, Path

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
DRO_PREFIX = "DRO_"


def check_command_env(doc: Document) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for at, step_id, step in _steps(doc.data):
        listed = step.get("env")
        if "env" not in step:
            continue
        if step.get("type") == "auto" and "flow" in step:
            found.append(error("DRO207", "'env' does not apply to a flow", doc.key_span((*at, "env")),
                               detail=f"Step '{step_id}' runs a flow, which runs inside dro and reads dro's "
                                      "environment itself; `env` chooses what a command gets.",
                               hint="remove it, or run a command instead of the flow"))
            doc.reported.add((*at, "env"))
            continue
        if not isinstance(listed, list):
            continue  # the schema says what it should be
        for i, name in enumerate(listed):
            if isinstance(name, str):
                found.extend(_name_problems(doc, (*at, "env", i), step_id, name))
    return found


def _steps(data: Any) -> Iterator[tuple[Path, str, dict[str, Any]]]:
    groups = data.get("groups") if isinstance(data, dict) else None
    for group_id, group in (groups or {}).items() if isinstance(groups, dict) else ():
        steps = group.get("steps") if isinstance(group, dict) else None
        for step_id, step in (steps or {}).items() if isinstance(steps, dict) else ():
            if isinstance(step, dict):
                yield ("groups", group_id, "steps", step_id), str(step_id), step


def _name_problems(doc: Document, at: Path, step_id: str, name: str) -> Iterator[Diagnostic]:
    if not _NAME.match(name):
        yield error("DRO216", f"bad environment variable name '{name}'", doc.span(at),
                    detail=f"In step '{step_id}', env: a variable name is letters, digits and '_', not starting "
                           "with a digit; `env` lists names only, and the command gets their values from dro's "
                           "environment.",
                    hint=_fix(name))
    elif name.startswith(DRO_PREFIX):
        yield error("DRO217", f"'{name}' is one of dro's own variables", doc.span(at),
                    detail=f"In step '{step_id}', env: dro sets the DRO_ variables of a command itself "
                           "(DRO_ORDER, DRO_STEP, DRO_ATTEMPT, DRO_IDEMPOTENCY_KEY, DRO_ATTEMPT_ID, and DRO_NOW "
                           "when dro runs with it); a variable of that name from dro's environment is never "
                           "passed.",
                    hint="remove it; the command reads dro's value, or give your variable another name")


def _fix(name: str) -> str:
    if "=" in name:
        return f"list the name only: \"{name.partition('=')[0]}\"; the value comes from the environment dro runs in"
    if name.startswith("$"):
        return f"write the name without '$': \"{name.lstrip('${').rstrip('}')}\""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if cleaned and cleaned[0].isdigit():
        cleaned = "_" + cleaned
    return f"for example \"{cleaned}\"" if cleaned else "use letters, digits and '_'"
