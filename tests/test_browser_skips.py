"""Without Chromium the browser tests skip, with one line saying how to install it, except where $CI is set:
there a missing browser fails them. Real pytest runs in subprocesses, on a PATH without a browser."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import chromium_or_fail, skip_reason
from goldens import ROOT

BROWSER_TESTS = ["tests/test_view_browser.py", "tests/test_serve_browser.py", "tests/test_browser_harness.py"]


def pytest_without_chromium(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m pytest` of the browser tests, with an empty PATH (no browser on it) and `env`."""
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "DRO_CHROMIUM", "DRO_SKIP_BROWSER")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *BROWSER_TESTS],
                          cwd=ROOT, env={**base, "PATH": str(tmp_path), **env}, capture_output=True, text=True,
                          timeout=300)


def test_without_chromium_the_browser_tests_skip_with_one_line_naming_the_install(tmp_path: Path) -> None:
    done = pytest_without_chromium(tmp_path)
    assert done.returncode == 0, done.stdout
    skipped = re.search(r"^(\d+) skipped in ", done.stdout.splitlines()[-1])
    assert skipped and int(skipped.group(1)) >= 20, done.stdout  # every browser test (23 today)
    reasons = {line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("SKIPPED")}
    assert reasons == {"no Chromium (chromium, chromium-browser, google-chrome) on the PATH: apt-get install "
                       "chromium, or point DRO_CHROMIUM at a Chromium or Chrome to run the browser tests"}


@pytest.mark.parametrize("ci", ["true"])
def test_where_ci_is_set_a_missing_chromium_fails_the_browser_tests(tmp_path: Path, ci: str) -> None:
    done = pytest_without_chromium(tmp_path, CI=ci)
    assert done.returncode == 1, done.stdout
    assert " skipped" not in done.stdout.splitlines()[-1]
    assert f"no Chromium (chromium, chromium-browser, google-chrome) on the PATH, and CI={ci} requires the " \
           "browser tests: apt-get install chromium" in done.stdout


def test_ci_set_to_false_is_not_ci(tmp_path: Path) -> None:
    assert pytest_without_chromium(tmp_path, CI="false").returncode == 0


def test_chromium_or_fail_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRO_SKIP_BROWSER", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("DRO_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.skip.Exception, match=r"^DRO_CHROMIUM=/nonexistent/chromium is not a browser: "
                                                    r"apt-get install chromium"):
        chromium_or_fail()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"is not a browser, and CI=true requires the browser tests"):
        chromium_or_fail()
    monkeypatch.delenv("DRO_CHROMIUM")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.fail.Exception, match=r"no Chromium .* on the PATH, and CI=true"):
        chromium_or_fail()
    monkeypatch.setenv("DRO_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception):
        chromium_or_fail()
    assert skip_reason() == "DRO_SKIP_BROWSER=1: browser tests skipped"


def test_ci_runs_the_browser_tests_as_required() -> None:
    assert 'export CI="${CI:-1}"' in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
