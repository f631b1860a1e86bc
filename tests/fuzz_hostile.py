"""Hostile mutations of the sample catalogs and orders, run by test_fuzz.py in a process of bounded memory.

    python tests/fuzz_hostile.py [--examples N]

Each example puts one hostile value into a sample file (deep nesting, a YAML alias bomb,
huge and non-finite numbers, huge durations, dates at the ends of the calendar, long
text, bundles of thousands of items) and checks, then plans and renders it as `dro`
would. It must give diagnostics, never an exception, and take at most EXAMPLE_SECONDS.
The caller caps the process's address space (`RLIMIT_AS`), so unbounded memory fails
too, as a MemoryError. Exit status 0 when every example passed; a failing example is
printed by hypothesis. Keep each input that once failed under tests/cases/hostile/.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from goldens import CATALOGS
from helpers import catalog_with
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dro_cli.output.views.plan_text import render_plan
from dro_cli.planning.api import make_plan
from dsl import Diagnostic, check_catalog

EXAMPLE_SECONDS = 10.0  # the slowest bounded example takes about a second; a hang takes forever
TEXTS = {p: p.read_text(encoding="utf-8") for p in sorted(CATALOGS.glob("*/*.dro*"))}
ORDERS = {p: p.read_text(encoding="utf-8") for p in sorted(CATALOGS.glob("laptop/orders/*"))}
LAPTOP = CATALOGS / "laptop"

_LAUGHS = "x-laughs:\n  - &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))

hostile_values = st.one_of(
    st.integers(50, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(50, 3000).map(lambda n: "{a: " * n + "1" + "}" * n),
    st.integers(50, 3000).map(lambda n: "not " * n + "true"),
    st.integers(50, 3000).map(lambda n: "true" + " and true" * n),
    st.integers(15, 6000).map(lambda n: "9" * n),
    st.integers(15, 400).map(lambda n: "1" + "0" * n + ".0"),
    st.sampled_from([".inf", "-.inf", ".nan", "1e400", "1.0e+400", "NaN", "Infinity", "-Infinity", "1e999",
                     "-9007199254740993", "1e308"]),
    st.integers(3650, 10**15).map(lambda n: f"{n}d"),
    st.sampled_from(["0001-01-01", "9999-12-31", "10000-01-01", "0000-00-00", "9999-12-31T23:59:59-12:00",
                     "0001-01-01T00:00:00+14:00", "1969-12-31"]),
    st.integers(1000, 200_000).map(lambda n: '"' + "x" * n + '"'),
)
# Where a value goes: numbers, durations, strings and booleans of the sample files.
_VALUE = re.compile(r"(?<![\w.-])(?:\d+(?:\.\d+)?[a-z]{0,2}|\"[^\"\n]*\"|true|false)(?![\w.-])")


def _with_hostile(draw: st.DrawFn, text: str) -> str:
    for _ in range(draw(st.integers(1, 2))):
        value = draw(hostile_values)
        places = [m.span() for m in _VALUE.finditer(text)]
        if places and draw(st.integers(0, 3)):  # mostly in place of a value, where checks will read it
            start, end = draw(st.sampled_from(places))
        else:
            start = end = draw(st.integers(0, len(text)))
        text = text[:start] + value + text[end:]
    return text


@st.composite
def hostile_catalog(draw: st.DrawFn) -> tuple[Path, str]:
    path = draw(st.sampled_from(sorted(TEXTS)))
    text = _with_hostile(draw, TEXTS[path])
    if path.name.endswith(".yaml") and draw(st.integers(0, 4)) == 0:
        text = _LAUGHS + text
    return path, text


@st.composite
def hostile_order(draw: st.DrawFn) -> tuple[str, str]:
    path = draw(st.sampled_from(sorted(ORDERS)))
    text = ORDERS[path]
    kind = draw(st.sampled_from(["value", "value", "laughs", "bundle"]))
    if kind == "value":
        text = _with_hostile(draw, text)
    elif kind == "laughs" and path.suffix != ".json":
        text = text.replace("order:\n", _LAUGHS + "order:\n", 1)
    elif kind == "bundle":  # one bundle of many items: its plan grows with their square
        size = draw(st.sampled_from([2, 200, 1001, 3000, 10_001]))
        items = [{"id": "B0", "product": "LAPTOP-BUNDLE", "attributes": {"onsite_setup": True}}]
        items += [{"id": f"B{i}", "product": draw(st.sampled_from(["LAPTOP-BUNDLE", "MONITOR-27"])),
                   "parent": f"B{i - 1}" if draw(st.booleans()) else "B0"} for i in range(1, size)]
        return ".json", json.dumps({"order": {"id": "ORD-F", "account": "A", "items": items}})
    return path.suffix, text


def bounded(check: Callable[[], None]) -> None:
    start = time.monotonic()
    check()
    elapsed = time.monotonic() - start
    assert elapsed < EXAMPLE_SECONDS, f"took {elapsed:.1f} s"


def only_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        assert isinstance(d, Diagnostic) and d.code.startswith("DRO") and d.summary
        assert d.span is None or (d.span.line >= 1 and d.span.col >= 1)


def check_a_catalog(case: tuple[Path, str]) -> None:
    original, text = case

    def check() -> None:
        with catalog_with(TEXTS, original, text) as catalog:
            only_diagnostics(check_catalog([catalog]).diagnostics)

    bounded(check)


def plan_an_order(case: tuple[str, str]) -> None:
    suffix, text = case

    def check() -> None:
        with tempfile.TemporaryDirectory() as folder:
            order = Path(folder) / f"order{suffix}"
            order.write_text(text, encoding="utf-8")
            outcome = make_plan(order, LAPTOP)
            only_diagnostics(outcome.diagnostics)
            if outcome.plan is not None:  # rendered as `dro plan` shows it, in both forms
                json.dumps(outcome.plan, allow_nan=False)
                render_plan(outcome.plan)

    bounded(check)


def run(examples: int) -> None:
    fuzz = settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    given(hostile_catalog())(fuzz(check_a_catalog))()
    given(hostile_order())(fuzz(plan_an_order))()


def _peak_rss_mb() -> float:
    status = Path("/proc/self/status")
    line = next((ln for ln in status.read_text().splitlines() if ln.startswith("VmHWM:")), "VmHWM: 0 kB") \
        if status.exists() else "VmHWM: 0 kB"
    return int(line.split()[1]) / 1024


if __name__ == "__main__":
    count = int(sys.argv[sys.argv.index("--examples") + 1]) if "--examples" in sys.argv else 25
    run(count)
    print(f"{2 * count} examples passed; peak memory {_peak_rss_mb():.0f} MB")

