"""`dro tick`: continue every order whose timers are due, and journal new SLA crossings (for cron).

An order is continued when a retry or pause timer is due, when an SLA threshold was
crossed and not yet journaled, or when a runner died with steps in doubt. An order
another dro holds is left to it (busy), and one that cannot be read or continued, for any
reason, is reported as that order's error; the tick goes on with the others.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from dro_cli.engine.machine import Event
from dro_cli.engine.states import StepState
from dro_cli.errors import DroError
from dro_cli.journal.lock import OrderLocked
from dro_cli.journal.store import about_order
from dro_cli.runtime.api import RunOptions, RunResult, run_order
from dro_cli.runtime.queues import Scan, due_orders


@dataclass
class Continued:
    order: str
    events: list[Event]  # what this tick's runs journaled for the order
    state: str  # the plan's state afterwards
    in_fallout: int  # its steps in fallout afterwards
    result: RunResult  # the run, for its status and the counts of what it journaled


@dataclass
class TickReport:
    at: float
    scanned: int = 0
    continued: list[Continued] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # held by another dro
    failed: list[tuple[str, str]] = field(default_factory=list)  # (order, why it could not be continued)

    @property
    def fell_out(self) -> bool:
        """Whether a step fell out to a queue during this tick."""
        return any(kind == "step.failed" and payload.get("queue") for c in self.continued for kind, payload in c.events)


def tick(options: RunOptions) -> TickReport:
    now = options.clock()
    scan = Scan(options.state_dir)
    report = TickReport(now)
    due = due_orders(scan.digests(), now)
    report.scanned = scan.seen
    report.failed.extend(scan.unreadable)
    for order_id in due:
        events: list[Event] = []
        try:
            with about_order(order_id, "run"):
                result = run_order(order_id, dataclasses.replace(options, listener=events.extend))
        except OrderLocked:
            report.busy.append(order_id)
            continue
        except DroError as error:
            report.failed.append((order_id, error.message))
            continue
        in_fallout = sum(1 for _ in result.engine.with_state(StepState.FATALLY_FAILED))
        report.continued.append(Continued(order_id, events, str(result.state), in_fallout, result))
    return report
