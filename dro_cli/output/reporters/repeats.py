"""At most a few diagnostics of one code in one file for people, then a count of the rest.

2,000 duplicate item ids are one mistake made 2,000 times: the first ten show where and
what, a line says how many more there are. Machine formats (json, sarif, junit) keep
every diagnostic: a program can count, and CI annotations want each place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dsl.diagnostics import Diagnostic

PER_KIND = 10  # diagnostics of one code in one file shown before the rest are counted


@dataclass(frozen=True)
class Omitted:
    """The diagnostics of `code` in `file` not shown."""

    code: str
    file: str | None
    count: int

    def __str__(self) -> str:
        where = f" in {self.file}" if self.file else ""
        return f"... and {self.count:,} more {self.code}{where}"


def interleaved(diagnostics: Sequence[Diagnostic], per_kind: int = PER_KIND) -> Iterator[Diagnostic | Omitted]:
    """The diagnostics to show, in their order; after the last one shown of a kind, the count of the rest."""
    counts = Counter(_kind(d) for d in diagnostics)
    seen: Counter[tuple[str, str | None]] = Counter()
    for diagnostic in diagnostics:
        kind = _kind(diagnostic)
        seen[kind] += 1
        if seen[kind] <= per_kind:
            yield diagnostic
        if seen[kind] == per_kind and counts[kind] > per_kind:
            yield Omitted(*kind, counts[kind] - per_kind)


def _kind(diagnostic: Diagnostic) -> tuple[str, str | None]:
    return diagnostic.code, diagnostic.span.file if diagnostic.span is not None else None
