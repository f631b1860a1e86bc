"""run: the durable runner in process (10,000 no-op steps, a chain, callouts); `dro status` of a 1M-record journal.

Each figure beside a baseline measured in the same run:

- `run-10k`: 10,000 steps (no-op flows and milestones, each after 0 to 3 random earlier
  steps, fixed seed) run to completion by `dro_cli.runtime.runner.Runner` on its thread pool,
  journal and snapshot included; per step, against a minimal durable scheduler
  (`graphlib.TopologicalSorter` + `ThreadPoolExecutor`, a JSON-lines journal with one
  record per step completion and one fsync per scheduling round) on the same DAG.
- `run-100k`: dro's seconds per step on a 100,000-step DAG made the same way, against its seconds per step
  on the 10,000-step one, interleaved in the same run: linear means a ratio near 1.
- `run-chain`: 200 no-op flow steps in a chain, per step, against the same scheduler.
- `run-callout`: 100 callouts in a chain to a local HTTP server: the time dro adds per
  callout over a bare `http.client` request on a kept-alive connection.
- `status-1m`, `status-1m-json`: `dro status ORDER` (cold process) of an order whose journal
  has 1,000,000 records, against a budget of 1 s.
"""

from __future__ import annotations

import gc
import hashlib
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from common import (
    WORK,
    BenchmarkError,
    Context,
    Result,
    Timings,
    command,
    command_env,
    compare,
    dro_command,
    fmt_seconds,
    median_round,
    time_each,
)

RUN_STEPS = 10_000       # run-10k: steps in the random DAG
LARGE_STEPS = 100_000    # run-100k: the same kind of DAG, ten times larger
LARGE_ROUNDS = 2         # run-100k: at most this many rounds of each size (a 100k round takes 10 to 30 s)
FLOW_SHARE = 0.5         # of them no-op flows, the rest milestones
MAX_AFTER = 3            # each step after 0 to 3 random earlier steps ...
WINDOW = 100             # ... among the 100 before it (a DAG of some depth, not one of 20 wide rounds)
SEED = 20261201
CHAIN = 200              # run-chain: sequential no-op flow steps
CALLOUTS = 100           # run-callout: sequential callouts
PARALLEL = 8             # the runner's default pool; the baseline's pool too

TARGET_RUN = 2.0         # dro per step <= 2x the baseline's (issue 16)
TARGET_CHAIN = 10.0      # informational: the issue sets no ratio for the chain
TARGET_LINEAR = 2.0      # run-100k: per step <= 2x the 10k order's (linear, with room for noise)
CALLOUT_BUDGET = 0.002   # seconds dro may add per callout
STATUS_BUDGET = 1.0      # seconds for `dro status` of the 1,000,000-record journal

STATUS_STEPS = 1_000     # status: callout steps ...
STATUS_ATTEMPTS = 500    # ... each failing 499 times, then succeeding: 1,000 records a step
RETRY_INTERVAL = 60.0
STATUS_BATCH = 50_000    # records per Journal.append while building
T0 = 1_796_119_200.0     # 2026-12-01T10:00:00Z, the virtual clock's start

FLOW_MODULE = "bench_flows"
FLOW = f"{FLOW_MODULE}:noop"
FLOWS_SOURCE = '''"""The flows of benchmarks/bench_run.py: no-ops that count their calls (list.append is atomic)."""

CALLS = []


def noop(ctx):
    CALLS.append(None)
'''


def run(ctx: Context) -> Iterator[Result]:
    """The runner: 10k no-op steps, a 200-step chain, 100 callouts; `dro status` of a 1M-record journal."""
    try:
        from dro_cli.runtime.runner import Runner  # noqa: F401  (is the runtime there?)
    except ImportError as e:
        raise BenchmarkError(f"the runner is not available yet ({e})") from None
    root = WORK / "run"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / f"{FLOW_MODULE}.py").write_text(FLOWS_SOURCE)
    bench = Bench(ctx, root, catalog)
    yield bench.run_10k()
    yield bench.run_chain()
    yield bench.run_callout()
    yield bench.run_100k()     # after the small ones: its 70 MB a round would weigh on their fsyncs
    try:
        yield from bench.status_1m()
    finally:
        shutil.rmtree(root / "status-state", ignore_errors=True)   # a 300 MB journal: not left behind


# ---- plans built by hand (schemas/plan.schema.json) ------------------------------------------------

def make_step(sid: str, kind: str, after: Sequence[str], config: Mapping[str, Any],
              retry: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"id": sid, "step": sid, "title": sid, "type": kind, "lane": "bench", "scope": "plan", "item": None,
            "bundle": None, "after": list(after), "run_as": None, "duration": None, "jeopardy": None,
            "retry": dict(retry) if retry else None, "queue": None, "fallout": [], "config": dict(config)}


def make_plan(order_id: str, steps: list[dict[str, Any]],
              endpoints: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"schema_version": 1, "kind": "dro/plan", "order": order_id,
            "templates": "sha256:" + hashlib.sha256(order_id.encode()).hexdigest(),
            "lanes": {"bench": {"title": "Benchmark"}}, "endpoints": dict(endpoints or {}),
            "context": {"order": {"id": order_id, "account": "BENCH", "attributes": {}}, "bundles": {}, "items": {}},
            "steps": steps}


def random_dag_plan(order_id: str, size: int, seed: int) -> dict[str, Any]:
    """`size` steps, no-op flows and milestones, each after 0 to MAX_AFTER random steps among the WINDOW before it."""
    rng = random.Random(seed)
    ids = [f"s{i:05d}" for i in range(size)]
    steps = []
    for i, sid in enumerate(ids):
        earlier = range(max(0, i - WINDOW), i)
        after = sorted(rng.sample(earlier, rng.randint(0, min(MAX_AFTER, len(earlier)))))
        if rng.random() < FLOW_SHARE:
            steps.append(make_step(sid, "auto", [ids[a] for a in after], {"flow": FLOW}))
        else:
            steps.append(make_step(sid, "milestone", [ids[a] for a in after], {}))
    return make_plan(order_id, steps)


def chain_plan(order_id: str, size: int) -> dict[str, Any]:
    ids = [f"f{i:03d}" for i in range(size)]
    return make_plan(order_id, [make_step(sid, "auto", ids[i - 1:i], {"flow": FLOW}) for i, sid in enumerate(ids)])


def callout_step(sid: str, after: Sequence[str], retry: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return make_step(sid, "callout", after, {
        "endpoint": "svc", "method": "POST", "path": "/work", "body": {"step": "{{ step.id }}"},
        "expect": [200], "capture": {"id": "id"}}, retry)


def callout_plan(order_id: str, size: int, url: str) -> dict[str, Any]:
    ids = [f"c{i:03d}" for i in range(size)]
    return make_plan(order_id, [callout_step(sid, ids[i - 1:i]) for i, sid in enumerate(ids)],
                     {"svc": endpoint(url)})


def endpoint(url: str) -> dict[str, Any]:
    return {"title": "Benchmark service", "url": {"env": "BENCH_SVC_URL", "default": url}, "timeout": 10,
            "headers": {}, "auth": None}


def dag_of(plan: Mapping[str, Any]) -> dict[str, list[str]]:
    return {s["id"]: s["after"] for s in plan["steps"]}


def depth(dag: Mapping[str, Sequence[str]]) -> int:
    """Steps on the longest path (the ids are in topological order)."""
    longest: dict[str, int] = {}
    for sid, after in dag.items():
        longest[sid] = 1 + max((longest[a] for a in after), default=0)
    return max(longest.values(), default=0)


def check_plan(plan: Mapping[str, Any]) -> None:
    """The hand-built plan follows schemas/plan.schema.json (checked once, not timed)."""
    from dsl.schemas import validator

    error = next(iter(validator("plan").iter_errors(plan)), None)
    if error is not None:
        raise BenchmarkError(f"the benchmark's plan does not follow plan.schema.json: {error.message}")


# ---- dro: an order run to completion by the Runner, in process -------------------------------------

@dataclass
class DroRound:
    """One dro round: where its order lives, the phases' seconds, what it did."""

    order_dir: Path
    phases: dict[str, float] = field(default_factory=dict)
    batches: int = 0                  # journal appends (one fsync each) by the runner
    state: str = ""
    progress: tuple[int, int, int] = (0, 0, 0)   # Engine.progress(): (finished, canceled, all steps)

    @property
    def seconds(self) -> float:
        return sum(self.phases.values())


def prepare_order(state: Path, plan: Mapping[str, Any]) -> Path:
    """The order's directory with its (empty) journal and plan.json written, as `runtime.api._create` leaves
    it before `plan.created`: the order opened first (which makes the journal), then the plan written."""
    from dro_cli.journal.file import order_dir, write_plan
    from dro_cli.journal.store import OpenOrder

    path = order_dir(state, plan["order"])
    with OpenOrder(path):
        write_plan(path, plan)
    return path


def run_dro(path: Path, catalog: Path | None, environ: Mapping[str, str] | None = None) -> DroRound:
    """Open the order, journal `plan.created` as runtime.api._create does, run it to the end, close (snapshot)."""
    from dro_cli.journal.store import OpenOrder
    from dro_cli.runtime.runner import Runner

    result = DroRound(path)

    def count(events: Sequence[Any]) -> None:
        result.batches += 1

    marks = [time.perf_counter()]
    with OpenOrder(path) as order:
        engine = order.load_plan()
        now = time.time()
        created = ("plan.created", {
            "order": engine.order_id, "order_file": str(path / "order.yaml"), "order_sha256": "0" * 64,
            "catalog": str(catalog), "templates": order.plan["templates"], "plan_sha256": order.plan_sha,
            "steps": len(engine.steps)})
        order.append([created], now)
        engine.apply(*created, now)
        marks.append(time.perf_counter())
        Runner(order, catalog_dir=catalog, clock=time.time, parallel=PARALLEL, environ=environ,
               listener=count).run()
        marks.append(time.perf_counter())
    marks.append(time.perf_counter())
    result.phases = {"open, load, plan.created": marks[1] - marks[0], "run": marks[2] - marks[1],
                     "close (snapshot)": marks[3] - marks[2]}
    result.state, result.progress = str(engine.state), engine.progress()
    return result


def journal_counts(path: Path) -> dict[str, int]:
    from dro_cli.journal.file import read

    counts: dict[str, int] = {}
    for record in read(path / "journal.jsonl"):
        counts[record["type"]] = counts.get(record["type"], 0) + 1
    return counts


def check_dro(label: str, result: DroRound, steps: int, calls: int | None = None,
              calls_made: Callable[[], int] | None = None) -> dict[str, int]:
    """The plan completed, every step completed once in the journal, every flow or callout ran."""
    counts = journal_counts(result.order_dir)
    if result.state != "completed" or result.progress != (steps, 0, steps) or counts.get("step.completed") != steps \
            or counts.get("plan.completed") != 1 or counts.get("step.failed"):
        raise BenchmarkError(f"{label}: the plan is {result.state}, {result.progress[0]} of {steps} steps finished; "
                             f"journal: {counts}")
    if calls is not None and calls_made is not None and calls_made() != calls:
        raise BenchmarkError(f"{label}: {calls_made()} calls of the flow or the server, {calls} expected")
    return counts


# ---- the baseline: a minimal durable DAG scheduler -----------------------------------------------

@dataclass
class BaselineRound:
    seconds: float = 0.0
    records: int = 0
    rounds: int = 0                   # scheduling rounds, one fsync each
    unfinished: bool = True


def run_baseline(dag: Mapping[str, Sequence[str]], flows: frozenset[str], fn: Callable[[Any], Any],
                 journal: Path, per_event: bool = False) -> BaselineRound:
    """Run `dag` to the end: `fn` for the steps in `flows` on a pool of PARALLEL threads, the others (milestones)
    complete inline. Each round: the completions so far and the milestones they unblock are written as JSON
    lines (one record per step completion) and fsynced once; then the newly ready flows are submitted.
    `per_event`: also a record for each flow started, written with its round before the flow is submitted."""
    result = BaselineRound()
    start = time.perf_counter()
    sorter = TopologicalSorter(dag)
    sorter.prepare()
    fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | os.O_CLOEXEC, 0o666)
    pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="baseline")
    running: dict[Future[Any], str] = {}
    lines: list[bytes] = []

    def record(kind: str, sid: str, outputs: Any) -> None:
        result.records += 1
        lines.append(json.dumps({"seq": result.records, "ts": time.time(), "type": kind, "step": sid,
                                 "outputs": outputs or {}}, separators=(",", ":")).encode() + b"\n")

    def complete(sid: str, outputs: Any) -> None:
        record("completed", sid, outputs)
        sorter.done(sid)

    gc.freeze()                       # the GC policy of dro's OpenOrder: what is loaded is not scanned again
    try:
        done: set[Future[Any]] = set()
        while True:
            for future in done:
                complete(running.pop(future), future.result())
            launch = []
            while ready := sorter.get_ready():
                for sid in ready:
                    if sid in flows:
                        launch.append(sid)
                        if per_event:
                            record("started", sid, None)
                    else:
                        complete(sid, None)
            if lines:
                data = b"".join(lines)
                lines.clear()
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
                result.rounds += 1
            for sid in launch:
                running[pool.submit(fn, {"step": {"id": sid}})] = sid
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
    finally:
        gc.unfreeze()
        pool.shutdown(wait=True)
        os.close(fd)
    result.seconds = time.perf_counter() - start
    result.unfinished = sorter.is_active()
    return result


def check_baseline(label: str, result: BaselineRound, journal: Path, records: int) -> None:
    lines = journal.read_bytes().count(b"\n")
    if result.unfinished or result.records != records or lines != records:
        raise BenchmarkError(f"{label}: {result.records} records made, {lines} journal lines, {records} expected")


# ---- the HTTP server of the callouts ---------------------------------------------------------------

class Service:
    """A local HTTP/1.1 server (keep-alive) that answers every POST 200 with {"id": ...} at once."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.connections: list[None] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"    # keeps connections alive, as dro's callouts expect
            disable_nagle_algorithm = True   # headers and body are two writes: no delayed-ACK stall

            def setup(self) -> None:
                super().setup()
                service.connections.append(None)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key", "")
                service.keys.append(key)
                body = json.dumps({"id": "R-" + key}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="bench-service", daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bare_callouts(port: int, order_id: str, size: int) -> int:
    """The same requests as the callout chain, with http.client on one kept-alive connection: body, headers
    (Idempotency-Key, Content-Type, User-Agent), status check, JSON response parsed for its id."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ids = 0
    try:
        for i in range(size):
            sid = f"c{i:03d}"
            body = json.dumps({"step": sid}, separators=(",", ":")).encode()
            connection.request("POST", "/work", body=body, headers={
                "Idempotency-Key": f"{order_id}/{sid}/1", "Content-Type": "application/json",
                "User-Agent": "bench"})
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise BenchmarkError(f"bare http.client: HTTP {response.status}")
            ids += bool(json.loads(data)["id"])
    finally:
        connection.close()
    return ids


# ---- the benchmarks --------------------------------------------------------------------------------

class Bench:
    def __init__(self, ctx: Context, root: Path, catalog: Path) -> None:
        self.ctx = ctx
        self.root = root
        self.catalog = catalog
        self._rounds = 0

    def fresh(self, prefix: str) -> Path:
        self._rounds += 1
        return self.root / f"{prefix}-{self._rounds:03d}"

    def flow(self) -> tuple[Callable[[Any], Any], Any]:
        """The no-op flow as dro loads it (the same function object for both sides) and its module."""
        from dro_cli.runtime.handlers.flow import load

        fn = load(FLOW, self.catalog)
        return fn, sys.modules[FLOW_MODULE]

    def _flow_pair(self, name: str, plan: dict[str, Any], baseline: str, target: float,
                   notes: list[str]) -> Result:
        """Time dro and the baseline on `plan` (no-op flows and milestones), interleaved; per step."""
        self.ctx.log(f"{name}: {len(plan['steps']):,} steps")
        check_plan(plan)
        fn, module = self.flow()
        dag = dag_of(plan)
        flows = frozenset(s["id"] for s in plan["steps"] if s["type"] == "auto")
        steps = len(dag)
        dro_rounds: list[DroRound] = []
        base_rounds: dict[bool, list[BaselineRound]] = {False: [], True: []}
        facts: dict[str, Any] = {}
        per_event = baseline + ", per event"

        def dro_side() -> DroRound:
            path = prepare_order(self.fresh(name), plan)                   # plan.json: planning, not timed
            gc.collect()
            module.CALLS.clear()
            result = run_dro(path, self.catalog)
            dro_rounds.append(result)
            return result

        def base_side(events: bool = False) -> BaselineRound:
            journal = self.fresh(name + "-baseline")
            module.CALLS.clear()
            result = run_baseline(dag, flows, fn, journal, per_event=events)
            base_rounds[events].append(result)
            check_baseline(per_event if events else baseline, result, journal, steps + len(flows) * events)
            journal.unlink()
            return result

        def check(label: str, value: Any) -> None:
            if isinstance(value, DroRound):
                facts["counts"] = check_dro(label, value, steps, len(flows), lambda: len(module.CALLS))
            elif len(module.CALLS) != len(flows):
                raise BenchmarkError(f"{label}: {len(module.CALLS)} flow calls, {len(flows)} expected")

        timings = time_each({name: dro_side, baseline: base_side, per_event: lambda: base_side(True)},
                               self.ctx.repeats(), check)
        if name in timings.errors or baseline in timings.errors:
            return compare(name, timings, name, baseline, target)
        best = median_round(dro_rounds, key=lambda r: r.seconds)  # the median round, its phases and counts
        base = median_round(base_rounds[False], key=lambda r: r.seconds)
        event = median_round(base_rounds[True], key=lambda r: r.seconds) if base_rounds[True] else None
        per_step = Timings({name: [r.seconds / steps for r in dro_rounds],
                            baseline: [r.seconds / steps for r in base_rounds[False]]})
        counts = facts["counts"]
        notes = [*notes,
                 f"{steps:,} steps ({len(flows):,} no-op flows, {steps - len(flows):,} milestones), "
                 f"{sum(map(len, dag.values())):,} edges, longest path {depth(dag):,} steps; "
                 f"{PARALLEL} threads each side; median of {len(dro_rounds)}",
                 f"dro: {fmt_seconds(best.seconds)} = "
                 + ", ".join(f"{k} {fmt_seconds(v)}" for k, v in best.phases.items())
                 + f"; {sum(counts.values()):,} journal records ({_counts(counts)}) in {best.batches + 1:,} appends "
                 "(one fsync each)",
                 f"baseline: {fmt_seconds(base.seconds)}; {base.records:,} journal records (one per step completion) "
                 f"in {base.rounds:,} rounds (one fsync each)",
                 f"dro's run phase alone (no open, no close): {fmt_seconds(best.phases['run'] / steps)} per step, "
                 f"{best.phases['run'] / base.seconds:.2f}x the baseline"]
        if event is not None:
            notes.append(f"baseline per event (a record for each flow started too, as dro journals it): "
                         f"{fmt_seconds(event.seconds / steps)} per step ({fmt_seconds(event.seconds)}, "
                         f"{event.records:,} records); dro is {best.seconds / event.seconds:.2f}x that")
        return compare(name, per_step, name, baseline, target, notes)

    def run_10k(self) -> Result:
        plan = random_dag_plan("ORD-BENCH-10K", RUN_STEPS, SEED)
        return self._flow_pair("run-10k", plan, "TopologicalSorter+pool", TARGET_RUN,
                               ["figure and baseline: seconds per step (whole run / steps)"])

    def run_100k(self) -> Result:
        """dro alone on 100,000 steps and on 10,000 (the same generator and seed), per step: whatever grows
        faster than the plan (a set walked whole every round, a list scanned per event, the collector
        scanning the loaded plan again and again) shows as a ratio above 1."""
        name, small = "run-100k", "run-10k per step"
        plans = {name: random_dag_plan("ORD-BENCH-100K", LARGE_STEPS, SEED),
                 small: random_dag_plan("ORD-BENCH-10K", RUN_STEPS, SEED)}
        self.ctx.log(f"{name}: {LARGE_STEPS:,} and {RUN_STEPS:,} steps")
        check_plan(plans[small])  # the large plan comes from the same generator: schema-checked once, small
        _, module = self.flow()
        rounds: dict[str, list[DroRound]] = {name: [], small: []}
        facts: dict[str, Any] = {}

        def side(label: str) -> DroRound:
            for done in rounds[label]:                  # checked already: 70 MB a 100k round, not kept
                shutil.rmtree(done.order_dir, ignore_errors=True)
            path = prepare_order(self.fresh(label.split()[0]), plans[label])  # plan.json: planning, not timed
            gc.collect()
            module.CALLS.clear()
            result = run_dro(path, self.catalog)
            rounds[label].append(result)
            return result

        def check(label: str, value: Any) -> None:
            steps = len(plans[label]["steps"])
            flows = sum(s["type"] == "auto" for s in plans[label]["steps"])
            assert isinstance(value, DroRound)
            facts[label] = check_dro(label, value, steps, flows, lambda: len(module.CALLS))

        try:
            timings = time_each({name: lambda: side(name), small: lambda: side(small)},
                                   max(1, min(self.ctx.repeats(), LARGE_ROUNDS)), check)
        finally:
            for done in (*rounds[name], *rounds[small]):
                shutil.rmtree(done.order_dir, ignore_errors=True)
        if name in timings.errors or small in timings.errors:
            return compare(name, timings, name, small, TARGET_LINEAR)
        best = {label: median_round(rounds[label], key=lambda r: r.seconds) for label in rounds}
        per_step = Timings({label: [r.seconds / len(plans[label]["steps"]) for r in rounds[label]]
                            for label in rounds})
        large = best[name]
        counts = facts[name]
        notes = ["figure and baseline: dro's seconds per step (whole round / steps), the same generator and seed, "
                 f"interleaved, median of {len(rounds[name])} each",
                 f"100k: {fmt_seconds(large.seconds)} = "
                 + ", ".join(f"{k} {fmt_seconds(v)}" for k, v in large.phases.items())
                 + f"; {sum(counts.values()):,} journal records in {large.batches + 1:,} appends",
                 f"10k: {fmt_seconds(best[small].seconds)} = "
                 + ", ".join(f"{k} {fmt_seconds(v)}" for k, v in best[small].phases.items()),
                 f"the run phase alone, per step: {fmt_seconds(large.phases['run'] / LARGE_STEPS)} at 100k, "
                 f"{fmt_seconds(best[small].phases['run'] / RUN_STEPS)} at 10k"]
        return compare(name, per_step, name, small, TARGET_LINEAR, notes)

    def run_chain(self) -> Result:
        plan = chain_plan("ORD-BENCH-CHAIN", CHAIN)
        return self._flow_pair("run-chain", plan, "TopologicalSorter+pool", TARGET_CHAIN,
                               ["informational: the issue sets no ratio for the chain; 10x is a generous bound",
                                "figure and baseline: seconds per step (whole run / steps), durability included"])

    def run_callout(self) -> Result:
        name, baseline = "run-callout", "bare http.client"
        service = Service()
        try:
            order_id = "ORD-BENCH-CALLOUT"
            plan = callout_plan(order_id, CALLOUTS, service.url)
            check_plan(plan)
            self.ctx.log(f"{name}: {CALLOUTS} callouts to {service.url}")
            from dro_cli.runtime.handlers import close_connections

            dro_rounds: list[DroRound] = []
            seen: dict[str, int] = {}

            def dro_side() -> DroRound:
                path = prepare_order(self.fresh(name), plan)
                close_connections()                 # each round opens its connection, as the baseline does
                service.keys.clear()
                service.connections.clear()
                gc.collect()
                result = run_dro(path, self.catalog, environ={})
                dro_rounds.append(result)
                seen["dro connections"] = len(service.connections)
                return result

            bare: list[float] = []

            def base_side() -> int:
                service.keys.clear()
                service.connections.clear()
                start = time.perf_counter()
                ids = bare_callouts(service.port, order_id, CALLOUTS)
                bare.append(time.perf_counter() - start)
                seen["bare connections"] = len(service.connections)
                return ids

            def check(label: str, value: Any) -> None:
                if isinstance(value, DroRound):
                    check_dro(label, value, CALLOUTS, CALLOUTS, lambda: len(service.keys))
                    outputs = _outputs(value.order_dir)
                    if len(outputs) != CALLOUTS or not all(o.get("id", "").startswith("R-") for o in outputs):
                        raise BenchmarkError(f"{label}: {len(outputs)} callouts captured an id, {CALLOUTS} expected")
                elif value != CALLOUTS or len(service.keys) != CALLOUTS:
                    raise BenchmarkError(f"{label}: {value} answers, {len(service.keys)} requests")

            timings = time_each({name: dro_side, baseline: base_side}, self.ctx.repeats(), check)
        finally:
            service.close()
        for side in (name, baseline):
            if side in timings.errors:
                return Result(name, None, "budget", CALLOUT_BUDGET, 1.0,
                              error=("" if side == name else "baseline: ") + timings.errors[side])
        best = median_round(dro_rounds, key=lambda r: r.seconds)
        bare_median = statistics.median(bare)
        added = (best.seconds - bare_median) / CALLOUTS
        notes = [f"figure: (dro's whole run - the bare requests) / {CALLOUTS} = {added * 1e3:.2f} ms added per callout "
                 f"(median of {len(dro_rounds)} each)",
                 f"dro: {fmt_seconds(best.seconds / CALLOUTS)} per callout ({fmt_seconds(best.seconds)} = "
                 + ", ".join(f"{k} {fmt_seconds(v)}" for k, v in best.phases.items())
                 + f"; {best.batches + 1} appends); bare http.client: {fmt_seconds(bare_median / CALLOUTS)} "
                 "per request",
                 f"both kept-alive (HTTP/1.1 server): {seen.get('dro connections')} connection(s) per dro run, "
                 f"{seen.get('bare connections')} for the bare requests; a Jinja-rendered JSON body, the response's "
                 "id captured"]
        return Result(name, added, "budget", CALLOUT_BUDGET, 1.0, notes=notes)

    # ---- status of a 1,000,000-record journal ----

    def status_1m(self) -> Iterator[Result]:
        state = self.root / "status-state"
        order_id = "ORD-BENCH-1M"
        self.ctx.log(f"status: building a journal of {STATUS_STEPS * 2 * STATUS_ATTEMPTS:,} records")
        started = time.perf_counter()
        records = build_status_order(state, order_id)
        built = time.perf_counter() - started
        path = state / "orders" / order_id
        journal_bytes = (path / "journal.jsonl").stat().st_size
        if not (path / "snapshot.json").is_file():
            raise BenchmarkError("status: closing the order left no snapshot.json")
        check_status(self._status_json(state, order_id), records)

        text = [sys.executable, "-m", "dro_cli.main", "status", order_id, "--state-dir", str(state)]
        js = [*dro_command(), "status", order_id, "--format", "json", "--state-dir", str(state)]
        subjects = {"status-1m": command(text), "status-1m-json": command(js)}
        timings = time_each(subjects, self.ctx.repeats())

        (path / "snapshot.json").unlink()
        cold = command(text)
        start = time.perf_counter()
        cold()
        unsnapped = time.perf_counter() - start
        rewritten = (path / "snapshot.json").is_file()
        start = time.perf_counter()
        command(text)()
        again = time.perf_counter() - start

        shape = (f"journal: {records:,} records, {journal_bytes / 1e6:.0f} MB ({STATUS_STEPS:,} callout steps, "
                 f"{STATUS_ATTEMPTS} attempts each: {STATUS_ATTEMPTS - 1} failed, then completed), built in "
                 f"{built:.0f} s (not timed); the snapshot left by OpenOrder.close")
        for name, argv in (("status-1m", text), ("status-1m-json", js)):
            if name in timings.errors:
                yield Result(name, None, "budget", STATUS_BUDGET, 1.0, error=timings.errors[name])
                continue
            notes = [f"`{_short(argv)}`, cold process, median of {self.ctx.repeats()}", shape]
            if name == "status-1m":
                notes.append(f"without snapshot.json: {fmt_seconds(unsnapped)} (folds the whole journal and "
                             f"{'writes the snapshot again' if rewritten else 'wrote NO snapshot'}); "
                             f"the next status: {fmt_seconds(again)}")
            yield Result(name, timings.median[name], "budget", STATUS_BUDGET, 1.0, notes=notes)

    def _status_json(self, state: Path, order_id: str) -> dict[str, Any]:
        proc = subprocess.run([*dro_command(), "status", order_id, "--format", "json", "--state-dir", str(state)],
                              env=command_env(), capture_output=True, check=False)
        if proc.returncode != 0:
            raise BenchmarkError(f"status: `dro status` exited {proc.returncode}: {proc.stderr.decode()[-400:]}")
        data: dict[str, Any] = json.loads(proc.stdout)
        return data


def build_status_order(state: Path, order_id: str) -> int:
    """An order whose journal has about 1,000,000 records, made legitimately: the pure engine on a virtual
    clock decides, synthetic callout outcomes fail (HTTP 503, retried every minute) until the last attempt,
    and the engine's events go to `Journal.append` in big batches; closing the order leaves the snapshot."""

    retry = {"policy": "monotonous", "retries": STATUS_ATTEMPTS - 1, "interval": RETRY_INTERVAL}
    plan = make_plan(order_id, [callout_step(f"c{i:04d}", (), retry) for i in range(STATUS_STEPS)],
                     {"svc": endpoint("http://127.0.0.1:9")})
    check_plan(plan)
    path = prepare_order(state, plan)
    records, state_now = journal_retried_callouts(path, order_id, plan, STATUS_ATTEMPTS, STATUS_BATCH)
    if state_now != "completed":
        raise BenchmarkError(f"status: the built order is {state_now}, not completed")
    return records


def journal_retried_callouts(path: Path, order_id: str, plan: Mapping[str, Any], attempts: int, batch: int,
                             skip: frozenset[str] = frozenset()) -> tuple[int, str]:
    """Journal an order of retried callouts as a run would, fast: the pure Engine on a virtual clock,
    every callout answered HTTP 503 until its `attempts`-th try succeeds (steps in `skip` are left as
    they start: a manual step awaiting its operator), the events appended in batches of `batch`;
    closing the order leaves the snapshot. (records journaled, the order's state)."""
    from dro_cli.engine.instants import iso
    from dro_cli.journal.store import OpenOrder

    was_enabled = gc.isenabled()
    gc.disable()                                 # a million acyclic records: no point scanning them
    try:
        with OpenOrder(path) as order:
            engine = order.load_plan()
            journal = order.journal
            now = T0
            created = ("plan.created", {
                "order": order_id, "order_file": str(path / "order.yaml"), "order_sha256": "0" * 64,
                "catalog": "bench", "templates": plan["templates"], "plan_sha256": order.plan_sha,
                "steps": len(engine.steps)})
            engine.apply(*created, now)
            entries: list[tuple[str, Mapping[str, Any], str]] = [(*created, iso(now))]
            while True:
                events = engine.advance(now)
                if not events:
                    break
                ts = iso(now)
                entries += [(kind, payload, ts) for kind, payload in events]
                answered = now + 0.25            # the server's answer, a quarter second later
                ts = iso(answered)
                for kind, payload in events:
                    if kind == "step.started" and payload["step"] not in skip:
                        attempt = payload["attempt"]
                        ok = attempt == attempts
                        event = engine.outcome(payload["step"], attempt, ok, answered, outputs={"id": "R-1"},
                                               error="" if ok else "http_503",
                                               message="" if ok else "POST http://127.0.0.1:9/work: HTTP 503 "
                                               "Service Unavailable")
                        if event is not None:
                            entries.append((*event, ts))
                if len(entries) >= batch:
                    engine.seq = journal.append(entries)[-1]["seq"]
                    entries = []
                now = engine.next_timer() or answered
            if entries:
                engine.seq = journal.append(entries)[-1]["seq"]
            return journal.last_seq, str(engine.state)
    finally:
        if was_enabled:
            gc.enable()


def check_status(status: Mapping[str, Any], records: int) -> None:
    expected = 1 + 1 + STATUS_STEPS * 2 * STATUS_ATTEMPTS + 1   # created, ready, started/failed/completed, done
    attempts = {s["attempts"] for s in status["steps"]}
    if records != expected or status["state"] != "completed" or \
            status["progress"] != {"finished": STATUS_STEPS, "canceled": 0, "total": STATUS_STEPS} \
            or attempts != {STATUS_ATTEMPTS}:
        raise BenchmarkError(f"status: {records:,} records ({expected:,} expected), state {status['state']}, "
                             f"progress {status['progress']}, attempts {sorted(attempts)[:5]}")


def _outputs(order_dir: Path) -> list[dict[str, Any]]:
    from dro_cli.journal.file import read

    return [r["payload"]["outputs"] for r in read(order_dir / "journal.jsonl") if r["type"] == "step.completed"]


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n:,} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _short(argv: Sequence[str]) -> str:
    shown = ["python" if a == sys.executable else ("dro" if a.endswith("/dro") else a) for a in argv]
    return " ".join("S" if a.endswith("status-state") else a for a in shown)
