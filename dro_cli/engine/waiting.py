"""What a plan waits on: operators, events, timers, fallout, or steps still running (DESIGN 5)."""

from __future__ import annotations

from typing import Any

from dro_cli.engine.instants import iso
from dro_cli.engine.machine import Engine
from dro_cli.engine.states import DISPATCHED_TYPES, StepState, StepType


def waiting_on(engine: Engine) -> list[dict[str, Any]]:
    """One entry per thing the plan waits on, in plan order: `{"kind": "operator", "step", "queue"}`,
    `{"kind": "event", "event", "steps"}`, `{"kind": "timer", "at", "step", "for"}`,
    `{"kind": "fallout", "step", "queue", "error"}` and `{"kind": "running", "step"}`."""
    found: list[dict[str, Any]] = []
    events: dict[str, dict[str, Any]] = {}
    for sid, run in engine.runs.items():
        if run.state not in _WAITING:  # most steps, in a large plan: one look-up, not four comparisons
            continue
        kind = engine.steps[sid]["type"]
        if run.state is StepState.IN_PROGRESS:
            if kind == StepType.MANUAL:
                found.append({"kind": "operator", "step": sid, "queue": run.queue})
            elif kind in DISPATCHED_TYPES:
                found.append({"kind": "running", "step": sid})
        elif run.state is StepState.ON_HOLD:
            event = (engine.steps[sid]["config"].get("resume_on") or {}).get("event")
            if event is not None:
                if event not in events:
                    events[event] = {"kind": "event", "event": event, "steps": []}
                    found.append(events[event])
                events[event]["steps"].append(sid)
            if run.resume_at is not None:
                found.append({"kind": "timer", "at": iso(run.resume_at), "step": sid, "for": "resume"})
        elif run.state is StepState.FAILED and run.retry_at is not None:
            found.append({"kind": "timer", "at": iso(run.retry_at), "step": sid, "for": "retry"})
        elif run.state is StepState.FATALLY_FAILED:
            found.append({"kind": "fallout", "step": sid, "queue": run.queue,
                          "error": (run.error or {}).get("code")})
    return found


_WAITING = frozenset({StepState.IN_PROGRESS, StepState.ON_HOLD, StepState.FAILED, StepState.FATALLY_FAILED})


def describe(entry: dict[str, Any]) -> str:
    """One entry of `waiting_on` in words."""
    kind = entry["kind"]
    if kind == "operator":
        return f"an operator to complete {entry['step']} (queue {entry['queue']})"
    if kind == "event":
        return f"event '{entry['event']}' for {', '.join(entry['steps'])}"
    if kind == "timer":
        return f"the timer at {entry['at']} to {entry['for']} {entry['step']}"
    if kind == "fallout":
        return f"{entry['step']} in fallout queue {entry['queue']} ({entry['error']})"
    return f"{entry['step']} to finish running"
