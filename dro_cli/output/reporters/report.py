"""What every reporter renders: a run's diagnostics, the sources they point into, and how many files were checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from dsl.diagnostics import Diagnostic
from dsl.sources import Sources


@dataclass(frozen=True)
class CatalogSummary:
    """One catalog of a run over several: where it is, its name (from its dro.yaml) and its counts."""

    path: str
    name: str | None
    files: int
    errors: int
    warnings: int


@dataclass(frozen=True)
class Report:
    """What every reporter prints: the diagnostics, their sources and the counts."""

    diagnostics: Sequence[Diagnostic]
    sources: Sources
    files: int
    catalogs: Sequence[CatalogSummary] = ()

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors

    def checked_files(self) -> list[str]:
        """Every file read or pointed at, sorted: what CI formats list even when it has no diagnostic."""
        spans = (d.span.file for d in self.diagnostics if d.span is not None)
        return sorted(set(self.sources.texts).union(spans))


class Reporter(Protocol):
    def __call__(self, report: Report, *, color: bool | None, err: bool, summary: bool = True) -> None: ...
