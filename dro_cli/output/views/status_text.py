"""Order status as text: one order by swimlane, the list of orders, and what a plan waits on."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

import click

from dro_cli.engine.waiting import describe

# Colours by state, step and plan alike (click.style keyword arguments).
_STATE_STYLE: dict[str, dict[str, Any]] = {
    "completed": {"fg": "green"},
    "in_progress": {"fg": "blue"},
    "ready": {"fg": "blue"},
    "on_hold": {"fg": "yellow"},
    "failed": {"fg": "yellow"},
    "fatally_failed": {"fg": "red", "bold": True},
    "pending": {"dim": True},
    "scheduled": {"dim": True},
    "skipped": {"dim": True},
    "canceled": {"dim": True},
    "not_started": {"dim": True},
    "amended": {"fg": "yellow", "dim": True},
    "discarded": {"dim": True},
}
_SLA_STYLE: dict[str, dict[str, Any]] = {"jeopardy": {"fg": "yellow"}, "late": {"fg": "red"}, "missed": {"fg": "red"}}
_PAST = {"complete": "completed", "resume": "resumed", "signal": "signalled", "retry": "retried", "cancel": "canceled"}
_STATE_WIDTH = len("fatally_failed")
ERROR_LINE_LIMIT = 240  # characters of an error message in a table; `--format json` and `dro log` show it whole
_SLA_WIDTH = len("sla on_track")


def render_order(status: Mapping[str, Any], lanes: Mapping[str, Mapping[str, Any]] | None, color: bool) -> str:
    """An order's status (`order_status`): a header, its steps by swimlane, then what it waits on.

    `lanes` is the plan's `lanes` ({id: {title}}) for the lane titles; lanes appear in the
    order their first step has in the plan, as `dro plan` shows them."""
    lines = [_header(status, color)]
    canceled = status.get("canceled")
    if canceled:
        lines.append(f"canceled by {canceled.get('operator') or 'unknown'} at {canceled['at']}"
                     + _reason(canceled.get("reason")))
    lines += _amendments(status.get("amendments") or ())
    steps: Sequence[Mapping[str, Any]] = status["steps"]
    width = max((len(step["id"]) for step in steps), default=0)
    order: dict[str | None, None] = {}
    for step in steps:
        order.setdefault(step["lane"], None)
    for lane in order:
        title = (lanes or {}).get(lane, {}).get("title", lane) if lane else "(no lane)"
        heading = _style(title, color, bold=True, fg="cyan") + (f"  [{lane}]" if lane and title != lane else "")
        lines += ["", heading]
        for step in steps:
            if step["lane"] == lane:
                lines.append(_step_line(step, width, color))
                error = step["error"] if step["state"] in ("failed", "fatally_failed") else None
                if error and error_line(error.get("message")):
                    lines.append(" " * (width + 4) + error_line(error.get("message")))
    lines += _superseded(status.get("superseded") or (), color)
    waiting = render_waiting(status, color)
    if waiting:
        lines += ["", waiting.rstrip("\n")]
    return "\n".join(lines) + "\n"


def render_waiting(status: Mapping[str, Any], color: bool) -> str:
    """What the plan waits on, each with the command that moves it on; "" when it waits on nothing."""
    entries: Sequence[Mapping[str, Any]] = status["waiting_on"]
    if not entries:
        return ""
    order = status["order"]
    lines = [_style("waiting on:", color, bold=True)]
    for entry in entries:
        lines.append(f"  {describe(dict(entry))}")
        lines.append("      " + _style(_command(order, entry), color, bold=True))
    return "\n".join(lines) + "\n"


def render_orders(summaries: Sequence[Mapping[str, Any]], color: bool) -> str:
    """One aligned line per order (`order_summary`): id, state, progress, and what it waits on; and, when an
    order was amended, each order's revision (REV)."""
    if not summaries:
        return ""
    revised = any(s.get("revision", 1) > 1 for s in summaries)
    rows = [(s["order"], s["state"], f"{s['progress']['finished']}/{s['progress']['total']}",
             *([str(s.get("revision", 1))] if revised else []),
             _waits(s["waiting_on"]) or _canceled(s["progress"]["canceled"])) for s in summaries]
    header = ("ORDER", "STATE", "STEPS", *(["REV"] if revised else []), "WAITING ON")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = [_style(_row(header, widths), color, bold=True).rstrip()]
    for row in rows:
        cells = (row[0].ljust(widths[0]), _state(row[1], color, widths[1]),
                 *(cell.rjust(width) for cell, width in zip(row[2:-1], widths[2:], strict=True)), row[-1])
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def progress_text(finished: int, canceled: int, total: int, noun: str = "steps finished") -> str:
    """"3/8 steps finished", and ", 5 canceled" when steps were."""
    return f"{finished}/{total} {noun}" + (f", {canceled} canceled" if canceled else "")


def _header(status: Mapping[str, Any], color: bool) -> str:
    progress = status["progress"]
    state = _state(status["state"], color, 0)
    line = f"{_style(status['order'], color, bold=True)}  {state}  " \
        f"{progress_text(progress['finished'], progress['canceled'], progress['total'], 'steps')}"
    if status.get("revision", 1) > 1:
        line += f"  revision {status['revision']}"
    expected = status["expected_completion"]
    if expected and status["state"] != "completed":
        line += f"  expected {expected}"
    if status["requested_date"]:
        sla = status["sla"]
        line += f"  requested {status['requested_date']}" + (
            f" ({_style(sla, color, **_SLA_STYLE.get(sla, {}))})" if sla else "")
    return line


def _step_line(step: Mapping[str, Any], width: int, color: bool) -> str:
    sla = step["sla"]
    cells = [f"  {step['id']:<{width}}", _state(step["state"], color, _STATE_WIDTH),
             (f"try {step['attempts']}" if step["attempts"] else "").ljust(6),
             _padded(f"sla {sla}" if sla else "", color, _SLA_WIDTH, _SLA_STYLE.get(sla or "", {}))]
    if sla in ("on_track", "jeopardy", "late"):
        cells.append(f"due {step['due']}")
    if step["queue"]:
        cells.append(f"queue {step['queue']}")
    error = step["error"]
    if error and step["state"] in ("failed", "fatally_failed"):
        fg = "red" if step["state"] == "fatally_failed" else "yellow"
        cells.append(_style(f"error {error['code']}", color, fg=fg))
    if step["state"] == "failed" and step["retry_at"]:
        cells.append(f"retry at {step['retry_at']}")
    if step["state"] == "on_hold" and step["resume_at"]:
        cells.append(f"resumes at {step['resume_at']}")
    if step["acts"]:
        last = step["acts"][-1]
        cells.append(f"{_PAST.get(last['act'], last['act'])} by {last.get('operator') or 'unknown'}")
    cells += made_by(step)
    return "  ".join(cells).rstrip()


def made_by(step: Mapping[str, Any]) -> list[str]:
    """What a step made by an amendment is: the compensation of another step, or an instance new in its revision."""
    if step.get("undoes"):
        return [f"undoes {step['undoes']} ({step['compensates']})"]
    return [f"new in revision {step['revision']}"] if step.get("revision", 1) > 1 else []


def _amendments(amendments: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per amendment: when, who, what it did and why."""
    from dro_cli.output.views.amendment_text import amendment_line

    return [f"{a['at']}  {a.get('operator') or 'unknown'} {amendment_line(a)}{_reason(a.get('reason'))}"
            for a in amendments]


def _superseded(steps: Sequence[Mapping[str, Any]], color: bool) -> list[str]:
    """The instances amendments took out of the live plan, by the revision that did: what each ended as,
    its state before, and why (the reason's leading state left out: `was` says it)."""
    lines: list[str] = []
    width = max((len(step["id"]) for step in steps), default=0)
    for revision in dict.fromkeys(step["superseded_by"] for step in steps):
        lines += ["", _style(f"Superseded by revision {revision}", color, bold=True, fg="cyan")]
        for step in (s for s in steps if s["superseded_by"] == revision):
            why = (step["reason"] or "").removeprefix(f"{step['was']}; ")
            cells = [f"  {step['id']:<{width}}", _state(step["state"], color, len("discarded")),
                     f"was {step['was']}".ljust(len("was fatally_failed")), why]
            lines.append("  ".join(cells).rstrip())
    return lines


def error_line(message: str | None) -> str:
    """A step's error message on one line of a table, cut to ERROR_LINE_LIMIT characters."""
    text = " ".join((message or "").split())
    return text if len(text) <= ERROR_LINE_LIMIT else text[:ERROR_LINE_LIMIT] + "..."


def _command(order: str, entry: Mapping[str, Any]) -> str:
    """The operator command that moves a waiting entry on."""
    kind = entry["kind"]
    run = f"dro run {shlex.quote(order)}"
    if kind == "operator":
        return f"dro complete {shlex.quote(order)} {shlex.quote(entry['step'])}"
    if kind == "event":
        signal = f"dro signal {shlex.quote(order)} {shlex.quote(entry['event'])}"
        if len(entry["steps"]) == 1:
            return f"{signal}  (or dro resume {shlex.quote(order)} {shlex.quote(entry['steps'][0])})"
        return signal
    if kind == "timer":
        return f"continues at {entry['at']}: {run} (or {run} --wait)"
    if kind == "fallout":
        step = f"{shlex.quote(order)} {shlex.quote(entry['step'])}"
        return f"dro retry {step}  (or dro complete {step} --reason '...')"
    return f"if no dro process is running it: {run}"


def _waits(entries: Sequence[Mapping[str, Any]]) -> str:
    """What an order waits on, in a few words."""
    words = [_few_words(entry) for entry in entries[:2]]
    if len(entries) > 2:
        words.append(f"+{len(entries) - 2} more")
    return "; ".join(words)


def _few_words(entry: Mapping[str, Any]) -> str:
    kind = entry["kind"]
    if kind == "operator":
        return f"operator: {entry['step']}" + (f" ({entry['queue']})" if entry["queue"] else "")
    if kind == "event":
        return f"event: {entry['event']}"
    if kind == "timer":
        return f"timer {entry['at']}"
    if kind == "fallout":
        return f"fallout: {entry['step']} ({entry['queue']})"
    return f"running: {entry['step']}"


def _canceled(count: int) -> str:
    """What a canceled order shows where others show what they wait on."""
    return f"{count} step{'' if count == 1 else 's'} canceled" if count else ""


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join([cells[0].ljust(widths[0]), cells[1].ljust(widths[1]),
                      *(cell.rjust(width) for cell, width in zip(cells[2:], widths[2:], strict=False)),
                      *cells[len(widths):]])


def _state(state: str, color: bool, width: int) -> str:
    return _padded(state, color, width, _STATE_STYLE.get(state, {}))


def _padded(text: str, color: bool, width: int, style: Mapping[str, Any]) -> str:
    """Text styled, then padded to `width`: columns align in colour, and trailing blanks strip."""
    return _style(text, color, **style) + " " * (width - len(text))


def _style(text: str, color: bool, **style: Any) -> str:
    return click.style(text, **style) if color and style else text


def _reason(reason: str | None) -> str:
    return f" (reason: {reason})" if reason else ""
