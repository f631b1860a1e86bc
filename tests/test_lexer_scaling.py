"""Reading a .dro file takes time linear in its size, whatever runs of blanks and junk it holds.

The lexer's regex for trailing blanks, `(?:[ \\t\\f\\r\\n]+|#...)*\\Z`, could split a run of n
blanks 2^n ways before giving up at a bad character: 30 spaces between `@`s took 31 s,
50 tabs more than 300. Each parse here runs under an alarm, so a regression fails in
seconds instead of hanging the suite (sre checks for signals while it backtracks).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

import pytest
from helpers import assert_no_internal_error, bounded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.parser import parse_file

JUNK = ["@", ";", "=", "$", "`", "!", "?", "\\", "'", '"', "{", "}", "(", ")", ",", ".", "é", "\x00", "\x7f", "%"]
WORDS = ["lane", "jeopardy_rule", "step", "group", "when", "after", "r", "{", "}", '"A"', "30s", "#", "\n"]
BLANKS = [" ", "\t", "\f", "\r", "\n", "# comment\n"]


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail with TimeoutError if the block runs longer than `seconds` (main thread only)."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def adversarial(blank: str, junk: str, run: int) -> str:
    """The issue's file: runs of `run` blanks between bad characters on a declaration line."""
    gap = (blank * run)[:run]
    return f'lane a "A"\njeopardy_rule{gap}{junk}{gap}{junk}{gap}{junk}{gap}{junk}{gap} r {{\n}}\n'


def parse_seconds(text: str) -> float:
    """The least of three timed parses (the least is the one a loaded machine disturbed least)."""
    best = float("inf")
    for _ in range(3):
        with within(10):
            started = time.perf_counter()
            parse_file("c.dro", text)
            best = min(best, time.perf_counter() - started)
    return best


def test_the_issue_file_validates_at_once(tmp_path: Path) -> None:
    for blank, run in ((" ", 30), ("\t", 50)):
        (tmp_path / "c.dro").write_text(adversarial(blank, "@", run))
        started = time.perf_counter()
        done = bounded("-m", "dro_cli.main", "validate", str(tmp_path / "c.dro"), timeout=30)
        assert time.perf_counter() - started < 15  # a second or so; 31 s (spaces) and 300+ (tabs) before
        assert_no_internal_error(done)
        assert done.returncode == 1 and "error[DRO104]: unexpected character '@'" in done.stdout


@pytest.mark.parametrize("blank", [" ", "\t", " \t", "\n", " # c\n"])
@pytest.mark.parametrize("junk", ["@", ";", "é", "\x00"])
def test_lexing_time_grows_linearly_with_the_blanks(blank: str, junk: str) -> None:
    sizes = [1_000, 2_000, 4_000, 8_000]  # characters of each run: 5 KB to 40 KB of input
    seconds = [parse_seconds(adversarial(blank, junk, run)) for run in sizes]
    for smaller, larger in pairwise(seconds):
        # Twice the input, at most about three times the time; the 5 ms absorb timer noise
        # on runs that take microseconds.
        assert larger <= 3 * smaller + 0.005, seconds
    assert seconds[-1] < 0.5, seconds


@st.composite
def blank_and_junk(draw: st.DrawFn) -> str:
    """A file of runs of blanks (up to 200 characters) between junk characters and words."""
    pieces = []
    for _ in range(draw(st.integers(1, 30))):
        run = draw(st.lists(st.sampled_from(BLANKS), max_size=200))
        pieces.append("".join(run))
        pieces.append(draw(st.sampled_from(JUNK + WORDS)))
    return "".join(pieces)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blank_and_junk())
def test_blanks_between_junk_never_take_long(text: str) -> None:
    with within(5):  # microseconds to milliseconds each; 2^200 steps before the fix
        _, diagnostics = parse_file("c.dro", text)
    assert all(d.code.startswith("DRO") for d in diagnostics)
