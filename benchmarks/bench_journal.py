"""journal: writers (`dro run ORDER_ID`) and `dro status` without a snapshot, on a 1M-record journal.

Each figure beside a baseline measured in the same run:

- `writer-1m`: `dro run ORDER_ID` (cold process) of an order whose journal has 1,000,000
  records and a snapshot, against `dro status ORDER_ID` of the same order (cold process):
  a writer opens from the snapshot as a reader does, so it may cost at most 3x.
- `writer-rss`: the writer's peak RSS (the child's ru_maxrss) on the 1M-record journal,
  against its peak RSS on a 100,000-record one: memory must not grow with the journal
  (at most 1.5x for ten times the records).
- `status-nosnap`: `dro status ORDER_ID` (cold process) of the 1M-record journal without
  its snapshot, against a cold Python process that reads the journal and json-parses its
  lines (nothing else): at most 1.7x, which keeps it under 5 s at a 3 s baseline; the note
  says the figure.

The orders are built in process, legitimately (bench_run.build_status_order's way: the pure
engine on a virtual clock, synthetic callout answers that fail until the last attempt, the
events through `Journal.append` in big batches) plus one manual step left awaiting, so that
`dro run` has an open order to continue and appends nothing. `dro verify` must accept the
journal; closing the order leaves the snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench_run import callout_step, check_plan, endpoint, journal_retried_callouts, make_plan, make_step
from common import (
    WORK,
    BenchmarkError,
    Context,
    MemoryResult,
    Result,
    command,
    command_env,
    compare,
    dro_command,
    time_each,
)

ATTEMPTS = 500           # each callout step fails 499 times, then succeeds: 1,000 records a step
RETRY_INTERVAL = 60.0
BATCH = 50_000           # records per Journal.append while building
MANUAL = "approve"       # the manual step left awaiting its operator
SIZES = {"100k": 100, "1m": 1_000}   # callout steps: about 100,000 and 1,000,000 records

TARGET_WRITER = 3.0      # the writer's cold open <= 3x `dro status` of the same order
TARGET_RSS = 1.5         # the writer's peak RSS at 1M records <= 1.5x at 100k
TARGET_NOSNAP = 1.7      # status without a snapshot <= 1.7x parsing the journal's lines: 5 s at a 3 s baseline
NOSNAP_BUDGET = 5.0      # seconds: the absolute figure, said in the note

PARSE_LINES = """import json, sys
with open(sys.argv[1], 'rb') as f:
    n = sum(1 for line in f if json.loads(line))
print(n)
"""


def run(ctx: Context) -> Iterator[Result]:
    """Writers opening a 1M-record journal from its snapshot; `dro status` of it without one."""
    root = WORK / "journal"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    try:
        orders = {}
        for label, steps in SIZES.items():
            state = root / f"state-{label}"
            order_id = f"ORD-JOURNAL-{label.upper()}"
            ctx.log(f"journal: building an order of {steps * 2 * ATTEMPTS:,} records")
            started = time.perf_counter()
            records = build_order(state, order_id, steps)
            ctx.log(f"journal: built {records:,} records in {time.perf_counter() - started:.0f} s")
            check_order(state, order_id, records)
            orders[label] = (state, order_id, records)
        yield from measure(ctx, orders)
    finally:
        shutil.rmtree(root, ignore_errors=True)   # hundreds of MB: not left behind


def measure(ctx: Context, orders: Mapping[str, tuple[Path, str, int]]) -> Iterator[Result]:
    state, order_id, records = orders["1m"]
    journal = state / "orders" / order_id / "journal.jsonl"
    size = journal.stat().st_size
    shape = f"journal: {records:,} records, {size / 1e6:.0f} MB, with snapshot.json; one manual step awaiting"
    writer = [*dro_command(), "run", order_id, "--state-dir", str(state)]
    status = [*dro_command(), "status", order_id, "--state-dir", str(state)]
    timings = time_each({"writer": command(writer), "status": command(status)}, ctx.repeats())
    check_unchanged(journal, size)
    if timings.errors:
        yield Result("writer-1m", None, "status", None, TARGET_WRITER, error="; ".join(timings.errors.values()))
    else:
        yield compare("writer-1m", timings, "writer", "status", TARGET_WRITER,
                      notes=[f"`dro run {order_id}` against `dro status {order_id}`, cold processes, median of "
                            f"{ctx.repeats()}", shape])

    peaks = {}
    for label, (st, oid, n) in orders.items():
        peaks[label] = (peak_rss([*dro_command(), "run", oid, "--state-dir", str(st)]), n)
    (big, n_big), (small, n_small) = peaks["1m"], peaks["100k"]
    yield MemoryResult("writer-rss", big / 1024, "rss-100k", small / 1024, TARGET_RSS,
                       notes=[f"peak RSS of `dro run ORDER_ID` (ru_maxrss of the child): {big / 1024:.0f} MB at "
                              f"{n_big:,} records, {small / 1024:.0f} MB at {n_small:,}"])

    snapshot = state / "orders" / order_id / "snapshot.json"
    kept = snapshot.read_bytes()
    parse = [sys.executable, "-c", PARSE_LINES, str(journal)]

    def unsnapped() -> int:
        snapshot.unlink(missing_ok=True)
        return command(status)()

    try:
        timings = time_each({"status": unsnapped, "parse": command(parse)}, ctx.repeats())
    finally:
        snapshot.write_bytes(kept)
    if timings.errors:
        yield Result("status-nosnap", None, "parse-lines", None, TARGET_NOSNAP,
                     error="; ".join(timings.errors.values()))
        return
    figure = timings.median["status"]
    timings.samples["parse-lines"] = timings.samples.pop("parse")
    yield compare("status-nosnap", timings, "status", "parse-lines", TARGET_NOSNAP,
                  notes=[f"`dro status {order_id}` without snapshot.json: {figure:.2f} s (budget {NOSNAP_BUDGET:g} s: "
                        f"{'within' if figure <= NOSNAP_BUDGET else 'OVER'}); baseline: a cold `python -c` that "
                        f"reads the journal's lines and json-parses each, median of {ctx.repeats()}", shape])


def peak_rss(argv: Sequence[str]) -> int:
    """The peak RSS (KiB) of `argv` run as a child of a fresh helper, so that no earlier child counts."""
    probe = ("import resource, subprocess, sys\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
             "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    proc = subprocess.run([sys.executable, "-c", probe, *argv], env=command_env(), capture_output=True, check=False)
    try:
        code, rss = (int(word) for word in proc.stdout.split())
    except ValueError:
        raise BenchmarkError(f"peak RSS: {proc.stderr.decode()[-300:]}") from None
    if code != 0:
        raise BenchmarkError(f"peak RSS: `dro run` exited {code}")
    return rss


def check_unchanged(journal: Path, size: int) -> None:
    if journal.stat().st_size != size:
        raise BenchmarkError(f"`dro run` appended to the journal ({size} -> {journal.stat().st_size} bytes): "
                             "the order was meant to wait on its manual step")


def check_order(state: Path, order_id: str, records: int) -> None:
    """`dro verify` accepts the journal, a snapshot is there, and the order waits on its manual step."""
    env = command_env()
    verify = subprocess.run([*dro_command(), "verify", order_id, "--state-dir", str(state)], env=env,
                            capture_output=True, check=False)
    if verify.returncode != 0:
        raise BenchmarkError(f"`dro verify {order_id}` exited {verify.returncode}: {verify.stdout.decode()[-300:]}"
                             f"{verify.stderr.decode()[-300:]}")
    if not (state / "orders" / order_id / "snapshot.json").is_file():
        raise BenchmarkError("closing the order left no snapshot.json")
    proc = subprocess.run([*dro_command(), "status", order_id, "--format", "json", "--state-dir", str(state)],
                          env=env, capture_output=True, check=False)
    if proc.returncode != 0:
        raise BenchmarkError(f"`dro status` exited {proc.returncode}: {proc.stderr.decode()[-300:]}")
    status: dict[str, Any] = json.loads(proc.stdout)
    if status["state"] == "completed" or status["progress"]["finished"] != status["progress"]["total"] - 1:
        raise BenchmarkError(f"the built order is {status['state']}, progress {status['progress']}: "
                             "every callout finished and the manual step awaiting was expected")


def build_order(state: Path, order_id: str, steps: int) -> int:
    """An order of `steps` callout steps, each failing until its last attempt (2 records an attempt), and one
    manual step left awaiting; the events go to `Journal.append` in big batches, and closing leaves the snapshot."""
    from dro_cli.journal.file import order_dir, write_plan

    retry = {"policy": "monotonous", "retries": ATTEMPTS - 1, "interval": RETRY_INTERVAL}
    plan = make_plan(order_id, [*(callout_step(f"c{i:04d}", (), retry) for i in range(steps)),
                                make_step(MANUAL, "manual", (), {})],
                     {"svc": endpoint("http://127.0.0.1:9")})
    check_plan(plan)
    path = order_dir(state, order_id)
    (path / "journal.jsonl").touch()             # as dro does: the journal before the plan
    write_plan(path, plan)
    records, _ = journal_retried_callouts(path, order_id, plan, ATTEMPTS, BATCH, frozenset({MANUAL}))
    os.sync()
    return records


if __name__ == "__main__":  # a tiny driver: python benchmarks/bench_journal.py [--repeat N]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
    if "--small" in sys.argv:  # a quarter of the sizes, while iterating
        SIZES.update({label: steps // 4 for label, steps in SIZES.items()})
    for result in run(Context(repeat=repeat, verbose=True)):
        print(result.line())
        for note in result.notes:
            print("    " + note)
