"""Tables of steps across orders: `dro fallout`, `dro jeopardy`; and what `dro tick` did."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import click

from dro_cli.engine.instants import iso
from dro_cli.output.views.log_text import describe_record
from dro_cli.output.views.status_text import error_line

_FALLOUT_COLUMNS = (("ORDER", "order"), ("STEP", "id"), ("QUEUE", "queue"), ("ERROR", "error"),
                    ("TRIES", "attempts"), ("SINCE", "since"))
_JEOPARDY_COLUMNS = (("ORDER", "order"), ("STEP", "id"), ("LANE", "lane"), ("SLA", "sla"), ("READY", "ready_at"),
                     ("DUE", "due"))
_SLA_STYLE = {"late": {"fg": "red"}, "jeopardy": {"fg": "yellow"}}
_QUIET = frozenset({"step.ready"})  # records too routine to tell about


def render_fallout(rows: Sequence[Mapping[str, Any]], queue: str | None, color: bool) -> str:
    if not rows:
        return f"no steps in fallout queue {queue}\n" if queue else "no steps in fallout\n"
    queues = Counter(row["queue"] for row in rows)
    by_queue = ", ".join(f"{name}: {count}" for name, count in sorted(queues.items()))
    summary = f"{_count(len(rows), 'step')} in fallout ({by_queue})"
    hint = "dro retry ORDER STEP (or dro retry --queue Q --all) tries again; dro complete ORDER STEP --reason R " \
           "marks one done"
    return _table(rows, _FALLOUT_COLUMNS, color, lambda row: {"fg": "red"},
                  detail=lambda row: error_line(row.get("message"))) + f"{summary}\n{hint}\n"


def render_jeopardy(rows: Sequence[Mapping[str, Any]], now: float, color: bool) -> str:
    if not rows:
        return f"no steps in jeopardy or late at {iso(now)}\n"
    late = sum(row["sla"] == "late" for row in rows)
    summary = f"{_count(len(rows), 'step')} at {iso(now)}: {late} late, {len(rows) - late} in jeopardy"
    return _table(rows, _JEOPARDY_COLUMNS, color, lambda row: _SLA_STYLE.get(row["sla"], {})) + summary + "\n"


def render_tick(report: Any, color: bool) -> str:
    """One line per record the tick journaled, by order, then a summary."""
    lines = []
    for continued in report.continued:
        for kind, payload in continued.events:
            if kind not in _QUIET:
                text, style = describe_record(kind, payload)
                lines.append(f"{continued.order}  {click.style(text, **style) if color and style else text}")
        lines.append(f"{continued.order}  now {continued.state}"
                     + (f", {_count(continued.in_fallout, 'step')} in fallout" if continued.in_fallout else ""))
    crossings = sum(kind in ("step.jeopardy", "step.late") for c in report.continued for kind, _ in c.events)
    summary = (f"tick at {iso(report.at)}: {_count(report.scanned, 'order')} scanned, "
               f"{len(report.continued)} continued, {_count(crossings, 'SLA crossing')} journaled")
    if report.busy:
        summary += f", {len(report.busy)} busy (held by another dro: {', '.join(report.busy)})"
    if report.failed:
        summary += f", {len(report.failed)} could not be continued"
    return "\n".join([*lines, summary]) + "\n"


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]], color: bool,
           style_of: Any, detail: Any = None) -> str:
    """Aligned columns, a row per step; `detail(row)`, when it says something, goes on a line of its own
    under the row, from the second column on (the error message of a step in fallout)."""
    cells = [[str(row[key]) if row[key] is not None else "-" for _, key in columns] for row in rows]
    header = [title for title, _ in columns]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(columns))]
    out = ["  ".join(title.ljust(width) for title, width in zip(header, widths, strict=True)).rstrip()]
    if color:
        out[0] = click.style(out[0], bold=True)
    for row, line in zip(rows, cells, strict=True):
        text = "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        style = style_of(row)
        out.append(click.style(text, **style) if color and style else text)
        more = detail(row) if detail is not None else None
        if more:
            out.append(" " * (widths[0] + 2) + more)
    return "\n".join(out) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
