"""Which step states each journal record applies to: the engine refuses a record that does not fit.

A test drives every step event against every state (tests/test_engine.py), so this
table is the reference of how a step moves (docs/running.md shows it as a table).
"""

from __future__ import annotations

from dro_cli.engine.states import StepState

_S = StepState
# Step event -> the states it applies to (and the state it leads to, by the engine's handler).
# plan.*, operator.cancel and operator.discard act on the plan, not on one step, and apply in any state.
TRANSITIONS: dict[str, frozenset[StepState]] = {
    "step.ready": frozenset({_S.PENDING}),  # -> ready
    "step.started": frozenset({_S.READY, _S.FAILED}),  # -> in_progress (a retry starts from failed)
    "step.restarted": frozenset({_S.IN_PROGRESS}),  # -> in_progress, the same attempt sent again
    "step.held": frozenset({_S.READY}),  # -> on_hold
    "step.resumed": frozenset({_S.ON_HOLD}),  # -> completed, by its timer
    "step.completed": frozenset({_S.READY, _S.IN_PROGRESS}),  # -> completed (a milestone from ready)
    "step.failed": frozenset({_S.IN_PROGRESS}),  # -> failed (retry_at) or fatally_failed (queue)
    "operator.complete": frozenset({_S.IN_PROGRESS, _S.FAILED, _S.FATALLY_FAILED}),  # -> completed
    "operator.resume": frozenset({_S.ON_HOLD}),  # -> completed
    "operator.signal": frozenset({_S.ON_HOLD}),  # -> completed
    "operator.retry": frozenset({_S.FATALLY_FAILED}),  # -> ready
    # SLA crossings change no state: they record that an unfinished step is in jeopardy, then late
    "step.jeopardy": frozenset({_S.READY, _S.IN_PROGRESS, _S.ON_HOLD, _S.FAILED, _S.FATALLY_FAILED}),
    "step.late": frozenset({_S.READY, _S.IN_PROGRESS, _S.ON_HOLD, _S.FAILED, _S.FATALLY_FAILED}),
}
