"""SLA on the virtual clock: thresholds exactly at their boundaries, each crossing journaled once (also after
a fold), retry rounds, the plan's expected completion, and a runner that wakes to journal a crossing."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest
from test_engine import T0, plan, step

from dro_cli.engine.forecast import expected_completion, plan_sla, requested_by
from dro_cli.engine.instants import iso, parse_instant
from dro_cli.engine.machine import Engine, Event
from dro_cli.engine.sla import sla_of
from dro_cli.journal.file import read, write_plan
from dro_cli.runtime.api import RunOptions, run_order
from dro_cli.runtime.handlers.base import Invocation, Outcome, success

HOUR = 3600.0


def timed(sid: str, kind: str = "manual", after: tuple[str, ...] = (), duration: float | None = HOUR,
          jeopardy: float | None = 600.0, **extra: Any) -> dict[str, Any]:
    return step(sid, kind, after, **extra) | {"duration": duration, "jeopardy": jeopardy}


def ready(engine: Engine, at: float = T0) -> Engine:
    engine.advance(at)
    return engine


def crossings(engine: Engine, at: float) -> list[tuple[str, str, str]]:
    return [(kind, payload["step"], payload["at"]) for kind, payload in engine.crossings(at)]


# ---- crossings -------------------------------------------------------------------------------------------------

def test_jeopardy_and_late_are_crossed_exactly_at_their_boundaries_and_once() -> None:
    engine = ready(Engine(plan(timed("a"))))  # due T0 + 1h, in jeopardy from T0 + 50m
    run = engine.runs["a"]
    assert crossings(engine, T0 + 3000 - 0.001) == []
    assert sla_of(engine.steps["a"], run, T0 + 3000 - 0.001) == ("on_track", T0 + HOUR)
    assert crossings(engine, T0 + 3000) == [("step.jeopardy", "a", iso(T0 + 3000))]
    assert sla_of(engine.steps["a"], run, T0 + 3000)[0] == "jeopardy"
    assert crossings(engine, T0 + 3000) == [] and crossings(engine, T0 + HOUR - 0.001) == []
    assert crossings(engine, T0 + HOUR) == [("step.late", "a", iso(T0 + HOUR))]
    assert sla_of(engine.steps["a"], run, T0 + HOUR)[0] == "late"
    assert crossings(engine, T0 + 100 * HOUR) == []
    assert engine.next_crossing() is None


def test_thresholds_noticed_late_are_journaled_in_order_with_the_instant_they_were_crossed() -> None:
    engine = ready(Engine(plan(timed("a"), timed("b", jeopardy=None))))
    assert crossings(engine, T0 + 5 * HOUR) == [
        ("step.jeopardy", "a", iso(T0 + 3000)), ("step.late", "a", iso(T0 + HOUR)), ("step.late", "b", iso(T0 + HOUR))]


def test_a_step_finished_in_time_crosses_nothing_and_met_means_before_due() -> None:
    engine = ready(Engine(plan(timed("a"), timed("b"))))
    engine.apply("operator.complete", {"step": "a", "operator": "ann", "reason": None, "outputs": {}}, T0 + 60)
    engine.apply("operator.complete", {"step": "b", "operator": "ann", "reason": None, "outputs": {}}, T0 + HOUR)
    assert crossings(engine, T0 + 10 * HOUR) == []
    assert sla_of(engine.steps["a"], engine.runs["a"], T0)[0] == "met"
    assert sla_of(engine.steps["b"], engine.runs["b"], T0)[0] == "missed"  # late from due: done at due is late


def test_a_step_without_a_duration_has_no_sla() -> None:
    engine = ready(Engine(plan(timed("a", duration=None))))
    assert crossings(engine, T0 + 1e9) == [] and engine.next_crossing() is None
    assert sla_of(engine.steps["a"], engine.runs["a"], T0 + 1e9) == (None, None)


def test_a_fold_of_the_journaled_crossings_never_crosses_them_again() -> None:
    live = Engine(plan(timed("a"), timed("b", after=("a",))))
    journal: list[tuple[str, dict[str, Any], float]] = [(k, p, T0) for k, p in live.advance(T0)]
    journal += [(k, p, T0 + 3000) for k, p in live.crossings(T0 + 3000)]
    folded = Engine(live.plan)
    for kind, payload, at in journal:
        folded.apply(kind, payload, at)
    folded.rebuild()  # as a snapshot load does
    assert folded.runs["a"].crossed == "jeopardy"
    assert crossings(folded, T0 + 3000) == []
    assert crossings(folded, T0 + HOUR) == [("step.late", "a", iso(T0 + HOUR))]


def test_a_canceled_plan_crosses_nothing() -> None:
    engine = ready(Engine(plan(timed("a"))))
    engine.apply("operator.cancel", {"operator": "ann", "reason": "customer"}, T0 + 1)
    assert crossings(engine, T0 + 10 * HOUR) == []


# ---- retry rounds ----------------------------------------------------------------------------------------------

def test_an_operators_retry_starts_a_new_round_of_the_policy() -> None:
    retry = {"policy": "staggered", "intervals": [60, 600]}
    engine = ready(Engine(plan(step("a", retry=retry))))

    def fail(attempt: int, at: float) -> dict[str, Any]:
        event = engine.outcome("a", attempt, False, at, error="http_503", message="down")
        assert event is not None
        engine.advance(at)
        return event[1]

    assert fail(1, T0)["retry_at"] == iso(T0 + 60)
    engine.advance(T0 + 60)
    assert fail(2, T0 + 60)["retry_at"] == iso(T0 + 660)
    engine.advance(T0 + 660)
    assert fail(3, T0 + 660)["queue"] == "fallout"
    engine.apply("operator.retry", {"step": "a", "operator": "ann", "reason": "fixed"}, T0 + HOUR)
    engine.advance(T0 + HOUR)
    assert engine.runs["a"].attempts == 4
    assert fail(4, T0 + HOUR)["retry_at"] == iso(T0 + HOUR + 60)  # the first interval again


# ---- the plan's expected completion ------------------------------------------------------------------------------

def diamond() -> Engine:
    """a (1h) then b (2h) and c (30m), then d (1h); e (10h) alone."""
    return Engine(plan(timed("a"), timed("b", after=("a",), duration=2 * HOUR), timed("c", after=("a",), duration=1800),
                       timed("d", after=("b", "c")), timed("e", duration=10 * HOUR)))


def complete(engine: Engine, sid: str, at: float) -> None:
    engine.apply("operator.complete", {"step": sid, "operator": "ann", "reason": None, "outputs": {}}, at)
    engine.advance(at)


def test_expected_completion_is_the_critical_path_of_the_remaining_durations() -> None:
    engine = diamond()
    assert expected_completion(engine, T0) == T0 + 10 * HOUR  # e alone is the longest path
    ready(engine)
    complete(engine, "e", T0 + 60)
    assert expected_completion(engine, T0 + 60) == T0 + 4 * HOUR  # a, b, d
    complete(engine, "a", T0 + 3 * HOUR)  # two hours late
    assert expected_completion(engine, T0 + 3 * HOUR) == T0 + 6 * HOUR
    assert expected_completion(engine, T0 + 20 * HOUR) == T0 + 21 * HOUR  # b is overdue: now, then d's hour
    for sid in ("b", "c", "d"):
        complete(engine, sid, T0 + 7 * HOUR)
    assert expected_completion(engine, T0 + 9 * HOUR) == T0 + 7 * HOUR  # as it happened


def test_a_retry_or_a_timer_ahead_pushes_the_expected_completion() -> None:
    engine = ready(Engine(plan(timed("a", "auto", duration=60, retry={"policy": "monotonous", "retries": 1,
                                                                      "interval": HOUR}))))
    engine.outcome("a", 1, False, T0, error="timeout")
    assert expected_completion(engine, T0) == T0 + HOUR


@pytest.mark.parametrize(("requested", "at", "sla"), [
    ("2026-12-01T20:00:00Z", T0, "on_track"),
    ("2026-12-01T14:00:00Z", T0, "jeopardy"),  # expected at 14:00 exactly: at risk
    ("2026-12-01T11:00:00Z", T0 + HOUR, "late"),
    ("2026-12-01", T0, "on_track"),  # a date alone: by the end of that day
])
def test_the_plan_against_its_requested_date(requested: str, at: float, sla: str) -> None:
    engine = ready(Engine(plan(timed("a", duration=4 * HOUR))))
    engine.plan["context"]["order"]["requested_date"] = requested
    assert plan_sla(engine, at) == {"expected_completion": iso(T0 + 4 * HOUR), "requested_date": requested,
                                    "sla": sla}


def test_a_requested_date_alone_means_the_end_of_that_day() -> None:
    assert requested_by("2026-12-01") == parse_instant("2026-12-02T00:00:00Z")
    assert requested_by("2026-12-01T09:00:00+01:00") == parse_instant("2026-12-01T08:00:00Z")


# ---- the runner journals a crossing while a step runs -------------------------------------------------------------

def test_the_runner_wakes_to_journal_a_crossing_while_a_step_still_runs(tmp_path: Path) -> None:
    """A real clock: the step is due 0.2 s after it starts and runs until the test has seen step.late."""
    slow = timed("slow", "auto", duration=0.2, jeopardy=None)
    order_dir = tmp_path / "orders" / "ORD-1"
    order_dir.mkdir(parents=True)
    (order_dir / "journal.jsonl").write_bytes(b"")  # the journal before the plan, as dro makes them (else DRO520)
    write_plan(order_dir, {**plan(slow), "kind": "dro/plan", "schema_version": 1, "templates": "t", "lanes": {}})
    from dro_cli.journal.store import OpenOrder

    with OpenOrder(order_dir) as order:
        plan_sha = hashlib.sha256((order_dir / "plan.json").read_bytes()).hexdigest()  # as dro journals it
        order.append([("plan.created", {"order": "ORD-1", "catalog": None, "plan_sha256": plan_sha})], T0)
    journaled = threading.Event()
    seen: list[Event] = []

    def listener(events: Any) -> None:
        seen.extend(events)
        if any(kind == "step.late" for kind, _ in events):
            journaled.set()

    def handler(invocation: Invocation) -> Outcome:
        assert journaled.wait(10), "the runner did not journal step.late while the step ran"
        return success({})

    run_order("ORD-1", RunOptions(tmp_path, handler=handler, listener=listener))
    kinds = [record["type"] for record in read(order_dir / "journal.jsonl")]
    assert kinds[1:] == ["step.ready", "step.started", "step.late", "step.completed", "plan.completed"]
    assert [kind for kind, _ in seen] == kinds[1:]
