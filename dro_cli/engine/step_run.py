"""What has happened to one step instance: the state the engine folds per step."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dro_cli.engine.instants import iso
from dro_cli.engine.states import StepState


@dataclass(slots=True)
class StepRun:
    """What has happened to one step instance so far."""

    state: StepState = StepState.PENDING
    attempts: int = 0
    ready_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    retry_at: float | None = None
    resume_at: float | None = None
    queue: str | None = None  # the manual step's queue while it waits, or the fallout queue
    error: dict[str, Any] | None = None  # {code, message, retryable} of the last failure
    crossed: str | None = None  # the last SLA threshold journaled as crossed: "jeopardy", then "late"
    round_start: int = 0  # attempts made before the operator's last retry: the policy counts tries from here
    outputs: dict[str, Any] = field(default_factory=dict)
    acts: list[dict[str, Any]] = field(default_factory=list)  # operator acts on this step


def act_record(kind: str, payload: Mapping[str, Any], at: float) -> dict[str, Any]:
    """An operator act as the step keeps it: what, when, who and why."""
    act = {"act": kind, "at": iso(at), "operator": payload.get("operator"), "reason": payload.get("reason")}
    if kind == "signal":
        act["event"] = payload.get("event")
    return act
