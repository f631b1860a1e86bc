"""Operator acts (complete, signal, resume, retry, cancel, discard): checked against the plan's state, made into events.

Each function returns the event that records the act, with who did it and why, or
raises `Refusal` saying why the act does not apply. Nothing is applied here: the
caller journals the event, then folds it into the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dro_cli.engine.machine import Engine, Event
from dro_cli.engine.states import DISPATCHED_TYPES, PlanState, StepState, StepType
from dsl.diagnostics import did_you_mean


class Refusal(Exception):
    """An act that does not apply to the plan as it is; nothing is written."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def resolve(engine: Engine, ref: str, *, preferring: StepState | None = None) -> str:
    """A step instance from what an operator typed: its id (`install[L1]`), or a step id with one
    instance (or one instance in state `preferring`)."""
    if ref in engine.steps:
        return ref
    instances = [sid for sid, step in engine.steps.items() if step["step"] == ref]
    if len(instances) > 1 and preferring is not None:
        instances = [sid for sid in instances if engine.runs[sid].state is preferring] or instances
    if len(instances) == 1:
        return instances[0]
    if instances:
        raise Refusal(f"step '{ref}' has {len(instances)} instances in order {engine.order_id}: "
                      f"{', '.join(instances)}", "name one instance, for example " + repr(instances[0]))
    candidates = list(engine.steps) + sorted({step["step"] for step in engine.steps.values()})
    hint = did_you_mean(ref, candidates)
    raise Refusal(f"order {engine.order_id} has no step '{ref}'",
                  hint or "`dro status " + engine.order_id + "` lists its steps")


def complete(engine: Engine, ref: str, *, operator: str, reason: str | None,
             outputs: Mapping[str, Any]) -> Event:
    """A manual step done, or a step in fallout marked complete (which needs a reason)."""
    _check_open(engine)
    sid = resolve(engine, ref, preferring=StepState.IN_PROGRESS)
    run, step = engine.runs[sid], engine.steps[sid]
    if run.state in (StepState.FATALLY_FAILED, StepState.FAILED):
        if not reason:
            raise Refusal(f"step {sid} is {run.state}; completing it by hand needs a reason",
                          f"say why: dro complete {engine.order_id} {ref} --reason '...'")
    elif not (run.state is StepState.IN_PROGRESS and step["type"] == StepType.MANUAL):
        raise Refusal(f"step {sid} is {_describe(engine, sid)}, not waiting for an operator",
                      _waiting_hint(engine))
    return "operator.complete", {"step": sid, "operator": operator, "reason": reason, "outputs": dict(outputs)}


def resume(engine: Engine, ref: str, *, operator: str, reason: str | None) -> Event:
    """A pause resumed by hand, before its event or timer."""
    _check_open(engine)
    sid = resolve(engine, ref, preferring=StepState.ON_HOLD)
    if engine.runs[sid].state is not StepState.ON_HOLD:
        raise Refusal(f"step {sid} is {_describe(engine, sid)}, not on hold", _waiting_hint(engine))
    return "operator.resume", {"step": sid, "operator": operator, "reason": reason}


def signal(engine: Engine, event: str, *, operator: str, data: Mapping[str, Any]) -> Event:
    """An event that resumes every pause on hold for it."""
    _check_open(engine)
    waiting = [sid for sid in engine.with_state(StepState.ON_HOLD) if _event_of(engine, sid) == event]
    if not waiting:
        later = [sid for sid, step in engine.steps.items()
                 if _event_of(engine, sid) == event and engine.runs[sid].state is StepState.PENDING]
        if later:
            raise Refusal(f"no step of order {engine.order_id} is on hold for event '{event}' yet",
                          f"{', '.join(later)} will wait for it once its dependencies are done; signal it then")
        known = sorted({e for sid in engine.steps if (e := _event_of(engine, sid))})
        hint = did_you_mean(event, known) or (
            f"the events this plan waits for: {', '.join(known)}" if known else "no step of this plan waits for events")
        raise Refusal(f"no step of order {engine.order_id} waits for event '{event}'", hint)
    return "operator.signal", {"event": event, "steps": waiting, "operator": operator, "data": dict(data)}


def retry(engine: Engine, ref: str, *, operator: str, reason: str | None) -> Event:
    """A new attempt of a step in fallout."""
    _check_open(engine)
    sid = resolve(engine, ref, preferring=StepState.FATALLY_FAILED)
    if engine.runs[sid].state is not StepState.FATALLY_FAILED:
        raise Refusal(f"step {sid} is {_describe(engine, sid)}, not in fallout",
                      "only fatally failed steps can be retried; `dro status` shows each step's state")
    return "operator.retry", {"step": sid, "operator": operator, "reason": reason}


def retry_steps(engine: Engine, refs: Sequence[str], *, operator: str, reason: str | None) -> list[Event]:
    """New attempts of several steps in fallout: all of them, or (one refused) none."""
    events: list[Event] = []
    for ref in refs:
        kind, payload = retry(engine, ref, operator=operator, reason=reason)
        if all(payload["step"] != made["step"] for _, made in events):
            events.append((kind, payload))
    return events


def retry_queue(engine: Engine, queue: str | None, *, operator: str, reason: str | None) -> list[Event]:
    """New attempts of every step of the order in fallout (in `queue`, if given)."""
    sids = [sid for sid in engine.with_state(StepState.FATALLY_FAILED)
            if queue is None or engine.runs[sid].queue == queue]
    if not sids:
        where = f"fallout queue {queue}" if queue else "fallout"
        raise Refusal(f"no step of order {engine.order_id} is in {where}", "`dro fallout` lists the steps in fallout")
    return retry_steps(engine, sids, operator=operator, reason=reason)


def cancel(engine: Engine, *, operator: str, reason: str) -> Event:
    _check_open(engine)
    return "operator.cancel", {"operator": operator, "reason": reason}


def discard(engine: Engine, *, operator: str, reason: str) -> Event:
    """An order may be discarded while dro has done nothing outside its state directory for it: no auto
    or callout step has ever started (manual steps, pauses and milestones may have moved; a human did
    what they did, and the journal that says so is archived, not deleted)."""
    started = [sid for sid, run in engine.runs.items()
               if run.attempts and engine.steps[sid]["type"] in DISPATCHED_TYPES]
    if started:
        shown = ", ".join(started[:5]) + (f" and {len(started) - 5} more" if len(started) > 5 else "")
        raise Refusal(f"order {engine.order_id} cannot be discarded: {shown} started, so dro may have acted "
                      "on other systems",
                      f"cancel it instead: dro cancel {engine.order_id} --reason '...'")
    return "operator.discard", {"operator": operator, "reason": reason}


def _check_open(engine: Engine) -> None:
    state = engine.state
    if state in (PlanState.COMPLETED, PlanState.CANCELED):
        raise Refusal(f"order {engine.order_id} is {state}; nothing more can happen to it",
                      "`dro log " + engine.order_id + "` shows its history")


def _event_of(engine: Engine, sid: str) -> str | None:
    step = engine.steps[sid]
    if step["type"] != StepType.PAUSE:
        return None
    event: str | None = (step["config"].get("resume_on") or {}).get("event")
    return event


def _describe(engine: Engine, sid: str) -> str:
    run = engine.runs[sid]
    kind = engine.steps[sid]["type"]
    if run.state is StepState.IN_PROGRESS and kind != StepType.MANUAL:
        return f"in_progress (a running {kind} step)"
    return str(run.state)


def _waiting_hint(engine: Engine) -> str:
    manual = [sid for sid in engine.with_state(StepState.IN_PROGRESS) if engine.steps[sid]["type"] == StepType.MANUAL]
    held = list(engine.with_state(StepState.ON_HOLD))
    parts = ([f"waiting for an operator: {', '.join(manual)}"] if manual else []) + (
        [f"on hold: {', '.join(held)}"] if held else [])
    return "; ".join(parts) if parts else "no step of this order waits for an operator now"
