"""Plan templates from a catalog (compiled on the fly) or from a file written by `dro compile`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsl import compile_catalog
from dsl.compiler import KIND, SCHEMA_VERSION, content_hash
from dsl.diagnostics import Diagnostic, error
from dsl.schemas import validator
from dsl.sources import Sources, display_path


@dataclass
class TemplatesResult:
    templates: dict[str, Any] | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: Sources = field(default_factory=Sources)
    usage_error: bool = False


def load_templates(path: Path) -> TemplatesResult:
    """A catalog directory or file compiles; a .json file is read as compiled templates."""
    if path.is_file() and path.suffix == ".json":
        return _read_compiled(path)
    result = compile_catalog([path])
    return TemplatesResult(result.templates, result.diagnostics, result.sources, result.usage_error)


def _read_compiled(path: Path) -> TemplatesResult:
    shown = display_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _refuse(f"cannot read templates file '{shown}': {exc}",
                       "give a file written by `dro compile`, or the catalog directory")
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return _refuse(f"'{shown}' is not a plan templates file",
                       "give a file written by `dro compile`, or the catalog directory")
    if data.get("schema_version") != SCHEMA_VERSION:
        return _refuse(f"'{shown}' has templates schema_version {data.get('schema_version')!r}; "
                       f"this dro reads version {SCHEMA_VERSION}",
                       "compile the catalog again with this dro: dro compile CATALOG -o FILE")
    problems = sorted(validator("plan-template").iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        first = problems[0]
        where = "/".join(str(p) for p in first.absolute_path) or "the top level"
        return _refuse(f"'{shown}' does not follow schemas/plan-template.schema.json at {where}: {first.message}",
                       "compile the catalog again: dro compile CATALOG -o FILE")
    if data["hash"] != content_hash(data):
        return _refuse(f"'{shown}' was changed after it was compiled (its content hash does not match)",
                       "compile the catalog again rather than editing the templates file")
    return TemplatesResult(data)


def _refuse(summary: str, hint: str) -> TemplatesResult:
    return TemplatesResult(None, [error("DRO507", summary, hint=hint)], usage_error=True)
