"""orders: many orders at once: `dro tick` of 1,000 orders waiting on a slow callout, and orders submitted
without pause through the in-process API.

Each figure beside a baseline measured in the same run:

- `tick-slow-1k`: `dro tick --parallel 8` (a cold process) continuing 1,000 due orders whose next step
  is a callout to a local HTTP server that answers after 100 ms. The baseline is what no
  orchestrator can beat at that width: 8 threads sending the same 1,000 requests to the
  same server with bare `http.client` (12.5 s for 1,000 x 100 ms / 8). The target, 50
  orders/s, is 1.6x the baseline's 80 orders/s. Every round starts from the same state
  (the state directory copied back, not timed). One order at a time, as before
  `--parallel`, a tick could not pass 10 orders/s here.
- `submit-sustained`: orders of 10 no-op flow steps submitted one after another for a fixed
  time (SUSTAIN seconds) through `dro_cli.runtime.api.run_order` (planned from an order
  file, run to the end, durable), per order; the notes give orders/s and the p50 and p99
  latency from submission to the first step started. The baseline is the same loop doing
  only the durable writes: per order a directory and a journal file, appended to and
  fsynced as many times as dro fsyncs for one order (counted first), i.e. the floor of
  any design that makes the same writes durable on this disk. When one process needs more orders/s than this figure,
  work must be spread over processes or machines.

For a quick try, $BENCH_TICK_ORDERS and $BENCH_SUSTAIN make it smaller (the targets assume
the defaults). The state of `tick-slow-1k` is made by dro's own code: hand-built plans (one callout
with a retry, then a milestone) run in process on a virtual clock with a handler that
fails the callout, so each order has its retry due at DRO_NOW.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import http.client
import itertools
import json
import os
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

from common import (
    WORK,
    BenchmarkError,
    Context,
    Result,
    Timings,
    command_env,
    compare,
    dro_command,
    fmt_seconds,
    median_round,
    time_each,
)

TICK_ORDERS = int(os.environ.get("BENCH_TICK_ORDERS", "1000"))
CALLOUT_SECONDS = 0.1        # the slow service's answer time
TICK_PARALLEL = 8            # `dro tick --parallel`, the default; the baseline's threads too
TARGET_RATE = 50.0           # orders/s the tick must reach
SUSTAIN = float(os.environ.get("BENCH_SUSTAIN", "10"))               # seconds of submission in `submit-sustained`
FLOW_STEPS = 10              # steps per submitted order
TARGET_SUSTAINED = 6.0       # dro's seconds per order / the fsync floor's: a guard against regressions
T0 = 1_796_119_200.0         # 2026-12-01T10:00:00Z: the virtual clock of the failed first attempts
RETRY_INTERVAL = 60          # seconds: the callout's retry is due at T0 + 60
TICK_AT = "2026-12-01T10:05:00Z"  # DRO_NOW of the measured tick: every retry due

FLOW_MODULE = "bench_orders_flows"
FLOWS_SOURCE = '''"""The flows of benchmarks/bench_orders.py."""


def noop(ctx):
    return None
'''


def run(ctx: Context) -> Iterator[Result]:
    """`dro tick` of 1,000 orders on a 100 ms callout (>= 50 orders/s); sustained submission against fsyncs."""
    try:
        from dro_cli.runtime.tick import tick  # noqa: F401  (is the runtime there?)
    except ImportError as e:
        raise BenchmarkError(f"the runtime is not available yet ({e})") from None
    root = WORK / "orders"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    try:
        yield tick_slow(ctx, root)
        yield submit_sustained(ctx, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---- a service that answers after 100 ms --------------------------------------------------------

class SlowService:
    """A local HTTP/1.1 server (keep-alive) that answers every POST 200 after CALLOUT_SECONDS."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(CALLOUT_SECONDS)
                with service._lock:
                    service.count += 1
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.thread = threading.Thread(target=self.server.serve_forever, name="bench-slow-service", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- tick-slow-1k ---------------------------------------------------------------------------------

def step(sid: str, kind: str, after: Sequence[str], config: Mapping[str, Any],
         retry: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"id": sid, "step": sid, "title": sid, "type": kind, "lane": "bench", "scope": "plan", "item": None,
            "bundle": None, "after": list(after), "run_as": None, "duration": None, "jeopardy": None,
            "retry": dict(retry) if retry else None, "queue": None, "fallout": [], "config": dict(config)}


def callout_plan(order_id: str, url: str) -> dict[str, Any]:
    """A callout with a retry (due RETRY_INTERVAL after its failed first attempt), then a milestone."""
    call = step("call", "callout", [], {"endpoint": "svc", "method": "POST", "path": "/work",
                                        "body": {"order": "{{ order.id }}"}, "expect": [200], "capture": {}},
                {"policy": "monotonous", "retries": 2, "interval": RETRY_INTERVAL})
    return {"schema_version": 1, "kind": "dro/plan", "order": order_id,
            "templates": "sha256:" + hashlib.sha256(order_id.encode()).hexdigest(),
            "lanes": {"bench": {"title": "Benchmark"}},
            "endpoints": {"svc": {"title": "Slow service", "url": {"env": "BENCH_SLOW_URL", "default": url},
                                  "timeout": 10, "headers": {}, "auth": None}},
            "context": {"order": {"id": order_id, "account": "BENCH", "attributes": {}}, "bundles": {}, "items": {}},
            "steps": [call, step("done", "milestone", ["call"], {})]}


@contextlib.contextmanager
def no_fsync() -> Iterator[None]:
    """Building a fixture needs no durability (an fsync is milliseconds here)."""
    with mock.patch.object(os, "fsync", lambda fd: None):
        yield


def build_due_orders(state: Path, url: str, count: int) -> None:
    """`count` orders whose callout failed at T0 (a retryable error), its retry due at T0 + RETRY_INTERVAL."""
    from dro_cli.journal.file import order_dir, write_plan
    from dro_cli.journal.store import OpenOrder
    from dro_cli.runtime.handlers.base import Invocation, Outcome, failure
    from dro_cli.runtime.runner import Runner

    def refuse(invocation: Invocation) -> Outcome:
        return failure("ConnectionError", "the service is not up yet")

    with no_fsync():
        for i in range(count):
            order_id = f"ORD-{i:05d}"
            path = order_dir(state, order_id)
            with OpenOrder(path) as order:  # as runtime.api._create: the plan written under the lock
                write_plan(path, callout_plan(order_id, url))
                engine = order.load_plan()
                created = ("plan.created", {
                    "order": order_id, "order_file": str(path / "order.yaml"), "order_sha256": "0" * 64,
                    "catalog": None, "templates": order.plan["templates"], "plan_sha256": order.plan_sha,
                    "steps": len(engine.steps)})
                order.append([created], T0)
                engine.apply(*created, T0)
                Runner(order, catalog_dir=None, clock=lambda: T0, handler=refuse).run()
    os.sync()


def tick_slow(ctx: Context, root: Path) -> Result:
    name = "tick-slow-1k"
    service = SlowService()
    pristine, work = root / "tick-pristine", root / "tick-work"
    try:
        ctx.log(f"orders: building {TICK_ORDERS:,} orders with a callout retry due")
        build_due_orders(pristine, service.url, TICK_ORDERS)
        env = {**command_env(), "DRO_NOW": TICK_AT, "BENCH_SLOW_URL": service.url}
        argv = [*dro_command(), "tick", "--parallel", str(TICK_PARALLEL), "--state-dir", str(work),
                "--format", "json"]

        def dro_tick() -> dict[str, Any]:
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(pristine, work, symlinks=True)  # (not timed: time_each times the whole call)
            started = time.perf_counter()
            proc = subprocess.run(argv, env=env, capture_output=True, check=False)
            seconds = time.perf_counter() - started
            if proc.returncode != 0:
                raise BenchmarkError(f"`dro tick` exited {proc.returncode}: {proc.stderr.decode()[-300:]}")
            return {"seconds": seconds, "document": json.loads(proc.stdout)}

        def bare() -> dict[str, Any]:
            started = time.perf_counter()
            sent = bare_requests(service.url, TICK_ORDERS, TICK_PARALLEL)
            return {"seconds": time.perf_counter() - started, "sent": sent}

        timings = own_timings({"dro tick": dro_tick, "bare pool": bare}, ctx.repeats(2), check_tick)
    finally:
        service.close()
        shutil.rmtree(work, ignore_errors=True)
    for side in ("dro tick", "bare pool"):
        if side in timings.errors:
            return Result(name, None, "bare pool", None, 0.0, error=f"{side}: {timings.errors[side]}")
    dro_s, bare_s = timings.median["dro tick"], timings.median["bare pool"]
    target = (TICK_ORDERS / TARGET_RATE) / (TICK_ORDERS * CALLOUT_SECONDS / TICK_PARALLEL)
    return compare(name, timings, "dro tick", "bare pool", target, notes=[
        f"{TICK_ORDERS / dro_s:.0f} orders/s (target >= {TARGET_RATE:g}); the bare pool "
        f"{TICK_ORDERS / bare_s:.0f} orders/s; --parallel {TICK_PARALLEL}, callouts of "
        f"{CALLOUT_SECONDS * 1000:.0f} ms; one order at a time would be <= {1 / CALLOUT_SECONDS:.0f} orders/s"])


def own_timings(subjects: Mapping[str, Any], repeat: int, check: Any) -> Timings:
    """time_each over subjects that time themselves (the copy of the state must not count): the
    seconds each returns, not the wall time of the call."""
    seconds: dict[str, list[float]] = {name: [] for name in subjects}

    def timed(name: str, fn: Any) -> Any:
        def call() -> Any:
            value = fn()
            seconds[name].append(value["seconds"])
            return value
        return call

    t = time_each({name: timed(name, fn) for name, fn in subjects.items()}, repeat, check)
    for name, measured in seconds.items():
        if measured and name not in t.errors:
            t.samples[name] = measured
    return t


def check_tick(name: str, value: Any) -> None:
    if name == "bare pool":
        if value["sent"] != TICK_ORDERS:
            raise BenchmarkError(f"the bare pool sent {value['sent']} requests, {TICK_ORDERS} expected")
        return
    document = value["document"]
    orders = document["orders"]
    completed = sum(entry["status"]["state"] == "completed" for entry in orders)
    if len(orders) != TICK_ORDERS or completed != TICK_ORDERS or document["not_done"]:
        raise BenchmarkError(f"`dro tick` continued {len(orders)} orders, completed {completed} "
                             f"({TICK_ORDERS} expected), not done: {document['not_done'][:3]}")
    ids = [entry["status"]["order"] for entry in orders]
    if ids != sorted(ids):
        raise BenchmarkError("`dro tick` did not list the orders in id order")


def bare_requests(url: str, count: int, threads: int) -> int:
    """`count` POSTs to the service from `threads` threads, one kept-alive connection each."""
    port = int(url.rsplit(":", 1)[1])
    local = threading.local()

    def send(i: int) -> int:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = json.dumps({"order": f"ORD-{i:05d}"}).encode()
        connection.request("POST", "/work", body=body, headers={"Content-Type": "application/json",
                                                                "Idempotency-Key": f"ORD-{i:05d}/call/2"})
        response = connection.getresponse()
        response.read()
        return int(response.status == 200)

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(send, range(count)))


# ---- submit-sustained ----------------------------------------------------------------------------

CATALOG = "\n".join([
    'lane ops "Operations"',
    'group chain "Ten no-op steps" {',
    *(f'  step s{i} "Step {i}" {{ type auto lane ops scope plan flow "{FLOW_MODULE}:noop"'
      + (f" after s{i - 1}" if i else "") + " }" for i in range(FLOW_STEPS)),
    "}",
    'scenario any "Any" { when item.product == "P" add chain }',
    "",
])


def submit_sustained(ctx: Context, root: Path) -> Result:
    name = "submit-sustained"
    from dro_cli.runtime.api import RunOptions, run_order

    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / "chain.dro").write_text(CATALOG)
    (catalog / f"{FLOW_MODULE}.py").write_text(FLOWS_SOURCE)
    state = root / "submit-state"
    orders = root / "submit-orders"
    orders.mkdir()
    options = RunOptions(state, catalog)
    counter = [0]  # fsyncs

    def submit(n: int, latencies: list[float] | None = None) -> None:
        """Write the order file and run it to the end; the latency to its first step started."""
        order_id = f"S-{n:06d}"
        path = orders / f"{order_id}.yaml"
        path.write_text(f"order:\n  id: {order_id}\n  account: A\n  items:\n    - {{id: I1, product: P}}\n")
        started = time.perf_counter()
        first: list[float] = []

        def listen(events: Sequence[Any]) -> None:
            if not first and any(kind == "step.started" for kind, _ in events):
                first.append(time.perf_counter())

        result = run_order(str(path), dataclasses.replace(options, listener=listen))
        if str(result.state) != "completed" or not first:
            raise BenchmarkError(f"order {order_id} ended {result.state}, first step started: {bool(first)}")
        if latencies is not None:
            latencies.append(first[0] - started)

    real_fsync = os.fsync

    def counting(fd: int) -> None:
        counter[0] += 1
        real_fsync(fd)

    with mock.patch.object(os, "fsync", counting):  # the warm-up order: imports, and dro's fsyncs counted
        submit(0)
    with mock.patch.object(os, "fsync", counting):
        counter[0] = 0
        submit(1)
    fsyncs = counter[0]
    if fsyncs < FLOW_STEPS:
        raise BenchmarkError(f"one order of {FLOW_STEPS} steps fsynced {fsyncs} times: is it journaled?")

    numbers = itertools.count(2)  # order ids: 0 and 1 were the warm-up

    def dro_loop() -> tuple[int, float, list[float]]:
        latencies: list[float] = []
        n, started = 0, time.perf_counter()
        while time.perf_counter() - started < SUSTAIN:
            submit(next(numbers), latencies)
            n += 1
        return n, time.perf_counter() - started, latencies

    def floor_loop() -> tuple[int, float]:
        folder = root / "floor"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        n, started = 0, time.perf_counter()
        while time.perf_counter() - started < SUSTAIN:
            order = folder / f"F-{n:06d}"
            order.mkdir()
            fd = os.open(order / "journal.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                for i in range(fsyncs):
                    os.write(fd, b'{"seq": %d, "type": "step.completed"}\n' % i)
                    os.fsync(fd)
            finally:
                os.close(fd)
            n += 1
        return n, time.perf_counter() - started

    rounds = ctx.repeats(1)
    dro_rounds, floor_rounds = [], []
    try:
        for _ in range(rounds):
            gc.collect()
            dro_rounds.append(dro_loop())
            floor_rounds.append(floor_loop())
    except BenchmarkError as e:
        return Result(name, None, "fsync floor", None, TARGET_SUSTAINED, error=str(e))
    middle = median_round(dro_rounds, key=lambda r: r[0] / r[1])  # the median round by orders/s
    floor = median_round(floor_rounds, key=lambda r: r[0] / r[1])
    per_order, floor_per_order = middle[1] / middle[0], floor[1] / floor[0]
    ordered = sorted(middle[2])
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return Result(name, per_order, "fsync floor", floor_per_order, TARGET_SUSTAINED, notes=[
        f"{middle[0] / middle[1]:.1f} orders/s for {SUSTAIN:g} s ({middle[0]} orders of {FLOW_STEPS} steps, "
        f"{fsyncs} fsyncs each); latency to the first step started p50 {fmt_seconds(p50)}, "
        f"p99 {fmt_seconds(p99)}; the floor: {floor[0] / floor[1]:.1f} orders/s"])
