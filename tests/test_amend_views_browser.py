"""An amended order's page in a real browser (headless Chromium, tests/browser.py), from `dro view -o` and from
`dro serve`: the header shows its revision and who amended it, the compensations are drawn dashed with what
they undo, the superseded instances are listed apart in the state they ended in, and the page logs no error.
The order is tests/test_amend_views.py's (tests/data/amend/catalog.dro, amended through the CLI)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from browser import Browser, artifacts_dir
from test_amend_views import amended_order, shown
from test_view_browser import NEAR, assert_drawn_well, details

from dro_cli.output.serve import make_server
from dro_cli.output.views.palette import STATE_COLOURS

pytestmark = pytest.mark.browser  # skipped without Chromium, unless $CI is set (tests/browser.py)

PAGE = """(() => {
  const text = (selector) => Array.from(document.querySelectorAll(selector), (node) => node.textContent.trim());
  const shown = (node) => node !== null && node.getBoundingClientRect().width > 0;
  const rect = (node) => {
    const r = node.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  };
  return {
    revision: text("#revision"), revisionShown: shown(document.querySelector("#revision")),
    amendments: text("#amendments li"),
    compensations: Array.from(document.querySelectorAll(".step.compensation"), (node) => ({
      id: node.dataset.stepId, undoes: node.dataset.undoes, by: node.dataset.compensates,
      line: node.querySelector(".step-undoes").textContent, lineShown: shown(node.querySelector(".step-undoes")),
      dash: getComputedStyle(node.querySelector(".box")).strokeDasharray})),
    plain: getComputedStyle(document.querySelector('.step[data-step-id="ship[R1]"] .box')).strokeDasharray,
    headings: text("#superseded h2"),
    superseded: Array.from(document.querySelectorAll("#superseded .superseded-step"), (node) => ({
      id: node.dataset.stepId, state: node.dataset.state, text: node.textContent.trim(), shown: shown(node),
      swatch: getComputedStyle(node.querySelector(".swatch")).backgroundColor})),
    drawn: Array.from(document.querySelectorAll(".step"), (node) => node.dataset.stepId),
    undo: Array.from(document.querySelectorAll("path.undo-edge"), (path) => {
      const screen = path.getScreenCTM();
      const start = path.getPointAtLength(0).matrixTransform(screen);
      const end = path.getPointAtLength(path.getTotalLength()).matrixTransform(screen);
      const box = (id) => rect(document.querySelector(`.step[data-step-id="${id}"] .box`));
      return {from: path.dataset.from, to: path.dataset.to, start: [start.x, start.y], end: [end.x, end.y],
              source: box(path.dataset.from), target: box(path.dataset.to)};
    }),
  };
})()"""


def rgb(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


@pytest.fixture
def amended(tmp_path: Path) -> dict[str, str]:
    env = {"NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "DRO_NOW": "2026-12-01T10:00:00Z",
           "DRO_OPERATOR": "ann", "DRO_CATALOG": ""}
    amended_order(env, tmp_path)
    return env


def assert_amended_page(browser: Browser) -> None:
    """The page of tests/test_amend_views.py's order A-1 at revision 3, as it should read."""
    page = browser.evaluate(PAGE)
    assert page["revision"] == ["revision 3"] and page["revisionShown"]
    assert page["amendments"] == [
        "2026-12-01T10:00:00Z: ann amended the order, revision 2: 1 amended, 5 kept (reason: faster line)",
        "2026-12-01T10:00:00Z: ann canceled lines T1, revision 3: 2 canceled, 5 kept (reason: customer changed mind)"]
    by_id = {c["id"]: c for c in page["compensations"]}
    assert set(by_id) == {"reprofile[r2:activate[R1]]", "collect[r3:ship[T1]]", "restock[r3:ship[T1]]"}
    collect = by_id["collect[r3:ship[T1]]"]
    assert (collect["undoes"], collect["by"], collect["line"]) == ("ship[T1]", "compensate", "↶ undoes ship[T1]")
    assert by_id["reprofile[r2:activate[R1]]"]["by"] == "on_amend"
    assert all(c["lineShown"] and c["dash"] not in ("", "none") for c in page["compensations"])
    assert page["plain"] == "none"  # only compensations are dashed
    assert page["headings"] == ["Superseded by revision 3"]
    assert [(s["id"], s["state"]) for s in page["superseded"]] == [("activate[T1]", "canceled"),
                                                                   ("ship[T1]", "canceled")]
    assert all(s["shown"] and s["swatch"] == rgb(STATE_COLOURS["canceled"]) for s in page["superseded"])
    assert "was completed" in page["superseded"][1]["text"]
    assert {"ship[T1]", "activate[T1]"}.isdisjoint(page["drawn"])  # superseded, not drawn in the live plan
    (undo,) = page["undo"]  # the on_amend's step is still live: an arrow from it
    assert (undo["from"], undo["to"]) == ("activate[R1]", "reprofile[r2:activate[R1]]")
    assert abs(undo["start"][0] - undo["source"]["right"]) < NEAR
    assert abs(undo["end"][0] - undo["target"]["left"]) < NEAR
    assert_drawn_well(browser)
    text = details(browser, "collect[r3:ship[T1]]")
    assert "undoes\nship[T1] (its compensate)\n" in text and "made in\nrevision 3\n" in text


def test_an_amended_orders_page_shows_its_revision_compensations_and_superseded_steps(
        amended: dict[str, str], browser: Browser, tmp_path: Path) -> None:
    path = tmp_path / "A-1.html"
    shown(amended, "view", "A-1", "-o", str(path))
    browser.open(path.as_uri())
    assert_amended_page(browser)
    browser.screenshot(artifacts_dir() / "amended-plan.png")


def test_dro_serve_shows_an_amended_order_on_its_dashboard_and_its_page(
        amended: dict[str, str], browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRO_NOW", amended["DRO_NOW"])
    server = make_server(Path(amended["DRO_STATE_DIR"]), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        browser.open(f"http://127.0.0.1:{server.server_port}/")
        browser.wait_for('document.querySelector("tr[data-order=A-1] a") !== null')
        progress = browser.evaluate('document.querySelector("tr[data-order=A-1] td[data-field=progress]").textContent')
        assert progress == "3/7 · revision 3"
        browser.click("tr[data-order=A-1] a")
        browser.wait_for('document.querySelector("#order") !== null')
        assert_amended_page(browser)
        browser.screenshot(artifacts_dir() / "serve-amended-plan.png")
    finally:
        server.shutdown()
        server.server_close()
