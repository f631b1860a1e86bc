"""The workflow that hosts the engine: one per order, its workflow id the order id.

As the local runner does, each round the engine decides (timers fired, SLA crossings, steps ready and
started) and the started auto and callout steps go to their handlers, here as activities. The history
is the journal: every decision is replayed from it, so the workflow reads no clock but `workflow.now()`
and waits on durable timers (retries, timed pauses, SLA thresholds) rather than on `dro tick`. Operator
acts are updates whose validator asks the engine's own acts (`dro_cli.engine.acts`), so a refused act
never reaches the history. The status query answers with the document of `dro status --format json`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as NoAnswer

from dro_cli.hosts.temporal import ACTIVITY, HEARTBEAT_TIMEOUT, WORKFLOW

with workflow.unsafe.imports_passed_through():  # deterministic, and loaded once for every workflow
    from pathlib import Path

    from dro_cli.engine import acts
    from dro_cli.engine.machine import Engine, Event
    from dro_cli.engine.states import DISPATCHED_TYPES, PlanState
    from dro_cli.journal.store import OrderView
    from dro_cli.runtime.status import order_status
    from dro_cli.runtime.step_context import StepContexts

# Temporal retries nothing: dro's retry policies and fallout queues decide. An attempt whose worker died is
# in doubt, and is sent again with the same idempotency key, as the local runner sends it after a crash.
NO_RETRIES = RetryPolicy(maximum_attempts=1)
ATTEMPT_LIMIT = timedelta(hours=1)  # a worker's attempt that has not answered by then is taken as lost
LOST_AFTER = timedelta(seconds=HEARTBEAT_TIMEOUT)  # a worker that stops heartbeating is lost sooner
REFUSED = "DroRefusal"  # the ApplicationError type of a refused act; its details are (message, hint)
ENDED = (PlanState.COMPLETED, PlanState.CANCELED)


@workflow.defn(name=WORKFLOW)
class OrderWorkflow:
    @workflow.init
    def __init__(self, start: dict[str, Any]) -> None:
        self.created: dict[str, Any] = start["created"]
        self.catalog_dir: str | None = start.get("catalog_dir")
        self.engine = Engine(start["plan"])
        self.contexts = StepContexts(self.engine)
        self.running: dict[tuple[str, int], asyncio.Task[dict[str, Any]]] = {}
        self.acts: list[Event] = []  # operator acts received, applied at the next round
        self.decided = False  # the last round is done and nothing came in since
        self.notes: list[str] = []

    @workflow.run
    async def run(self, start: dict[str, Any]) -> dict[str, Any]:
        self.engine.apply("plan.created", self.created, self._now())
        while True:
            self._round()
            if self.engine.state in ENDED and not self.running:
                break
            with contextlib.suppress(TimeoutError):  # a retry, a pause or an SLA threshold is due: the next round
                await workflow.wait_condition(self._woken, timeout=self._until_next(),
                                              timeout_summary="next dro timer")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()

    # ---- rounds ----------------------------------------------------------------------------------

    def _round(self) -> None:
        engine, now = self.engine, self._now()
        events = engine.crossings(now)  # a step that went late while it ran goes late first, as locally
        for (sid, attempt), task in [(key, task) for key, task in self.running.items() if task.done()]:
            del self.running[(sid, attempt)]
            answer = self._answer(sid, attempt, task)
            if answer is None:
                continue
            self.notes.extend(answer["notes"])
            event = engine.outcome(sid, attempt, answer["ok"], now, outputs=answer["outputs"],
                                   error=answer["error"], message=answer["message"], retryable=answer["retryable"])
            if event is not None:
                events.append(event)
        for kind, payload in self.acts:
            engine.apply(kind, payload, now)
        self.acts.clear()
        events += engine.advance(now)
        for kind, payload in events:
            if kind == "step.started" and engine.steps[payload["step"]]["type"] in DISPATCHED_TYPES:
                self._launch(payload["step"], payload["attempt"])
        self.decided = True

    def _answer(self, sid: str, attempt: int, task: asyncio.Task[dict[str, Any]]) -> dict[str, Any] | None:
        """The handler's outcome; None when the attempt is in doubt (its worker was lost) and sent again."""
        try:
            return task.result()
        except ActivityError as failed:
            if not isinstance(failed.cause, NoAnswer):  # the worker answered, with an error of its own
                return {"ok": False, "outputs": {}, "error": "worker_error", "retryable": True, "notes": [],
                        "message": f"step {sid}: the worker failed to run it: {failed.cause or failed}"}
        key = self.engine.key(sid, attempt)  # no heartbeat, no answer: its worker died with it in flight
        self.engine.apply("step.restarted", {"step": sid, "attempt": attempt, "idempotency_key": key}, self._now())
        self._launch(sid, attempt, restarted=True)
        return None

    def _launch(self, sid: str, attempt: int, *, restarted: bool = False) -> None:
        self.running[(sid, attempt)] = workflow.start_activity(
            ACTIVITY, self._request(sid, attempt, restarted), start_to_close_timeout=ATTEMPT_LIMIT,
            heartbeat_timeout=LOST_AFTER, retry_policy=NO_RETRIES, summary=sid)

    def _request(self, sid: str, attempt: int, restarted: bool) -> dict[str, Any]:
        engine = self.engine
        key = engine.key(sid, attempt)
        return {"step": plain(engine.steps[sid]), "attempt": attempt, "idempotency_key": key,
                "context": plain(self.contexts.of(sid, attempt)), "endpoints": plain(engine.plan["endpoints"]),
                "catalog_dir": self.catalog_dir, "attempt_id": f"temporal:{key}", "restarted": restarted}

    def _woken(self) -> bool:
        return bool(self.acts) or any(task.done() for task in self.running.values())

    def _until_next(self) -> timedelta | None:
        dues = [due for due in (self.engine.next_timer(), self.engine.next_crossing()) if due is not None]
        return None if not dues else timedelta(seconds=max(0.001, min(dues) - self._now()))

    def _settled(self) -> bool:
        return self.decided and not self.acts and not self.running

    @staticmethod
    def _now() -> float:
        return workflow.now().timestamp()

    # ---- what clients see and do -----------------------------------------------------------------

    @workflow.query(name="view")
    def view(self) -> dict[str, Any]:
        """`dro status --format json` of the order, its lanes (to draw it as text) and plan.created."""
        order = OrderView(Path(self.engine.order_id), self.engine.plan, self.engine, self.created)
        return {"status": order_status(order, self._now()), "lanes": plain(self.engine.plan["lanes"]),
                "created": self.created, "notes": list(self.notes)}

    @workflow.update(name="settled")
    async def settled(self) -> dict[str, Any]:
        """The view once nothing is running and nothing more can happen now: where `dro run` stops."""
        await workflow.wait_condition(self._settled)
        return self.view()

    @workflow.update(name="act")
    async def act(self, request: dict[str, Any]) -> dict[str, Any]:
        """An operator's act (`complete`, `signal`, `resume`, `retry`), then the view once it settles."""
        self.acts.append(self._event_of(request))
        self.decided = False
        await workflow.wait_condition(self._settled)
        return self.view()

    @act.validator
    def check_act(self, request: dict[str, Any]) -> None:
        self._event_of(request)

    def _event_of(self, request: Mapping[str, Any]) -> Event:
        engine, kind, who = self.engine, request.get("kind"), str(request.get("operator") or "")
        try:
            if kind == "complete":
                return acts.complete(engine, request["step"], operator=who, reason=request.get("reason"),
                                     outputs=request.get("outputs") or {})
            if kind == "signal":
                return acts.signal(engine, request["event"], operator=who, data=request.get("data") or {})
            if kind == "resume":
                return acts.resume(engine, request["step"], operator=who, reason=request.get("reason"))
            if kind == "retry":
                return acts.retry(engine, request["step"], operator=who, reason=request.get("reason"))
        except acts.Refusal as refusal:
            raise ApplicationError(refusal.message, refusal.message, refusal.hint or "", type=REFUSED,
                                   non_retryable=True) from None
        raise ApplicationError(f"dro on Temporal does not take the act {kind!r} yet", f"no act {kind!r}", "",
                               type=REFUSED, non_retryable=True)


def plain(value: Any) -> Any:
    """`value` as JSON data (dicts, lists and scalars), for Temporal's payload converter."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
