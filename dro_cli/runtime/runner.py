"""The runner: drives the engine, runs auto and callout steps on a thread pool, and alone writes the journal.

Each round: the engine decides (steps ready, started, timers fired), the runner
journals those events with one fsync, and only then hands the started steps to
their handlers. As handlers finish, their outcomes and the engine's next decisions
are journaled together, and so on until nothing is running and nothing more can
happen now. An attempt that was started but has no outcome in the journal (the
previous runner died) is sent again with the same idempotency key, and marked as sent
again, so that a command's handler first ends what the dead runner's copy left running.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dro_cli.engine.machine import Engine, Event
from dro_cli.engine.states import DISPATCHED_TYPES
from dro_cli.journal.order_errors import about_order
from dro_cli.journal.store import OpenOrder
from dro_cli.runtime.handlers.base import Invocation, Outcome
from dro_cli.runtime.step_context import StepContexts
from dro_cli.runtime.workers import Workers

Clock = Callable[[], float]
Handler = Callable[[Invocation], Outcome]
Listener = Callable[[Sequence[Event]], None]
Pool = Workers[tuple[str, int], Invocation, Outcome]  # attempts in, (step, attempt) and outcome out


class Runner:
    def __init__(self, order: OpenOrder, *, catalog_dir: Path | None, clock: Clock, parallel: int = 8,
                 environ: Mapping[str, str] | None = None, handler: Handler | None = None,
                 listener: Listener | None = None) -> None:
        assert order.engine is not None, "load the plan before running it"
        self.order = order
        self.engine: Engine = order.engine
        self.catalog_dir = catalog_dir
        self.clock = clock
        self.parallel = max(1, parallel)
        self.environ = dict(os.environ if environ is None else environ)
        self.handler = handler or _default_handler()
        self.listener = listener
        self.contexts = StepContexts(self.engine)
        self.warnings: list[str] = []  # the handlers' notes for the operator (Outcome.notes)
        # Which order directory this is, so that an attempt's mark on its processes is its alone on the machine.
        self._origin = hashlib.sha256(os.fsencode(os.path.realpath(order.order_dir))).hexdigest()[:12]

    def run(self) -> None:
        """Work until nothing is running and nothing more can happen now. An exception from the engine's
        decisions (not a handler's) is this order's DroError, raised before anything of that round is
        journaled."""
        engine = self.engine
        now = self.clock()
        deciding = functools.partial(about_order, engine.order_id, "run")
        with deciding():
            redo = [(sid, engine.runs[sid].attempts) for sid in engine.in_doubt()]
            events: list[Event] = [("step.restarted", {"step": sid, "attempt": attempt,
                                                       "idempotency_key": engine.key(sid, attempt)})
                                   for sid, attempt in redo]
            for kind, payload in events:
                engine.apply(kind, payload, now)
            events += engine.advance(now)
        pool: Pool = Workers(self.handler, self.parallel, "dro-step")
        try:
            self._record(events, now)
            self._launch(pool, redo, restarted=True)
            self._launch(pool, _started(engine, events))
            while pool.running:
                outcomes = pool.take(self._until_next_crossing())
                now = self.clock()
                self.warnings.extend(note for _, outcome in outcomes for note in outcome.notes)
                with deciding():
                    events = engine.crossings(now)  # a step that went late while it ran is journaled late first
                    for (sid, attempt), outcome in outcomes:
                        event = engine.outcome(sid, attempt, outcome.ok, now, outputs=outcome.outputs,
                                               error=outcome.error or "", message=outcome.message,
                                               retryable=outcome.retryable)
                        if event is not None:
                            events.append(event)
                    events += engine.advance(now)
                self._record(events, now)
                self._launch(pool, _started(engine, events))
        finally:
            pool.shutdown(wait=not pool.running)  # steps not started yet are dropped

    def _until_next_crossing(self) -> float | None:
        """How long steps may run before an SLA threshold is crossed: the runner wakes then to journal it."""
        when = self.engine.next_crossing()
        return None if when is None else max(0.0, when - self.clock())

    def _record(self, events: Sequence[Event], now: float) -> None:
        if events:
            self.order.append(events, now)
            if self.listener is not None:
                self.listener(events)

    def _launch(self, pool: Pool, attempts: Sequence[tuple[str, int]], *, restarted: bool = False) -> None:
        for sid, attempt in attempts:
            pool.put((sid, attempt), self.invocation(sid, attempt, restarted))

    def invocation(self, sid: str, attempt: int, restarted: bool = False) -> Invocation:
        engine = self.engine
        key = engine.key(sid, attempt)
        return Invocation(engine.steps[sid], attempt, key, self.contexts.of(sid, attempt),
                          engine.plan["endpoints"], self.catalog_dir, self.environ,
                          attempt_id=f"{self._origin}:{key}", restarted=restarted)


def _started(engine: Engine, events: Sequence[Event]) -> list[tuple[str, int]]:
    """The attempts among `events` that a handler runs."""
    return [(payload["step"], payload["attempt"]) for kind, payload in events
            if kind == "step.started" and engine.steps[payload["step"]]["type"] in DISPATCHED_TYPES]


def _default_handler() -> Handler:
    from dro_cli.runtime.handlers import run_step

    return run_step
