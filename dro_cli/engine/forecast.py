"""The plan's expected completion and its SLA against the order's `requested_date` (DESIGN 5).

The expected completion is the critical path of the remaining estimated durations:
each unfinished step is expected to end its `duration` after it starts (a started
step, after it became ready; a pending one, after the last of its dependencies), and
never before now, nor before the retry or timer it waits for. Steps without a
duration take no time. The plan is in jeopardy when it is expected to complete at or
after the requested date, late once that date has come.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from dro_cli.engine.instants import iso
from dro_cli.engine.machine import Engine
from dro_cli.engine.sla import sla_at
from dro_cli.engine.states import FINISHED, StepState


def expected_completion(engine: Engine, now: float) -> float | None:
    """When the plan is expected to complete (when it did, once completed); None once canceled."""
    if engine.canceled is not None:
        return None
    if engine.completed_at is not None:
        return engine.completed_at
    ends: dict[str, float] = {}
    latest = now
    for sid, step in engine.steps.items():  # plan order puts every step after its dependencies
        run = engine.runs[sid]
        if run.state in FINISHED:
            end = run.finished_at if run.finished_at is not None else now
        else:
            start = run.ready_at if run.ready_at is not None else max(
                (ends[d] for d in step["after"]), default=now)
            end = max(now, start + (step.get("duration") or 0))
            timer = _timer_of(run.state, run.retry_at, run.resume_at)
            if timer is not None:
                end = max(end, timer)
        ends[sid] = end
        latest = max(latest, end)
    return latest


def plan_sla(engine: Engine, now: float) -> dict[str, Any]:
    """`{"expected_completion", "requested_date", "sla"}`; `sla` is None without a requested date."""
    requested_text = engine.plan["context"]["order"].get("requested_date")
    if engine.canceled is not None or engine.completed_at is not None:
        return settled_sla(None if engine.canceled is not None else engine.completed_at, requested_text)
    expected = expected_completion(engine, now)
    requested = None if requested_text is None else requested_by(requested_text)
    return {"expected_completion": None if expected is None else iso(expected),
            "requested_date": requested_text, "sla": _sla(engine, now, expected, requested)}


def settled_sla(completed_at: float | None, requested_text: str | None) -> dict[str, Any]:
    """`plan_sla` of a plan that completed at `completed_at` (None: it was canceled), which the time of
    reading no longer changes."""
    if completed_at is None:
        return {"expected_completion": None, "requested_date": requested_text, "sla": None}
    sla = None if requested_text is None else "met" if completed_at < requested_by(requested_text) else "missed"
    return {"expected_completion": iso(completed_at), "requested_date": requested_text, "sla": sla}


def requested_by(text: str) -> float:
    """The instant a requested date means: a date alone is the end of that day, in UTC."""
    moment = datetime.fromisoformat(text)
    if len(text) == 10:  # YYYY-MM-DD
        if moment.date() == moment.date().max:  # orders refuse it (dsl/limits.py); older plans may hold it
            return math.inf
        moment += timedelta(days=1)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _sla(engine: Engine, now: float, expected: float | None, requested: float | None) -> str | None:
    if requested is None or expected is None:
        return None
    status = sla_at(now, None, requested)
    return "jeopardy" if status == "on_track" and expected >= requested else status


def _timer_of(state: StepState, retry_at: float | None, resume_at: float | None) -> float | None:
    if state is StepState.FAILED:
        return retry_at
    if state is StepState.ON_HOLD:
        return resume_at
    return None
