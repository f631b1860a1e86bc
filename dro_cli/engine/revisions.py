"""Folding `plan.amended`: the engine moves to the next revision of its plan (docs/amending.md).

The runs of kept instances carry over; an instance started anew in the revision gets a fresh run; a
superseded one (discarded, amended, canceled) leaves the live plan for the order's history, with the
state it ended in. The engine reads no file: the revision's plan comes from the loader it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dro_cli.engine.states import StepState
from dro_cli.engine.step_run import StepRun, act_record

# (revision, plan_sha256, the plan of the revision before) -> the revision's plan, checked against the sha256
# the journal recorded (a revision's file holds what changed since the revision before: journal/revisions.py)
RevisionLoader = Callable[[int, str, Mapping[str, Any]], Mapping[str, Any]]
ENDED_AS = {"discarded": StepState.DISCARDED, "amended": StepState.AMENDED, "canceled": StepState.CANCELED}


@dataclass
class Superseded:
    """A step instance an amendment took out of the live plan: as it was planned and as it ran."""

    id: str
    revision: int  # the revision it belonged to
    ended_in: int  # the revision that superseded it
    step: Mapping[str, Any]
    run: StepRun
    was: StepState  # its state before the amendment


def amend(engine: Any, payload: Mapping[str, Any], at: float) -> None:
    """Fold `plan.amended` into `engine` (an `Engine`)."""
    loader: RevisionLoader | None = engine.revisions
    if loader is None:
        raise ValueError("plan.amended needs the revision's plan, and no revision files were given")
    revision = payload["revision"]
    if revision != engine.revision + 1:
        raise ValueError(f"plan.amended to revision {revision} follows revision {engine.revision}")
    plan = loader(revision, payload["plan_sha256"], engine.plan)
    old_steps, old_runs = engine.steps, engine.runs
    fresh = set(payload["restart"])
    for sid, fate in payload["superseded"].items():
        run = old_runs[sid]
        was = run.state
        run.state = ENDED_AS[fate]
        if was not in (StepState.COMPLETED,):
            run.finished_at = at
        run.retry_at = run.resume_at = None
        engine.history.append(Superseded(sid, old_steps[sid].get("revision", 1), revision, old_steps[sid], run, was))
    steps = {step["id"]: step for step in plan["steps"]}
    runs = {sid: StepRun() if sid in fresh or sid not in old_runs else old_runs[sid] for sid in steps}
    engine.replace_plan(plan, steps, runs)
    engine.revision = revision
    act = act_record("amend", payload, at)
    act.update(revision=revision, order_file=payload.get("order_file"), order_sha256=payload.get("order_sha256"),
               counts=payload.get("counts"), canceled_items=payload.get("canceled_items"),
               cancel=bool(payload.get("cancel")), changes=payload.get("changes") or [])
    engine.amendments.append(act)
    if payload.get("cancel"):
        engine.canceling = act_record("cancel", payload, at)  # the plan's cancel act once compensated
