"""Amend and cancel running orders: `dro amend`, `dro plan --amend`, `dro cancel [--items]` (docs/amending.md).

Under the order's lock: the revised order is planned with the order's pinned templates (or the
`--catalog` given), reconciled with the running plan, then the revision's plan is written atomically
and `plan.amended` journaled (fsynced) before any compensation runs. A SIGKILL before the record is
durable leaves the order at its old revision (the next amendment writes the file again); after it, at
the new one. Anything refused (a point of no return, a bad revision) writes nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dro_cli.engine.instants import iso_or_none
from dro_cli.engine.machine import Engine, Event
from dro_cli.engine.revisions import RevisionLoader
from dro_cli.engine.states import PlanState
from dro_cli.errors import EXIT_USAGE, DroError
from dro_cli.journal.order_errors import about_order
from dro_cli.journal.pinned import read_pinned
from dro_cli.journal.revisions import revision_file, write_revision
from dro_cli.journal.store import OpenOrder, find_order, read_order
from dro_cli.planning.amendment import Reconciliation, Running
from dro_cli.runtime.amend_errors import blocked_error, frozen_error
from dro_cli.runtime.api import NotPlanned, RunOptions, RunResult, continue_order, require_created, result_of
from dsl.diagnostics import has_errors

if TYPE_CHECKING:
    from dro_cli.planning.orders import OrderResult

WAIT_POLL = 0.5  # seconds between looks at a frozen plan, with the lock released


@dataclass
class Amendment:
    """What an amendment decided, and, unless it only previewed, the run that followed."""

    order_id: str
    reconciliation: Reconciliation
    catalog: str | None  # the --catalog it was planned with, or None: the order's pinned templates
    run: RunResult | None = None  # None: previewed, or nothing to change


def running_of(engine: Engine) -> Running:
    return Running(engine.plan, engine.steps, engine.runs)


def preview(order_id: str, order_file: Path, options: RunOptions, catalog: Path | None = None,
            loaded: OrderResult | None = None) -> Amendment:
    """`dro plan --amend`: the reconciliation, without the lock and without writing anything. `loaded`: the
    order file as `load_revised` read it already."""
    loaded = loaded or load_revised(order_file)  # a bad file is reported first, whatever the state directory
    view = read_order(find_order(options.state_dir, order_id))
    if view.created is None:
        raise DroError(f"order {order_id} has no plan yet (its planning was interrupted)", exit_code=EXIT_USAGE,
                       hint="run its order file again: dro run ORDER_FILE --catalog DIR")
    done = _reconciled(view.engine, view.created, order_id, loaded, options, catalog, None)
    return Amendment(order_id, done, _given(catalog))


def amend(order_id: str, order_file: Path, options: RunOptions, *, operator: str, reason: str | None,
          wait: float | None = None, catalog: Path | None = None, run: bool = True,
          loaded: OrderResult | None = None) -> Amendment:
    """`dro amend`: reconcile, journal, and continue the order. `wait`: seconds to wait for a frozen plan;
    `catalog`: plan the revision with this catalog rather than the order's pinned templates; `run=False`:
    journal the amendment and stop there, the order not continued (benchmarks/bench_amend.py); `loaded`: the
    order file as `load_revised` read it already."""
    loaded = loaded or load_revised(order_file)
    order_sha = _sha256(order_file)
    deadline = None if wait is None else time.monotonic() + wait
    while True:
        with OpenOrder(find_order(options.state_dir, order_id)) as order:
            require_created(order)
            engine = order.load_plan()
            check_open(engine)
            assert order.created is not None
            done = _reconciled(engine, order.created, order_id, loaded, options, catalog, reason)
            if done.blocked:
                raise blocked_error(engine, done, loaded)
            if not done.frozen:
                amendment = Amendment(order_id, done, _given(catalog))
                if done.changes:
                    extra = {"order_file": str(order_file.resolve()), "order_sha256": order_sha,
                             **({"catalog": _given(catalog)} if catalog else {})}
                    amendment.run = _journal(order, engine, done, options, operator, reason, extra, run)
                return amendment
            if deadline is None or time.monotonic() >= deadline:
                raise frozen_error(engine, done, waited=wait)
        time.sleep(WAIT_POLL)  # the lock is released: the frozen step's writer can finish it


def cancel(order_id: str, items: Sequence[str], options: RunOptions, *, operator: str, reason: str,
           catalog: Path | None = None) -> Amendment:
    """`dro cancel`: the whole order (no `items`) or some of its lines, as an amendment that removes them.
    A whole order with nothing to compensate is canceled as before: `operator.cancel`."""
    from dro_cli.engine import acts

    with OpenOrder(find_order(options.state_dir, order_id)) as order:
        require_created(order)
        engine = order.load_plan()
        check_open(engine)
        assert order.created is not None
        templates = _templates(engine, order.created, options, catalog)
        revised, order_file = _without(engine, order.created, items, templates, reason)
        if revised.blocked:
            raise blocked_error(engine, revised, None)
        if revised.frozen:
            raise frozen_error(engine, revised, waited=None)
        amendment = Amendment(order_id, revised, _given(catalog))
        compensating = any(entry.get("compensation") for entry in revised.entries)
        if not items and not compensating:
            event = acts.cancel(engine, operator=operator, reason=reason)
            amendment.run = _apply_acts(order, engine, [event], options)
        elif revised.changes:  # lines with no step of their own change nothing
            extra: dict[str, Any] = {"cancel": True} if not items else {
                "order_file": order_file, "order_sha256": _sha256(Path(order_file)) if order_file else None,
                "canceled_items": list(items)}
            amendment.run = _journal(order, engine, revised, options, operator, reason, extra)
        return amendment


def load_revised(order_file: Path) -> OrderResult:
    """The revised order file, loaded; NotPlanned (its diagnostics) if it has errors."""
    from dro_cli.planning.orders import load_order

    loaded = load_order(order_file)
    if loaded.order is None or has_errors(loaded.diagnostics):
        raise NotPlanned(list(loaded.diagnostics), loaded.sources, usage_error=True)
    return loaded


def _reconciled(engine: Engine, created: Mapping[str, Any], order_id: str, loaded: OrderResult,
                options: RunOptions, catalog: Path | None, reason: str | None) -> Reconciliation:
    from dro_cli.planning.revise import revise

    templates = _templates(engine, created, options, catalog)
    revision = revise(running_of(engine), order_id, loaded, templates, engine.revision + 1, reason)
    if revision.reconciliation is None:
        raise NotPlanned(revision.diagnostics, revision.sources, usage_error=revision.usage_error)
    return revision.reconciliation


def _without(engine: Engine, created: Mapping[str, Any], items: Sequence[str], templates: Mapping[str, Any],
             reason: str) -> tuple[Reconciliation, str | None]:
    """The reconciliation of cancelling `items` (every line, if none), and the order file it revises."""
    from dro_cli.planning.amendment import reconcile

    if not items:
        from dro_cli.planning.revise import nothing_left

        return reconcile(running_of(engine), nothing_left(engine.plan), templates, engine.revision + 1, reason), None
    from dro_cli.planning.api import plan_order
    from dro_cli.planning.orders import load_order
    from dro_cli.planning.revise import without_items

    order_file, order_sha = _current_order_file(engine, created)
    loaded = load_order(Path(order_file))
    if loaded.order is None or has_errors(loaded.diagnostics) or _sha256(Path(order_file)) != order_sha:
        raise DroError(f"cannot cancel lines of order {engine.order_id}: its order file {order_file} is not the one "
                       f"revision {engine.revision} was planned from", exit_code=EXIT_USAGE,
                       hint=f"give the order as it should now be instead: dro amend {engine.order_id} ORDER_FILE")
    lines = [item.id for item in loaded.order.items]
    unknown = [item for item in items if item not in lines]
    if unknown:
        from dsl.diagnostics import did_you_mean

        raise DroError(f"order {engine.order_id} has no line {unknown[0]!r}", exit_code=EXIT_USAGE,
                       hint=did_you_mean(unknown[0], lines) or f"its lines: {', '.join(lines)}")
    planned = plan_order(without_items(loaded, items), templates)
    if planned.plan is None:
        raise NotPlanned(planned.diagnostics, planned.sources, usage_error=True)
    return reconcile(running_of(engine), planned.plan, templates, engine.revision + 1, reason), order_file


def _current_order_file(engine: Engine, created: Mapping[str, Any]) -> tuple[str, str]:
    for act in reversed(engine.amendments):
        if act.get("order_file"):
            return act["order_file"], act["order_sha256"]
    return created["order_file"], created["order_sha256"]


def _templates(engine: Engine, created: Mapping[str, Any], options: RunOptions,
               catalog: Path | None) -> Mapping[str, Any]:
    """The templates the order was planned with (pinned in the state directory), or those of `catalog`."""
    from dro_cli.planning.templates_source import load_templates

    if catalog is not None:
        loaded = load_templates(catalog)
        if loaded.templates is None:
            raise NotPlanned(loaded.diagnostics, loaded.sources, usage_error=loaded.usage_error)
        return loaded.templates
    wanted = engine.plan["templates"]
    pinned = read_pinned(options.state_dir, wanted)
    if pinned is not None:
        return pinned
    catalog = created.get("catalog")
    if catalog and Path(catalog).exists():
        loaded = load_templates(Path(catalog))
        if loaded.templates is not None and loaded.templates["hash"] == wanted:
            return loaded.templates
    raise DroError(f"the templates order {engine.order_id} was planned with ({wanted[:19]}...) are not pinned in "
                   f"the state directory, and the catalog {catalog} now compiles to others", code="DRO535",
                   exit_code=EXIT_USAGE,
                   hint="give the catalog to plan the revision with, said explicitly: --catalog DIR "
                        "(`dro diff` shows what the newer catalog plans differently)")


def _journal(order: OpenOrder, engine: Engine, done: Reconciliation, options: RunOptions, operator: str,
             reason: str | None, extra: Mapping[str, Any], run: bool = True) -> RunResult:
    """plan.rN.json written atomically, then `plan.amended` appended and fsynced; then the order runs on."""
    plan_sha = write_revision(order.order_dir, done.plan, engine.plan)
    engine.revisions = _written(engine.revisions, done.revision, plan_sha, done.plan)
    payload = amended_record(done, revision_file(order.order_dir, done.revision).name, plan_sha, operator, reason,
                             extra)
    return _apply_acts(order, engine, [("plan.amended", payload)], options, run)


def amended_record(done: Reconciliation, plan_file: str, plan_sha: str, operator: str, reason: str | None,
                   extra: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of `plan.amended` for a reconciliation whose plan is `plan_file` (`dro test` keeps it in memory)."""
    return {"revision": done.revision, "plan_file": plan_file, "plan_sha256": plan_sha,
            "templates": done.plan["templates"], "operator": operator, "reason": reason,
            "superseded": done.superseded, "restart": done.restart, "changes": done.entries,
            "counts": done.counts(), **extra}


def _written(read: RevisionLoader | None, revision: int, sha256: str, plan: Mapping[str, Any]) -> RevisionLoader:
    """The engine's loader, but the revision just written is its plan in memory, not read back and parsed."""
    def load(wanted: int, sha: str, base: Mapping[str, Any]) -> Mapping[str, Any]:
        if (wanted, sha) == (revision, sha256):
            return plan
        if read is None:
            raise ValueError(f"no revision files to read revision {wanted} from")
        return read(wanted, sha, base)
    return load


def _apply_acts(order: OpenOrder, engine: Engine, events: list[Event], options: RunOptions,
                run: bool = True) -> RunResult:
    result = result_of(order)
    now = options.clock()
    with about_order(engine.order_id, "amend"):
        crossed = engine.crossings(now)
    order.append([*crossed, *events], now)
    with about_order(engine.order_id, "amend"):
        for kind, payload in events:
            engine.apply(kind, payload, now)
    return continue_order(order, options, result) if run else result


def check_open(engine: Engine) -> None:
    state = engine.state
    if state in (PlanState.COMPLETED, PlanState.CANCELED):
        when = iso_or_none(engine.completed_at) if state is PlanState.COMPLETED else (engine.canceled or {}).get("at")
        raise DroError(f"order {engine.order_id} is {state}{f' (since {when})' if when else ''}: there is nothing "
                       "left to amend or cancel", code="DRO533", exit_code=EXIT_USAGE,
                       hint="a change to a finished order is a new order (a change order: items with action "
                            "`change` or `delete`)")


def _given(catalog: Path | None) -> str | None:
    return str(catalog.resolve()) if catalog is not None else None


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise DroError(f"cannot read order file {path}: {error.strerror}", exit_code=EXIT_USAGE,
                       hint="check the path") from None

