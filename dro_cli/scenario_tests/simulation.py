"""A plan run on a virtual clock, in memory: the real engine and operator acts, with scripted
answers in place of HTTP servers and flows. Nothing leaves the process and nothing sleeps."""

from __future__ import annotations

import contextlib
import http
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dro_cli.engine import acts
from dro_cli.engine.machine import Engine, Event
from dro_cli.engine.states import DISPATCHED_TYPES, StepState, StepType
from dro_cli.planning.amendment import Reconciliation
from dro_cli.runtime.handlers.base import Outcome, failure, success
from dro_cli.runtime.step_context import StepContexts
from dro_cli.scenario_tests.amending import Revisions
from dro_cli.scenario_tests.results import ScriptError

if TYPE_CHECKING:
    from dro_cli.planning.orders import OrderResult

Answer = Mapping[str, Any]
OPERATOR = "dro-test"


class Simulation:
    """One plan, its engine and a virtual clock that moves only when the script says so."""

    def __init__(self, plan: Mapping[str, Any], answers: Mapping[str, Sequence[Answer]], start: float,
                 templates: Mapping[str, Any] | None = None, order: OrderResult | None = None) -> None:
        self.revisions = Revisions()
        self.engine = Engine(plan, revisions=self.revisions)
        self.contexts = StepContexts(self.engine)
        self.templates: Mapping[str, Any] = templates or {}  # what amendments are planned with
        self.order = order  # the order as it now is: the case's, or its last revision
        self.reconciliation: Reconciliation | None = None  # the last amendment or cancel
        self.refused: ScriptError | None = None  # the refusal of the step before, when an `expect` expects it
        self.answers = answers
        self.now = start
        self.used: dict[str, int] = {}  # scripted answers used, by step instance
        self.requests: dict[str, dict[str, Any]] = {}  # the last request of each callout instance
        self.engine.apply("plan.created", {"order": self.engine.order_id}, start)
        self.settle()

    # ---- time ------------------------------------------------------------------------------------

    def settle(self) -> None:
        """Everything that happens now without an operator: timers, SLA crossings, steps that
        become ready and start, and the scripted answers of the steps that start."""
        while True:
            events = self.engine.advance(self.now)
            started = _dispatched(self.engine, events)
            answered = False
            for sid, attempt in started:
                answer = self._scripted(sid)
                if answer is not None:
                    self._finish(sid, attempt, answer)
                    answered = True
                else:
                    self._sent(sid, attempt)
            if not answered:
                return

    def advance_to(self, target: float) -> None:
        """Move the clock to `target`; each retry and pause timer on the way fires at its own instant."""
        if target < self.now:
            raise ScriptError("the virtual clock cannot go back", "advance by a positive duration")
        while (when := self.engine.next_timer()) is not None and when <= target:
            self.now = max(self.now, when)
            self.settle()
        self.now = target
        self.settle()

    # ---- operator acts ---------------------------------------------------------------------------

    def act(self, kind: str, value: Any, options: Mapping[str, Any]) -> None:
        """`complete`, `signal`, `resume`, `retry` or `cancel`, checked as the command would check it."""
        operator = self.operator(options)
        reason = options.get("reason")
        engine = self.engine
        try:
            if kind == "complete":
                event = acts.complete(engine, value, operator=operator, reason=reason,
                                      outputs=options.get("outputs") or {})
            elif kind == "signal":
                event = acts.signal(engine, value, operator=operator, data=options.get("data") or {})
            elif kind == "resume":
                event = acts.resume(engine, value, operator=operator, reason=reason)
            elif kind == "retry":
                event = acts.retry(engine, value, operator=operator, reason=reason)
            else:
                self._cancel(value, options)
                return
        except acts.Refusal as refusal:
            raise ScriptError(refusal.message, refusal.hint) from None
        self.apply(event)

    def _cancel(self, value: Any, options: Mapping[str, Any]) -> None:
        """`cancel: REASON`, `cancel: all` (with `reason:`): the whole order; `cancel: [LINE, ...]`: lines."""
        from dro_cli.scenario_tests import amending

        if isinstance(value, list):
            amending.cancel(self, [str(line) for line in value], options)
        elif value == "all" and "reason" in options:
            amending.cancel(self, None, options)
        else:
            amending.cancel(self, None, {**options, "reason": value})

    def amend(self, loaded: OrderResult, shown: str, options: Mapping[str, Any]) -> None:
        from dro_cli.scenario_tests import amending

        amending.amend(self, loaded, shown, options)

    @staticmethod
    def operator(options: Mapping[str, Any]) -> str:
        return str(options.get("operator") or OPERATOR)

    def answer(self, ref: str, answer: Answer) -> None:
        """Answer the running attempt of a callout or auto step now."""
        try:
            sid = acts.resolve(self.engine, ref, preferring=StepState.IN_PROGRESS)
        except acts.Refusal as refusal:
            raise ScriptError(refusal.message, refusal.hint) from None
        run, kind = self.engine.runs[sid], self.engine.steps[sid]["type"]
        if kind not in DISPATCHED_TYPES:
            raise ScriptError(f"step {sid} is a {kind} step; only callout and auto steps get answers",
                              "complete a manual step with `complete`, resume a pause with `signal` or `resume`")
        if run.state is not StepState.IN_PROGRESS:
            raise ScriptError(f"step {sid} is {run.state}, not running: there is nothing to answer",
                              "answer a step once it has started; `expect: {states: ...}` shows where it is")
        self.engine.crossings(self.now)
        self._finish(sid, run.attempts, answer)
        self.settle()

    def apply(self, event: Event) -> None:
        self.engine.crossings(self.now)  # as `dro complete` journals crossings before the act
        self.engine.apply(*event, self.now)
        if event[0] == "plan.amended":
            self.contexts = StepContexts(self.engine)  # the revision's plan has its own context
        self.settle()

    # ---- answers ---------------------------------------------------------------------------------

    def _scripted(self, sid: str) -> Answer | None:
        """The next scripted answer for `sid` (by instance id, else by step id); the last one repeats."""
        script = self.answers.get(sid)
        if script is None:
            script = self.answers.get(self.engine.steps[sid]["step"])
        if not script:
            return None
        used = self.used.get(sid, 0)
        self.used[sid] = used + 1
        return script[min(used, len(script) - 1)]

    def _finish(self, sid: str, attempt: int, answer: Answer) -> None:
        outcome = self._outcome(sid, attempt, answer)
        self.engine.outcome(sid, attempt, outcome.ok, self.now, outputs=outcome.outputs,
                            error=outcome.error or "", message=outcome.message, retryable=outcome.retryable)

    def _outcome(self, sid: str, attempt: int, answer: Answer) -> Outcome:
        from dro_cli.runtime.handlers.render import RenderError

        step = self.engine.steps[sid]
        try:
            request = self._render(sid, attempt)
        except RenderError as exc:
            return failure("template_error", f"step {sid}: {exc}", retryable=False)
        if "error" in answer:
            code = str(answer["error"])
            return failure(code, str(answer.get("message") or f"scripted {code}"),
                           retryable=bool(answer.get("retryable", True)))
        if step["type"] == StepType.CALLOUT:
            if "status" not in answer:
                raise ScriptError(f"step {sid} is a callout: answer it with a `status` (and a `body`), or an `error`",
                                  "for example {status: 201, body: {id: R-1}}, or {error: timeout}")
            return _judge(step["config"], request, answer)
        if "status" in answer:
            raise ScriptError(f"step {sid} is an auto step: answer it with `outputs` or an `error`, not a `status`",
                              "for example {outputs: {subscription: S-1}}, or {error: BillingDown}")
        return success(answer.get("outputs") or {})

    def _sent(self, sid: str, attempt: int) -> None:
        """What a callout that waits for its answer sent: `requests` shows it before it is answered."""
        from dro_cli.runtime.handlers.render import RenderError

        with contextlib.suppress(RenderError):  # the attempt fails with template_error when it is answered
            self._render(sid, attempt)

    def _render(self, sid: str, attempt: int) -> dict[str, Any]:
        """What the attempt would send, rendered as its handler renders it: template errors fail alike."""
        from dro_cli.runtime.handlers.render import render, render_path

        step = self.engine.steps[sid]
        config = step["config"]
        context = self.contexts.of(sid, attempt)
        if step["type"] != StepType.CALLOUT:
            if config.get("inputs"):
                render(config["inputs"], context, "inputs")
            if config.get("command"):
                render(list(config["command"]), context, "command")
            return {}
        body = config.get("body")
        request = {
            "method": str(config.get("method") or "GET").upper(),
            "path": render_path(config.get("path") or "/", context),
            "body": None if body is None else render(body, context, "body"),
            "headers": {str(k): str(v) for k, v in render(config.get("headers") or {}, context, "headers").items()},
        }
        self.requests[sid] = request
        return request


def _judge(config: Mapping[str, Any], request: Mapping[str, Any], answer: Answer) -> Outcome:
    """A scripted HTTP answer, judged by the step's `expect` and `capture` as a real one would be."""
    from dro_cli.runtime.handlers.callout import judge
    from dro_cli.runtime.handlers.secrets import Redactor

    status = int(answer["status"])
    body = answer.get("body")
    data = b"" if body is None else body.encode() if isinstance(body, str) else json.dumps(body).encode()
    try:
        reason = answer.get("reason") or http.HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    return judge(config, status, reason, data, f"{request['method']} {request['path']}", Redactor())


def _dispatched(engine: Engine, events: Sequence[Event]) -> list[tuple[str, int]]:
    return [(payload["step"], payload["attempt"]) for kind, payload in events
            if kind == "step.started" and engine.steps[payload["step"]]["type"] in DISPATCHED_TYPES]
