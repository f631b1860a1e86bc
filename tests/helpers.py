"""Small helpers shared by the tests."""

from __future__ import annotations

from dsl.diagnostics import Span


def source_of(text: str, span: Span) -> str:
    """The text a span covers (1-based lines and columns, end exclusive)."""
    lines = text.split("\n")
    if span.line == span.end_line:
        return lines[span.line - 1][span.col - 1:span.end_col - 1]
    middle = lines[span.line:span.end_line - 1]
    return "\n".join([lines[span.line - 1][span.col - 1:], *middle, lines[span.end_line - 1][:span.end_col - 1]])
