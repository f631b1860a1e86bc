"""Start, continue and act on orders: the programmatic API under `dro run`, `complete`, `signal`, ...

Every function takes the order's lock, folds its journal, journals what happens, and
returns a `RunResult` for the command to render. Bad input raises `DroError` (exit 2)
before anything is written.
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dro_cli.engine import acts
from dro_cli.engine.machine import Engine, Event
from dro_cli.engine.states import PlanState
from dro_cli.errors import EXIT_FAILED, EXIT_USAGE, DroError
from dro_cli.journal.file import JOURNAL_FILE, order_dir, write_plan
from dro_cli.journal.order_errors import about_order
from dro_cli.journal.pinned import pin
from dro_cli.journal.store import DISCARDED_DIR, OpenOrder, OrderView, find_order
from dro_cli.runtime.runner import Clock, Handler, Listener, Runner
from dsl.diagnostics import Diagnostic, Severity, has_errors
from dsl.sources import Sources

if TYPE_CHECKING:
    from dro_cli.planning.api import PlanOutcome  # planning loads the compiler: only new orders need it
    from dro_cli.planning.orders import OrderResult

CATALOG_ENV = "DRO_CATALOG"
OPERATOR_ENV = "DRO_OPERATOR"


@dataclass
class RunOptions:
    """How to run: where the state lives, the catalog (for new plans and flows), the clock, the pool."""

    state_dir: Path
    catalog: Path | None = None
    clock: Clock = time.time
    parallel: int = 8
    environ: Mapping[str, str] | None = None
    handler: Handler | None = None  # tests may run steps in-process; by default, the real handlers
    listener: Listener | None = None  # told about every batch of events as it is journaled
    allow_empty: bool = False  # plan and run an order that plans no step (DRO515) rather than refuse it


class NotPlanned(Exception):
    """The order or the catalog has errors, so there is no plan to run; nothing was written."""

    def __init__(self, diagnostics: list[Diagnostic], sources: Sources, usage_error: bool) -> None:
        super().__init__("not planned")
        self.diagnostics = diagnostics
        self.sources = sources
        self.usage_error = usage_error


@dataclass
class RunResult:
    order_id: str
    engine: Engine
    order_dir: Path
    created: bool = False  # this call made the plan
    recovered: str | None = None  # what opening the journal cut off
    diagnostics: list[Diagnostic] = field(default_factory=list)  # warnings from planning
    sources: Sources = field(default_factory=Sources)
    warnings: list[str] = field(default_factory=list)  # what the operator should know about this run
    journaled: Counter[str] = field(default_factory=Counter)  # the records journaled, by type (grows as it runs)

    @property
    def state(self) -> PlanState:
        return self.engine.state

    def view(self) -> OrderView:
        return OrderView(self.order_dir, self.engine.plan, self.engine, {"order": self.order_id})


def run_order(target: str, options: RunOptions) -> RunResult:
    """`dro run TARGET`: an order file plans (once) and runs; an order id continues that order."""
    path = Path(target)
    if path.is_file():
        return _run_file(path, options)
    if path.suffix in (".yaml", ".yml", ".json") or os.sep in target:
        what = "is a directory, not an order file" if path.is_dir() else "does not exist"
        raise DroError(f"order file '{target}' {what}", exit_code=EXIT_USAGE,
                       hint="check the path, or give the id of an order already started")
    with OpenOrder(find_order(options.state_dir, target)) as order:
        require_created(order)
        order.load_plan()
        return continue_order(order, options, result_of(order))


def act(order_id: str, make: Callable[[Engine], Event | list[Event]], options: RunOptions) -> RunResult:
    """An operator's act (or several, made together) on an order: checked, journaled, then the plan
    continues as `dro run` would."""
    with OpenOrder(find_order(options.state_dir, order_id)) as order:
        require_created(order)
        engine = order.load_plan()
        result = result_of(order)
        try:
            made = make(engine)
        except acts.Refusal as refusal:
            raise DroError(refusal.message, hint=refusal.hint, exit_code=EXIT_USAGE) from None
        events = made if isinstance(made, list) else [made]
        now = options.clock()
        with about_order(engine.order_id, "run"):
            crossed = engine.crossings(now)  # thresholds passed before the act, so a late step is journaled late
        order.append([*crossed, *events], now)
        with about_order(engine.order_id, "run"):
            for kind, payload in events:
                engine.apply(kind, payload, now)
        return continue_order(order, options, result)


def discard_order(order_id: str, *, operator: str, reason: str, options: RunOptions) -> Path:
    """`dro discard`: journal the act, then move the order's directory whole into
    `<state-dir>/discarded/<order-id>-<when>/`, all under the order's lock. Refused (exit 2, nothing
    written) once an auto or callout step has started. Returns where the order's files now are."""
    with OpenOrder(find_order(options.state_dir, order_id)) as order:
        require_created(order)
        engine = order.load_plan()
        try:
            event = acts.discard(engine, operator=operator, reason=reason)
        except acts.Refusal as refusal:
            raise DroError(refusal.message, hint=refusal.hint, exit_code=EXIT_USAGE) from None
        now = options.clock()
        order.append([event], now)
        engine.apply(*event, now)
        target = _archive_path(options.state_dir, engine.order_id, now)
        order.move_to(target)
    return target


def _archive_path(root: Path, order_id: str, now: float) -> Path:
    """`<root>/discarded/<order-id>-<UTC time, to the second>`, with a number after it if that is taken."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    base = root / DISCARDED_DIR / f"{order_id}-{stamp}"
    target, n = base, 1
    while target.exists():
        n += 1
        target = base.with_name(f"{base.name}-{n}")
    return target


def operator_name(option: str | None) -> str:
    """`--operator`, else $DRO_OPERATOR, else the OS user."""
    if option:
        return option
    try:
        return os.environ.get(OPERATOR_ENV) or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _run_file(path: Path, options: RunOptions) -> RunResult:
    """Plan a new order (before its directory exists, so a bad order leaves nothing behind), or continue
    the order this file started."""
    from dro_cli.planning.orders import load_order

    loaded = load_order(path)
    if loaded.order is None or has_errors(loaded.diagnostics):
        raise NotPlanned(list(loaded.diagnostics), loaded.sources, usage_error=True)
    order_id = loaded.order.id
    order_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    planned = None if (options.state_dir / "orders" / order_id / JOURNAL_FILE).exists() else _plan(path, options,
                                                                                                    loaded)
    with OpenOrder(order_dir(options.state_dir, order_id)) as order:
        created = order.created
        if created is not None:
            engine = order.load_plan()
            latest = engine.amendments[-1].get("order_sha256") if engine.amendments else created["order_sha256"]
            if latest != order_sha:  # the file of its current revision continues it
                raise DroError(
                    f"order {order_id} runs from a different order file ({created['order_file']}"
                    f"{f', amended to revision {engine.revision}' if engine.amendments else ''})",
                    exit_code=EXIT_USAGE,
                    hint=f"continue it with `dro run {order_id}`; to change the running order: "
                         f"`dro plan --amend {order_id} {path}` shows what would change, `dro amend` changes it")
            _check_catalog(created, options, order_id)
            return continue_order(order, options, result_of(order))
        return _create(order, path, order_sha, planned or _plan(path, options, loaded), options)


def _check_catalog(created: Mapping[str, Any], options: RunOptions, order_id: str) -> None:
    """Running an order file again continues its order, planned once: a different catalog would not plan it
    anew, so say so rather than ignore it."""
    if options.catalog is None or not created.get("catalog") or Path(created["catalog"]) == options.catalog.resolve():
        return
    raise DroError(f"order {order_id} was planned with the catalog {created['catalog']}, not {options.catalog}",
                   exit_code=EXIT_USAGE,
                   hint=f"an order is planned once: continue it with `dro run {order_id}`; to plan it with another "
                        f"catalog, `dro discard {order_id} --reason '...'` (if nothing has run yet), then run the "
                        "file again")


def plan_new(path: Path, options: RunOptions, loaded: OrderResult) -> PlanOutcome:
    """The plan of a new order, checked as `dro run` checks it (for another host, such as Temporal's)."""
    return _plan(path, options, loaded)


def _plan(path: Path, options: RunOptions, loaded: OrderResult) -> PlanOutcome:
    """The plan of the order file at `path`, read already as `loaded` (not read a second time)."""
    from dro_cli.planning.api import make_plan

    if options.catalog is None:
        raise DroError("a new order needs a catalog", exit_code=EXIT_USAGE,
                       hint=f"give --catalog DIR (or a templates file), or set ${CATALOG_ENV}")
    planned = make_plan(path, options.catalog, loaded)
    if planned.plan is None:
        raise NotPlanned(planned.diagnostics, planned.sources, planned.usage_error)
    if not planned.plan["steps"]:
        if not options.allow_empty:
            raise NotPlanned([_refused_empty(d, options.catalog) if d.code == "DRO515" else d
                              for d in planned.diagnostics], planned.sources, usage_error=False)
        planned.diagnostics = [d for d in planned.diagnostics if d.code != "DRO515"]  # as --allow-empty says
    _check_times(planned.plan, options.clock())
    return planned


def _check_times(plan: Mapping[str, Any], now: float) -> None:
    """Refuse, before anything is written, a plan whose settings take a time past the year 9999: the
    engine could not journal it, and the order could never be read again."""
    from dro_cli.engine.horizon import out_of_range
    from dsl.durations import format_duration

    problems = out_of_range(plan, now)
    if not problems:
        return
    first = problems[0]
    shown = format_duration(first.seconds) if first.seconds < 1e18 else f"{first.seconds:g}s"
    what = {"duration": "SLA duration", "jeopardy": "jeopardy threshold", "resume_after": "resume_after",
            "retry": "longest retry interval"}[first.setting]
    others = f" (and {len(problems) - 1} more like it)" if len(problems) > 1 else ""
    raise DroError(f"order {plan['order']} cannot run: step {first.step}'s {what} ({shown})"
                   f"{', after the steps before it,' if first.chained else ''} takes its dates out of the range "
                   f"dro can write (the years 1 to 9999){others}", exit_code=EXIT_FAILED,
                   hint="shorten it in the catalog (`dro plan ORDER_FILE --catalog DIR` shows each step's "
                        "settings); nothing was written")


def _refused_empty(warned: Diagnostic, catalog: Path) -> Diagnostic:
    """DRO515 as `dro run` gives it: an error, since running the order would complete it having done nothing."""
    return dataclasses.replace(
        warned, severity=Severity.ERROR, summary=f"{warned.summary}: not run",
        hint=f"is {catalog} the catalog for this order? Run it with the right --catalog; "
             "--allow-empty runs an order that has no step")


def _create(order: OpenOrder, path: Path, order_sha: str, planned: PlanOutcome, options: RunOptions) -> RunResult:
    """plan.json written atomically, then `plan.created` journaled: a crash between them leaves a plan
    without its record, and the next run plans again."""
    assert planned.plan is not None and options.catalog is not None
    if planned.templates is not None:
        pin(order.order_dir.parent.parent, planned.templates)  # what an amendment plans the revision with
    write_plan(order.order_dir, planned.plan)
    engine = order.load_plan()
    now = options.clock()
    catalog = options.catalog.resolve()
    created: Event = ("plan.created", {
        "order": engine.order_id, "order_file": str(path.resolve()), "order_sha256": order_sha,
        "catalog": str(catalog), "templates": planned.plan["templates"], "plan_sha256": order.plan_sha,
        "steps": len(engine.steps)})
    order.append([created], now)
    engine.apply(*created, now)
    result = result_of(order, created=True, diagnostics=planned.diagnostics, sources=planned.sources)
    return continue_order(order, options, result)


def continue_order(order: OpenOrder, options: RunOptions, result: RunResult) -> RunResult:
    created = order.created or {}
    catalog = options.catalog.resolve() if options.catalog is not None else (
        Path(created["catalog"]) if created.get("catalog") else None)
    flows_dir = catalog.parent if catalog is not None and catalog.suffix == ".json" else catalog
    if options.catalog is not None and created.get("catalog") and Path(created["catalog"]) != catalog:
        result.warnings.append(f"order {result.order_id} was planned with the catalog {created['catalog']}; "
                               f"its flows import from {options.catalog} (--catalog) in this run")
    runner = Runner(order, catalog_dir=flows_dir, clock=options.clock, parallel=options.parallel,
                    environ=options.environ, handler=options.handler, listener=options.listener)
    try:
        runner.run()
    finally:
        result.warnings.extend(runner.warnings)
        if options.handler is None:
            from dro_cli.runtime.handlers import close_connections

            close_connections()  # kept-alive callout connections end with the run
    return result


def result_of(order: OpenOrder, **details: Any) -> RunResult:
    assert order.engine is not None, "load the plan first"
    return RunResult(order.engine.order_id, order.engine, order.order_dir, recovered=order.recovered,
                     journaled=order.journaled, **details)


def require_created(order: OpenOrder) -> None:
    if order.created is None:
        raise DroError(f"order {order.order_dir.name} has no plan yet (its planning was interrupted)",
                       exit_code=EXIT_USAGE, hint="run its order file again: dro run ORDER_FILE --catalog DIR")

