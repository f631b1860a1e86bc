"""Run dro's benchmarks: each figure beside a baseline measured in the same run.

    python benchmarks/run.py [NAME ...] [--repeat N] [--list] [--json FILE] [--write-docs] [-v]

Each line: the figure (the median of N rounds, their min-max beside it), the baseline
(the median of the same rounds, interleaved), their ratio, the target ratio and PASS or
FAIL. The report begins with the commit, the machine and its load, and ends with the
load again. `--write-docs` runs every benchmark and writes docs/performance.md from
benchmarks/performance.md (its prose) and this run's figures. Exit status: 0 when
every benchmark produced its figures, even if a target failed (the report says so);
1 when a benchmark could not run (ERROR); 2 on bad usage.

To add a benchmark: write benchmarks/bench_NAME.py with a `run(ctx)` that yields
`common.Result`s, and add one line to BENCHMARKS.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import bench_amend
import bench_compile
import bench_fallout
import bench_help
import bench_journal
import bench_orders
import bench_plan
import bench_run
import bench_scenario
import bench_validate
import docs_report
from common import Context, Result, describe_exception, machine

Benchmark = Callable[[Context], Iterator[Result]]

BENCHMARKS: dict[str, Benchmark] = {
    "compile": bench_compile.run,
    "validate": bench_validate.run,
    "help": bench_help.run,
    "plan": bench_plan.run,
    "run": bench_run.run,
    "journal": bench_journal.run,
    "fallout": bench_fallout.run,
    "orders": bench_orders.run,
    "scenario": bench_scenario.run,
    "amend": bench_amend.run,
}


def _summary(fn: Benchmark) -> str:
    return (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="benchmarks/run.py", description=__doc__.splitlines()[0],
        epilog="benchmarks: " + ", ".join(BENCHMARKS))
    p.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    p.add_argument("--repeat", type=int, metavar="N",
                   help="rounds per benchmark, the median kept (default: 5; help: 11)")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    p.add_argument("--write-docs", action="store_true",
                   help=f"run every benchmark and write {docs_report.OUTPUT.relative_to(docs_report.ROOT)} "
                        "from this run")
    p.add_argument("--steps", type=int, default=10_000,
                   help="steps in the generated catalog (default: 10000; targets assume it)")
    p.add_argument("--scenarios", type=int, default=2_000, help="scenarios (default: 2000)")
    p.add_argument("--files", type=int, default=500, help="files (default: 500)")
    p.add_argument("-v", "--verbose", action="store_true", help="say what runs, on stderr")
    return p


def _run_one(name: str, ctx: Context) -> Iterator[Result]:
    """The results of one benchmark; a benchmark that breaks becomes an ERROR line."""
    try:
        yield from BENCHMARKS[name](ctx)
    except Exception as e:  # a bug in a benchmark or the code under test: report, go on
        yield Result(name, None, "", None, 0.0, error=describe_exception(e))


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        for name, fn in BENCHMARKS.items():
            print(f"{name:<10} {_summary(fn)}")
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(map(repr, unknown))} "
                     f"(known: {', '.join(BENCHMARKS)})")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if min(args.steps, args.scenarios, args.files) < 1:
        parser.error("--steps, --scenarios and --files must be at least 1")
    if args.write_docs and (args.names or (args.steps, args.scenarios, args.files) != (10_000, 2_000, 500)):
        parser.error("--write-docs measures every benchmark at the default sizes: give no NAME, "
                     "--steps, --scenarios or --files")

    ctx = Context(repeat=args.repeat, steps=args.steps, scenarios=args.scenarios,
                  files=args.files, verbose=args.verbose)
    if (args.steps, args.scenarios, args.files) != (10_000, 2_000, 500):
        print(f"note: catalog of {args.steps} steps, {args.scenarios} scenarios, {args.files} "
              "files; the targets are set for 10000/2000/500", flush=True)
    results: list[Result] = []
    before = machine()
    print(f"commit {before['commit']}, {before['date']}; Python {before['python']}, {before['cpus']} CPUs, "
          f"load {_load(before['load'])}", flush=True)
    started = time.perf_counter()
    for name in args.names or list(BENCHMARKS):
        # What earlier benchmarks left alive (caches, compiled catalogs) out of the collector's sight, so
        # that the in-process ("warm") figures of this one do not pay for rescanning it: the same heap,
        # in effect, as if each benchmark ran first.
        gc.collect()
        gc.freeze()
        for r in _run_one(name, ctx):
            print(r.line(), flush=True)
            for note in r.notes:
                print(f"{'':<14} note: {note}", flush=True)
            results.append(r)
    seconds = time.perf_counter() - started
    after = machine()
    print(f"{sum(r.status == 'PASS' for r in results)} passed, "
          f"{sum(r.status == 'FAIL' for r in results)} failed, "
          f"{sum(r.status == 'ERROR' for r in results)} errors "
          f"in {seconds:.0f} s; load {_load(after['load'])}", flush=True)
    if args.json:
        args.json.write_text(json.dumps([r.as_json() for r in results], indent=2) + "\n")
    if args.write_docs:
        path = docs_report.write(results, before, after, seconds, ctx.repeats())
        print(f"wrote {path.relative_to(docs_report.ROOT)}", flush=True)
    return 1 if any(r.status == "ERROR" for r in results) else 0


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load) + " (1, 5, 15 min)"


if __name__ == "__main__":
    sys.exit(main())
