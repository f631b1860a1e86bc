"""`dro view ORDER -o plan.html` in a real browser (headless Chromium, tests/browser.py): orders run on the
virtual clock, their pages opened from disk and checked through the DOM. Each step is drawn inside its lane's
row, in its state's legend colour, with no two boxes overlapping, also at 500 steps; arrows join the boxes they
name; markup from an order or a catalog shows as text and runs nothing; a click shows a step's details, operator
reasons included; the page logs no error. Screenshots go to $DRO_ARTIFACTS (tests/artifacts/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from browser import Browser, artifacts_dir
from click.testing import CliRunner, Result
from test_fallout_queues import T0, Lab, into_fallout, later

from dro_cli.main import cli

pytestmark = pytest.mark.browser  # skipped without Chromium, unless $CI is set (tests/browser.py)

# Everything about the drawing, read from the DOM in one go; rectangles in the window's pixels.
GEOMETRY = """(() => {
  const rect = (node) => {
    const r = node.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  };
  const lanes = {};
  for (const lane of document.querySelectorAll(".lane[data-lane]")) {
    lanes[lane.dataset.lane] = rect(lane.querySelector(".lane-bg"));
  }
  const swatches = {};
  for (const item of document.querySelectorAll(".legend-item[data-state]")) {
    swatches[item.dataset.state] = getComputedStyle(item.querySelector(".swatch")).backgroundColor;
  }
  const steps = Array.from(document.querySelectorAll(".step"), (step) => {
    const box = step.querySelector(".box");
    return {
      id: step.dataset.stepId, lane: step.dataset.lane, row: step.closest(".lane").dataset.lane,
      state: step.dataset.state, sla: step.dataset.sla, type: step.dataset.type,
      box: rect(box), fill: getComputedStyle(box).fill,
      texts: Array.from(step.querySelectorAll(":scope > text"), (text) => ({text: text.textContent, ...rect(text)})),
      badges: Array.from(step.querySelectorAll(".badge"), (badge) => ({
        kind: badge.getAttribute("class"), text: badge.textContent.trim(), ...rect(badge)})),
    };
  });
  const edges = Array.from(document.querySelectorAll("path.edge"), (path) => {
    const screen = path.getScreenCTM();
    const start = path.getPointAtLength(0).matrixTransform(screen);
    const end = path.getPointAtLength(path.getTotalLength()).matrixTransform(screen);
    return {from: path.dataset.from, to: path.dataset.to, start: [start.x, start.y], end: [end.x, end.y]};
  });
  return {lanes, swatches, steps, edges};
})()"""

NEAR = 0.75  # pixels: what rounding of SVG coordinates may move an edge


def view(dro: Any, order: str, path: Path) -> str:
    """`dro view ORDER -o path`, as a file:// URL."""
    result: Result = dro("view", order, "-o", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Wrote {path} (html, order {order}).\n"
    return path.as_uri()


def step(step_id: str) -> str:
    """The selector of a step's box (a step id may hold brackets and quotes)."""
    return f".step[data-step-id={json.dumps(step_id)}]"


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (inner["left"] >= outer["left"] - NEAR and inner["right"] <= outer["right"] + NEAR
            and inner["top"] >= outer["top"] - NEAR and inner["bottom"] <= outer["bottom"] + NEAR)


def overlapping(boxes: dict[str, dict[str, float]]) -> list[tuple[str, str]]:
    """The pairs of boxes that share any area (a sweep from left to right)."""
    pairs = []
    ordered = sorted(boxes.items(), key=lambda item: item[1]["left"])
    for i, (one, a) in enumerate(ordered):
        for other, b in ordered[i + 1:]:
            if b["left"] >= a["right"]:
                break
            if b["top"] < a["bottom"] and a["top"] < b["bottom"]:
                pairs.append((one, other))
    return pairs


def assert_drawn_well(browser: Browser) -> dict[str, Any]:
    """Every step in its lane's row and its state's colour, its text in its box, no overlaps, arrows joining the
    boxes they name; the geometry, for more checks."""
    drawn: dict[str, Any] = browser.evaluate(GEOMETRY)
    steps = {s["id"]: s for s in drawn["steps"]}
    assert len(steps) == len(drawn["steps"]), "two steps share an id"
    assert len(set(drawn["swatches"].values())) == len(drawn["swatches"]), "two states share a colour"
    for s in drawn["steps"]:
        assert s["row"] == s["lane"], f"{s['id']} is drawn in the row of lane {s['row']}, not {s['lane']}"
        assert inside(s["box"], drawn["lanes"][s["lane"]]), f"{s['id']} sticks out of its lane's row"
        assert s["fill"] == drawn["swatches"][s["state"]], f"{s['id']} ({s['state']}) is not its legend's colour"
        for part in s["texts"] + s["badges"]:
            assert inside(part, s["box"]), f"{part['text']!r} sticks out of the box of {s['id']}"
    assert overlapping({sid: s["box"] for sid, s in steps.items()}) == []
    for edge in drawn["edges"]:
        source, target = steps[edge["from"]]["box"], steps[edge["to"]]["box"]
        assert abs(edge["start"][0] - source["right"]) < NEAR and source["top"] < edge["start"][1] < source["bottom"]
        assert abs(edge["end"][0] - target["left"]) < NEAR and target["top"] < edge["end"][1] < target["bottom"]
    return drawn


def details(browser: Browser, step_id: str) -> str:
    """Click a step's box and return the text of the details it shows."""
    browser.click(step(step_id))
    browser.wait_for(f"document.querySelector('#details').dataset.step === {json.dumps(step_id)}")
    text: str = browser.evaluate("document.querySelector('#details').innerText")
    return text


# ---- an order with a step in fallout, a manual step with an SLA, and operator acts --------------------------------

@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)


def test_an_order_in_fallout_is_drawn_in_lanes_in_its_states_colours(lab: Lab, browser: Browser,
                                                                      tmp_path: Path) -> None:
    into_fallout(lab, "ORD-1")  # check completed by ann, reserve in fallout after two tries, ship pending
    browser.open(view(lab.dro, "ORD-1", tmp_path / "ORD-1.html"))
    assert browser.evaluate("document.title") == "ORD-1 · dro plan"
    assert browser.evaluate("document.querySelector('#order').textContent") == "ORD-1"
    assert browser.evaluate("document.querySelector('#plan-state').dataset.state") == "in_progress"
    assert "reserve" in browser.evaluate("document.querySelector('#waiting').textContent")
    drawn = assert_drawn_well(browser)
    assert {s["id"]: (s["lane"], s["state"], s["type"]) for s in drawn["steps"]} == {
        "check": ("ops", "completed", "manual"),
        "reserve": ("ops", "fatally_failed", "auto"),
        "ship": ("ship", "pending", "auto"),
    }
    assert sorted((e["from"], e["to"]) for e in drawn["edges"]) == [("check", "reserve"), ("reserve", "ship")]
    reserve = next(s for s in drawn["steps"] if s["id"] == "reserve")
    assert [t["text"] for t in reserve["texts"]][-1] == "✖ StockDown queue stock_fallout"
    browser.screenshot(artifacts_dir() / "view-fallout.png")


@pytest.mark.parametrize(("minutes", "sla"), [(190, "jeopardy"), (250, "late")])
def test_a_manual_step_past_its_thresholds_wears_a_badge(lab: Lab, browser: Browser, tmp_path: Path,
                                                         minutes: int, sla: str) -> None:
    lab.stock(down=False)
    assert lab.start("ORD-2").exit_code == 0  # check: 4h in the desk queue from 10:00, in jeopardy from 13:00
    lab.now = later(T0, minutes)
    browser.open(view(lab.dro, "ORD-2", tmp_path / "ORD-2.html"))
    drawn = assert_drawn_well(browser)
    check = next(s for s in drawn["steps"] if s["id"] == "check")
    assert (check["state"], check["sla"]) == ("in_progress", sla)
    assert [(b["kind"], b["text"]) for b in check["badges"]] == [(f"badge badge-{sla}", sla)]
    assert browser.evaluate("document.querySelectorAll('.badge').length") == 1
    assert browser.evaluate("document.querySelector('.badge').getBoundingClientRect().width") > 0
    browser.screenshot(artifacts_dir() / f"view-{sla}.png")


def test_a_click_shows_a_steps_details_with_its_operators_reasons(lab: Lab, browser: Browser,
                                                                 tmp_path: Path) -> None:
    into_fallout(lab, "ORD-3")
    lab.now = later(T0, 60)
    assert lab.dro("retry", "ORD-3", "reserve", "--reason", "stock system restarted").exit_code == 0  # fails again
    lab.now = later(T0, 70)
    assert lab.dro("tick").exit_code == 1  # and its last try falls out again
    lab.now = later(T0, 90)
    done = lab.dro("complete", "ORD-3", "reserve", "--reason", "reserved by phone", "--output", "reservation=R-9")
    assert done.exit_code == 0, done.output
    browser.open(view(lab.dro, "ORD-3", tmp_path / "ORD-3.html"))
    assert_drawn_well(browser)
    assert browser.evaluate("document.querySelector('#details').dataset.step") is None
    text = details(browser, "reserve")
    assert "retried by ann at 2026-12-01T11:00:00Z, reason: stock system restarted" in text
    assert "completed by ann at 2026-12-01T11:30:00Z, reason: reserved by phone" in text
    assert '"reservation": "R-9"' in text
    assert browser.evaluate("document.querySelector('.step.selected').dataset.stepId") == "reserve"
    related = browser.evaluate("Array.from(document.querySelectorAll('path.edge.related'), e => e.dataset.to)")
    assert sorted(related) == ["reserve", "ship"]
    browser.screenshot(artifacts_dir() / "view-details.png")
    text = details(browser, "ship")  # another click moves the details and the selection
    assert "R-9" in text and "reserved by phone" not in text
    assert browser.evaluate("document.querySelectorAll('.step.selected').length") == 1


# ---- markup from an order and a catalog -------------------------------------------------------------------------

PWN = "<script>window.pwned = '{0}'</script><img src=x onerror=window.pwned='{0}-img'>"  # no double quote: DSL-safe

HOSTILE = f"""
lane desk "Desk {PWN.format('lane')}"

group kit "Kit" {{
  step check "Check {PWN.format('title')}" {{
    type  manual
    lane  desk
    scope plan
  }}
  step done "Done" {{
    type  milestone
    lane  desk
    scope plan
    after check
  }}
}}

scenario kits "Kits" {{
  when item.product == "KIT"
  add  kit
}}
"""


def test_markup_from_the_order_and_the_catalog_shows_as_text_and_runs_nothing(browser: Browser,
                                                                              tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "kit.dro").write_text(HOSTILE)
    attribute = PWN.format("attribute")
    order = tmp_path / "ORD-X.yaml"
    order.write_text(f"order:\n  id: ORD-X\n  account: ACME\n  attributes: {{note: {json.dumps(attribute)}}}\n"
                     "  items:\n    - {id: K1, product: KIT}\n")
    env = {"NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "DRO_NOW": T0, "DRO_OPERATOR": "ann",
           "DRO_CATALOG": str(catalog)}

    def dro(*args: str) -> Result:
        return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")

    started = dro("run", str(order))
    assert started.exit_code == 0, started.output
    reason = PWN.format("reason")
    done = dro("complete", "ORD-X", "check", "--reason", reason, "--output", f"note={PWN.format('output')}")
    assert done.exit_code == 0, done.output
    browser.open(view(dro, "ORD-X", tmp_path / "ORD-X.html"))
    assert_drawn_well(browser)
    assert browser.evaluate("document.querySelector('.fact.attribute').textContent") == f"note: {attribute}"
    assert browser.evaluate("document.querySelector('.lane-label title').textContent") == \
        f"Desk {PWN.format('lane')} [desk]"
    assert PWN.format("title") in browser.evaluate(f"document.querySelector('{step('check')} title')"
                                                                 ".textContent")
    text = details(browser, "check")
    assert f"reason: {reason}" in text and PWN.format("output") in text
    assert browser.evaluate("document.querySelectorAll('script').length") == 2  # the data and the page's own
    assert browser.evaluate("document.querySelectorAll('img').length") == 0
    assert browser.evaluate("window.pwned") is None
    browser.screenshot(artifacts_dir() / "view-markup.png")


# ---- 500 steps ----------------------------------------------------------------------------------------------------

LINES = """
lane intake "Intake"
lane stock  "Stock"
lane ship   "Shipping"

group line "One line" {
  step receive "Receive" {
    type  milestone
    lane  intake
    scope line_item
  }
  step pick "Pick" {
    type     manual
    lane     stock
    scope    line_item
    after    receive
    queue    pickers
    duration 2h
    jeopardy 1h
  }
  step pack "Pack" {
    type  manual
    lane  ship
    scope line_item
    after pick
  }
  step label "Label" {
    type  milestone
    lane  ship
    scope line_item
    after pack
  }
  step load "Load" {
    type  milestone
    lane  ship
    scope line_item
    after label
  }
}

scenario lines "Lines" {
  when item.product == "BOX"
  add  line
}
"""


def test_a_500_step_plan_is_drawn_without_overlaps_and_scrolls(browser: Browser, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "line.dro").write_text(LINES)
    order = tmp_path / "BIG-1.yaml"
    items = "".join(f"    - {{id: L{n:03}, product: BOX}}\n" for n in range(100))
    order.write_text(f"order:\n  id: BIG-1\n  account: ACME\n  items:\n{items}")
    env = {"NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "DRO_NOW": T0, "DRO_OPERATOR": "ann",
           "DRO_CATALOG": str(catalog)}

    def dro(*args: str) -> Result:
        return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")

    assert dro("run", str(order)).exit_code == 0
    env["DRO_NOW"] = later(T0, 150)  # the picks are in jeopardy
    for n in range(0, 100, 7):
        assert dro("complete", "BIG-1", f"pick[L{n:03}]", "--reason", f"picked {n}").exit_code == 0
    browser.open(view(dro, "BIG-1", tmp_path / "BIG-1.html"), timeout=30)
    drawn = assert_drawn_well(browser)
    assert len(drawn["steps"]) == 500
    assert len(drawn["edges"]) == 400
    states = {s["state"] for s in drawn["steps"]}
    assert {"completed", "in_progress", "pending"} <= states
    assert sum(len(s["badges"]) for s in drawn["steps"]) == 100 - 15  # the picks not done yet
    canvas = "document.querySelector('#canvas')"
    assert browser.evaluate(f"{canvas}.scrollHeight > {canvas}.clientHeight")
    text = details(browser, "load[L099]")  # far down: the click scrolls it into view first
    assert "load[L099]" in text
    assert browser.evaluate(f"{canvas}.scrollTop") > 0
    assert "reason: picked 98" in details(browser, "pick[L098]")
    browser.screenshot(artifacts_dir() / "view-500.png")
