"""Plan templates from a catalog (compiled on the fly) or from a file written by `dro compile`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsl import compile_catalog
from dsl.compiler import KIND, SCHEMA_VERSION, content_hash
from dsl.diagnostics import Diagnostic, error
from dsl.limits import MAX_FILE_BYTES
from dsl.project import project_of
from dsl.schemas import validator
from dsl.sources import PROJECT_FILE, Sources, collect, display_path


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
    global _last
    key = _catalog_key(path)
    if key is not None and _last is not None and _last[0] == key:
        return _copy(_last[1])
    result = compile_catalog([path])
    loaded = TemplatesResult(result.templates, result.diagnostics, result.sources, result.usage_error)
    kept = key is not None and result.templates is not None and _catalog_key(path) == key  # unchanged meanwhile
    _last = (key, _copy(loaded)) if kept else None  # type: ignore[assignment]
    return loaded


# The last catalog compiled, by what compiling it read: a process that plans order after order (the
# in-process API, `dro test`) compiles its catalog once, and its plans share one templates object, so that
# what planning prepares of them (prepared.py) is made once too. Templates are never changed once compiled.
_last: tuple[tuple[object, ...], TemplatesResult] | None = None


def _catalog_key(path: Path) -> tuple[object, ...] | None:
    """All that compiling the catalog at `path` depends on: the working directory (diagnostics show paths
    relative to it), the path, and the name and bytes of every file it reads. None: a catalog not to keep
    (a missing path, a directory without catalog files, a file that cannot be read)."""
    files, problems = collect([path])
    if problems:
        return None
    root = project_of([path])
    read = [file for file, _ in files] + ([root / PROJECT_FILE] if root is not None else [])
    try:
        contents = tuple((str(file), _read(file)) for file in read)
    except OSError:
        return None
    return os.getcwd(), str(path), str(path.resolve()), contents


def _read(file: Path) -> bytes:
    with file.open("rb") as opened:
        return opened.read(MAX_FILE_BYTES + 1)  # as compiling reads it: never more


def _copy(result: TemplatesResult) -> TemplatesResult:
    """The same templates; lists and sources of its own, which callers may add to."""
    return TemplatesResult(result.templates, list(result.diagnostics), Sources(dict(result.sources.texts)),
                           result.usage_error)


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
