"""An order's journal as text: a timeline, one line per record (`dro log ORDER`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

Payload = Mapping[str, Any]
_VALUE_WIDTH = 60  # longer output values are cut, with an ellipsis


def render_log(records: Sequence[Mapping[str, Any]], color: bool) -> str:
    """`seq  ts  what` for each journal record; a record type this dro does not know prints generically."""
    width = max((len(str(record["seq"])) for record in records), default=1)
    lines = []
    for record in records:
        text, style = describe_record(record["type"], record.get("payload") or {})
        ts = click.style(record["ts"], dim=True) if color else record["ts"]
        what = click.style(text, **style) if color and style else text
        lines.append(f"{record['seq']:>{width}}  {ts}  {what}")
    return "\n".join(lines) + "\n" if lines else ""


def describe_record(kind: str, payload: Payload) -> tuple[str, dict[str, Any]]:
    """A record in words, and the click style it reads best in."""
    line = _LINES.get(kind)
    if line is None:
        return f"{kind} {compact(payload)}", {}
    try:
        return line(payload)
    except (KeyError, TypeError, AttributeError):  # a payload this dro did not write: show it as it is
        return f"{kind} {compact(payload)}", {}


def outputs_text(outputs: Payload) -> str:
    """Outputs as `key=value, ...`, values cut to a readable width."""
    return ", ".join(f"{key}={_value(value)}" for key, value in outputs.items())


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _value(value: Any) -> str:
    text = value if isinstance(value, str) and value and " " not in value and "," not in value else compact(value)
    return text if len(text) <= _VALUE_WIDTH else text[:_VALUE_WIDTH - 1] + "…"


def _with_outputs(text: str, outputs: Payload | None) -> str:
    return f"{text}, outputs: {outputs_text(outputs)}" if outputs else text


def _reason(payload: Payload) -> str:
    reason = payload.get("reason")
    return f" (reason: {reason})" if reason else ""


def _operator(payload: Payload) -> str:
    return f"operator {payload.get('operator') or 'unknown'}"


def _created(p: Payload) -> tuple[str, dict[str, Any]]:
    return f"plan created from {p['order_file']} ({p['steps']} steps, catalog {p['catalog']})", {"bold": True}


def _started(p: Payload) -> tuple[str, dict[str, Any]]:
    queue = f", queue {p['queue']}" if p.get("queue") else ""
    return f"{p['step']} started (attempt {p['attempt']}{queue})", {}


def _restarted(p: Payload) -> tuple[str, dict[str, Any]]:
    return (f"{p['step']} sent again after a crash (attempt {p['attempt']}, same idempotency key)",
            {"fg": "yellow"})


def _held(p: Payload) -> tuple[str, dict[str, Any]]:
    until = [f"event {p['event']}"] if p.get("event") else []
    until += [f"until {p['resume_at']}"] if p.get("resume_at") else []
    return f"{p['step']} on hold" + (f" for {' or '.join(until)}" if until else ""), {"fg": "yellow"}


def _resumed(p: Payload) -> tuple[str, dict[str, Any]]:
    by = p.get("by")
    return f"{p['step']} resumed" + (" by its timer" if by == "timer" else f" by {by}" if by else ""), {}


def _completed(p: Payload) -> tuple[str, dict[str, Any]]:
    return _with_outputs(f"{p['step']} completed", p.get("outputs")), {"fg": "green"}


def _failed(p: Payload) -> tuple[str, dict[str, Any]]:
    message = f" {p['message']}" if p.get("message") else ""
    text = f"{p['step']} failed: {p['code']}{message} (attempt {p['attempt']})"
    if p.get("retry_at"):
        return f"{text}; retry at {p['retry_at']}", {"fg": "yellow"}
    why = "" if p.get("retryable", True) else " (not retryable)"
    return f"{text}; fell out to queue {p['queue']}{why}", {"fg": "red"}


def _crossed(p: Payload) -> tuple[str, dict[str, Any]]:
    if p["sla"] == "late":
        return f"{p['step']} is late: it was due at {p['due']}", {"fg": "red"}
    return f"{p['step']} is in jeopardy since {p['at']}: due at {p['due']}", {"fg": "yellow"}


def _operator_complete(p: Payload) -> tuple[str, dict[str, Any]]:
    return _with_outputs(f"{_operator(p)} completed {p['step']}{_reason(p)}", p.get("outputs")), {"fg": "cyan"}


def _operator_resume(p: Payload) -> tuple[str, dict[str, Any]]:
    return f"{_operator(p)} resumed {p['step']}{_reason(p)}", {"fg": "cyan"}


def _operator_signal(p: Payload) -> tuple[str, dict[str, Any]]:
    text = f"{_operator(p)} signalled {p['event']}: {', '.join(p['steps'])} resumed"
    data = p.get("data")
    return (f"{text}, data: {outputs_text(data)}" if data else text), {"fg": "cyan"}


def _operator_retry(p: Payload) -> tuple[str, dict[str, Any]]:
    return f"{_operator(p)} retried {p['step']}{_reason(p)}", {"fg": "cyan"}


def _operator_cancel(p: Payload) -> tuple[str, dict[str, Any]]:
    return f"{_operator(p)} canceled the order{_reason(p)}", {"fg": "red"}


def _operator_discard(p: Payload) -> tuple[str, dict[str, Any]]:
    return f"{_operator(p)} discarded the order{_reason(p)}", {"fg": "red"}


def _amended(p: Payload) -> tuple[str, dict[str, Any]]:
    """Who amended the order, to which revision, why, and what changed (the counts, then each change)."""
    from dro_cli.output.views.amendment_text import amendment_line

    changes = "".join(f"\n      {c['fate']} {c['step']}: {c['reason']}" for c in p.get("changes", []))
    return f"{_operator(p)} {amendment_line(p)}{_reason(p)}{changes}", {"fg": "yellow", "bold": True}


_LINES: dict[str, Callable[[Payload], tuple[str, dict[str, Any]]]] = {
    "plan.created": _created,
    "plan.completed": lambda p: ("plan completed", {"fg": "green", "bold": True}),
    "plan.amended": _amended,
    "step.ready": lambda p: (f"ready: {', '.join(p['steps'])}", {}),
    "step.started": _started,
    "step.restarted": _restarted,
    "step.held": _held,
    "step.resumed": _resumed,
    "step.completed": _completed,
    "step.failed": _failed,
    "step.jeopardy": _crossed,
    "step.late": _crossed,
    "operator.complete": _operator_complete,
    "operator.resume": _operator_resume,
    "operator.signal": _operator_signal,
    "operator.retry": _operator_retry,
    "operator.cancel": _operator_cancel,
    "operator.discard": _operator_discard,
}
