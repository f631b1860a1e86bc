"""The events a journal's records make: TMF622 v5 events and dro's own, each with a stable id.

An event's id is `ORDER:SEQ:TYPE` (the record it comes from and its kind), so a receiver that keeps
the ids it has seen drops a redelivery. The order's TMF622 state is tracked record by record:

    plan.created -> acknowledged; a step started, finished or retried -> inProgress;
    a step in a fallout queue -> held (until retried or completed); a pause waiting -> pending
    (when nothing else runs); plan.completed -> completed; operator.cancel -> cancelled.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dro_cli.events.listeners import RECORD_EVENT

Event = dict[str, Any]
DOMAIN = "productOrdering"


@dataclass
class OrderState:
    """What the events of one order need to know from its records so far."""

    order: str
    steps: Mapping[str, Mapping[str, Any]]  # step id -> its plan entry (type, title, queue)
    state: str | None = None
    in_fallout: set[str] = field(default_factory=set)
    held: set[str] = field(default_factory=set)  # pauses waiting on an event or timer
    finished: bool = False

    def after(self, record: Mapping[str, Any]) -> str | None:
        """The TMF622 state after `record`."""
        kind, payload = record["type"], record.get("payload") or {}
        step = str(payload.get("step"))
        if kind == "plan.created":
            self.state = "acknowledged"
        elif kind == "plan.completed":
            self.finished = True
            self.state = "cancelled" if self.state == "cancelled" else "completed"
        elif kind == "operator.cancel":
            self.finished = True
            self.state = "cancelled"
        elif self.finished:
            pass
        elif kind == "step.failed" and payload.get("queue"):
            self.in_fallout.add(step)
        elif kind == "step.held":
            self.held.add(step)
        elif kind in ("step.started", "step.completed", "step.resumed", "operator.retry", "operator.complete",
                      "operator.resume", "step.restarted"):
            self.in_fallout.discard(step)
            self.held.discard(step)
        if not self.finished and self.state is not None and kind not in _NO_CHANGE:
            self.state = "held" if self.in_fallout else "pending" if self.held and not _running(kind) else "inProgress"
        return self.state


_NO_CHANGE = frozenset({"plan.created", "step.ready", "step.jeopardy", "step.late"})  # nothing runs or stops


def _running(kind: str) -> bool:
    return kind in ("step.started", "step.completed")


def product_order(state: OrderState) -> dict[str, Any]:
    return {"@type": "ProductOrder", "id": state.order, "state": state.state or "acknowledged"}


def events_for(state: OrderState, record: Mapping[str, Any]) -> Iterator[Event]:
    """The events `record` makes, `state` having seen the records before it (it is advanced here)."""
    before = state.state
    after = state.after(record)
    kind, payload, seq, ts = record["type"], record.get("payload") or {}, record["seq"], record["ts"]
    step_id = payload.get("step")
    step = state.steps.get(step_id, {}) if isinstance(step_id, str) else {}

    def event(event_type: str, title: str, body: dict[str, Any] | None = None) -> Event:
        order = product_order(state) | (body or {})
        return {"@type": event_type, "id": f"{state.order}:{seq}:{event_type}", "eventId": f"{state.order}:{seq}",
                "eventType": event_type, "eventTime": ts, "timeOccurred": ts, "correlationId": state.order,
                "domain": DOMAIN, "title": title, "event": {"productOrder": order}}

    yield {"@type": RECORD_EVENT, "id": f"{state.order}:{seq}:{RECORD_EVENT}", "eventType": RECORD_EVENT,
           "order": state.order, "record": {key: record[key] for key in ("seq", "ts", "type", "payload")}}
    if after != before and after is not None:
        yield event("ProductOrderStateChangeEvent", f"order {state.order} is {after}")
    if kind == "step.completed" and step.get("type") == "milestone":
        milestone = {"@type": "ProductOrderMilestone", "id": step_id, "name": step.get("title") or step_id,
                     "status": "Completed", "milestoneDate": ts}
        yield event("ProductOrderMilestoneEvent", f"milestone {step_id} reached",
                    {"productOrderMilestone": [milestone]})
    if kind in ("step.jeopardy", "step.late"):
        crossing = "late" if kind == "step.late" else "jeopardy"
        alert = {"@type": "ProductOrderJeopardyAlert", "id": f"{step_id}:{crossing}", "alertDate": ts,
                 "name": f"{step.get('title') or step_id} {crossing}", "jeopardyType": crossing}
        yield event("ProductOrderJeopardyAlertEvent", f"step {step_id} is {crossing}",
                    {"productOrderJeopardyAlert": [alert]})
    if kind == "step.started" and step.get("type") == "manual":
        task = {"step": step_id, "title": step.get("title") or step_id, "queue": payload.get("queue")}
        information = event("ProductOrderInformationRequiredEvent", f"step {step_id} waits on an operator")
        information["event"] = {"productOrder": {"@type": "ProductOrderRef", "id": state.order},
                                "informationRequired": {"op": "add", "path": f"/task/{step_id}", "value": task}}
        yield information
