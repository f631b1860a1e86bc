"""A step's SLA (DESIGN 5): the clock starts when it becomes ready; due = ready + duration; in
jeopardy from due - the jeopardy threshold; late from due. A step completed before its due met it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dro_cli.engine.states import StepState
from dro_cli.engine.step_run import StepRun

SLA_CROSSINGS = ("jeopardy", "late")  # the thresholds, in the order a step crosses them


def sla_thresholds(step: Mapping[str, Any], ready_at: float) -> tuple[float | None, float | None]:
    """(in jeopardy from, late from) for a step that became ready at `ready_at`; None where it has none."""
    duration = step.get("duration")
    if duration is None:
        return None, None
    due = ready_at + duration
    threshold = step.get("jeopardy")
    return (due - threshold if threshold else None), due


def sla_at(now: float, jeopardy_from: float | None, due: float) -> str:
    """An unfinished step's SLA status at `now`."""
    if now >= due:
        return "late"
    if jeopardy_from is not None and now >= jeopardy_from:
        return "jeopardy"
    return "on_track"


def sla_of(step: Mapping[str, Any], run: StepRun, now: float) -> tuple[str | None, float | None]:
    """(SLA status, due instant) of a step: on_track, jeopardy, late, met, missed, or None without one."""
    if run.ready_at is None:
        return None, None
    jeopardy_from, due = sla_thresholds(step, run.ready_at)
    if due is None:
        return None, None
    if run.state is StepState.COMPLETED:
        return ("met" if run.finished_at is not None and run.finished_at < due else "missed"), due
    if run.state in (StepState.CANCELED, StepState.SKIPPED):
        return None, due
    return sla_at(now, jeopardy_from, due), due


def crossing_rank(crossed: str | None) -> int:
    """How far a step has crossed: -1 none, 0 jeopardy, 1 late."""
    return -1 if crossed is None else SLA_CROSSINGS.index(crossed)
