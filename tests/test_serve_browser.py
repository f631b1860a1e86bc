"""`dro serve` in a real browser (headless Chromium, tests/browser.py): the dashboard lists the orders and
updates itself after a `dro complete`, and an order's plan page reloads itself when its journal grows; no
console errors. Screenshots go to $DRO_ARTIFACTS (tests/artifacts/)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Browser, artifacts_dir
from test_fallout_queues import Lab, into_fallout

from dro_cli.output.serve import make_server

pytestmark = pytest.mark.browser  # skipped without Chromium, unless $CI is set (tests/browser.py)

ROWS = """Array.from(document.querySelectorAll("#orders tbody tr"), (tr) => [tr.dataset.order,
  ...Array.from(tr.querySelectorAll("td[data-field]"), (td) => td.textContent)])"""


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lab:
    lab = Lab(tmp_path)
    into_fallout(lab, "ORD-1")
    lab.now = "2026-12-01T10:00:00Z"
    lab.stock(down=False)
    lab.start("ORD-2")
    lab.now = "2026-12-01T13:30:00Z"
    monkeypatch.setenv("DRO_NOW", lab.now)
    return lab


@pytest.fixture
def url(lab: Lab) -> Iterator[str]:
    server = make_server(lab.state, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with Browser(log=tmp_path / "chromium.log") as opened:
        yield opened


def test_the_dashboard_updates_itself_after_an_operator_acts(lab: Lab, url: str, browser: Browser) -> None:
    browser.open(url + "/")
    browser.wait_for('document.querySelectorAll("#orders tbody tr").length === 2')
    assert browser.evaluate(ROWS) == [["ORD-1", "in_progress", "1/3", "1", "0"],
                                      ["ORD-2", "in_progress", "0/3", "0", "1"]]
    assert lab.dro("complete", "ORD-2", "check").exit_code == 0  # a separate command, while the page is open
    browser.wait_for('document.querySelector("tr[data-order=ORD-2]").dataset.state === "completed"', timeout=10)
    assert browser.evaluate(ROWS)[1] == ["ORD-2", "completed", "3/3", "0", "0"]
    browser.screenshot(artifacts_dir() / "serve-dashboard.png")
    assert browser.console_errors == [] and browser.exceptions == []


def test_a_plan_page_follows_its_journal(lab: Lab, url: str, browser: Browser) -> None:
    browser.open(url + "/")
    browser.wait_for('document.querySelector("tr[data-order=ORD-2] a") !== null')
    browser.click("tr[data-order=ORD-2] a")
    browser.wait_for('document.querySelector("#order") && document.querySelector("#order").textContent === "ORD-2"')
    assert browser.evaluate('document.querySelector(".step[data-step-id=check]").dataset.state') == "in_progress"
    assert lab.dro("complete", "ORD-2", "check").exit_code == 0
    browser.wait_for('document.querySelector("#plan-state") && '
                     'document.querySelector("#plan-state").dataset.state === "completed"', timeout=10)
    states = browser.evaluate('Array.from(document.querySelectorAll(".step"), (s) => s.dataset.state)')
    assert states == ["completed", "completed", "completed"]
    browser.screenshot(artifacts_dir() / "serve-plan.png")
    assert browser.console_errors == [] and browser.exceptions == []
