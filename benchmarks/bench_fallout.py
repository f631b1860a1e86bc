"""fallout: `dro fallout`, `dro jeopardy` and `dro tick` (cold processes) over 1,000 and 10,000 orders.

Each figure beside a baseline measured in the same run:

- `fallout-10k`, `jeopardy-10k`: `dro fallout --format json` and `dro jeopardy --format json`
  over 10,000 orders, against a budget of 2 s. The baseline column is the floor of a
  file-based scan: `python -c` listing `orders/` and reading and json-parsing each
  order's `digest.json`, so the ratio reads "dro's scan is N x the floor".
- `tick-10k`: `dro tick` over the same 10,000 orders, 100 of them with a retry due at
  DRO_NOW (continued: the flow runs, the journal grows), against the same budget and
  floor. Every round starts from the same state: the orders the last round continued
  are copied back first (not timed).
- `fallout-scale`, `jeopardy-scale`, `tick-scale`: linear in the number of orders: the
  same command over 10,000 orders against 1,000, run by `cli.main` in this (warm)
  process, so that the start-up (about 0.13 s, the scan of 1,000 orders about 0.02 s)
  does not hide the growth; linear when t(10k)/t(1k) <= 12 (10 is proportional). The
  cold processes' ratio, start-up included, is in the notes.
- `scan-cold-10k` (informational): `dro fallout --format json` with every `digest.json`
  deleted, as the first scan after an upgrade: each order is folded from its journal
  and its digest written again.
- `tick-idle-10k` (informational): `dro tick` again right after a tick, nothing due.
- `status-10k`: `dro status --format json` (every order's one-line status) over the same
  10,000 orders, against the floor; target <= 2x.

The state directories are made by dro's own code: 100 template orders run in process
with `runtime.api.run_order` and `act` on a virtual clock (an in-process handler decides
which steps fail), the last cron tick run with `dro_cli.runtime.tick.tick` a minute before
DRO_NOW; then each template is cloned under new order ids (plan.json through
`journal.write_plan`, the journal's records appended with `Journal` so the chain
verifies, the digest left by `OpenOrder.close`). They are cached under
`benchmarks/.work/fallout/` keyed on VERSION.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from common import (
    ROOT,
    WORK,
    BenchmarkError,
    Context,
    Result,
    Timings,
    command_env,
    compare,
    describe_exception,
    dro_command,
    fmt_seconds,
)

VERSION = "fallout-1"          # change it when the catalog, the mix or the build changes: the cache is rebuilt
SIZES = (1_000, 10_000)        # orders per state directory
BUDGET = 2.0                   # seconds for each command over 10,000 orders
TARGET_STATUS = 2.0            # `dro status` over 10,000 orders / the scan floor
TARGET_SCALE = 12.0            # t(10k) / t(1k), warm (no start-up): 10 is proportional
LIGHT_ROUNDS = 4               # rounds per --repeat of the commands that need no copy of 10,000 orders: the
                               # scan of 1,000 orders is a few tens of ms over a start-up of about 0.3 s, so
                               # the minima need more tries than 3 on a noisy machine
SEED = 20261201
NOW = 1_796_119_200.0          # DRO_NOW, 2026-12-01T10:00:00Z
NOW_ISO = "2026-12-01T10:00:00Z"
MINUTE, HOUR = 60.0, 3600.0
LAST_TICK = NOW - MINUTE       # the cron tick before the measured one
RETRY_INTERVAL = 10 * MINUTE   # the catalog's `retry { ..., interval: 10m }`

# The 100 template orders, by what each is doing at NOW (shuffled with SEED); cloned 10 and 100 times.
MIX = {
    "completed": 75,           # approve done by an operator within its SLA: the plan completed
    "on_track": 8,             # approve waiting on an operator, on track at NOW
    "jeopardy": 5,             # ... in jeopardy at NOW (crossing journaled by the last tick)
    "late": 5,                 # ... late at NOW (both crossings journaled)
    "rejected": 3,             # reserve failed, not retryable: in the fallout queue
    "exhausted": 3,            # reserve failed three times (retries: 2): in the fallout queue
    "retry_due": 1,            # reserve failed once, its retry due 30 s before NOW: tick continues it
}
TEMPLATES = sum(MIX.values())
FALLOUT_QUEUE = "stock_fallout"

CATALOG = '''# The catalog of benchmarks/bench_fallout.py: a widget order in two lanes.
lane ops   "Operations"
lane stock "Stock"

group widget_delivery "Widget delivery" {

  step validate "Validate the order" {
    type  auto
    lane  ops
    scope plan
    flow  "bench_fallout_flows:noop"
  }

  step reserve "Reserve the stock" {
    type  auto
    lane  stock
    scope line_item
    after validate
    flow  "bench_fallout_flows:noop"
    retry { policy: monotonous, retries: 2, interval: 10m }
    queue stock_fallout
  }

  step approve "Approve the shipment" {
    type         manual
    lane         ops
    scope        plan
    after        reserve
    queue        approvers
    duration     8h
    jeopardy     2h
    instructions "Check the reservation of order {{ order.id }}"
  }

  step shipped "Shipped" {
    type  milestone
    lane  ops
    scope plan
    after approve
  }
}

scenario widget "Widget" {
  when item.product == "WIDGET"
  add  widget_delivery
}
'''
FLOWS = '''"""The flows of benchmarks/bench_fallout.py (`dro tick` runs them for the orders it continues)."""


def noop(ctx):
    return None
'''
FLOOR = """import gc, json, os, sys
gc.disable()  # the collector paused, as dro's status pauses it while it reads the digests
root = os.path.join(sys.argv[1], "orders")
n = 0
for name in sorted(os.listdir(root)):
    with open(os.path.join(root, name, "digest.json"), "rb") as handle:
        json.loads(handle.read())
    n += 1
print(n)
"""
FLOOR_NAME = "scan floor"


def run(ctx: Context) -> Iterator[Result]:
    """`dro fallout`, `dro jeopardy` and `dro tick` over 10,000 orders (<= 2 s each), linear from 1,000."""
    try:
        from dro_cli.journal import digest  # noqa: F401  (are the commands there?)
        from dro_cli.runtime import queues, tick  # noqa: F401
    except ImportError as e:
        raise BenchmarkError(f"the cross-order commands are not available yet ({e})") from None
    fixture = Fixture.ready(ctx)
    yield from Bench(ctx, fixture).results()


# ---- the templates: what each is doing at NOW ------------------------------------------------------

@dataclass(frozen=True)
class Template:
    index: int
    kind: str
    ordinal: int               # its place among the templates of its kind

    @property
    def order_id(self) -> str:
        return f"TPL-{self.index:03d}"

    @property
    def items(self) -> int:
        return 2 if self.index % 3 == 0 else 1

    @property
    def created(self) -> float:
        """When the order was run: its auto steps ran then and `approve` became ready."""
        j = self.ordinal
        return NOW - {
            "completed": 24 * HOUR + j * 37 * MINUTE,
            "on_track": HOUR + j * 25 * MINUTE,                       # ready 1 h to 4 h ago: jeopardy from 6 h
            "jeopardy": 6 * HOUR + 10 * MINUTE + j * 20 * MINUTE,     # 6h10 to 7h30 ago: late from 8 h
            "late": 9 * HOUR + j * 4 * HOUR,
            "rejected": 2 * HOUR + j * 5 * HOUR,
            "exhausted": 3 * HOUR + j * 7 * HOUR,
            "retry_due": RETRY_INTERVAL + 30.0,                       # the retry is due at NOW - 30 s
        }[self.kind]

    def order_text(self, order_id: str) -> str:
        lines = [f"order:\n  id: {order_id}\n  account: BENCH-{self.index % 7}\n  attributes: {{region: EU}}\n"
                 "  items:\n"]
        lines += [f"    - {{id: W{k}, product: WIDGET, quantity: {k}}}\n" for k in range(1, self.items + 1)]
        return "".join(lines)


def templates() -> list[Template]:
    kinds = [kind for kind, count in MIX.items() for _ in range(count)]
    random.Random(SEED).shuffle(kinds)
    seen: dict[str, int] = {}
    made = []
    for index, kind in enumerate(kinds):
        made.append(Template(index, kind, seen.get(kind, 0)))
        seen[kind] = seen.get(kind, 0) + 1
    return made


@dataclass(frozen=True)
class Expected:
    """What the commands must show over `orders` orders (by design, not by asking dro)."""

    orders: int
    fallout_rows: int          # steps in fallout (one per reserve of a rejected or exhausted order)
    fallout_orders: int
    jeopardy_rows: int         # approve in jeopardy or late
    late_rows: int
    due: int                   # orders tick continues at NOW
    waiting: int               # orders waiting on an operator

    @classmethod
    def of(cls, orders: int) -> Expected:
        """By design: `orders` / 100 clones of each template."""
        copies = orders // TEMPLATES
        made = templates()
        fallen = [t for t in made if t.kind in ("rejected", "exhausted")]
        return cls(orders, copies * sum(t.items for t in fallen), copies * len(fallen),
                   copies * (MIX["jeopardy"] + MIX["late"]), copies * MIX["late"], copies * MIX["retry_due"],
                   copies * (MIX["on_track"] + MIX["jeopardy"] + MIX["late"]))

    def describe(self) -> str:
        copies = self.orders // TEMPLATES
        return (f"{self.orders:,} orders: {copies * MIX['completed']:,} completed, {self.waiting:,} waiting on an "
                f"operator ({self.jeopardy_rows - self.late_rows:,} in jeopardy and {self.late_rows:,} late at "
                f"DRO_NOW), {self.fallout_orders:,} in fallout ({self.fallout_rows:,} steps), {self.due:,} with a "
                f"retry due at DRO_NOW")


# ---- building the state directories (cached) -------------------------------------------------------

@dataclass
class Fixture:
    """The cached state directories: `states[n]` holds n orders; `empty` none."""

    root: Path
    states: dict[int, Path]
    empty: Path
    built_seconds: float
    built_now: bool
    refreshed: int = 0         # digests a dro change made stale, refreshed before timing

    @classmethod
    def ready(cls, ctx: Context) -> Fixture:
        """The cached state directories if they fit this dro, else built anew (about 20 s)."""
        from dro_cli.journal import digest
        from dro_cli.journal.records import SCHEMA_VERSION

        key = f"{VERSION}-digest{digest.VERSION}-journal{SCHEMA_VERSION}"
        root = WORK / "fallout" / key
        marker = root / "built.json"
        states = {n: root / f"state-{n}" for n in SIZES}
        if marker.is_file():
            info = json.loads(marker.read_text())
            fixture = cls(root, states, root / "state-0", info["seconds"], built_now=False)
            with contextlib.suppress(BenchmarkError, OSError, ValueError, KeyError):
                fixture.refreshed = fixture.refresh()
                ctx.log(f"fallout: cached state directories in {root} ({fixture.refreshed} digests refreshed)")
                return fixture
            ctx.log("fallout: the cached state directories do not fit this dro: building them again")
        shutil.rmtree(WORK / "fallout", ignore_errors=True)     # older versions too
        started = time.perf_counter()
        build(ctx, root, states)
        seconds = time.perf_counter() - started
        marker.write_text(json.dumps({"version": key, "seconds": seconds}) + "\n")
        return cls(root, states, root / "state-0", seconds, built_now=True)

    def refresh(self) -> int:
        """Check the cache: every order there, made with this catalog path; digests a change of dro
        made stale are made again now (as the first scan after an upgrade would), not in a timed round."""
        from dro_cli.errors import DroError
        from dro_cli.journal import digest
        from dro_cli.journal.store import digest_of, order_ids

        refreshed = 0
        for n, state in self.states.items():
            ids = order_ids(state)
            if len(ids) != n or not (self.empty / "orders").is_dir():
                raise BenchmarkError(f"{state}: {len(ids)} orders, {n} expected")
            with open(state / "orders" / ids[0] / "journal.jsonl", "rb") as journal:
                created = json.loads(journal.readline())["payload"]
            if created["catalog"] != str(templates_file(self.root)):
                raise BenchmarkError(f"{state} was made with another catalog path")
            for order_id in ids:
                path = state / "orders" / order_id
                if digest.load(path) is None:
                    refreshed += 1
                    try:
                        digest_of(path)
                    except DroError as e:
                        raise BenchmarkError(f"{path}: {e.message}") from None
        return refreshed


def templates_file(root: Path) -> Path:
    return (root / "catalog" / "templates.json").resolve()


def build(ctx: Context, root: Path, states: Mapping[int, Path]) -> None:
    """The catalog, the 100 template orders, and the clones of each size."""
    catalog = root / "catalog"
    catalog.mkdir(parents=True)
    (catalog / "widgets.dro").write_text(CATALOG)
    (catalog / "bench_fallout_flows.py").write_text(FLOWS)
    compile_templates(catalog, templates_file(root))
    (root / "state-0" / "orders").mkdir(parents=True)
    made = templates()
    ctx.log(f"fallout: running {len(made)} template orders")
    with no_fsync():   # the files are the same; a fixture needs no durability, and fsync is 2-3 ms a call here
        run_templates(root, made)
        largest = max(states)
        ctx.log(f"fallout: cloning them into {largest:,} orders")
        clone_all(root / "templates", states[largest], made, root / "orders", largest)
    for n, state in states.items():
        if n != largest:
            (state / "orders").mkdir(parents=True)
            for order_id in (f"ORD-{i:06d}" for i in range(n)):
                shutil.copytree(states[largest] / "orders" / order_id, state / "orders" / order_id)
    os.sync()          # nothing left to write back while the rounds are timed
    check_clones(states[largest])


def compile_templates(catalog: Path, out: Path) -> None:
    from dsl import compile_catalog
    from dsl.compiler import dumps

    result = compile_catalog([catalog])
    if result.templates is None or result.diagnostics:
        raise BenchmarkError("the benchmark's catalog does not compile cleanly: "
                             + "; ".join(f"{d.code} {d.summary}" for d in result.diagnostics))
    out.write_text(dumps(result.templates))


@contextlib.contextmanager
def no_fsync() -> Iterator[None]:
    with mock.patch.object(os, "fsync", lambda fd: None):
        yield


def run_templates(root: Path, made: Sequence[Template]) -> None:
    """Run each template order on a virtual clock, then the last cron tick, a minute before NOW."""
    from dro_cli.engine import acts
    from dro_cli.runtime.api import RunOptions, act, run_order
    from dro_cli.runtime.handlers.base import Invocation, Outcome, failure, success
    from dro_cli.runtime.tick import tick

    kinds = {t.order_id: t.kind for t in made}
    clock = [NOW]

    def handler(invocation: Invocation) -> Outcome:
        kind = kinds[invocation.idempotency_key.split("/")[0]]
        if invocation.step["step"] == "reserve":
            if kind == "rejected":
                return failure("InvalidAddress", "the delivery address does not exist", retryable=False)
            if kind in ("exhausted", "retry_due"):
                return failure("ConnectionError", "the stock service does not answer")
        return success({})

    options = RunOptions(root / "templates", templates_file(root), clock=lambda: clock[0], parallel=2,
                         handler=handler)
    orders = root / "orders"
    orders.mkdir()
    for t in made:
        path = orders / f"{t.order_id}.yaml"
        path.write_text(t.order_text(t.order_id))
        clock[0] = t.created
        run_order(str(path), options)
        if t.kind == "completed":
            clock[0] = t.created + (1 + t.ordinal % 4) * HOUR
            act(t.order_id, lambda e: acts.complete(e, "approve", operator="ann", reason=None, outputs={}), options)
        elif t.kind == "exhausted":
            for retry in (1, 2):
                clock[0] = t.created + retry * RETRY_INTERVAL
                run_order(t.order_id, options)
    clock[0] = LAST_TICK
    report = tick(options)
    crossed = MIX["jeopardy"] + MIX["late"]
    if len(report.continued) != crossed or report.failed:
        raise BenchmarkError(f"the last tick before NOW continued {len(report.continued)} template orders "
                             f"({crossed} expected: the SLA crossings), failed {report.failed}")


def clone_all(source: Path, state: Path, made: Sequence[Template], orders: Path, count: int) -> None:
    """ORD-000000 ... : clone i of template i % 100, its ids replaced, its journal written again."""
    from dro_cli.journal.file import read

    loaded = []
    for t in made:
        order_dir = source / "orders" / t.order_id
        loaded.append((t, (order_dir / "plan.json").read_text(), read(order_dir / "journal.jsonl")))
    for i in range(count):
        t, plan_text, records = loaded[i % TEMPLATES]
        clone(state, t, plan_text, records, f"ORD-{i:06d}", orders)


def clone(state: Path, t: Template, plan_text: str, records: Sequence[Mapping[str, Any]], new_id: str,
          orders: Path) -> None:
    """One clone, as dro would have written it: plan.json, the journal (checksums chained anew), the digest."""
    from dro_cli.journal.file import order_dir, write_plan
    from dro_cli.journal.store import OpenOrder

    old = t.order_id
    path = order_dir(state, new_id)
    with OpenOrder(path) as order:  # the journal first, then the plan, as `dro run` makes them (a plan alone is DRO520)
        plan_sha = hashlib.sha256(write_plan(path, json.loads(plan_text.replace(old, new_id))).read_bytes()).hexdigest()
        order.journal.append(_entries(t, records, new_id, orders, plan_sha))
        order.load_plan()              # closing leaves digest.json, as after any write


def _entries(t: Template, records: Sequence[Mapping[str, Any]], new_id: str, orders: Path,
             plan_sha: str) -> list[tuple[str, Any, str]]:
    """The template's records under the clone's id, its plan.created naming the clone's files."""
    old = t.order_id
    entries = []
    for record in records:
        payload = json.loads(json.dumps(record["payload"]).replace(old, new_id))
        if record["type"] == "plan.created":
            payload["order_file"] = str(orders / f"{new_id}.yaml")
            payload["order_sha256"] = hashlib.sha256(t.order_text(new_id).encode()).hexdigest()
            payload["plan_sha256"] = plan_sha
        entries.append((record["type"], payload, record["ts"]))
    return entries


def check_clones(state: Path) -> None:
    """Every cloned journal verifies in process; a sample also with `dro verify`."""
    from dro_cli.journal.file import verify
    from dro_cli.journal.store import order_ids

    ids = order_ids(state)
    bad = [i for i in ids if not verify(state / "orders" / i / "journal.jsonl").ok]
    if bad:
        raise BenchmarkError(f"{len(bad)} cloned journals do not verify, e.g. {bad[0]}")
    for order_id in (ids[0], ids[len(ids) // 2], ids[-1]):
        proc = subprocess.run([*dro_command(), "verify", order_id, "--state-dir", str(state)],
                              env=command_env(), capture_output=True, check=False)
        if proc.returncode != 0:
            raise BenchmarkError(f"`dro verify {order_id}` exited {proc.returncode}: {proc.stdout.decode()[-300:]}")


# ---- timing: cold processes, and the same commands in a warm process --------------------------------

Process = subprocess.CompletedProcess[bytes]


@dataclass
class Subject:
    """One timed command: an untimed `prepare` first, its output checked after (every round)."""

    run: Callable[[], Process]
    check: Callable[[Process], None]
    prepare: Callable[[], None] | None = None
    needs: str | None = None   # skipped once this subject has failed (it works on what that one left)
    rounds: int = LIGHT_ROUNDS  # rounds per --repeat


def cold(argv: Sequence[str], state: Path) -> Callable[[], Process]:
    """`argv` as a new process with DRO_STATE_DIR=state and DRO_NOW set, from the repo root."""
    env = dict(command_env(), DRO_STATE_DIR=str(state), DRO_NOW=NOW_ISO)
    env.pop("DRO_CATALOG", None)       # tick finds each order's flows through its plan.created record
    return lambda: subprocess.run(list(argv), cwd=ROOT, env=env, capture_output=True, check=False)


def warm(args: Sequence[str], state: Path) -> Callable[[], Process]:
    """`dro ARGS` run by `cli.main` in this process (modules loaded by an earlier round): the command's
    own work without the process start-up, output captured."""
    def run() -> Process:
        from dro_cli.main import cli

        out, err = io.StringIO(), io.StringIO()
        code = 0
        with mock.patch.dict(os.environ, {"DRO_STATE_DIR": str(state), "DRO_NOW": NOW_ISO, "NO_COLOR": "1"}), \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            os.environ.pop("DRO_CATALOG", None)
            try:
                cli.main(list(args), prog_name="dro", standalone_mode=False)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
        return subprocess.CompletedProcess(list(args), code, out.getvalue().encode(), err.getvalue().encode())
    return run


def time_subjects(subjects: Mapping[str, Subject], repeat: int) -> Timings:
    """The wall time of each subject in each of `repeat * rounds` rounds, the subjects interleaved;
    every round's output is checked, and a subject that fails is dropped with its error kept."""
    t = Timings()
    repeat = max(1, repeat)
    for round_ in range(repeat * max(s.rounds for s in subjects.values())):
        for name, subject in subjects.items():
            if round_ >= repeat * subject.rounds:
                continue
            if name in t.errors or (subject.needs is not None and subject.needs in t.errors):
                t.errors.setdefault(name, f"not run: {subject.needs} failed")
                continue
            try:
                if subject.prepare is not None:
                    subject.prepare()
                os.sync()      # what earlier rounds wrote (copies, digests) is not written back while timed
                gc.collect()
                start = time.perf_counter()
                proc = subject.run()
                elapsed = time.perf_counter() - start
                subject.check(proc)
            except Exception as e:  # the command broke or printed the wrong thing: report it, go on
                t.errors[name] = describe_exception(e)
                continue
            t.add(name, elapsed)
    return t


def output(proc: Process, label: str, ok: Sequence[int] = (0,)) -> str:
    if proc.returncode not in ok:
        tail = " | ".join((proc.stdout + proc.stderr).decode("utf-8", "replace").strip().splitlines()[-4:])
        raise BenchmarkError(f"{label} exited {proc.returncode}: {tail or '(no output)'}")
    return proc.stdout.decode("utf-8")


def check_floor(expected: Expected) -> Callable[[Process], None]:
    def check(proc: Process) -> None:
        if int(output(proc, FLOOR_NAME)) != expected.orders:
            raise BenchmarkError(f"{FLOOR_NAME}: read {proc.stdout!r} digests, {expected.orders} expected")
    return check


def check_fallout(expected: Expected) -> Callable[[Process], None]:
    def check(proc: Process) -> None:
        rows = json.loads(output(proc, "dro fallout"))["fallout"]
        orders = {row["order"] for row in rows}
        queues = {row["queue"] for row in rows}
        if len(rows) != expected.fallout_rows or len(orders) != expected.fallout_orders or \
                (rows and queues != {FALLOUT_QUEUE}):
            raise BenchmarkError(f"dro fallout: {len(rows)} rows of {len(orders)} orders in {sorted(queues)}; "
                                 f"{expected.fallout_rows} rows of {expected.fallout_orders} orders expected")
    return check


def check_status(expected: Expected) -> Callable[[Process], None]:
    def check(proc: Process) -> None:
        data = json.loads(output(proc, "dro status"))
        states = [order["state"] for order in data["orders"]]
        if len(states) != expected.orders or data["unreadable"] or \
                states.count("completed") != expected.orders * MIX["completed"] // TEMPLATES:
            raise BenchmarkError(f"dro status: {len(states)} orders, {states.count('completed')} completed, "
                                 f"{len(data['unreadable'])} unreadable; {expected.orders} orders expected")
    return check


def check_jeopardy(expected: Expected) -> Callable[[Process], None]:
    def check(proc: Process) -> None:
        rows = json.loads(output(proc, "dro jeopardy"))["jeopardy"]
        late = sum(row["sla"] == "late" for row in rows)
        if len(rows) != expected.jeopardy_rows or late != expected.late_rows:
            raise BenchmarkError(f"dro jeopardy: {len(rows)} rows, {late} late; {expected.jeopardy_rows} rows, "
                                 f"{expected.late_rows} late expected")
    return check


def check_tick(expected: Expected, continued: int, changed: Callable[[], list[str]] | None = None,
               due: Sequence[str] = ()) -> Callable[[Process], None]:
    """The summary line: every order scanned, `continued` of them continued, no crossing to journal; and,
    given `changed`, that the journals that grew are those of the `due` orders."""
    summary = (f"tick at {NOW_ISO}: {expected.orders} orders scanned, {continued} continued, "
               "0 SLA crossings journaled")

    def check(proc: Process) -> None:
        last = output(proc, "dro tick").strip().splitlines()[-1:]
        if last != [summary]:
            raise BenchmarkError(f"dro tick: {last[0] if last else '(no output)'!r}; expected {summary!r}")
        if changed is not None and sorted(changed()) != sorted(due):
            raise BenchmarkError(f"dro tick: the journals of {len(changed())} orders grew; those of the "
                                 f"{len(due)} orders with a retry due expected")
    return check


def due_ids(orders: int) -> list[str]:
    """The orders with a retry due at NOW: the clones of the `retry_due` templates."""
    made = templates()
    return [f"ORD-{i:06d}" for i in range(orders) if made[i % TEMPLATES].kind == "retry_due"]


def grown(work: Path, pristine: Path) -> list[str]:
    """The orders whose journal in `work` differs in size from the one in `pristine`."""
    def size(state: Path, order_id: str) -> int:
        return os.stat(state / "orders" / order_id / "journal.jsonl").st_size

    return [order_id for order_id in os.listdir(work / "orders") if size(work, order_id) != size(pristine, order_id)]


# ---- the benchmarks --------------------------------------------------------------------------------

@dataclass
class BudgetResult(Result):
    """A figure against a budget in seconds (None: informational); the baseline is the floor, for the ratio."""

    budget: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.error is not None or self.seconds is None:
            return "ERROR"
        if self.budget is None:
            return "INFO"
        return "PASS" if self.seconds <= self.budget else "FAIL"

    def target_text(self) -> str:
        return f"<= {fmt_seconds(self.budget)}" if self.budget is not None else "none (informational)"

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "target": None, "budget_seconds": self.budget, "status": self.status}


class Bench:
    def __init__(self, ctx: Context, fixture: Fixture) -> None:
        self.ctx = ctx
        self.fixture = fixture
        self.dro = dro_command()
        self.expected = {n: Expected.of(n) for n in SIZES}
        # tick writes, the cold scan writes digests: they work on copies, made once (name -> orders)
        self.copies = {f"{what}-{n}": n for n in SIZES for what in ("tick", "warm")} | {"cold": max(SIZES)}

    def copy(self, name: str) -> Path:
        return self.fixture.root / f"work-{name}"

    def results(self) -> Iterator[Result]:
        small, large = SIZES
        self.ctx.log(f"fallout: copying the state directories for {', '.join(self.copies)}")
        for name, n in self.copies.items():
            shutil.rmtree(self.copy(name), ignore_errors=True)
            shutil.copytree(self.fixture.states[n], self.copy(name), symlinks=True)
        subjects = self.subjects(0, self.fixture.empty, Expected.of(0))
        for n in SIZES:
            subjects.update(self.subjects(n, self.fixture.states[n], self.expected[n]))
        repeat = self.ctx.repeats()
        self.ctx.log(f"fallout: {len(subjects)} commands, up to {repeat * LIGHT_ROUNDS} rounds")
        try:
            timings = time_subjects(subjects, repeat)
        finally:
            for name in self.copies:
                shutil.rmtree(self.copy(name), ignore_errors=True)

        how = f"cold process with DRO_STATE_DIR and DRO_NOW={NOW_ISO}, median of {repeat * LIGHT_ROUNDS}"
        for command in ("fallout", "jeopardy", "tick"):
            result = self.budget(f"{command}-10k", timings, f"{command}-{large}", BUDGET)
            if result.error is None:
                argv = f"dro {command}" + ("" if command == "tick" else " --format json")
                at = ", ".join(f"{fmt_seconds(timings.median[f'{command}-{n}'])} at {n:,}" for n in (small, 0))
                result.notes += [f"`{argv}`, {how}; {at} orders", self.checked(command)]
                if command == "fallout":
                    result.notes += [self.shape(), self.floor(timings)]
                if command == "tick":
                    result.notes.append("every round from the pristine state: the orders the last round continued "
                                        "are copied back first (not timed); their flows run, their journals are "
                                        "fsynced")
            yield result
        for command in ("fallout", "jeopardy", "tick"):
            yield self.scale(command, timings)
        cold_scan = self.budget("scan-cold-10k", timings, f"cold-{large}", None)
        cold_scan.notes.append(f"`dro fallout --format json` with every digest.json deleted first (not timed): "
                               f"{large:,} journals folded, {large:,} digests written; cold process, "
                               f"median of {repeat}")
        yield cold_scan
        idle = self.budget("tick-idle-10k", timings, f"idle-{large}", None)
        idle.notes.append(f"`dro tick` right after a tick: {large:,} orders scanned, none due; {how}")
        yield idle
        status = compare("status-10k", timings, f"status-{large}", f"{FLOOR_NAME}-{large}", TARGET_STATUS)
        status.notes.append(f"`dro status --format json`: one line of status per order, {large:,} of them, read "
                            f"from their digests; {how}")
        yield status

    def subjects(self, n: int, state: Path, expected: Expected) -> dict[str, Subject]:
        """Over `state`: the floor, and `dro fallout`, `dro jeopardy`, `dro tick` as cold processes and (but
        for the empty state) in a warm one. For the largest, also `dro tick` with nothing due and the scan
        without digests. Tick runs on a copy whose orders it continued are restored before each round."""
        dro = self.dro
        fallout, jeopardy = ["fallout", "--format", "json"], ["jeopardy", "--format", "json"]
        found = {f"{FLOOR_NAME}-{n}": Subject(cold([sys.executable, "-c", FLOOR, str(state)], state),
                                              check_floor(expected))}
        if not n:
            return {**found,
                    "fallout-0": Subject(cold([*dro, *fallout], state), check_fallout(expected)),
                    "jeopardy-0": Subject(cold([*dro, *jeopardy], state), check_jeopardy(expected)),
                    "tick-0": Subject(cold([*dro, "tick"], state), check_tick(expected, 0))}
        due = due_ids(n)
        ticked = dataclasses.replace(expected, due=0)
        for mode, runner in (("", cold), ("warm-", warm)):
            work = self.copy(f"{'warm' if mode else 'tick'}-{n}")
            found.update({
                f"{mode}fallout-{n}": Subject(runner([*dro, *fallout] if not mode else fallout, state),
                                              check_fallout(expected)),
                f"{mode}jeopardy-{n}": Subject(runner([*dro, *jeopardy] if not mode else jeopardy, state),
                                               check_jeopardy(expected)),
                f"{mode}tick-{n}": Subject(runner([*dro, "tick"] if not mode else ["tick"], work),
                                           check_tick(expected, len(due), functools.partial(grown, work, state), due),
                                           prepare=functools.partial(restore, work, state, due)),
            })
        if n == max(SIZES):
            work, bare = self.copy(f"tick-{n}"), self.copy("cold")
            found[f"idle-{n}"] = Subject(cold([*dro, "tick"], work), check_tick(ticked, 0), needs=f"tick-{n}")
            found[f"cold-{n}"] = Subject(cold([*dro, *fallout], bare), check_fallout(expected),
                                         prepare=functools.partial(forget_digests, bare), rounds=1)
            found[f"status-{n}"] = Subject(cold([*dro, "status", "--format", "json"], state), check_status(expected))
        return found

    def budget(self, name: str, timings: Timings, subject: str, budget: float | None) -> BudgetResult:
        """`subject` at 10,000 orders against `budget` (None: informational), the floor beside it."""
        floor = f"{FLOOR_NAME}-{max(SIZES)}"
        for side, label in ((subject, ""), (floor, "baseline: ")):
            if side in timings.errors:
                return BudgetResult(name, None, FLOOR_NAME, None, 0.0, error=label + timings.errors[side],
                                    budget=budget)
        return BudgetResult(name, timings.median[subject], FLOOR_NAME, timings.median[floor], 0.0, budget=budget,
                            spread=timings.spread(subject), baseline_spread=timings.spread(floor),
                            rounds=timings.rounds(subject))

    def scale(self, command: str, timings: Timings) -> Result:
        """Warm t(10k) against warm t(1k); the cold processes' ratio, start-up included, in the notes."""
        small, large = SIZES
        name, k1, k2 = f"{command}-scale", f"{small // 1000}k", f"{large // 1000}k"
        label = f"{k1} orders"
        sides = {name: f"warm-{command}-{large}", label: f"warm-{command}-{small}"}
        for side in sides.values():
            if side in timings.errors:
                return Result(name, None, label, None, TARGET_SCALE, error=f"{side}: {timings.errors[side]}")
        t1, t2 = timings.median[sides[label]], timings.median[sides[name]]
        ratio = t2 / t1
        notes = [f"{'linear' if ratio <= TARGET_SCALE else 'NOT linear'}: t({k2})/t({k1}) = {fmt_seconds(t2)} / "
                 f"{fmt_seconds(t1)} = {ratio:.1f}x for {large // small}x the orders (linear when <= "
                 f"{TARGET_SCALE:g}x); `dro {command}` run by cli.main in this process, warm, median of "
                 f"{self.ctx.repeats() * LIGHT_ROUNDS}: the command's own work, without the start-up"]
        cold_sides = [f"{command}-{n}" for n in (0, small, large)]
        if not any(side in timings.errors for side in cold_sides):
            c0, c1, c2 = (timings.median[side] for side in cold_sides)
            notes.append(f"as cold processes: t({k2})/t({k1}) = {fmt_seconds(c2)} / {fmt_seconds(c1)} = "
                         f"{c2 / c1:.2f}x; the start-up, t(0) on an empty state directory, is {fmt_seconds(c0)}")
        return compare(name, Timings({name: timings.samples[sides[name]], label: timings.samples[sides[label]]}),
                       name, label, TARGET_SCALE, notes)

    def shape(self) -> str:
        fixture = self.fixture
        built = (f"built in {fixture.built_seconds:.0f} s by this run" if fixture.built_now else
                 f"cached (building took {fixture.built_seconds:.0f} s)"
                 + (f", {fixture.refreshed:,} stale digests refreshed first" if fixture.refreshed else ""))
        return (f"{self.expected[max(SIZES)].describe()}: {TEMPLATES} template orders run through runtime.api on a "
                f"virtual clock, cloned with Journal; {built}")

    def floor(self, timings: Timings) -> str:
        small, large = SIZES
        at = ", ".join(f"{fmt_seconds(timings.median.get(f'{FLOOR_NAME}-{n}'))} at {n:,}" for n in (0, small, large))
        return ("floor: `python -c` listing orders/ and json-parsing each digest.json, the collector paused "
                f"(as status pauses it): {at} orders")

    def checked(self, command: str) -> str:
        expected = self.expected[max(SIZES)]
        if command == "fallout":
            return (f"checked every round: {expected.fallout_rows:,} rows of {expected.fallout_orders:,} orders, "
                    f"all in queue {FALLOUT_QUEUE}")
        if command == "jeopardy":
            return f"checked every round: {expected.jeopardy_rows:,} rows, {expected.late_rows:,} of them late"
        return (f"checked every round: {expected.orders:,} orders scanned, {expected.due:,} continued, 0 crossings "
                "journaled, and the journals that grew are those of the orders with a retry due")


def restore(work: Path, pristine: Path, order_ids: Sequence[str]) -> None:
    """Copy back the orders a tick continued, so every round does the same work (tick writes nothing else)."""
    for order_id in order_ids:
        shutil.rmtree(work / "orders" / order_id)
        shutil.copytree(pristine / "orders" / order_id, work / "orders" / order_id, symlinks=True)


def forget_digests(state: Path) -> None:
    for path in (state / "orders").glob("*/digest.json"):
        path.unlink()
