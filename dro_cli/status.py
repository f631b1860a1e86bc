"""The status of orders as data (schemas/status.schema.json): what `dro status` renders and prints as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dro_cli.clock import iso
from dro_cli.engine import Engine, StepRun
from dro_cli.states import StepState
from dro_cli.store import OrderView
from dro_cli.waiting import waiting_on

SCHEMA_VERSION = 1


def sla_of(step: Mapping[str, Any], run: StepRun, now: float) -> tuple[str | None, float | None]:
    """(SLA status, due instant) of a step (DESIGN 5): the clock starts when it becomes ready."""
    duration = step.get("duration")
    if duration is None or run.ready_at is None:
        return None, None
    due = run.ready_at + duration
    if run.state is StepState.COMPLETED:
        return ("met" if run.finished_at is not None and run.finished_at <= due else "missed"), due
    if run.state in (StepState.CANCELED, StepState.SKIPPED):
        return None, due
    if now >= due:
        return "late", due
    if now >= due - (step.get("jeopardy") or 0):
        return "jeopardy", due
    return "on_track", due


def order_status(view: OrderView, now: float) -> dict[str, Any]:
    """An order's status with every step, in plan order."""
    engine = view.engine
    return {**order_summary(view), "steps": [_step(engine, sid, now) for sid in engine.steps]}


def order_summary(view: OrderView) -> dict[str, Any]:
    """An order's one-line status: state, progress and what it waits on."""
    engine = view.engine
    finished, total = engine.progress()
    return {
        "schema_version": SCHEMA_VERSION,
        "order": engine.order_id,
        "state": str(engine.state),
        "progress": {"finished": finished, "total": total},
        "waiting_on": waiting_on(engine) if view.created is not None else [],
        "canceled": engine.canceled,
    }


def _step(engine: Engine, sid: str, now: float) -> dict[str, Any]:
    step, run = engine.steps[sid], engine.runs[sid]
    sla, due = sla_of(step, run, now)
    return {
        "id": sid,
        "step": step["step"],
        "title": step["title"],
        "type": step["type"],
        "lane": step["lane"],
        "scope": step["scope"],
        "state": str(run.state),
        "attempts": run.attempts,
        "sla": sla,
        "due": _instant(due),
        "queue": run.queue if run.queue is not None else step.get("queue"),
        "ready_at": _instant(run.ready_at),
        "started_at": _instant(run.started_at),
        "completed_at": _instant(run.finished_at) if run.state is StepState.COMPLETED else None,
        "retry_at": _instant(run.retry_at),
        "resume_at": _instant(run.resume_at),
        "error": run.error,
        "outputs": run.outputs,
        "acts": run.acts,
        "after": step["after"],
    }


def _instant(value: float | None) -> str | None:
    return None if value is None else iso(value)
