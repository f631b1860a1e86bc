"""The source shown under a diagnostic: its line, or on a long line a window around the caret.

Printing the whole line made output quadratic: an 84 KB one-line JSON order with 2,000
duplicate item ids wrote 253 MB to stderr. A window of WIDTH columns keeps each block
a few lines long, whatever the file, and costs only the window to compute.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 120  # columns of source shown at most: most lines fit, a minified file is clipped
TAB = 4
CLIPPED = "…"


@dataclass(frozen=True)
class Excerpt:
    """A source line to print under a diagnostic, and where its caret goes."""

    text: str  # the source to print, tabs expanded, with CLIPPED where the line goes on
    caret_at: int  # columns before the caret, within `text`
    caret_width: int


def excerpt(line: str, col: int, end_col: int | None) -> Excerpt:
    """The part of `line` to show for a span from `col` to `end_col` (1-based characters, the end
    exclusive; None: to the end of the line)."""
    start = min(max(col - 1, 0), len(line))
    end = len(line) if end_col is None else min(max(end_col - 1, start), len(line))
    if len(line) <= WIDTH and "\t" not in line:
        return Excerpt(line, start, max(1, end - start))
    if len(line) <= WIDTH:
        before = len(line[:start].expandtabs(TAB))
        return Excerpt(line.expandtabs(TAB), before, max(1, len(line[:end].expandtabs(TAB)) - before))
    # A window of the raw characters, a third of it before the caret; tabs expanded within it.
    left = max(0, min(start - WIDTH // 3, len(line) - WIDTH))
    right = min(len(line), left + WIDTH)
    head = CLIPPED if left > 0 else ""
    tail = CLIPPED if right < len(line) else ""
    before = len(head) + len(line[left:start].expandtabs(TAB))
    width = len(line[start:min(end, right)].expandtabs(TAB)) if end > start else 1
    return Excerpt(head + line[left:right].expandtabs(TAB) + tail, before, max(1, width))
