"""The programmatic API: check and compile a catalog, every problem returned as a diagnostic."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsl.catalog import Catalog, merge
from dsl.codes import NEEDS_EVERY_FILE, USAGE_CODES
from dsl.compensation_check import check_compensation
from dsl.diagnostics import Diagnostic, has_errors, plural, sorted_diagnostics
from dsl.document import Document
from dsl.document import Path as DocPath
from dsl.endpoint_check import check_http
from dsl.env_check import check_command_env
from dsl.gc_pause import collector_paused
from dsl.graph import check_graphs
from dsl.limits_check import check_limits
from dsl.project import Project, load_project, project_of, several_catalogs
from dsl.references import check_references
from dsl.schema_check import check_document
from dsl.settings_check import check_settings
from dsl.sources import DSL_SUFFIX, Sources, collect, display_path, read_text
from dsl.text_check import check_text


@dataclass
class CompileResult:
    """The templates of a catalog (None if it has errors), and its diagnostics."""

    templates: dict[str, Any] | None
    diagnostics: list[Diagnostic]
    sources: Sources = field(default_factory=Sources)
    catalog: Catalog | None = None
    project: Project | None = None  # the dro.yaml, when the catalog is a directory that has one

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def usage_error(self) -> bool:
        """Whether the input itself was unusable (a missing path, a file that is not UTF-8)."""
        return any(d.code in USAGE_CODES for d in self.diagnostics)


def load_document(path: Path, shown: str, text: str) -> tuple[Document | None, list[Diagnostic]]:
    """One file as a Document, by its form.

    Each form's reader loads with the first file of that form (lark for .dro files, PyYAML
    for YAML ones): `dro validate FILE`, run by editors and pre-commit hooks on one file,
    starts in less time than importing both would take.
    """
    if path.name.endswith(DSL_SUFFIX):
        from dsl.lower import lower
        from dsl.parser import parse_file

        tree, problems = parse_file(shown, text)
        if tree is None:
            return None, problems
        doc, lowering_problems = lower(tree)
        return doc, problems + lowering_problems
    from dsl.yaml_loader import load_yaml

    return load_yaml(shown, text)


def check_catalog(paths: Sequence[str | os.PathLike[str]]) -> CompileResult:
    """Every diagnostic of the catalog made of `paths` (directories and files), with those about this
    machine (flow modules it cannot find, command programs not on its PATH)."""
    with collector_paused():
        return _check(paths, on_this_machine=True)


def _check(paths: Sequence[str | os.PathLike[str]], *, on_this_machine: bool = False) -> CompileResult:
    folders = [Path(p) for p in paths]
    files, diagnostics = collect(folders)
    sources = Sources()
    root = project_of(folders)
    project = None
    if root is not None:
        project, problems = load_project(root, sources)
        diagnostics.extend(problems)
    documents, problems, unread = _read([path for path, _folder in files], sources)
    diagnostics.extend(problems)
    catalog, problems = merge(documents)
    diagnostics.extend(problems)
    if root is None and len(folders) == 1 and folders[0].is_dir() and catalog.duplicates:
        hint = several_catalogs(folders[0], catalog)
        diagnostics.extend([hint] if hint else [])
    for check in (check_references, check_graphs, check_settings, check_limits, check_text, check_compensation):
        diagnostics.extend(check(catalog))
    if on_this_machine:
        from dsl.host_check import check_host

        diagnostics.extend(check_host(catalog, catalog_directory(paths)))
    if unread:
        diagnostics = _held_back(diagnostics, unread)
    return CompileResult(None, sorted_diagnostics(diagnostics), sources, catalog, project)


def _read(files: list[Path], sources: Sources) -> tuple[list[tuple[Document, set[DocPath]]], list[Diagnostic],
                                                        list[Diagnostic]]:
    """Each file as a schema-checked Document; their diagnostics, and apart those of the files that gave none."""
    documents = []
    diagnostics: list[Diagnostic] = []
    unread: list[Diagnostic] = []  # why a file gave no declarations: not UTF-8, a syntax error
    for path in files:
        shown = display_path(path)
        text, problem = read_text(path, shown)
        if text is None:
            unread.append(problem)  # type: ignore[arg-type]
            continue
        sources.texts[shown] = text
        doc, problems = load_document(path, shown, text)
        if doc is None:
            unread.extend(d for d in problems if d.is_error)
            diagnostics.extend(d for d in problems if not d.is_error)
            continue
        diagnostics.extend(problems)
        diagnostics.extend(check_http(doc))
        diagnostics.extend(check_command_env(doc))
        schema_problems, bad = check_document(doc)
        diagnostics.extend(schema_problems)
        documents.append((doc, bad))
    return documents, diagnostics, unread


def _held_back(diagnostics: list[Diagnostic], unread: list[Diagnostic]) -> list[Diagnostic]:
    """Without the declarations of the files that could not be read, unknown and unused names are guesses:
    hold those diagnostics back, and say so on why each file could not be read (rustc and tsc do the same)."""
    kept = [d for d in diagnostics if d.code not in NEEDS_EVERY_FILE]
    held = len(diagnostics) - len(kept)
    if not held:
        return kept + unread
    return kept + [_with_note(d, held) for d in unread]


def _with_note(unread: Diagnostic, held: int) -> Diagnostic:
    note = (f"Until this file {'can be read' if unread.code in USAGE_CODES else 'parses'}, "
            f"{plural(held, 'diagnostic')} about unknown or unused names {'is' if held == 1 else 'are'} held "
            "back: the declarations in it are not known.")
    return dataclasses.replace(unread, detail=f"{unread.detail} {note}" if unread.detail else note)


def compile_catalog(paths: Sequence[str | os.PathLike[str]]) -> CompileResult:
    """Plan templates for the catalog made of `paths`, or None with the errors that prevent them."""
    with collector_paused():
        result = _check(paths)
        if result.ok and result.catalog is not None and not result.usage_error:
            from dsl.compiler import compile_templates  # not needed by `dro validate`

            result.templates = compile_templates(result.catalog, catalog_directory(paths))
    return result


def catalog_directory(paths: Iterable[str | os.PathLike[str]]) -> Path:
    """The catalog's directory (flows import from it, commands run in it): the files' common folder."""
    resolved = [Path(p).resolve() for p in paths]
    folders = [p if p.is_dir() else p.parent for p in resolved]
    return Path(os.path.commonpath(folders)) if folders else Path.cwd()
