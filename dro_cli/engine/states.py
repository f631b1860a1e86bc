"""The states of steps and plans (DRO's names), and the sets of them that rules refer to."""

from __future__ import annotations

from enum import StrEnum


class StepState(StrEnum):
    PENDING = "pending"  # waits for its dependencies
    READY = "ready"  # its dependencies are done; the SLA clock runs from here
    IN_PROGRESS = "in_progress"  # running, or waiting in its queue for an operator (manual)
    ON_HOLD = "on_hold"  # a pause waiting for its event or timer
    COMPLETED = "completed"
    FAILED = "failed"  # a retry is due at `retry_at`
    FATALLY_FAILED = "fatally_failed"  # in a fallout queue, waiting for an operator
    SKIPPED = "skipped"  # reserved: dro drops instances whose `when` is false rather than skip them
    CANCELED = "canceled"
    AMENDED = "amended"  # started, then changed by an amendment: superseded (docs/amending.md)
    DISCARDED = "discarded"  # not started, then changed or removed by an amendment: superseded


class PlanState(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELED = "canceled"


class StepType(StrEnum):
    AUTO = "auto"
    CALLOUT = "callout"
    MANUAL = "manual"
    MILESTONE = "milestone"
    PAUSE = "pause"


FINISHED = frozenset({StepState.COMPLETED, StepState.SKIPPED, StepState.CANCELED, StepState.AMENDED,
                      StepState.DISCARDED})
DONE_FOR_DEPENDENTS = frozenset({StepState.COMPLETED, StepState.SKIPPED})  # what lets a dependent become ready
DISPATCHED_TYPES = frozenset({StepType.AUTO, StepType.CALLOUT})  # run by a handler, not by the engine
