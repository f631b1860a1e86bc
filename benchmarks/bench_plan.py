"""plan: the planner, `instantiate(templates, order)`, in process, on orders of 1,000 to 100,000 line items.

Results: `plan-linear` (the time per item of the largest order against the smallest's), `plan-1k` (the time per
item at 1,000 items against that at 100,000: what a plan costs whatever its size), `plan-10k` (a
budget) and `plan-rss-100k` (the memory planning 100,000 items adds, measured in fresh processes:
`python benchmarks/bench_plan.py --rss plan|baseline TEMPLATES.json SIZE` is one of them).
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_compile import check_compiled
from common import WORK, BenchmarkError, Context, MemoryResult, Result, command_env, fmt_seconds, time_each

SIZES = (1_000, 10_000, 100_000)   # line items (order items) per order
BUNDLE = 5                         # each bundle: one root item and four children with `parent`
TARGET_LINEAR = 1.5                # per-item time: largest size <= 1.5x smallest size
TARGET_SMALL = 1.5                 # per-item time: 1,000 items <= 1.5x 100,000 items (few per-plan costs)
BUDGET = 0.8                       # seconds to plan the 10,000-item order
BUDGET_SIZE = 10_000
RSS_SIZE = 100_000                 # line items of the order whose planning memory is measured
RSS_BUDGET = 400.0                 # MB that planning it may add to a process holding the order and templates
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

    best: dict[int, float] = {}                                  # the median round's seconds, by size
    first: dict[int, float] = {}
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
        first[size] = t.first[label]
        if t.median[label] < SLOW_ROUND and ctx.repeats() > 1:
            ctx.log(f"plan: {size:,} line items, {ctx.repeats() - 1} more rounds")
            more = time_each({label: _planning(instantiate, templates, order, calls)}, ctx.repeats() - 1)
            if label in more.errors:
                raise BenchmarkError(more.errors[label])
            rounds[size] = ctx.repeats()
        seconds, collected = median_call(calls)
        best[size] = seconds
        gc_share[size] = collected / seconds if seconds else 0.0
        del order

    per_item = {size: best[size] / size for size in SIZES}
    # Growth is the largest order against the smallest. A middle size that happens to be the fastest is
    # not growth (the smallest against the largest, the other direction, is plan-1k's bound).
    smallest, largest = SIZES[0], SIZES[-1]
    notes = [_size_note(size, best[size], rounds[size], gc_share[size], shapes[size]) for size in SIZES]
    small, large = shapes[SIZES[0]], shapes[SIZES[-1]]
    if per_item[largest] > TARGET_LINEAR * per_item[smallest]:
        growth = (large.edges / SIZES[-1]) / max(small.edges / SIZES[0], 1e-9)
        notes.append(f"edges per line item: {small.edges / SIZES[0]:.1f} at {SIZES[0]:,} items, "
                     f"{large.edges / SIZES[-1]:.1f} at {SIZES[-1]:,}: "
                     + ("the plan grows faster than the order (`within plan` and plan-wide fall-back edges); "
                        "compare the time per instance or edge" if growth > TARGET_LINEAR
                        else "the plan grows with the order, the planner does not keep up"))
    yield Result("plan-linear", per_item[largest], f"per item at {smallest:,} items", per_item[smallest],
                 TARGET_LINEAR, notes=[f"figure: per item at {largest:,} items", *notes])
    yield Result(f"plan-{SIZES[0] // 1000}k", per_item[SIZES[0]], f"per item at {SIZES[-1]:,} items",
                 per_item[SIZES[-1]], TARGET_SMALL, notes=[
                     f"figure: per item at {SIZES[0]:,} items; the first round, which also prepares the templates "
                     "(scenario index, each step's settings: kept for later plans), took "
                     f"{fmt_seconds(first[SIZES[0]])}"])
    yield Result(f"plan-{BUDGET_SIZE // 1000}k", best[BUDGET_SIZE], "budget", BUDGET, 1.0)
    ctx.log(f"plan: peak RSS of fresh processes, {RSS_SIZE:,} line items")
    yield _memory(templates)


def _memory(templates: Mapping[str, Any]) -> Result:
    """What planning RSS_SIZE items adds to the peak RSS of a process: a fresh process that plans, beside one
    that only loads the same templates (from JSON) and builds the same order."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "plan-templates.json"
    path.write_text(json.dumps(templates), encoding="utf-8")
    peak = {mode: _peak_rss(mode, path) for mode in ("baseline", "plan")}
    added = peak["plan"] - peak["baseline"]
    return MemoryResult(f"plan-rss-{RSS_SIZE // 1000}k", added, "budget", RSS_BUDGET, 1.0, notes=[
        f"figure: what planning adds; peak RSS {peak['plan']:.0f} MB planning {RSS_SIZE:,} line items, "
        f"{peak['baseline']:.0f} MB for a process that only loads the templates and builds the order"])


def _peak_rss(mode: str, templates_path: Path) -> float:
    argv = [sys.executable, str(Path(__file__).resolve()), "--rss", mode, str(templates_path), str(RSS_SIZE)]
    proc = subprocess.run(argv, env=command_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-4:]) or "(no output)"
        raise BenchmarkError(f"the {mode} process for peak RSS exited {proc.returncode}: {tail}")
    try:
        return float(json.loads(proc.stdout.strip().splitlines()[-1])["peak_mb"])
    except (ValueError, KeyError, IndexError) as e:
        raise BenchmarkError(f"the {mode} process for peak RSS printed no figure: {proc.stdout[-200:]!r}") from e


def _rss_child(mode: str, templates_path: str, size: int) -> None:
    """In a fresh process: load the templates and build the order, plan it (mode "plan") and print the
    peak RSS, in MB."""
    from dro_cli.planning.planner import instantiate

    templates = json.loads(Path(templates_path).read_text(encoding="utf-8"))
    order = make_order(size, *_products(templates))
    result = instantiate(templates, order) if mode == "plan" else None
    if result is not None and not result.plan["steps"]:
        raise SystemExit("the plan has no steps")
    print(json.dumps({"mode": mode, "peak_mb": _peak_mb()}))


def _peak_mb() -> float:
    """This process's peak RSS. Linux keeps `ru_maxrss` across exec, so a child started by a large parent
    would report the parent's; VmHWM counts this program's memory only."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_call(calls: list[tuple[float, float]]) -> tuple[float, float]:
    """(seconds, of which GC) of the median planning call."""
    return sorted(calls)[len(calls) // 2]


def _size_note(size: int, seconds: float, rounds: int, gc_share: float, shape: Shape) -> str:
    matched = 1 - shape.unmatched / shape.items if shape.items else 0.0
    errors = f", {shape.errors} error diagnostic(s)" if shape.errors else ""
    return (f"{size:>7,} items: {fmt_seconds(seconds)}, {fmt_seconds(seconds / size)} per item "
            f"(median of {rounds}, GC {gc_share:.0%}); {shape.items:,} fulfillment items, {matched:.0%} matched; "
            f"{shape.instances:,} step instances, {shape.edges:,} edges "
            f"({fmt_seconds(seconds / max(1, shape.instances + shape.edges))} per instance or edge){errors}")


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "--rss" or sys.argv[2] not in ("plan", "baseline"):
        raise SystemExit("usage: bench_plan.py --rss plan|baseline TEMPLATES.json SIZE")
    _rss_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
