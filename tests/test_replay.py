"""The bulk replay of journal records gives the engine the state that applying them one by one gives."""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections.abc import Sequence
from typing import Any

import pytest
from test_engine import T0, plan, step

from dro_cli.engine.instants import iso
from dro_cli.engine.machine import Engine
from dro_cli.engine.replay import replay
from dro_cli.engine.states import StepState
from dro_cli.errors import DroError
from dro_cli.journal.fold import fold

Record = dict[str, Any]
RETRY = {"policy": "monotonous", "retries": 3, "interval": 60}


def retry_plan() -> dict[str, Any]:
    """Callouts that retry, one that never does, a manual step, a pause on a timer, and a dependent."""
    return plan(step("c1", "callout", retry=RETRY), step("c2", "callout", retry={"policy": "immediate", "retries": 4}),
                step("once", "callout"), step("ask", "manual", queue="ops"),
                step("wait", "pause", config={"resume_after": 90}),
                step("last", "auto", ("c1", "c2", "once", "ask", "wait"), retry=RETRY))


def journal_of(seed: int, the_plan: dict[str, Any], rounds: int = 60, ok: float = 0.25,
               fatal: float = 0.1) -> list[Record]:
    """A run on a virtual clock as records: attempts fail at random (some retry, some fall out and are
    retried by an operator), some are sent again after a crash, manual steps are completed by hand."""
    rng = random.Random(seed)
    engine = Engine(the_plan)
    records: list[Record] = []

    def journal(kind: str, payload: dict[str, Any], at: float) -> None:
        records.append({"seq": len(records) + 1, "ts": iso(at), "type": kind, "payload": payload,
                        "schema_version": 1, "checksum": "0" * 64})

    now = T0
    engine.apply("plan.created", {}, now)
    journal("plan.created", {}, now)
    for _ in range(rounds):
        for kind, payload in engine.advance(now):
            journal(kind, payload, now)
        answered = now + 0.25
        for sid, run in engine.runs.items():
            kind = engine.steps[sid]["type"]
            if run.state is StepState.IN_PROGRESS and kind == "manual":
                if rng.random() < 0.3:
                    act = {"step": sid, "operator": "ann", "reason": None, "outputs": {"ok": True}}
                    engine.apply("operator.complete", act, answered)
                    journal("operator.complete", act, answered)
            elif run.state is StepState.IN_PROGRESS:
                if rng.random() < 0.2:  # a crash: the attempt is sent again, same key
                    again = {"step": sid, "attempt": run.attempts, "idempotency_key": engine.key(sid, run.attempts)}
                    engine.apply("step.restarted", again, answered)
                    journal("step.restarted", again, answered)
                event = engine.outcome(sid, run.attempts, rng.random() < ok, answered, outputs={"n": run.attempts},
                                       error="http_503", message="HTTP 503", retryable=rng.random() >= fatal)
                if event is not None:
                    journal(*event, answered)
            elif run.state is StepState.FATALLY_FAILED and rng.random() < 0.5:
                act = {"step": sid, "operator": "bob", "reason": "again"}
                engine.apply("operator.retry", act, answered)
                journal("operator.retry", act, answered)
        now = engine.next_timer() or answered + 30
    return records


def one_by_one(the_plan: dict[str, Any], records: Sequence[Record]) -> Engine:
    engine = Engine(the_plan)
    for record in records:
        engine.apply_record(record)
    return engine


def in_batches(the_plan: dict[str, Any], records: Sequence[Record], rng: random.Random) -> Engine:
    engine = Engine(the_plan)
    start = 0
    while start < len(records):
        end = start + rng.randint(1, 40)
        replay(engine, records[start:end])
        start = end
    return engine


def live_timers(engine: Engine) -> list[tuple[float, int, str]]:
    """The timers that still count (the engine skips the others), in the order they fire."""
    runs = engine.runs
    return sorted({(when, position, sid) for when, position, sid in engine._timers
                   if (runs[sid].state is StepState.FAILED and runs[sid].retry_at == when)
                   or (runs[sid].state is StepState.ON_HOLD and runs[sid].resume_at == when)})


def assert_same(bulk: Engine, reference: Engine) -> None:
    assert bulk.runs == reference.runs
    assert (bulk.seq, bulk.created, bulk.canceled, bulk.discarded, bulk.completed_at) == \
        (reference.seq, reference.created, reference.canceled, reference.discarded, reference.completed_at)
    assert (bulk._blocked, bulk._unblocked, bulk._ready, bulk._unfinished) == \
        (reference._blocked, reference._unblocked, reference._ready, reference._unfinished)
    assert live_timers(bulk) == live_timers(reference)
    assert sorted(bulk._thresholds) == sorted(reference._thresholds)
    assert bulk.state is reference.state and bulk.progress() == reference.progress()
    assert bulk.next_timer() == reference.next_timer()
    later = (reference.next_timer() or T0) + 1
    assert bulk.advance(later) == reference.advance(later)  # and they go on deciding alike
    assert bulk.runs == reference.runs


def test_the_journals_here_have_what_the_bulk_path_must_get_right() -> None:
    records = [r for seed in range(40) for r in journal_of(seed, retry_plan())]
    kinds = {r["type"] for r in records}
    assert {"step.started", "step.failed", "step.restarted", "operator.complete", "operator.retry", "step.held",
            "step.resumed", "step.completed"} <= kinds
    assert any(r["type"] == "step.failed" and r["payload"]["retry_at"] is None for r in records)  # fallout


@pytest.mark.parametrize("seed", range(40))
def test_a_replay_in_one_batch_is_the_fold_one_record_at_a_time(seed: int) -> None:
    the_plan = retry_plan()
    records = journal_of(seed, the_plan)
    bulk = Engine(the_plan)
    replay(bulk, records)
    assert_same(bulk, one_by_one(the_plan, records))


@pytest.mark.parametrize("seed", range(40))
def test_a_replay_in_batches_of_any_size_is_the_fold_one_record_at_a_time(seed: int) -> None:
    """Each batch schedules its own retry timers: one a step, for its last failure in the batch."""
    the_plan = retry_plan()
    records = journal_of(seed, the_plan)
    rng = random.Random(seed)
    for cut in range(0, len(records), max(1, len(records) // 7)):  # the state part of the way through, too
        assert_same(in_batches(the_plan, records[:cut], rng), one_by_one(the_plan, records[:cut]))
    assert_same(in_batches(the_plan, records, rng), one_by_one(the_plan, records))


def test_a_batch_of_retries_schedules_one_timer_a_step() -> None:
    the_plan = plan(*(step(f"c{i}", "callout", retry={"policy": "monotonous", "retries": 99, "interval": 60})
                      for i in range(3)))
    records = journal_of(7, the_plan, rounds=30, ok=0, fatal=0)
    failures = sum(r["type"] == "step.failed" and r["payload"]["retry_at"] is not None for r in records)
    bulk = Engine(the_plan)
    replay(bulk, records)
    reference = one_by_one(the_plan, records)
    assert any(r["type"] == "step.restarted" for r in records)
    assert len(reference._timers) == failures > 3
    assert len(bulk._timers) <= 3
    assert_same(bulk, reference)


def test_a_cancel_amid_retries_clears_the_timers_as_one_by_one() -> None:
    the_plan = retry_plan()
    records = journal_of(3, the_plan, rounds=8)
    at = records[-1]["ts"]
    records.append({"seq": len(records) + 1, "ts": at, "type": "operator.cancel", "schema_version": 1,
                    "payload": {"operator": "ann", "reason": "customer"}, "checksum": "0" * 64})
    bulk = Engine(the_plan)
    replay(bulk, records)
    assert bulk._timers == [] and bulk.canceled is not None
    assert_same(bulk, one_by_one(the_plan, records))


def _started(seq: int, sid: str, attempt: int, **extra: Any) -> Record:
    return {"seq": seq, "ts": iso(T0 + seq), "type": "step.started", "schema_version": 1, "checksum": "0" * 64,
            "payload": {"step": sid, "attempt": attempt, "idempotency_key": f"ORD-1/{sid}/{attempt}", **extra}}


def _failed(seq: int, sid: str, attempt: int, **extra: Any) -> Record:
    payload = {"step": sid, "attempt": attempt, "code": "http_503", "message": "m", "retryable": True,
               "retry_at": iso(T0 + seq + 60), "queue": None}
    return {"seq": seq, "ts": iso(T0 + seq), "type": "step.failed", "schema_version": 1, "checksum": "0" * 64,
            "payload": {**payload, **extra}}


def _prefix() -> list[Record]:
    return [{"seq": 1, "ts": iso(T0), "type": "plan.created", "schema_version": 1, "checksum": "0" * 64,
             "payload": {}},
            {"seq": 2, "ts": iso(T0), "type": "step.ready", "schema_version": 1, "checksum": "0" * 64,
             "payload": {"steps": ["c1", "c2"]}},
            _started(3, "c1", 1), _failed(4, "c1", 1), _started(5, "c2", 1)]


BAD: dict[str, Record] = {
    "failed twice": _failed(6, "c1", 1),  # c1 failed already: not in progress
    "started twice": _started(6, "c2", 2),
    "unknown step": _started(6, "nope", 1),
    "no attempt": {**_started(6, "c1", 2), "payload": {"step": "c1"}},
    "no message": {**_failed(6, "c2", 1), "payload": {"step": "c2", "attempt": 1, "code": "x", "retryable": True,
                                                      "retry_at": iso(T0)}},
    "bad retry_at": _failed(6, "c2", 1, retry_at="soon"),
    "bad ts": {**_started(6, "c1", 2), "ts": "yesterday"},
    "no payload": {k: v for k, v in _started(6, "c1", 2).items() if k != "payload"},
    "steps instead": {**_started(6, "c1", 2), "payload": {"steps": ["c1"], "step": "c1", "attempt": 2}},
    "fallout without queue": _failed(6, "c2", 1, retry_at=None, queue=None) | {
        "payload": {"step": "c2", "attempt": 1, "code": "x", "message": "m", "retryable": False, "retry_at": None}},
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_record_that_does_not_fit_fails_as_it_does_one_by_one(name: str) -> None:
    """The same error, after the same records, leaving the same state behind."""
    the_plan = retry_plan()
    records = [*_prefix(), BAD[name], _started(7, "c1", 2)]
    reference = Engine(the_plan)
    with pytest.raises(Exception) as expected:  # whichever the engine raises
        for record in records:
            reference.apply_record(record)
    bulk = Engine(the_plan)
    with pytest.raises(type(expected.value)) as raised:
        replay(bulk, records)
    assert str(raised.value) == str(expected.value)
    assert bulk.seq == reference.seq == (6 if name == "steps instead" else 5)  # that one applies, as `step`
    assert bulk.runs == reference.runs
    assert live_timers(bulk) == live_timers(reference)


def test_the_fold_names_the_record_that_does_not_fit() -> None:
    records = [*_prefix(), BAD["failed twice"]]
    with pytest.raises(DroError, match=r"does not fit its plan at record 6: step\.failed does not apply to step c1"):
        fold(Engine(retry_plan()), records)


def test_a_fallout_and_a_retry_in_the_middle_of_a_batch() -> None:
    """A fatal failure is left to the engine's own handler, between failures replayed inline."""
    the_plan = retry_plan()
    records = [*_prefix(), _failed(6, "c2", 1, retry_at=None, queue="ops"),
               {"seq": 7, "ts": iso(T0 + 7), "type": "operator.retry", "schema_version": 1, "checksum": "0" * 64,
                "payload": {"step": "c2", "operator": "ann", "reason": None}},
               _started(8, "c2", 2), _started(9, "c1", 2), _failed(10, "c2", 2), _failed(11, "c1", 2)]
    bulk = Engine(the_plan)
    replay(bulk, records)
    reference = one_by_one(the_plan, records)
    assert reference.runs["c2"].round_start == 1 and reference.runs["c2"].state is StepState.FAILED
    assert dataclasses.asdict(bulk.runs["c2"]) == dataclasses.asdict(reference.runs["c2"])
    assert heapq.nsmallest(2, live_timers(bulk)) == [(T0 + 10 + 60, 1, "c2"), (T0 + 11 + 60, 0, "c1")]
    assert_same(bulk, reference)
