"""The plans of an order's later revisions: `plan.r2.json`, `plan.r3.json`, ... beside `plan.json` (revision 1).

A revision's plan is written atomically before its `plan.amended` record is journaled; until that
record is durable the file belongs to no revision, and the next amendment writes it again. Each is
read back only through the record that names it, and refused (DRO516) unless its sha256 is the one
the record holds: a plan changed on disk would run what nobody planned.

A revision's file holds what changed since the revision before it (kind `dro/plan-delta`): the plan
without its steps, the ids of its steps in plan order, and only the step instances that are not the
previous revision's as they were. An amendment of one line of a 10,000-step order keeps nearly every
instance: writing the whole plan again (7 MB) cost more than reconciling it. The file is read on the
plan of the revision before, which the engine holds when it folds `plan.amended`; a whole plan (kind
`dro/plan`, written by dro before the delta) is still read as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dro_cli.engine.revisions import RevisionLoader
from dro_cli.errors import EXIT_FAILED, DroError
from dro_cli.journal.file import STATE_ELSEWHERE
from dro_cli.journal.files import read_regular, write_file
from dro_cli.journal.path_errors import about_path

DELTA_KIND = "dro/plan-delta"
DELTA_VERSION = 1


def revision_file(order_dir: Path, revision: int) -> Path:
    return order_dir / f"plan.r{revision}.json"


def write_revision(order_dir: Path, plan: Mapping[str, Any], base: Mapping[str, Any]) -> str:
    """Write the revision's plan, as its delta from `base` (the plan of the revision before), atomically and
    durably; its sha256, for the `plan.amended` record."""
    text = plan_text(delta(plan, base))
    write_file(revision_file(order_dir, plan["revision"]), text,
               then="nothing was journaled: the order is still at its last revision", elsewhere=STATE_ELSEWHERE)
    return hashlib.sha256(text.encode()).hexdigest()


def delta(plan: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """What `apply_delta(delta(plan, base), base)` makes `plan` again from: the instances of `plan` that are
    not `base`'s. A kept instance is the running plan's own object (planning/amendment.py), so identity says
    so at once; any other is compared."""
    before = {step["id"]: step for step in base["steps"]}
    changed = [step for step in plan["steps"]
               if (old := before.get(step["id"])) is not step and old != step]
    return {"kind": DELTA_KIND, "schema_version": DELTA_VERSION, "revision": plan["revision"],
            "base_revision": base.get("revision", 1),
            "plan": {key: value for key, value in plan.items() if key != "steps"},
            "order": [step["id"] for step in plan["steps"]], "steps": changed}


def apply_delta(data: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """The plan `data` (a delta) makes of `base`; ValueError if it is not the delta of that plan."""
    if data.get("schema_version") != DELTA_VERSION or data.get("base_revision") != base.get("revision", 1):
        raise ValueError(f"a plan delta of version {data.get('schema_version')} on revision "
                         f"{data.get('base_revision')}, read on revision {base.get('revision', 1)}")
    fresh = {step["id"]: step for step in data["steps"]}
    before = {step["id"]: step for step in base["steps"]}
    steps = [fresh[sid] if sid in fresh else before[sid] for sid in data["order"]]
    return {**data["plan"], "steps": steps}


def plan_text(plan: Mapping[str, Any]) -> str:
    """The plan as compact JSON, its keys sorted, written by the C encoder in one call: an indented plan of
    10,000 steps is walked in Python, four times slower, and `jq` indents it for a reader."""
    return json.dumps(plan, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      check_circular=False) + "\n"  # a plan is a tree: no cycle to look for


def loader(order_dir: Path) -> RevisionLoader:
    """What the engine reads a revision's plan with, for this order's directory."""
    def load(revision: int, sha256: str, base: Mapping[str, Any]) -> Mapping[str, Any]:
        path = revision_file(order_dir, revision)
        with about_path(path, "read", elsewhere=None):
            data = read_regular(path)
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise DroError(
                f"{path.name} of order {order_dir.name} is not the plan its journal amended it to: its sha256 is "
                f"{actual[:12]}..., plan.amended recorded {sha256[:12]}...", code="DRO516", exit_code=EXIT_FAILED,
                hint=f"{path.name} was changed after the amendment; nothing was written. Restore it from a backup; "
                     "dro neither runs nor shows an order whose plan is not the one journaled")
        read: Mapping[str, Any] = json.loads(data)
        if read.get("kind") == DELTA_KIND:
            try:
                return apply_delta(read, base)
            except (KeyError, TypeError, ValueError) as error:
                raise DroError(f"{path.name} of order {order_dir.name} is not a revision this dro reads: {error}",
                               exit_code=EXIT_FAILED, hint="use the dro that amended the order") from None
        return read  # a whole plan, as dro wrote revisions before the delta
    return load
