"""The status of orders as data (schemas/status.schema.json): what `dro status` renders and prints as JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from dro_cli.engine.forecast import plan_sla, settled_sla
from dro_cli.engine.instants import iso_or_none, parse_instant
from dro_cli.engine.machine import Engine
from dro_cli.engine.revisions import Superseded
from dro_cli.engine.sla import sla_of
from dro_cli.engine.states import StepState, StepType
from dro_cli.engine.step_run import StepRun
from dro_cli.engine.waiting import waiting_on
from dro_cli.journal.store import OrderView

SCHEMA_VERSION = 1


def order_status(view: OrderView, now: float) -> dict[str, Any]:
    """An order's status with every step, in plan order."""
    engine = view.engine
    return {**order_summary(view, now), "amendments": [_amendment(act) for act in engine.amendments],
            "steps": [_step(engine, sid, now) for sid in engine.steps],
            "superseded": [_superseded(engine, old) for old in engine.history]}


def order_summary(view: OrderView, now: float) -> dict[str, Any]:
    """An order's one-line status: state, progress, what it waits on, and its expected completion."""
    engine = view.engine
    finished, canceled, total = engine.progress()
    return {
        "schema_version": SCHEMA_VERSION,
        "order": engine.order_id,
        "state": str(engine.state),
        "revision": engine.revision,
        "progress": {"finished": finished, "canceled": canceled, "total": total},
        "waiting_on": waiting_on(engine) if view.created is not None else [],
        "canceled": engine.canceled,
        **plan_sla(engine, now),
    }


def summary_of_digest(found: Mapping[str, Any], now: float) -> dict[str, Any]:
    """`order_summary` of an order from its digest (`dro_cli.journal.digest`), without its plan or journal:
    what depends on the time of reading, the expected completion and the SLA, is worked out now by the
    engine's own `plan_sla`, from the forecast's inputs the digest keeps."""
    held = found["summary"]
    finished, canceled, total = found["progress"]
    return {
        "schema_version": SCHEMA_VERSION,
        "order": found["order"],
        "state": found["state"],
        "revision": held["revision"],
        "progress": {"finished": finished, "canceled": canceled, "total": total},
        "waiting_on": held["waiting_on"],
        "canceled": held["canceled"],
        **_sla_of(held, now),
    }


def _sla_of(held: Mapping[str, Any], now: float) -> dict[str, Any]:
    if held["canceled"] is not None:
        return settled_sla(None, held["requested_date"])
    if held["completed_at"] is not None:
        return settled_sla(parse_instant(held["completed_at"]), held["requested_date"])
    return plan_sla(cast(Engine, _Forecast.of(held)), now)


class _Run(NamedTuple):
    """The part of a StepRun that `plan_sla` reads: a digest rebuilds thousands, a StepRun costs more."""

    state: StepState
    ready_at: float | None
    finished_at: float | None
    retry_at: float | None
    resume_at: float | None


_STATES = {state.value: state for state in StepState}  # a dict lookup: StepState(text) takes detours


@dataclass
class _Forecast:
    """What `plan_sla` reads of an engine (the plan's requested date, its steps' dependencies and
    durations, their runs' states and instants), rebuilt from a digest's summary."""

    canceled: Mapping[str, Any] | None
    completed_at: float | None
    plan: Mapping[str, Any]
    steps: dict[str, dict[str, Any]]
    runs: dict[str, _Run]

    @classmethod
    def of(cls, held: Mapping[str, Any]) -> _Forecast:
        steps, runs = {}, {}
        for sid, after, duration, state, finished_at, ready_at, retry_at, resume_at in held["forecast"]:
            steps[sid] = {"after": after, "duration": duration}
            runs[sid] = _Run(_STATES[state], _instant(ready_at), _instant(finished_at), _instant(retry_at),
                             _instant(resume_at))
        return cls(held["canceled"], _instant(held["completed_at"]),
                   {"context": {"order": {"requested_date": held["requested_date"]}}}, steps, runs)


def _instant(text: str | None) -> float | None:
    return None if text is None else parse_instant(text)


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
        "due": iso_or_none(due),
        "queue": _queue(step, run),
        "ready_at": iso_or_none(run.ready_at),
        "started_at": iso_or_none(run.started_at),
        "completed_at": iso_or_none(run.finished_at) if run.state is StepState.COMPLETED else None,
        "retry_at": iso_or_none(run.retry_at),
        "resume_at": iso_or_none(run.resume_at),
        "error": run.error,
        "outputs": run.outputs,
        "acts": run.acts,
        "after": step["after"],
        **_made_by(step),
    }


def _made_by(step: Mapping[str, Any]) -> dict[str, Any]:
    """The revision that made an instance, and what it undoes when it is a compensation (and why: the undone
    step's `compensate`, or its `on_amend`)."""
    return {"revision": step.get("revision", 1), "undoes": step.get("undoes"), "compensates": step.get("compensates")}


def _amendment(act: Mapping[str, Any]) -> dict[str, Any]:
    """An amendment as `dro status` shows it: the revision it made, who, when and why, and how many instances
    each fate took."""
    return {"revision": act["revision"], "at": act["at"], "operator": act.get("operator"), "reason": act.get("reason"),
            "cancel": bool(act.get("cancel")), "canceled_items": act.get("canceled_items"),
            "order_file": act.get("order_file"), "counts": act.get("counts") or {}}


def _superseded(engine: Engine, old: Superseded) -> dict[str, Any]:
    """A step instance an amendment took out of the live plan: what it was, what it ended as, and why."""
    act: Mapping[str, Any] = next((a for a in engine.amendments if a["revision"] == old.ended_in), {})
    change: Mapping[str, Any] = next((c for c in act.get("changes") or () if c.get("step") == old.id), {})
    step, run = old.step, old.run
    return {"id": old.id, "step": step["step"], "title": step["title"], "type": step["type"], "lane": step["lane"],
            "state": str(run.state), "was": str(old.was), "revision": old.revision, "superseded_by": old.ended_in,
            "reason": change.get("reason"), "attempts": run.attempts, "outputs": run.outputs,
            "ended_at": iso_or_none(run.finished_at), **_made_by(step)}


def _queue(step: Mapping[str, Any], run: StepRun) -> str | None:
    """The queue a step waits in: a manual step's work queue, or the fallout queue it fell out to."""
    if run.state is StepState.FATALLY_FAILED:
        return run.queue
    return (run.queue or step.get("queue")) if step["type"] == StepType.MANUAL else None
