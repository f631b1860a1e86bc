"""The pure engine: its transition table, exhaustively; timers on a virtual clock; fold equals the live state."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dro_cli.engine.instants import iso, parse_instant
from dro_cli.engine.machine import Engine, Event
from dro_cli.engine.states import FINISHED, PlanState, StepState
from dro_cli.engine.transitions import TRANSITIONS

T0 = parse_instant("2026-12-01T10:00:00Z")


def step(sid: str, kind: str = "auto", after: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    config = extra.pop("config", {"flow": "m:f"} if kind == "auto" else {})
    return {"id": sid, "step": sid.split("[")[0], "title": sid, "type": kind, "lane": "l", "scope": "plan",
            "item": None, "bundle": None, "after": list(after), "run_as": None, "duration": None,
            "jeopardy": None, "retry": extra.pop("retry", None), "queue": extra.pop("queue", None),
            "config": config, **extra}


def plan(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"order": "ORD-1", "steps": list(steps), "endpoints": {},
            "context": {"order": {"id": "ORD-1"}, "items": {}, "bundles": {}}}


def types(events: list[Event]) -> list[str]:
    return [kind for kind, _ in events]


# ---- the transition table, every event against every state -------------------------------------

RESULT = {
    "step.ready": StepState.READY, "step.started": StepState.IN_PROGRESS, "step.restarted": StepState.IN_PROGRESS,
    "step.held": StepState.ON_HOLD, "step.resumed": StepState.COMPLETED, "step.completed": StepState.COMPLETED,
    "operator.complete": StepState.COMPLETED, "operator.resume": StepState.COMPLETED,
    "operator.signal": StepState.COMPLETED, "operator.retry": StepState.READY,
    "step.jeopardy": None, "step.late": None,  # SLA crossings leave the state as it is
}
PAYLOADS: dict[str, dict[str, Any]] = {
    "step.ready": {"steps": ["a"]}, "step.started": {"step": "a", "attempt": 1},
    "step.restarted": {"step": "a", "attempt": 1}, "step.held": {"step": "a", "event": "e", "resume_at": None},
    "step.resumed": {"step": "a", "by": "timer"}, "step.completed": {"step": "a", "attempt": 1, "outputs": {}},
    "operator.complete": {"step": "a", "operator": "ann", "reason": "r", "outputs": {}},
    "operator.resume": {"step": "a", "operator": "ann", "reason": None},
    "operator.signal": {"event": "e", "steps": ["a"], "operator": "ann", "data": {}},
    "operator.retry": {"step": "a", "operator": "ann", "reason": None},
    "step.jeopardy": {"step": "a", "sla": "jeopardy", "at": "2026-12-01T10:00:00Z", "due": "2026-12-01T11:00:00Z"},
    "step.late": {"step": "a", "sla": "late", "at": "2026-12-01T11:00:00Z", "due": "2026-12-01T11:00:00Z"},
}
FAILED = {"step": "a", "attempt": 1, "code": "http_503", "message": "m", "retryable": True}


def engine_in(state: StepState) -> Engine:
    engine = Engine(plan(step("a")))
    engine.runs["a"].state = state
    engine.rebuild()
    return engine


@pytest.mark.parametrize("state", list(StepState))
@pytest.mark.parametrize("kind", sorted(TRANSITIONS))
def test_every_step_event_in_every_state(kind: str, state: StepState) -> None:
    engine = engine_in(state)
    before = dataclasses.replace(engine.runs["a"])
    payloads = [dict(FAILED, retry_at=iso(T0 + 30), queue=None), dict(FAILED, retry_at=None, queue="q")] \
        if kind == "step.failed" else [PAYLOADS[kind]]
    for payload, result in zip(payloads, [StepState.FAILED, StepState.FATALLY_FAILED], strict=False):
        engine = engine_in(state)
        if state in TRANSITIONS[kind]:
            engine.apply(kind, payload, T0)
            expected = result if kind == "step.failed" else RESULT[kind] or state
            assert engine.runs["a"].state is expected
        else:
            with pytest.raises(ValueError, match="does not apply"):
                engine.apply(kind, payload, T0)
            assert engine.runs["a"] == before


def test_the_table_covers_every_step_event_the_engine_folds() -> None:
    from dro_cli.engine.machine import _APPLY

    plan_level = {"plan.created", "plan.completed", "plan.amended", "operator.cancel", "operator.discard"}
    assert set(_APPLY) == set(TRANSITIONS) | plan_level
    assert set(RESULT) | {"step.failed"} == set(TRANSITIONS)


def test_an_unknown_record_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown journal record type"):
        Engine(plan(step("a"))).apply("step.exploded", {"step": "a"}, T0)


@pytest.mark.parametrize("state", [s for s in StepState if s not in FINISHED])
def test_cancel_cancels_every_unfinished_step(state: StepState) -> None:
    engine = engine_in(state)
    engine.apply("operator.cancel", {"operator": "ann", "reason": "customer"}, T0)
    assert engine.runs["a"].state is StepState.CANCELED
    assert engine.state is PlanState.CANCELED
    assert engine.advance(T0 + 1e6) == []


# ---- deciding ------------------------------------------------------------------------------------

def test_milestones_cascade_in_one_advance_and_the_plan_completes() -> None:
    engine = Engine(plan(step("a", "milestone"), step("b", "milestone", ("a",)), step("c", "milestone", ("b",))))
    assert engine.state is PlanState.NOT_STARTED
    events = engine.advance(T0)
    assert types(events) == ["step.ready", "step.completed"] * 3 + ["plan.completed"]
    assert engine.state is PlanState.COMPLETED
    assert engine.advance(T0) == []


def test_a_step_starts_only_when_all_its_dependencies_have_completed() -> None:
    engine = Engine(plan(step("a"), step("b"), step("c", "auto", ("a", "b"))))
    assert [p["step"] for k, p in engine.advance(T0) if k == "step.started"] == ["a", "b"]
    engine.outcome("a", 1, True, T0)
    assert engine.advance(T0) == []
    engine.outcome("b", 1, True, T0 + 5)
    assert types(engine.advance(T0 + 5)) == ["step.ready", "step.started"]
    assert engine.runs["c"].ready_at == T0 + 5


def test_manual_steps_wait_in_their_queue() -> None:
    engine = Engine(plan(step("check", "manual", queue="credit_team")))
    kind, payload = engine.advance(T0)[-1]
    assert (kind, payload["queue"]) == ("step.started", "credit_team")
    assert engine.runs["check"].state is StepState.IN_PROGRESS
    assert engine.in_doubt() == []  # an operator works on it: nothing to send again


def test_a_pause_resumes_on_its_timer_exactly_when_due() -> None:
    engine = Engine(plan(step("wait", "pause", config={"resume_after": 3600}), step("next", "milestone", ("wait",))))
    held = engine.advance(T0)[-1]
    assert held == ("step.held", {"step": "wait", "event": None, "resume_at": "2026-12-01T11:00:00Z"})
    assert engine.next_timer() == T0 + 3600
    assert engine.advance(T0 + 3599.999) == []
    assert types(engine.advance(T0 + 3600))[:3] == ["step.resumed", "step.ready", "step.completed"]


@pytest.mark.parametrize(("retry", "delays"), [
    ({"policy": "immediate", "retries": 2}, [0, 0]),
    ({"policy": "monotonous", "retries": 3, "interval": 30}, [30, 30, 30]),
    ({"policy": "staggered", "intervals": [10, 60, 300]}, [10, 60, 300]),
    ({"policy": "exponential", "retries": 4, "initial": 30, "factor": 2, "max": 100}, [30, 60, 100, 100]),
])
def test_retries_follow_the_policy_then_fall_out(retry: dict[str, Any], delays: list[float]) -> None:
    engine = Engine(plan(step("call", "callout", retry=retry, queue="ops")))
    now = T0
    engine.advance(now)
    for attempt, delay in enumerate(delays, 1):
        kind, payload = engine.outcome("call", attempt, False, now, error="http_503", message="down") or ("", {})
        assert (kind, payload["retry_at"]) == ("step.failed", iso(now + delay))
        assert engine.runs["call"].state is StepState.FAILED
        if delay:
            assert engine.advance(now + delay - 0.001) == []
        now += delay
        started = engine.advance(now)
        assert started == [("step.started", {"step": "call", "attempt": attempt + 1,
                                             "idempotency_key": f"ORD-1/call/{attempt + 1}"})]
    last = engine.outcome("call", len(delays) + 1, False, now, error="http_503")
    assert last is not None and last[1]["queue"] == "ops" and last[1]["retry_at"] is None
    assert engine.runs["call"].state is StepState.FATALLY_FAILED


def test_a_non_retryable_failure_falls_out_at_once_to_the_default_queue() -> None:
    engine = Engine(plan(step("call", "callout", retry={"policy": "immediate", "retries": 5})))
    engine.advance(T0)
    event = engine.outcome("call", 1, False, T0, error="http_404", retryable=False)
    assert event is not None and event[1]["queue"] == "fallout"
    assert engine.advance(T0 + 1e6) == []


def test_a_late_outcome_of_an_old_attempt_is_ignored() -> None:
    engine = Engine(plan(step("a")))
    engine.advance(T0)
    assert engine.outcome("a", 2, True, T0) is None
    assert engine.runs["a"].state is StepState.IN_PROGRESS


def test_outputs_of_dependencies_reach_dependents_by_step_id() -> None:
    engine = Engine(plan(step("r[A]"), step("r[B]"), step("bill", "auto", ("r[A]", "r[B]"))))
    engine.advance(T0)
    engine.outcome("r[A]", 1, True, T0, outputs={"id": "A", "only_a": 1})
    engine.outcome("r[B]", 1, True, T0, outputs={"id": "B"})
    assert engine.dependency_outputs("bill") == {"r": {"id": "B", "only_a": 1}}


# ---- the fold is the state --------------------------------------------------------------------------

def random_plan(rng: random.Random, size: int) -> dict[str, Any]:
    kinds = ["auto", "callout", "milestone", "manual", "pause"]
    steps = []
    for i in range(size):
        after = tuple(sorted({f"s{j}" for j in rng.sample(range(i), min(i, rng.randint(0, 3)))}))
        kind = rng.choice(kinds)
        config = {"resume_after": rng.choice([60, 3600])} if kind == "pause" else None
        steps.append(step(f"s{i}", kind, after, retry=rng.choice([None, {"policy": "immediate", "retries": 1}]),
                          **({"config": config} if config else {}))
                     | {"duration": rng.choice([None, 1800, 5400, 20000]), "jeopardy": rng.choice([None, 600, 3000])})
    return plan(*steps)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 25))
def test_a_run_on_a_virtual_clock_completes_and_its_fold_equals_the_live_state(seed: int, size: int) -> None:
    rng = random.Random(seed)
    the_plan = random_plan(rng, size)
    engine = Engine(the_plan)
    journal: list[tuple[str, dict[str, Any], float]] = []
    now = T0
    for _ in range(10 * size + 10):
        journal += [(k, p, now) for k, p in engine.advance(now)]
        for sid, run in engine.runs.items():
            if run.state is StepState.IN_PROGRESS:
                kind = engine.steps[sid]["type"]
                if kind == "manual":
                    event: Event | None = ("operator.complete", {"step": sid, "operator": "ann", "reason": None,
                                                                 "outputs": {}})
                    engine.apply(*event, now)
                else:
                    event = engine.outcome(sid, run.attempts, rng.random() < 0.8, now, error="boom")
                journal += [(*event, now)] if event else []
            elif run.state is StepState.FATALLY_FAILED:
                event = ("operator.retry", {"step": sid, "operator": "ann", "reason": None})
                engine.apply(*event, now)
                journal.append((*event, now))
        if engine.state is PlanState.COMPLETED:
            break
        now += 3600
    assert engine.state is PlanState.COMPLETED
    completions = [p.get("step") for k, p, _ in journal if k in ("step.completed", "step.resumed", "operator.complete")]
    assert sorted(completions) == sorted(engine.steps)  # each step completed exactly once
    finished_at = {sid: run.finished_at for sid, run in engine.runs.items()}
    for sid, the_step in engine.steps.items():
        assert all(finished_at[d] is not None and engine.runs[sid].ready_at is not None
                   and finished_at[d] <= engine.runs[sid].ready_at for d in the_step["after"])
    crossed = [(k, p["step"]) for k, p, _ in journal if k in ("step.jeopardy", "step.late")]
    assert len(crossed) == len(set(crossed))  # each crossing once
    for sid, run in engine.runs.items():
        due = run.ready_at + engine.steps[sid]["duration"] if engine.steps[sid]["duration"] else None
        assert (("step.late", sid) in crossed) == (due is not None and run.finished_at >= due)
    folded = Engine(the_plan)
    for kind, payload, at in journal:
        folded.apply(kind, payload, at)
    assert folded.runs == engine.runs
    assert folded.state is engine.state
