"""A plan difference as markdown for a pull-request comment: a summary table, then a ```diff block per order.

Catalogs and orders are written by anyone who can open a pull request, so their text
(ids, titles, values, paths) never reaches the comment as markup: outside code blocks
every character markdown or HTML could act on is an HTML entity (no tags, links or
@mentions), and each code fence is longer than any run of backticks inside it.
GitHub refuses comments over 65,536 characters: the comment is cut to fit, with a note.
"""

from __future__ import annotations

import re
from typing import Any

from dro_cli.output.views.diff_text import (
    Line,
    clean,
    order_lines,
    order_name,
    plan_counts,
    template_counts,
    template_lines,
    total_text,
)

COMMENT_LIMIT = 65_536  # GitHub's limit on a comment's body, in characters
_CLOSING_ROOM = 600  # kept free for closing an open block and the truncation note
MARKER = "<!-- dro diff -->"  # lets a CI job find its earlier comment and update it
# `!` rather than `~`: GitHub colours `+`, `-` and `!` lines of a ```diff block.
_SIGNS = {"+": "+", "-": "-", "~": "!"}
# `-`, `+` and `=` matter only at the start of a line, where user text never is; `.` and `:` make autolinks.
_ACTIVE = re.compile(r"[&<>\"'`|*_\[\](){}!~\\#@:$.]")


def escape(text: str) -> str:
    """User text as markdown that shows it literally: punctuation as numeric character references."""
    return _ACTIVE.sub(lambda m: f"&#{ord(m.group())};", clean(text))


class _Comment:
    """The comment's parts, kept under the limit: what does not fit is counted, not written."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.budget = limit - _CLOSING_ROOM
        self.left_out = 0  # lines (or table rows) that did not fit

    def add(self, text: str, *, force: bool = False) -> bool:
        if not force and (self.left_out or self.size + len(text) + 1 > self.budget):
            self.left_out += 1
            return False
        self.parts.append(text)
        self.size += len(text) + 1
        return True

    def text(self) -> str:
        return "\n".join(self.parts) + "\n"


def render_markdown(report: Any, limit: int = COMMENT_LIMIT) -> str:
    out = _Comment(limit)
    out.add(MARKER)
    out.add(f"### dro diff: {escape(report.old)} → {escape(report.new)}")
    out.add("")
    if not report.differences:
        plural = "s" if len(report.orders) != 1 else ""
        out.add(f"No differences. {len(report.orders)} sample order{plural} plan the same with both catalogs, "
                "and the plan templates are the same.")
        return out.text()
    out.add(f"**{total_text(report)}**")
    out.add("")
    if report.orders:
        out.add("| Order | Added | Removed | Changed |")
        out.add("|---|---:|---:|---:|")
        for order in report.orders:
            plan = order.plan
            name = escape(order_name(report, order))
            out.add(f"| {name} | {len(plan.added)} | {len(plan.removed)} | {len(plan.changed)} |")
        out.add("")
    for order in report.orders:
        if not order.plan.empty:
            title = f"{escape(order.order)} ({escape(order.file)}): {plan_counts(order.plan)}"
            _block(out, title, order_lines(order.plan))
    if not report.templates.empty:
        _block(out, f"Plan templates: {template_counts(report.templates)}", template_lines(report.templates))
    if out.left_out:
        out.add(f"**Cut short**: the whole difference would not fit in a comment ({limit:,} characters); "
                f"{out.left_out} more line(s) are left out. Run `dro diff OLD NEW` for all of it.", force=True)
    return out.text()


def _block(out: _Comment, summary: str, lines: list[Line]) -> None:
    """A collapsed section with a ```diff block; closed even when its lines are cut short."""
    body = [f"{_SIGNS[sign]} {text}" for sign, text in lines]
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    if not out.add(f"<details><summary>{summary}</summary>\n\n{fence}diff"):
        out.left_out += len(body)
        return
    for line in body:
        out.add(line)
    out.add(f"{fence}\n\n</details>\n", force=True)
