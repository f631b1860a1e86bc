"""Diagnostics: located problems reported as values, never raised."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Span(NamedTuple):
    """A region of a source file; lines and columns are 1-based, end exclusive.

    A named tuple rather than a dataclass: catalogs make hundreds of thousands.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, file: str, line: int, col: int, width: int = 1) -> Span:
        return cls(file, line, col, line, col + width)

    def shifted(self, cols: int, width: int) -> Span:
        """A span on this one's line, `cols` right of its start."""
        return Span(self.file, self.line, self.col + cols, self.line, self.col + cols + max(width, 1))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class TextOrigin(NamedTuple):
    """Where the text of a string starts in its file, to place spans found inside the text.

    Lines after the first start at column `indent` + 1: 0 for text that runs on from
    its opening quote, the block's indentation for YAML block scalars and dedented
    triple-quoted strings.
    """

    start: Span
    indent: int = 0

    def at(self, line: int, col: int, width: int = 1) -> Span:
        """The span of `width` characters at 0-based `line` and `col` of the text."""
        column = self.start.col + col if line == 0 else self.indent + col + 1
        row = self.start.line + line
        return Span(self.start.file, row, column, row, column + max(width, 1))


@dataclass(frozen=True)
class Diagnostic:
    """One located problem: what, where, why, and how to fix it."""

    severity: Severity
    code: str
    summary: str
    span: Span | None = None
    detail: str | None = None
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[bool, str, int, int, str, str]:
        """Files that cannot be read or parsed first (what else is reported may follow from them), then by place."""
        s = self.span
        later = not self.code.startswith(("DRO0", "DRO1"))
        return (later, s.file if s else "", s.line if s else 0, s.col if s else 0, self.code, self.summary)


def error(code: str, summary: str, span: Span | None = None, *,
          detail: str | None = None, hint: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, summary, span, detail, hint)


def warning(code: str, summary: str, span: Span | None = None, *,
            detail: str | None = None, hint: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, summary, span, detail, hint)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint for the closest candidate, if any is close."""
    import difflib  # for a diagnostic that has a name to suggest: not on a clean run

    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def article(word: str) -> str:
    """'a' or 'an' before `word`, by its first letter."""
    return "an" if word[:1] in ("a", "e", "i", "o", "u") else "a"


def plural(n: int, word: str) -> str:
    """`1 file`, `2 files`."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics), key=Diagnostic.sort_key)
