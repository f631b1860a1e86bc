"""plan: the planner, `instantiate(templates, order)`, in process, on orders of 1,000 to 100,000 line items."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bench_compile import check_compiled
from common import BenchmarkError, Context, Result, fmt_seconds, time_each

SIZES = (1_000, 10_000, 100_000)   # line items (order items) per order
BUNDLE = 5                         # each bundle: one root item and four children with `parent`
TARGET_LINEAR = 1.5                # per-item time: largest size <= 1.5x smallest size
BUDGET = 1.0                       # seconds to plan the 10,000-item order
BUDGET_SIZE = 10_000
MIN_MATCHED = 0.8                  # below this share of matched items the benchmark measures little
SLOW_ROUND = 60.0                  # a size whose first round takes longer gets no further rounds


def _products(templates: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Products the catalog knows: those its decompositions break down (for bundle roots) and those its
    scenarios' `when`s name (`item.product == "X"`, `in [...]`: for the children)."""
    from dro_cli.planning.scenarios import product_guard

    roots = sorted(templates["decompositions"])
    named = {p for s in templates["scenarios"].values() for p in (product_guard(s["when"]) or ())}
    children = sorted(named - set(roots))
    if not roots or not children:
        raise BenchmarkError(f"the generated catalog has {len(roots)} decomposed products and {len(children)} "
                             "products named by scenarios: nothing to plan")
    return roots, children


def make_order(size: int, roots: list[str], children: list[str]) -> Any:
    """An order of `size` line items in bundles of five, every product taken in turn."""
    from dro_cli.planning.order_model import Order, OrderItem

    items = []
    for i in range(size):
        b, k = divmod(i, BUNDLE)
        if k == 0:
            items.append(OrderItem(f"B{b}", roots[b % len(roots)], 1, "add",
                                   {"onsite_setup": b % 2 == 0, "tier": "gold", "segment": "enterprise"}))
        else:
            items.append(OrderItem(f"B{b}-{k}", children[((BUNDLE - 1) * b + k - 1) % len(children)], 1 + k % 2,
                                   "add", {"express": k % 2 == 0, "tier": "basic", "serial": f"SN{i}"}, f"B{b}"))
    return Order("ORD-BENCH", "ACME", tuple(items), {"country": "DE", "priority": 1})


@dataclass
class Shape:
    """What a plan holds: the benchmark checks it measures real work and reports it."""

    items: int = 0           # fulfillment items after decomposition
    unmatched: int = 0
    instances: int = 0
    edges: int = 0
    errors: int = 0


class GcClock:
    """Seconds the cyclic collector runs, through gc.callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: Mapping[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def _planning(instantiate: Callable[..., Any], templates: Mapping[str, Any], order: Any,
              calls: list[tuple[float, float]]) -> Callable[[], Any]:
    """A round: plan `order`; its seconds, and the collector's share of them, go to `calls`."""
    def fn() -> Any:
        clock = GcClock()
        gc.callbacks.append(clock)
        start = time.perf_counter()
        try:
            return instantiate(templates, order)
        finally:
            calls.append((time.perf_counter() - start, clock.seconds))
            gc.callbacks.remove(clock)
    return fn


def run(ctx: Context) -> Iterator[Result]:
    """Plan orders of 1,000, 10,000 and 100,000 line items against the large catalog (YAML form)."""
    try:
        from dro_cli.planning.planner import instantiate
        from dsl import compile_catalog
    except ImportError as e:
        raise BenchmarkError(f"the planner is not available yet ({e})") from e
    compiled = compile_catalog([ctx.catalog("yaml")])            # once, not timed
    check_compiled("compile-yaml", compiled)
    templates = compiled.templates
    roots, children = _products(templates)

    best: dict[int, float] = {}
    rounds: dict[int, int] = {}
    gc_share: dict[int, float] = {}
    shapes: dict[int, Shape] = {}
    for size in SIZES:
        order = make_order(size, roots, children)
        calls: list[tuple[float, float]] = []                    # (seconds, of which GC) per call

        def check(label: str, result: Any, size: int = size) -> None:
            plan = result.plan
            shape = Shape(len(plan["context"]["items"]), len(result.unmatched), len(plan["steps"]),
                          sum(len(s["after"]) for s in plan["steps"]),
                          sum(1 for d in result.diagnostics if d.is_error))
            shapes[size] = shape
            matched = 1 - shape.unmatched / shape.items if shape.items else 0.0
            if matched < MIN_MATCHED or not shape.instances:
                raise BenchmarkError(f"{label}: only {matched:.0%} of {shape.items} fulfillment items matched a "
                                     f"scenario ({shape.instances} step instances): the benchmark measures nothing")

        label = f"plan {size:,} items"
        ctx.log(f"plan: {size:,} line items, first round")
        t = time_each({label: _planning(instantiate, templates, order, calls)}, 1, check)
        if label in t.errors:
            raise BenchmarkError(t.errors[label])
        rounds[size] = 1
        if t.median[label] < SLOW_ROUND and ctx.repeats() > 1:
            ctx.log(f"plan: {size:,} line items, {ctx.repeats() - 1} more rounds")
            more = time_each({label: _planning(instantiate, templates, order, calls)}, ctx.repeats() - 1)
            if label in more.errors:
                raise BenchmarkError(more.errors[label])
            rounds[size] = ctx.repeats()
        seconds, collected = min(calls)
        best[size] = seconds
        gc_share[size] = collected / seconds if seconds else 0.0
        del order

    per_item = {size: best[size] / size for size in SIZES}
    fastest = min(per_item, key=per_item.__getitem__)
    slowest = max(per_item, key=per_item.__getitem__)
    notes = [_size_note(size, best[size], rounds[size], gc_share[size], shapes[size]) for size in SIZES]
    small, large = shapes[SIZES[0]], shapes[SIZES[-1]]
    if per_item[slowest] > TARGET_LINEAR * per_item[fastest]:
        growth = (large.edges / SIZES[-1]) / max(small.edges / SIZES[0], 1e-9)
        notes.append(f"edges per line item: {small.edges / SIZES[0]:.1f} at {SIZES[0]:,} items, "
                     f"{large.edges / SIZES[-1]:.1f} at {SIZES[-1]:,}: "
                     + ("the plan grows faster than the order (`within plan` and plan-wide fall-back edges); "
                        "compare the time per instance or edge" if growth > TARGET_LINEAR
                        else "the plan grows with the order, the planner does not keep up"))
    yield Result("plan-linear", per_item[slowest], f"per item at {fastest:,} items", per_item[fastest],
                 TARGET_LINEAR, notes=[f"figure: per item at {slowest:,} items", *notes])
    yield Result(f"plan-{BUDGET_SIZE // 1000}k", best[BUDGET_SIZE], "budget", BUDGET, 1.0)


def _size_note(size: int, seconds: float, rounds: int, gc_share: float, shape: Shape) -> str:
    matched = 1 - shape.unmatched / shape.items if shape.items else 0.0
    errors = f", {shape.errors} error diagnostic(s)" if shape.errors else ""
    return (f"{size:>7,} items: {fmt_seconds(seconds)}, {fmt_seconds(seconds / size)} per item "
            f"(median of {rounds}, GC {gc_share:.0%}); {shape.items:,} fulfillment items, {matched:.0%} matched; "
            f"{shape.instances:,} step instances, {shape.edges:,} edges "
            f"({fmt_seconds(seconds / max(1, shape.instances + shape.edges))} per instance or edge){errors}")
