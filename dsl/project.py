"""Catalog roots: a directory with a dro.yaml is one catalog, and a run over paths checks each on its own.

As dbt finds its project by dbt_project.yml and Terraform runs in a root module, dro
takes a directory that holds a `dro.yaml` (schemas/project.schema.json: a `name`, and
the catalog's settings as they come) as one catalog: every catalog file below it,
except those below a nested root, which is a catalog of its own. `dro validate PATH`
checks each root found at or below PATH separately; a PATH with no root below it is one
catalog, as before roots, with a hint when its subdirectories look like several.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dsl.catalog import Catalog
from dsl.diagnostics import Diagnostic, plural, warning
from dsl.document import Document
from dsl.document import Path as DocPath
from dsl.schemas import load_schema
from dsl.sources import PROJECT_FILE, Sources, display_path, find_files, find_roots, is_root, read_text


@dataclass(frozen=True)
class Project:
    """A catalog root's dro.yaml."""

    root: Path
    name: str | None  # None when the dro.yaml does not give a usable one


@dataclass(frozen=True)
class Unit:
    """One catalog of a run: what to check together, and its root (None for a directory without dro.yaml,
    or for the files named on the command line)."""

    paths: tuple[Path, ...]
    root: Path | None = None


def catalog_units(paths: Sequence[Path]) -> tuple[list[Unit], list[Diagnostic]]:
    """How a run over `paths` is cut into catalogs: each root found below a directory on its own, a directory
    without roots as one catalog, and the files named as one more; and what is left out."""
    units: list[Unit] = []
    problems: list[Diagnostic] = []
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)  # a file, or a path that does not exist: check_catalog says so
            continue
        roots = find_roots(path)
        if not roots:
            units.append(Unit((path,)))
            continue
        units += [Unit((root,), root) for root in roots]
        if path not in roots:
            outside = find_files(path)  # find_files does not enter roots
            if outside:
                problems.append(_outside_roots(path, roots, outside))
    if files:
        units.append(Unit(tuple(files)))
    unique = {tuple(p.resolve() for p in unit.paths): unit for unit in reversed(units)}  # a root named twice
    return [unit for unit in units if unique[tuple(p.resolve() for p in unit.paths)] is unit], problems


def _outside_roots(path: Path, roots: list[Path], outside: list[Path]) -> Diagnostic:
    folders = _listed(sorted({display_path(f.parent) for f in outside}))
    return warning("DRO320", f"{plural(len(outside), 'catalog file')} in '{display_path(path)}' outside its "
                   "catalog roots not checked",
                   detail=f"The catalog roots (directories with a {PROJECT_FILE}) in '{display_path(path)}' are "
                          f"{_listed([display_path(r) for r in roots])}; no root holds the files in {folders}.",
                   hint=f"give their catalog a {PROJECT_FILE} (`name: ...`) in its top directory, or check "
                        "their directory on its own")


def _listed(names: list[str], most: int = 3) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def load_project(root: Path, sources: Sources) -> tuple[Project, list[Diagnostic]]:
    """The dro.yaml of `root`, checked against its schema; its text goes into `sources`."""
    from dsl.schema_check import check_document
    from dsl.yaml_loader import load_yaml

    path = root / PROJECT_FILE
    shown = display_path(path)
    text, problem = read_text(path, shown)
    if text is None:
        return Project(root, None), [problem] if problem else []
    sources.texts[shown] = text
    doc, diagnostics = load_yaml(shown, text)
    if doc is None:
        return Project(root, None), diagnostics
    problems, bad = check_document(doc, "project", owner=_owner)
    name = doc.data.get("name") if isinstance(doc.data, dict) and ("name",) not in bad else None
    return Project(root, name if isinstance(name, str) else None), diagnostics + [_settings(d) for d in problems]


def _settings(diagnostic: Diagnostic) -> Diagnostic:
    """The schema check's words for a catalog file's sections, said of the project file's settings."""
    if diagnostic.code != "DRO201":
        return diagnostic
    known = load_schema("project")["properties"]
    return dataclasses.replace(diagnostic, summary=diagnostic.summary.replace("unknown section", "unknown setting"),
                               detail=f"{PROJECT_FILE} has the settings " + ", ".join(known) + ".")


def _owner(doc: Document, path: DocPath) -> str:
    return f"the project file {PROJECT_FILE}"


def project_of(paths: Sequence[Path]) -> Path | None:
    """The root a check of `paths` is about: one directory that is a catalog root."""
    if len(paths) == 1 and paths[0].is_dir() and is_root(paths[0]):
        return paths[0]
    return None


def several_catalogs(directory: Path, catalog: Catalog) -> Diagnostic | None:
    """A hint when a directory without dro.yaml looks like several catalogs: the same ids in sibling directories."""
    top = directory.resolve()

    def child(file: str) -> str | None:
        try:
            parts = Path(file).resolve().relative_to(top).parts
        except ValueError:
            return None
        return parts[0] if len(parts) > 1 else None

    across = [(a, b) for a, b in ((child(x), child(y)) for x, y in catalog.duplicates) if a and b and a != b]
    if not across:
        return None
    folders = sorted({name for pair in across for name in pair})
    shown = display_path(directory)
    return warning("DRO321", f"'{shown}' looks like {len(folders)} catalogs checked as one",
                   detail=f"{plural(len(across), 'duplicate id')} come from declarations in different "
                          f"directories of it ({', '.join(folders)}): checked as one catalog, every id they "
                          "share is a duplicate.",
                   hint=f"if they are separate catalogs, put a {PROJECT_FILE} in each (`name: {folders[0]}`): "
                        "dro then checks each on its own; see docs/language.md, 'Catalog roots'")
