"""`dro tick`: continue every order whose timers are due, and journal new SLA crossings (for cron).

An order is continued when a retry or pause timer is due, when an SLA threshold was
crossed and not yet journaled, or when a runner died with steps in doubt. An order
another dro holds is left to it (busy), and one that cannot be read or continued, for any
reason, is reported as that order's error; the tick goes on with the others.

Orders are continued several at once (`at_once`, `dro tick --parallel`): a tick of many
orders each waiting on a slow callout is bound by the slowest, not by their sum. Each
order is continued by one worker thread, which holds its lock and alone writes its
journal, as `dro run ORDER_ID` would; the report lists the orders in the order of the
scan, whichever finished first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from dro_cli.engine.machine import Event
from dro_cli.engine.states import StepState
from dro_cli.errors import DroError
from dro_cli.journal.lock import OrderLocked
from dro_cli.journal.order_errors import about_order
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


Outcome = Continued | OrderLocked | DroError  # what continuing one order came to


def tick(options: RunOptions, at_once: int | None = None) -> TickReport:
    """Continue the due orders, `at_once` of them at a time (default: `options.parallel`, which also
    bounds the steps each order runs at once)."""
    now = options.clock()
    scan = Scan(options.state_dir)
    report = TickReport(now)
    due = due_orders(scan.digests(), now)
    report.scanned = scan.seen
    report.failed.extend(scan.unreadable)
    for order_id, outcome in zip(due, _continue_all(due, options, at_once or options.parallel), strict=True):
        if isinstance(outcome, OrderLocked):
            report.busy.append(order_id)
        elif isinstance(outcome, DroError):
            report.failed.append((order_id, outcome.message))
        else:
            report.continued.append(outcome)
    return report


def _continue_all(due: Sequence[str], options: RunOptions, at_once: int) -> list[Outcome]:
    """Each due order's outcome, in the order of `due`. An exception that is no order's DroError (a bug,
    DRO_DEBUG) stops the tick: no order is started after it, and the orders being continued finish
    first, so that each worker leaves its order's journal and lock as a run would."""
    if at_once <= 1 or len(due) <= 1:
        return [_continue(order_id, options) for order_id in due]
    pool = ThreadPoolExecutor(min(at_once, len(due)), thread_name_prefix="dro-order")
    futures: list[Future[Outcome]] = [pool.submit(_continue, order_id, options) for order_id in due]
    try:
        outcomes = [future.result() for future in futures]
    except KeyboardInterrupt:
        # Ctrl-C: start nothing more, and do not wait (a step may never return). What the orders being
        # continued journaled is durable record by record; their steps still running are in doubt, and
        # the next tick sends them again.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return outcomes


def _continue(order_id: str, options: RunOptions) -> Outcome:
    """Continue one order (under its lock, taken by `run_order`): what it journaled, or why it was not."""
    events: list[Event] = []
    try:
        with about_order(order_id, "run"):
            result = run_order(order_id, dataclasses.replace(options, listener=events.extend))
    except DroError as error:  # OrderLocked among them: busy
        return error
    in_fallout = sum(1 for _ in result.engine.with_state(StepState.FATALLY_FAILED))
    return Continued(order_id, events, str(result.state), in_fallout, result)
