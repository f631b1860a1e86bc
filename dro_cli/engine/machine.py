"""The engine: a pure state machine over a plan and the events of its journal.

Given the plan, the events so far and the time, it decides what happens next: which steps become ready,
which start, which timers fire, which state every step and the plan are in. It reads no clock and
touches no file, thread or socket, so the runner, a test or a distributed workflow engine can host it.

Every change goes through `apply(type, payload, at)`, whether the event comes from
the journal (a fold) or from the engine's own decision (`advance`, `outcome`): the
state after a run equals the fold of the run's journal, by construction.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dro_cli.engine.instants import iso, parse_instant
from dro_cli.engine.retry import RetryPolicy, for_error
from dro_cli.engine.revisions import RevisionLoader, Superseded, amend
from dro_cli.engine.sla import SLA_CROSSINGS, crossing_rank, sla_thresholds
from dro_cli.engine.states import DISPATCHED_TYPES, DONE_FOR_DEPENDENTS, FINISHED, PlanState, StepState, StepType
from dro_cli.engine.step_run import StepRun, act_record
from dro_cli.engine.transitions import TRANSITIONS

Event = tuple[str, dict[str, Any]]  # (type, payload): a journal record before it has a seq and a time
DEFAULT_FALLOUT_QUEUE = "fallout"


class Engine:
    """The state of one plan, and the decisions that follow from it."""

    def __init__(self, plan: Mapping[str, Any], revisions: RevisionLoader | None = None) -> None:
        self.order_id: str = plan["order"]
        self.seq = 0  # the last journal record applied
        self.created = False
        self.canceled: dict[str, Any] | None = None  # the cancel act
        self.discarded: dict[str, Any] | None = None  # the discard act, the last record of an archived order
        self.completed_at: float | None = None
        self.revisions = revisions  # the plans of later revisions, for `plan.amended` (engine/revisions.py)
        self.revision: int = plan.get("revision", 1)
        self.history: list[Superseded] = []  # instances amendments took out of the live plan
        self.amendments: list[dict[str, Any]] = []  # the amend acts, revision by revision
        self.canceling: dict[str, Any] | None = None  # an amendment that cancels the order, compensating
        steps = {s["id"]: s for s in plan["steps"]}
        self.replace_plan(plan, steps, {sid: StepRun() for sid in steps})

    def replace_plan(self, plan: Mapping[str, Any], steps: dict[str, Any], runs: dict[str, StepRun]) -> None:
        """The plan (of a revision) with its runs; the indexes made anew."""
        self.steps: dict[str, Mapping[str, Any]] = steps
        self.plan, self.runs = plan, runs
        self.position = dict(zip(steps, range(len(steps)), strict=True))
        self._ids = list(steps)
        self.dependents: dict[str, list[str]] = {sid: [] for sid in steps}
        for step in plan["steps"]:
            for dependency in step["after"]:
                self.dependents[dependency].append(step["id"])
        self.rebuild()

    def rebuild(self) -> None:
        """The derived indexes (blocked counts, ready queue, timers) from `runs`."""
        runs = self.runs
        done = {sid for sid, run in runs.items() if run.state in DONE_FOR_DEPENDENTS}
        self._blocked = {sid: len(step["after"]) - (sum(d in done for d in step["after"]) if done else 0)
                         for sid, step in self.steps.items()}
        self._unblocked = {sid for sid, n in self._blocked.items() if n == 0 and runs[sid].state is StepState.PENDING}
        self._ready = {sid for sid, run in runs.items() if run.state is StepState.READY}
        self._timers: list[tuple[float, int, str]] = []
        for sid, run in runs.items():
            when = run.retry_at if run.state is StepState.FAILED else (
                run.resume_at if run.state is StepState.ON_HOLD else None)
            if when is not None:
                self._timers.append((when, self.position[sid], sid))
        heapq.heapify(self._timers)
        self._unfinished = sum(run.state not in FINISHED for run in runs.values())
        self._thresholds: list[tuple[float, int, int]] = []  # (instant, step position, rank in SLA_CROSSINGS)
        for sid, run in runs.items():
            if run.ready_at is not None and run.state not in FINISHED:
                self._watch(sid, run)
        heapq.heapify(self._thresholds)

    # ---- folding events -------------------------------------------------------------------------

    def apply(self, kind: str, payload: Mapping[str, Any], at: float) -> None:
        """Fold one event into the state; an event that does not fit the state raises ValueError."""
        handler = _APPLY.get(kind)
        if handler is None:
            raise ValueError(f"unknown journal record type {kind!r}")
        allowed = TRANSITIONS.get(kind)
        if allowed is not None:
            for sid in payload["steps"] if "steps" in payload else (payload["step"],):
                state = self.runs[sid].state
                if state not in allowed:
                    raise ValueError(f"{kind} does not apply to step {sid}, which is {state}")
        handler(self, payload, at)

    def apply_record(self, record: Mapping[str, Any]) -> None:
        self.apply(record["type"], record["payload"], parse_instant(record["ts"]))
        self.seq = record["seq"]

    def _created(self, payload: Mapping[str, Any], at: float) -> None:
        self.created = True

    def _ready_event(self, payload: Mapping[str, Any], at: float) -> None:
        runs, unblocked, ready, steps = self.runs, self._unblocked, self._ready, self.steps
        for sid in payload["steps"]:
            run = runs[sid]
            run.state, run.ready_at = StepState.READY, at
            unblocked.discard(sid)
            ready.add(sid)
            if steps[sid].get("duration") is not None:  # no SLA, no thresholds to watch
                self._watch(sid, run)

    def _watch(self, sid: str, run: StepRun) -> None:
        """Queue the SLA thresholds a ready step has yet to cross (DESIGN 5: due = ready + duration)."""
        assert run.ready_at is not None
        for rank, when in enumerate(sla_thresholds(self.steps[sid], run.ready_at)):
            if when is not None and crossing_rank(run.crossed) < rank:
                heapq.heappush(self._thresholds, (when, self.position[sid], rank))

    def _crossed(self, payload: Mapping[str, Any], at: float) -> None:
        self.runs[payload["step"]].crossed = payload["sla"]

    def _started(self, payload: Mapping[str, Any], at: float) -> None:
        sid = payload["step"]
        run = self.runs[sid]
        run.state, run.attempts, run.started_at, run.retry_at = StepState.IN_PROGRESS, payload["attempt"], at, None
        run.queue = payload.get("queue")
        self._ready.discard(sid)

    def _held(self, payload: Mapping[str, Any], at: float) -> None:
        sid = payload["step"]
        run = self.runs[sid]
        run.state, run.attempts, run.started_at = StepState.ON_HOLD, 1, at
        resume_at = payload.get("resume_at")
        run.resume_at = None if resume_at is None else parse_instant(resume_at)
        if run.resume_at is not None:
            heapq.heappush(self._timers, (run.resume_at, self.position[sid], sid))
        self._ready.discard(sid)

    def _completed(self, payload: Mapping[str, Any], at: float) -> None:
        self._finish(payload["step"], at, payload.get("outputs") or {})

    def _finish(self, sid: str, at: float, outputs: Mapping[str, Any]) -> None:
        run = self.runs[sid]
        run.state, run.finished_at, run.outputs = StepState.COMPLETED, at, dict(outputs)
        run.retry_at = run.resume_at = None
        if run.attempts == 0:
            run.attempts = 1
        self._ready.discard(sid)
        self._unfinished -= 1
        blocked, runs = self._blocked, self.runs
        for dependent in self.dependents[sid]:
            left = blocked[dependent] = blocked[dependent] - 1
            if left == 0 and runs[dependent].state is StepState.PENDING:
                self._unblocked.add(dependent)

    def _failed(self, payload: Mapping[str, Any], at: float) -> None:
        sid = payload["step"]
        run = self.runs[sid]
        run.error = {key: payload[key] for key in ("code", "message", "retryable")}
        retry_at = payload.get("retry_at")
        if retry_at is not None:
            run.state, run.retry_at, run.queue = StepState.FAILED, parse_instant(retry_at), None
            heapq.heappush(self._timers, (run.retry_at, self.position[sid], sid))
        else:
            run.state, run.retry_at, run.queue = StepState.FATALLY_FAILED, None, payload["queue"]
        run.finished_at = at

    def _operator_complete(self, payload: Mapping[str, Any], at: float) -> None:
        sid = payload["step"]
        self.runs[sid].acts.append(act_record("complete", payload, at))
        self._finish(sid, at, payload.get("outputs") or {})

    def _operator_resume(self, payload: Mapping[str, Any], at: float) -> None:
        sid = payload["step"]
        self.runs[sid].acts.append(act_record("resume", payload, at))
        self._finish(sid, at, {})

    def _operator_signal(self, payload: Mapping[str, Any], at: float) -> None:
        for sid in payload["steps"]:
            self.runs[sid].acts.append(act_record("signal", payload, at))
            self._finish(sid, at, payload.get("data") or {})

    def _operator_retry(self, payload: Mapping[str, Any], at: float) -> None:
        sid = payload["step"]
        run = self.runs[sid]
        run.acts.append(act_record("retry", payload, at))
        run.state, run.retry_at, run.queue, run.round_start = StepState.READY, None, None, run.attempts
        self._ready.add(sid)

    def _operator_cancel(self, payload: Mapping[str, Any], at: float) -> None:
        self.canceled = act_record("cancel", payload, at)
        for run in self.runs.values():
            if run.state not in FINISHED:
                run.state, run.finished_at, run.retry_at, run.resume_at = StepState.CANCELED, at, None, None
        self._ready.clear()
        self._unblocked.clear()
        self._timers.clear()
        self._thresholds.clear()
        self._unfinished = 0

    def _operator_discard(self, payload: Mapping[str, Any], at: float) -> None:
        self.discarded = act_record("discard", payload, at)

    def _plan_completed(self, payload: Mapping[str, Any], at: float) -> None:
        self.completed_at = at
        self.canceled = self.canceled or self.canceling  # a cancel that compensated ends canceled

    def _timer_resumed(self, payload: Mapping[str, Any], at: float) -> None:
        self._finish(payload["step"], at, {})

    def _restarted(self, payload: Mapping[str, Any], at: float) -> None:
        """An in-doubt attempt sent again after a crash, with the same idempotency key: no change of state."""

    # ---- deciding --------------------------------------------------------------------------------

    def advance(self, now: float) -> list[Event]:
        """Everything that happens by `now` without a handler or an operator: fired timers, steps
        becoming ready and starting, milestones and pauses. The events are applied already; the
        runner journals them, then runs the handlers of the auto and callout steps they start."""
        if self.canceled is not None or self.completed_at is not None:
            return []
        events = self.crossings(now)
        emit = self._emitter(events, now)
        while True:
            before = len(events)
            self._fire_timers(now, emit)
            if self._unblocked:
                emit("step.ready", {"steps": sorted(self._unblocked, key=self.position.__getitem__)})
                self._unblocked = _drained(self._unblocked)
            for sid in sorted(self._ready, key=self.position.__getitem__):
                self._start(sid, now, emit)
            self._ready = _drained(self._ready)
            if len(events) == before:
                break
        if self._unfinished == 0 and self.steps:
            emit("plan.completed", {})
        return events

    def crossings(self, now: float) -> list[Event]:
        """`step.jeopardy` and `step.late` for the thresholds unfinished steps crossed by `now`, each once,
        with the instant of the crossing (the record's own time is when it was noticed)."""
        events: list[Event] = []
        thresholds = self._thresholds
        while thresholds and thresholds[0][0] <= now:
            when, position, rank = heapq.heappop(thresholds)
            sid = self._ids[position]
            run = self.runs[sid]
            if run.state not in FINISHED and crossing_rank(run.crossed) < rank:
                assert run.ready_at is not None  # only ready steps are watched
                due = sla_thresholds(self.steps[sid], run.ready_at)[1]
                kind = SLA_CROSSINGS[rank]
                payload = {"step": sid, "sla": kind, "at": iso(when), "due": iso(due if due is not None else when)}
                self._crossed(payload, now)
                events.append((f"step.{kind}", payload))
        return events

    def next_crossing(self) -> float | None:
        """When the next SLA threshold of an unfinished step is crossed, if any is still ahead."""
        thresholds = self._thresholds
        while thresholds:
            _, position, rank = thresholds[0]
            run = self.runs[self._ids[position]]
            if run.state not in FINISHED and crossing_rank(run.crossed) < rank:
                return thresholds[0][0]
            heapq.heappop(thresholds)
        return None

    def _emitter(self, events: list[Event], now: float) -> Callable[[str, dict[str, Any]], None]:
        def emit(kind: str, payload: dict[str, Any]) -> None:
            _APPLY[kind](self, payload, now)  # the engine's own decisions fit its state (tested): no check
            events.append((kind, payload))
        return emit

    def _fire_timers(self, now: float, emit: Callable[[str, dict[str, Any]], None]) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            when, _, sid = heapq.heappop(timers)
            run = self.runs[sid]
            if run.state is StepState.FAILED and run.retry_at == when:
                self._start(sid, now, emit, attempt=run.attempts + 1)
            elif run.state is StepState.ON_HOLD and run.resume_at == when:
                emit("step.resumed", {"step": sid, "by": "timer"})

    def _start(self, sid: str, now: float, emit: Callable[[str, dict[str, Any]], None],
               attempt: int | None = None) -> None:
        step = self.steps[sid]
        kind = step["type"]
        attempt = attempt or self.runs[sid].attempts + 1
        if kind == StepType.MILESTONE:
            emit("step.completed", {"step": sid, "attempt": 1, "outputs": {}})
        elif kind == StepType.PAUSE:
            config = step["config"]
            wait = config.get("resume_after")
            emit("step.held", {"step": sid, "event": (config.get("resume_on") or {}).get("event"),
                               "resume_at": None if wait is None else iso(now + wait)})
        elif kind == StepType.MANUAL:
            emit("step.started", {"step": sid, "attempt": attempt, "queue": step.get("queue")})
        else:
            emit("step.started", {"step": sid, "attempt": attempt, "idempotency_key": self.key(sid, attempt)})

    def key(self, sid: str, attempt: int) -> str:
        """An attempt's idempotency key; one of an instance an amendment made names its revision."""
        revision = self.steps[sid].get("revision", 1)
        return f"{self.order_id}/{sid}/{attempt}" if revision == 1 else f"{self.order_id}/r{revision}/{sid}/{attempt}"

    def outcome(self, sid: str, attempt: int, ok: bool, now: float, *, outputs: Mapping[str, Any] | None = None,
                error: str = "", message: str = "", retryable: bool = True) -> Event | None:
        """A handler's result as an event (applied), or None if the attempt no longer counts."""
        run = self.runs[sid]
        if run.state is not StepState.IN_PROGRESS or run.attempts != attempt:
            return None
        if ok:
            event: Event = ("step.completed", {"step": sid, "attempt": attempt, "outputs": dict(outputs or {})})
        else:
            event = ("step.failed", self._failure(sid, attempt, error, message, retryable, now))
        _APPLY[event[0]](self, event[1], now)  # checked above: the attempt is in progress
        return event

    def _failure(self, sid: str, attempt: int, code: str, message: str, retryable: bool,
                 now: float) -> dict[str, Any]:
        settings = for_error(self.steps[sid], code)  # a fallout rule may name this error code
        policy = RetryPolicy.from_plan(settings.get("retry"))
        tries = attempt - self.runs[sid].round_start  # an operator's retry starts a new round of tries
        delay = policy.delay_after(tries) if policy is not None and retryable else None
        return {"step": sid, "attempt": attempt, "code": code, "message": message, "retryable": retryable,
                "retry_at": None if delay is None else iso(now + delay),
                "queue": None if delay is not None else settings.get("queue") or DEFAULT_FALLOUT_QUEUE}

    def in_doubt(self) -> list[str]:
        """Auto and callout steps started without an outcome: after a crash they are sent again."""
        return [sid for sid, run in self.runs.items()
                if run.state is StepState.IN_PROGRESS and self.steps[sid]["type"] in DISPATCHED_TYPES]

    # ---- reading ---------------------------------------------------------------------------------

    @property
    def state(self) -> PlanState:
        if self.canceled is not None:
            return PlanState.CANCELED
        if self._unfinished == 0:
            return PlanState.COMPLETED if self.canceling is None else PlanState.CANCELED
        if any(run.state is not StepState.PENDING for run in self.runs.values()):
            return PlanState.IN_PROGRESS
        return PlanState.NOT_STARTED

    def progress(self) -> tuple[int, int, int]:
        """(steps finished: completed or skipped, steps canceled, all steps)."""
        canceled = 0 if self.canceled is None else sum(run.state is StepState.CANCELED for run in self.runs.values())
        return len(self.steps) - self._unfinished - canceled, canceled, len(self.steps)

    def next_timer(self) -> float | None:
        while self._timers:
            when, _, sid = self._timers[0]
            run = self.runs[sid]
            if (run.state is StepState.FAILED and run.retry_at == when) or (
                    run.state is StepState.ON_HOLD and run.resume_at == when):
                return when
            heapq.heappop(self._timers)  # a timer that no longer counts
        return None

    def dependency_outputs(self, sid: str) -> dict[str, dict[str, Any]]:
        """`outputs.<step>` for templates: each dependency's outputs by step id; when several
        instances of one step feed this one, theirs merge in instance order."""
        after = self.steps[sid]["after"]
        merged: dict[str, dict[str, Any]] = {}
        for dependency in sorted(after, key=self.position.__getitem__) if len(after) > 1 else after:
            merged.setdefault(self.steps[dependency]["step"], {}).update(self.runs[dependency].outputs)
        return merged

    def with_state(self, *states: StepState) -> Iterable[str]:
        return (sid for sid, run in self.runs.items() if run.state in states)


def _drained(ids: set[str]) -> set[str]:
    """A fresh set for an emptied one, whose peak-size table every round's sorted() would walk again."""
    return ids if ids else set()


_APPLY: dict[str, Callable[[Engine, Mapping[str, Any], float], None]] = {
    "plan.created": Engine._created,
    "plan.completed": Engine._plan_completed,
    "plan.amended": amend,
    "step.ready": Engine._ready_event,
    "step.started": Engine._started,
    "step.restarted": Engine._restarted,
    "step.held": Engine._held,
    "step.resumed": Engine._timer_resumed,
    "step.completed": Engine._completed,
    "step.failed": Engine._failed,
    "step.jeopardy": Engine._crossed,
    "step.late": Engine._crossed,
    "operator.complete": Engine._operator_complete,
    "operator.resume": Engine._operator_resume,
    "operator.signal": Engine._operator_signal,
    "operator.retry": Engine._operator_retry,
    "operator.cancel": Engine._operator_cancel,
    "operator.discard": Engine._operator_discard,
}
