"""The programmatic API: check and compile a catalog, every problem returned as a diagnostic."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsl.catalog import Catalog, merge
from dsl.codes import USAGE_CODES
from dsl.compiler import compile_templates
from dsl.diagnostics import Diagnostic, has_errors, sorted_diagnostics
from dsl.document import Document
from dsl.gc_pause import collector_paused
from dsl.graph import check_graphs
from dsl.limits_check import check_limits
from dsl.lower import lower
from dsl.parser import parse_file
from dsl.references import check_references
from dsl.schema_check import check_document
from dsl.settings_check import check_settings
from dsl.sources import DSL_SUFFIX, Sources, collect, display_path, read_text
from dsl.text_check import check_text
from dsl.yaml_loader import load_yaml


@dataclass
class CompileResult:
    templates: dict[str, Any] | None
    diagnostics: list[Diagnostic]
    sources: Sources = field(default_factory=Sources)
    catalog: Catalog | None = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def usage_error(self) -> bool:
        """Whether the input itself was unusable (a missing path, a file that is not UTF-8)."""
        return any(d.code in USAGE_CODES for d in self.diagnostics)


def load_document(path: Path, shown: str, text: str) -> tuple[Document | None, list[Diagnostic]]:
    """One file as a Document, by its form."""
    if path.name.endswith(DSL_SUFFIX):
        tree, problems = parse_file(shown, text)
        if tree is None:
            return None, problems
        doc, lowering_problems = lower(tree)
        return doc, problems + lowering_problems
    return load_yaml(shown, text)


def check_catalog(paths: Sequence[str | os.PathLike[str]]) -> CompileResult:
    """Every diagnostic of the catalog made of `paths` (directories and files)."""
    with collector_paused():
        return _check(paths)


def _check(paths: Sequence[str | os.PathLike[str]]) -> CompileResult:
    files, diagnostics = collect(Path(p) for p in paths)
    sources = Sources()
    documents = []
    for path, _root in files:
        shown = display_path(path)
        text, problem = read_text(path, shown)
        if text is None:
            diagnostics.append(problem)  # type: ignore[arg-type]
            continue
        sources.texts[shown] = text
        doc, problems = load_document(path, shown, text)
        diagnostics.extend(problems)
        if doc is not None:
            schema_problems, bad = check_document(doc)
            diagnostics.extend(schema_problems)
            documents.append((doc, bad))
    catalog, problems = merge(documents)
    diagnostics.extend(problems)
    for check in (check_references, check_graphs, check_settings, check_limits, check_text):
        diagnostics.extend(check(catalog))
    return CompileResult(None, sorted_diagnostics(diagnostics), sources, catalog)


def compile_catalog(paths: Sequence[str | os.PathLike[str]]) -> CompileResult:
    """Plan templates for the catalog made of `paths`, or None with the errors that prevent them."""
    with collector_paused():
        result = _check(paths)
        if result.ok and result.catalog is not None and not result.usage_error:
            result.templates = compile_templates(result.catalog, _root(paths))
    return result


def _root(paths: Iterable[str | os.PathLike[str]]) -> Path:
    resolved = [Path(p).resolve() for p in paths]
    folders = [p if p.is_dir() else p.parent for p in resolved]
    return Path(os.path.commonpath(folders)) if folders else Path.cwd()
