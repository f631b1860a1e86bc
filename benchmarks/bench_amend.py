"""amend: amending one line of a running order of about 10,000 step instances, against planning that order anew.

`amend-10k`: `dro_cli.runtime.amend.amend(..., run=False)` in process: what `dro amend` does before the
order runs on (the revised order file read, the order's lock taken and its journal folded, the revision
planned with the order's pinned templates and reconciled with the running plan, plan.r2.json (the
revision's delta from revision 1) written and `plan.amended` journaled, the order's caches written as it
closes), without the run that follows. The baseline, in the same rounds (interleaved): planning the
revised order from scratch as `dro plan` does once it has its templates, `plan_order(load_order(FILE),
templates)`, with the same templates object. The order is the generated catalog's (bundles of five line
items, as `plan` makes them), run first (not timed) with a handler that completes two steps in three and
fails the third, so that it is part done; one child line's quantity changes. Each round starts from that
running order (its directory copied back, not timed) and with the set-up's heap frozen again (gc.freeze):
closing an order unfreezes the whole heap (journal/store.py), which would leave the set-up's objects, which
no `dro amend` or `dro plan` process holds, for the collector to scan in every round after the first. The
pinned templates are read and checked once per process (the first round's note says what that costs), as
the planner prepares a set of templates once.
"""

from __future__ import annotations

import gc
import json
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_compile import check_compiled
from bench_plan import GcClock, _products, make_order
from common import WORK, BenchmarkError, Context, Result, Timings, compare, fmt_seconds

ITEMS = 1_300  # line items: about 10,000 step instances in the generated catalog
TARGET = 2.0
ORDER_ID = "ORD-BENCH"
T0 = 1_800_000_000.0  # the virtual clock of the running order


def _document(order: Any, bump: str | None = None) -> dict[str, Any]:
    """The order as an order file holds it; the line `bump` one more in quantity."""
    items = []
    for item in order.items:
        row = {"id": item.id, "product": item.product, "quantity": item.quantity + (item.id == bump),
               "action": item.action, "attributes": dict(item.attributes)}
        if item.parent:
            row["parent"] = item.parent
        items.append(row)
    return {"order": {"id": order.id, "account": order.account, "attributes": dict(order.attributes),
                      "items": items}}


def _running(root: Path, templates: dict[str, Any]) -> tuple[Path, Path, Counter[str]]:
    """The order planned and run part way (not timed): its state directory, the revised order file, and how
    many of its steps are in each state."""
    import yaml

    from dro_cli.runtime.api import RunOptions, run_order
    from dro_cli.runtime.handlers.base import Outcome

    order = make_order(ITEMS, *_products(templates))
    (root / "templates.json").write_text(json.dumps(templates), encoding="utf-8")
    (root / "order.yaml").write_text(yaml.safe_dump(_document(order)), encoding="utf-8")
    revised = root / "revised.yaml"
    changed = next(item.id for item in order.items[len(order.items) // 2:] if item.parent)
    revised.write_text(yaml.safe_dump(_document(order, bump=changed)), encoding="utf-8")
    calls = [0]

    def handler(invocation: Any) -> Outcome:
        calls[0] += 1
        return Outcome() if calls[0] % 3 else Outcome(error="http_503", retryable=False)

    state = root / "state"
    done = run_order(str(root / "order.yaml"), RunOptions(state, catalog=root / "templates.json", handler=handler,
                                                         clock=lambda: T0))
    shutil.copytree(state / "orders" / ORDER_ID, root / "running")
    return state, revised, Counter(str(run.state) for run in done.engine.runs.values())


def run(ctx: Context) -> Iterator[Result]:
    """Amend one line of a running 10,000-step order, against planning the revised order from scratch."""
    from dro_cli.journal.pinned import read_pinned
    from dro_cli.planning.api import plan_order
    from dro_cli.planning.orders import load_order
    from dro_cli.runtime.amend import amend
    from dro_cli.runtime.api import RunOptions
    from dsl import compile_catalog

    compiled = compile_catalog([ctx.catalog("yaml")])  # once, not timed
    check_compiled("compile-yaml", compiled)
    root = WORK / "amend"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    ctx.log("amend: the running order (planned and run part way, not timed)")
    state, revised, states = _running(root, compiled.templates)
    templates_hash = compiled.templates["hash"]
    del compiled  # a `dro amend` process holds the pinned templates, not the compiled catalog and its sources
    gc.collect()
    gc.freeze()  # what the set-up left alive, out of the collector's sight: the heap of a process that amends
    order_dir = state / "orders" / ORDER_ID
    options = RunOptions(state, clock=lambda: T0 + 60)
    shape: dict[str, Any] = {}
    collected: dict[str, list[float]] = {"amend": [], "plan": []}  # the collector's share of each round

    def amending() -> float:
        shutil.rmtree(order_dir)
        shutil.copytree(root / "running", order_dir)  # the order as it ran, before the amendment
        gc.collect()
        gc.freeze()  # dro's close unfreezes the whole heap (journal/store.py): the set-up's goes back out of sight
        clock = GcClock()
        gc.callbacks.append(clock)
        start = time.perf_counter()
        try:
            done = amend(ORDER_ID, revised, options, operator="bench", reason="one line changed", run=False)
        finally:
            seconds = time.perf_counter() - start
            gc.callbacks.remove(clock)
        collected["amend"].append(clock.seconds / seconds)
        if not shape:
            counts = done.reconciliation.counts()
            if done.run is None or done.run.engine.revision != 2 or counts.get("kept", 0) == sum(counts.values()):
                raise BenchmarkError(f"the amendment changed nothing ({counts}): the benchmark measures nothing")
            shape.update(counts=counts, steps=len(done.reconciliation.plan["steps"]))
        return seconds

    def planning() -> float:
        templates = read_pinned(state, templates_hash)  # the object the amendment plans with
        if templates is None:
            raise BenchmarkError("the order's templates are not pinned in its state directory")
        gc.collect()
        gc.freeze()  # dro's close unfreezes the whole heap (journal/store.py): the set-up's goes back out of sight
        clock = GcClock()
        gc.callbacks.append(clock)
        start = time.perf_counter()
        try:
            planned = plan_order(load_order(revised), templates)
        finally:
            seconds = time.perf_counter() - start
            gc.callbacks.remove(clock)
        collected["plan"].append(clock.seconds / seconds)
        if planned.plan is None:
            raise BenchmarkError("the revised order did not plan")
        shape.setdefault("planned", len(planned.plan["steps"]))
        return seconds

    timings = Timings()
    for round_ in range(ctx.repeats()):
        ctx.log(f"amend: round {round_ + 1} of {ctx.repeats()}")
        for name, fn in (("amend", amending), ("plan_order(revised)", planning)):
            timings.add(name, fn())
    counts = ", ".join(f"{n} {fate}" for fate, n in sorted(shape["counts"].items()))
    running = ", ".join(f"{n:,} {state}" for state, n in states.most_common())
    notes = [f"the running order: {shape['planned']:,} step instances planned from {ITEMS:,} line items "
             f"({running}); the reconciliation: {counts}; the revision's plan {shape['steps']:,} steps",
             f"the first round, which also reads and checks the pinned templates: "
             f"{fmt_seconds(timings.first['amend'])}; without the run that follows",
             f"the collector's share (median): {statistics.median(collected['amend']):.0%} of the amendment, "
             f"{statistics.median(collected['plan']):.0%} of the planning"]
    yield compare("amend-10k", timings, "amend", "plan_order(revised)", TARGET, notes=notes)
