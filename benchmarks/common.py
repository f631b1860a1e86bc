"""Shared helpers of the benchmarks: the run context, timing, commands and the report line."""

from __future__ import annotations

import gc
import os
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work"          # gitignored; remade by every run
SCHEMA = ROOT / "schemas" / "catalog.schema.json"

if str(ROOT) not in sys.path:                  # `python benchmarks/run.py` without install
    sys.path.insert(0, str(ROOT))

import generate  # noqa: E402  (benchmarks/ is on sys.path: run.py lives there)


class BenchmarkError(Exception):
    """A benchmark could not produce a figure (missing tool, failed command, bad output)."""


@dataclass
class Result:
    """One line of the report: a figure beside a baseline measured in the same run.

    `seconds` and `baseline` are medians of interleaved rounds; `spread` and `baseline_spread`,
    when known, are the (min, max) of those rounds, printed beside each median.
    """

    name: str
    seconds: float | None
    baseline_name: str
    baseline: float | None
    target: float                              # the ratio seconds/baseline must not exceed
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    spread: tuple[float, float] | None = None
    baseline_spread: tuple[float, float] | None = None
    rounds: int | None = None

    @property
    def ratio(self) -> float | None:
        if self.seconds is None or not self.baseline:
            return None
        return self.seconds / self.baseline

    @property
    def status(self) -> str:
        if self.error is not None or self.ratio is None:
            return "ERROR"
        return "PASS" if self.ratio <= self.target else "FAIL"

    def line(self) -> str:
        if self.status == "ERROR":
            return f"{self.name:<14} ERROR  {self.error}"
        rounds = f"   median of {self.rounds}" if self.rounds else ""
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else "-"
        return (f"{self.name:<14} {self.shown(self.seconds, self.spread):>9}   "
                f"baseline {self.baseline_name} {self.shown(self.baseline, self.baseline_spread)}   "
                f"ratio {ratio}   target {self.target_text()}   {self.status}{rounds}")

    def shown(self, value: float | None, spread: tuple[float, float] | None = None) -> str:
        """A figure as printed, with its min-max: seconds here, another unit in a subclass."""
        if spread is None or spread[0] == spread[1]:
            return fmt_seconds(value)
        return f"{fmt_seconds(value)} ({fmt_seconds(spread[0])}-{fmt_seconds(spread[1])})"

    def target_text(self) -> str:
        return f"<= {self.target:g}x"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "seconds": self.seconds, "baseline_name": self.baseline_name,
                "baseline_seconds": self.baseline, "ratio": self.ratio, "target": self.target,
                "status": self.status, "error": self.error, "notes": self.notes,
                "spread": self.spread, "baseline_spread": self.baseline_spread, "rounds": self.rounds}


class MemoryResult(Result):
    """A Result whose figure and baseline are megabytes (peak RSS), not seconds."""

    def shown(self, value: float | None, spread: tuple[float, float] | None = None) -> str:
        if value is None:
            return "-"
        if spread is None or spread[0] == spread[1]:
            return f"{value:.0f} MB"
        return f"{value:.0f} MB ({spread[0]:.0f}-{spread[1]:.0f} MB)"

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "unit": "MB"}


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 0.001:                              # per-item figures (plan)
        return f"{s * 1e6:.1f} µs"
    return f"{s:.2f} s" if s >= 1 else f"{s:.3f} s"


@dataclass
class Context:
    """What a benchmark gets: the repeat count and the generated catalogs of this run."""

    repeat: int | None = None                  # --repeat; None: each benchmark's default
    steps: int = 10_000
    scenarios: int = 2_000
    files: int = 500
    verbose: bool = False
    _catalogs: dict[str, Path] = field(default_factory=dict)

    def repeats(self, default: int = 5) -> int:
        return self.repeat if self.repeat is not None else default

    def catalog(self, form: str) -> Path:
        """The large catalog in `form` ("dro" or "yaml"), generated fresh once per run."""
        if form not in self._catalogs:
            out = WORK / f"catalog-{form}"
            generate.generate(out, self.steps, self.scenarios, self.files, form)
            self._catalogs[form] = out
        return self._catalogs[form]

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"  .. {message}", file=sys.stderr, flush=True)


def catalog_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*")
                  if p.name.endswith((".dro", ".dro.yaml", ".dro.yml")))


@dataclass
class Timings:
    """Per subject: the seconds of every round, in order, and why a subject was dropped.

    The figure of a subject is the median of its rounds, not the minimum: a minimum rewards the
    one lucky round, and flips verdicts between runs; the spread (min, max) is shown beside it.
    """

    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, figures: Mapping[str, float]) -> Timings:
        """Timings of one round each: figures computed from other timings (a per-step time)."""
        return cls({name: [seconds] for name, seconds in figures.items()})

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)

    @property
    def median(self) -> dict[str, float]:
        return {name: statistics.median(values) for name, values in self.samples.items()}

    @property
    def first(self) -> dict[str, float]:
        return {name: values[0] for name, values in self.samples.items()}

    def spread(self, name: str) -> tuple[float, float] | None:
        values = self.samples.get(name)
        return (min(values), max(values)) if values else None

    def rounds(self, name: str) -> int:
        return len(self.samples.get(name, ()))


def median_round(rounds: Sequence[Any], key: Callable[[Any], float]) -> Any:
    """The round whose `key` is the median (the upper one of an even count): a whole round, its
    phases and counts included, rather than the fastest."""
    return sorted(rounds, key=key)[len(rounds) // 2]


def time_each(subjects: Mapping[str, Callable[[], object]], repeat: int,
              check: Callable[[str, object], None] | None = None) -> Timings:
    """The wall time of each callable in each of `repeat` rounds.

    The subjects are interleaved (a, b, c, a, b, c, ...) so that a noisy spell on the
    machine hits every side, not one; the cyclic collector runs before each, and its
    policy is whatever each subject sets (the same for a figure and its baseline: the
    benchmark's job). A subject that raises, or whose first value `check(name, value)`
    rejects with a BenchmarkError, is dropped from later rounds and its error kept; the
    others go on.
    """
    t = Timings()
    for round_ in range(max(1, repeat)):
        for name, fn in subjects.items():
            if name in t.errors:
                continue
            gc.collect()
            try:
                start = time.perf_counter()
                value = fn()
                elapsed = time.perf_counter() - start
                if round_ == 0 and check is not None:
                    check(name, value)
            except Exception as e:  # the code under test broke: report it, go on
                t.errors[name] = describe_exception(e)
                continue
            t.add(name, elapsed)
            del value
    return t


def describe_exception(e: Exception) -> str:
    if isinstance(e, BenchmarkError):
        return str(e)
    where = traceback.extract_tb(e.__traceback__)[-1]
    return f"{type(e).__name__}: {e} ({Path(where.filename).name}:{where.lineno})"


def compare(name: str, timings: Timings, subject: str, baseline: str, target: float,
            notes: list[str] | None = None) -> Result:
    """The Result for `subject` against `baseline` (their medians and spreads), or an ERROR if
    either was dropped."""
    for side, label in ((subject, ""), (baseline, f"baseline {baseline}: ")):
        if side in timings.errors:
            return Result(name, None, baseline, None, target,
                          error=label + timings.errors[side])
    median = timings.median
    rounds = timings.rounds(subject)
    return Result(name, median[subject], baseline, median[baseline], target, notes=notes or [],
                  spread=timings.spread(subject), baseline_spread=timings.spread(baseline),
                  rounds=rounds if rounds > 1 else None)


def machine() -> dict[str, Any]:
    """What the figures were measured on and at: commit, Python, CPUs, load (1, 5, 15 min)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else "?"

    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short=12", "HEAD") + (" (with uncommitted changes)" if dirty else ""),
            "python": sys.version.split()[0], "cpus": os.cpu_count(),
            "load": tuple(round(x, 2) for x in os.getloadavg()),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def console_script(name: str) -> str | None:
    """The console script `name` of this interpreter, else the one on PATH.

    The interpreter's own bin directory comes first: a PATH entry may be a
    wrapper (pyenv shims are shell scripts) whose start-up would be timed too.
    """
    own = Path(sys.executable).parent / name
    if own.is_file() and os.access(own, os.X_OK):
        return str(own)
    return shutil.which(name)


def dro_command() -> list[str]:
    """How to start `dro`: its console script, else `python -m dro_cli[.main]`."""
    script = console_script("dro")
    if script:
        return [script]
    for module, path in (("dro_cli", "dro_cli/__main__.py"), ("dro_cli.main", "dro_cli/main.py")):
        if (ROOT / path).exists():
            return [sys.executable, "-m", module]
    raise BenchmarkError("no `dro` console script and no dro_cli/main.py yet")


def command_env() -> dict[str, str]:
    env = dict(os.environ, NO_COLOR="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def command(argv: Sequence[str], ok: Sequence[int] = (0,)) -> Callable[[], int]:
    """A callable running `argv` from the repo root (output captured); it checks the exit."""
    env = command_env()

    def run() -> int:
        proc = subprocess.run(list(argv), cwd=ROOT, env=env, capture_output=True, check=False)
        if proc.returncode not in ok:
            out = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip().splitlines()
            tail = " | ".join(out[-6:]) if out else "(no output)"
            raise BenchmarkError(f"`{short(argv)}` exited {proc.returncode}: {tail}")
        return proc.returncode

    return run


def short(argv: Sequence[str], limit: int = 6) -> str:
    shown = [os.path.relpath(a, ROOT) if os.path.isabs(a) and a.startswith(str(ROOT)) else a
             for a in argv[:limit]]
    return " ".join(shown) + (f" ... ({len(argv) - limit} more)" if len(argv) > limit else "")
