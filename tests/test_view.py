"""`dro view`: the html page (escaped, self-contained, its DOM hooks), mermaid and dot with states, and the
layout's guarantees (no two boxes overlap, every box inside its lane's row) over random plans and 500 steps.
The page in a real browser is tests/test_view_browser.py."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fallout_queues import Lab, into_fallout, later

from dro_cli.engine.instants import parse_instant
from dro_cli.engine.machine import Engine
from dro_cli.engine.states import StepState
from dro_cli.journal.store import OrderView
from dro_cli.main import cli
from dro_cli.output.views.layout import BOX_HEIGHT, BOX_WIDTH, Layout, depths, fit, layout
from dro_cli.output.views.palette import STATE_COLOURS, STEP_STATES
from dro_cli.output.views.plan_dot import quoted, render_dot
from dro_cli.output.views.plan_html import render_html, script_json
from dro_cli.runtime.status import order_status

T0 = "2026-12-01T10:00:00Z"
EVIL = "<script>alert(1)</script> \"'&"
ITEM = "K<1>\"'&"  # item ids may hold markup and quotes: they end up in step ids

CATALOG = r"""
lane desk "Desk <script>alert(1)</script> \"'&"
lane ship "Shipping"

group kit "Kit" {
  step check "Check <script>alert(1)</script> \"'& it" {
    type     manual
    lane     desk
    scope    line_item
    queue    front_desk
    duration 4h
    jeopardy 1h
  }
  step pack "Pack" {
    type  auto
    lane  ship
    scope line_item
    after check
    flow  "shop_flows:pack"
  }
  step courier "Wait for the courier" {
    type         pause
    lane         ship
    scope        plan
    after        pack
    resume_on    event "courier.arrived"
    resume_after 2h
  }
  step done "Done" {
    type  milestone
    lane  ship
    scope plan
    after courier
  }
}

scenario kits "Kits" {
  when item.product == "KIT"
  add  kit
}
"""

FLOWS = '''
def pack(ctx):
    return {"label": "</script><script>alert(2)</script>", "box": "B-1"}
'''

ORDER = f"""
order:
  id: ORD-9
  account: "ACME <b>&"
  attributes: {{note: {json.dumps(EVIL)}}}
  items:
    - {{id: {json.dumps(ITEM)}, product: KIT}}
"""


class Shop:
    """A catalog whose titles, order attributes and item ids hold markup and quotes; `dro` runs in process."""

    def __init__(self, root: Path) -> None:
        self.catalog = root / "catalog"
        self.catalog.mkdir()
        (self.catalog / "kit.dro").write_text(CATALOG)
        (self.catalog / "shop_flows.py").write_text(FLOWS)
        self.state = root / "state"
        self.order = root / "ORD-9.yaml"
        self.order.write_text(ORDER)
        self.now = T0

    def dro(self, *args: str) -> Result:
        env = {"NO_COLOR": "1", "DRO_STATE_DIR": str(self.state), "DRO_NOW": self.now, "DRO_OPERATOR": "ann",
               "DRO_CATALOG": str(self.catalog)}
        return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    """ORD-9 run through its manual check (with a hostile reason): packed, and the courier pause on hold."""
    shop = Shop(tmp_path)
    assert shop.dro("run", str(shop.order)).exit_code == 0
    shop.now = later(T0, 30)
    done = shop.dro("complete", "ORD-9", f"check[{ITEM}]", "--reason", EVIL, "--output", "ok=<yes>")
    assert done.exit_code == 0, done.output
    return shop


# ---- the page's elements, as a browser's DOM would hold them ----------------------------------------------------

class Page(HTMLParser):
    """Every element with its attributes and its text, and the page's scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict[str, Any]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._open: list[dict[str, Any]] = []
        self.feed(html)
        self.close()
        assert self._open == [], "elements left open"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": {k: v or "" for k, v in attrs}, "text": ""}
        self.elements.append(element)
        if tag not in ("meta", "link", "br"):  # the void elements the page has
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append({"tag": tag, "attrs": {k: v or "" for k, v in attrs}, "text": ""})

    def handle_endtag(self, tag: str) -> None:
        if all(element["tag"] != tag for element in self._open):
            raise AssertionError(f"</{tag}> closes no element")
        while self._open:
            element = self._open.pop()
            if element["tag"] == "script":
                self.scripts.append((element["attrs"], element["text"]))
            if element["tag"] == tag:
                break
            raise AssertionError(f"</{tag}> closes <{element['tag']}> too")

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"] += data

    def select(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[dict[str, Any]]:
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and (cls is None or cls in e["attrs"].get("class", "").split())
                and all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def one(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> dict[str, Any]:
        (found,) = self.select(tag, cls, **attrs)
        return found


def plan_data(page: Page) -> dict[str, Any]:
    (text,) = [text for attrs, text in page.scripts if attrs.get("id") == "plan-data"]
    assert "</" not in text
    data: dict[str, Any] = json.loads(text)
    return data


def assert_self_contained(html: str) -> None:
    """Nothing to load: no external URL, no src or href but fragments and the empty data icon."""
    assert "http:" not in html and "https:" not in html
    assert re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]*)""", html) == ["data:,"]
    assert "@import" not in html
    assert set(re.findall(r"url\(([^)]*)\)", html)) <= {"#arrowhead", "#undohead"}


def test_the_page_escapes_every_value_from_the_order_and_the_catalog(shop: Shop) -> None:
    html = shop.dro("view", "ORD-9").stdout
    assert "<script>alert" not in html and "alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#34;&#39;&amp;" in html  # the step title, the lane, the attribute
    assert "ACME &lt;b&gt;&amp;" in html
    assert html.count("<script") == 2  # the data and the page's own script, nothing injected
    page = Page(html)
    titles = [e["text"] for e in page.select("text", "step-title")]
    assert titles[0] == fit(f"Check {EVIL} it", BOX_WIDTH - 16) == "Check <script>alert(1)</sc…"
    assert any(f"Check {EVIL} it" in e["text"] for e in page.select("title"))  # the whole title, as a tooltip
    assert page.one("span", "attribute")["text"] == f"note: {EVIL}"
    assert any(e["text"].startswith("Desk <script>") for e in page.select("text", "lane-title"))
    ids = {e["attrs"]["data-step-id"] for e in page.select(cls="step")}
    assert ids == {f"check[{ITEM}]", f"pack[{ITEM}]", "courier", "done"}  # attributes round-trip exactly
    data = plan_data(page)
    assert data["steps"][f"pack[{ITEM}]"]["outputs"]["label"] == "</script><script>alert(2)</script>"
    assert data["steps"][f"check[{ITEM}]"]["acts"][0]["reason"] == EVIL
    assert data["steps"][f"check[{ITEM}]"]["title"] == f"Check {EVIL} it"


def test_script_json_cannot_end_its_script_element() -> None:
    text = script_json({"a": "</script><!-- <b>", "b": "\u2028"})
    assert "<" not in text
    assert json.loads(text) == {"a": "</script><!-- <b>", "b": "\u2028"}


def test_the_page_is_self_contained_and_has_no_inline_handlers(shop: Shop) -> None:
    html = shop.dro("view", "ORD-9").stdout
    assert_self_contained(html)
    page = Page(html)
    handlers = [(e["tag"], name) for e in page.elements for name in e["attrs"] if name.startswith("on")]
    assert handlers == []
    (script,) = [text for attrs, text in page.scripts if not attrs]
    assert "innerHTML" not in script and "textContent" in script


def test_the_page_has_the_hooks_the_browser_tests_use(shop: Shop) -> None:
    page = Page(shop.dro("view", "ORD-9").stdout)
    assert page.one("h1", None, id="order")["text"] == "ORD-9"
    assert page.one("span", None, id="plan-state")["attrs"]["data-state"] == "in_progress"
    waiting = page.one("div", None, id="waiting")["text"]
    assert "event 'courier.arrived' for courier" in waiting and "the timer at 2026-12-01T12:30:00Z" in waiting
    assert "2/4 steps finished" in page.one("span", None, id="progress")["text"]
    legend = page.select("li", "legend-item")
    assert [e["attrs"]["data-state"] for e in legend] == list(STEP_STATES)
    assert len(page.select("span", "swatch")) == len(STEP_STATES) == 12
    lanes = page.select("g", "lane")
    assert [e["attrs"]["data-lane"] for e in lanes] == ["desk", "ship"]
    assert len(page.select("rect", "lane-bg")) == 2
    steps = {e["attrs"]["data-step-id"]: e["attrs"] for e in page.select("g", "step")}
    assert {sid: (a["data-lane"], a["data-state"], a["data-sla"], a["data-type"]) for sid, a in steps.items()} == {
        f"check[{ITEM}]": ("desk", "completed", "met", "manual"),
        f"pack[{ITEM}]": ("ship", "completed", "", "auto"),
        "courier": ("ship", "on_hold", "", "pause"),
        "done": ("ship", "pending", "", "milestone"),
    }
    edges = {(e["attrs"]["data-from"], e["attrs"]["data-to"]) for e in page.select("path", "edge")}
    assert edges == {(f"check[{ITEM}]", f"pack[{ITEM}]"), (f"pack[{ITEM}]", "courier"), ("courier", "done")}
    assert page.one("text", "step-wait")["text"] == "event courier.arrived or until 2026-12-01 12:30"
    assert page.select(None, "badge") == []
    assert page.select("aside", None, id="details")
    data = plan_data(page)
    courier = data["steps"]["courier"]
    assert (courier["event"], courier["resume_at"], courier["lane_title"]) == (
        "courier.arrived", "2026-12-01T12:30:00Z", "Shipping")
    assert data["steps"][f"check[{ITEM}]"]["ready_at"] == T0


def test_a_box_and_its_legend_swatch_share_one_colour_variable(shop: Shop) -> None:
    html = shop.dro("view", "ORD-9").stdout
    for state in STEP_STATES:
        assert f"--state-{state}: {STATE_COLOURS[state]};" in html
        assert f'.step[data-state="{state}"] .box {{ fill: var(--state-{state});' in html
        assert f'.legend-item[data-state="{state}"] .swatch {{ background-color: var(--state-{state});' in html
    assert len(set(STATE_COLOURS.values())) == len(STEP_STATES)
    assert set(StepState) <= set(STEP_STATES)


def test_fallout_manual_queues_and_sla_badges(lab: Lab) -> None:
    into_fallout(lab, "ORD-1")
    page = Page(lab.dro("view", "ORD-1").stdout)
    (fallout,) = page.select("g", "step", data_step_id="reserve")
    assert fallout["attrs"]["data-state"] == "fatally_failed"
    assert page.one("text", "step-error")["text"] == "✖ StockDown queue stock_fallout"
    assert plan_data(page)["steps"]["reserve"]["error"]["code"] == "StockDown"
    lab.now = T0
    assert lab.start("ORD-2").exit_code == 0  # check waits in its queue: 4h, in jeopardy from 3h
    assert Page(lab.dro("view", "ORD-2").stdout).one("text", "step-queue")["text"] == "queue desk"
    for minutes, sla in ((190, "jeopardy"), (250, "late")):
        lab.now = later(T0, minutes)
        page = Page(lab.dro("view", "ORD-2").stdout)
        assert page.one("g", "step", data_step_id="check")["attrs"]["data-sla"] == sla
        assert page.one("g", f"badge-{sla}")["attrs"]["class"] == f"badge badge-{sla}"
        assert page.one("g", f"badge-{sla}")["text"].strip() == sla


# ---- the command ---------------------------------------------------------------------------------------------

def test_output_file_is_written_atomically(shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dro_cli.journal.files

    writes: list[Path] = []
    real = dro_cli.journal.files.write_atomically

    def spy(path: Path, text: str, *, durable: bool = True) -> None:
        writes.append(path)
        real(path, text, durable=durable)

    monkeypatch.setattr(dro_cli.journal.files, "write_atomically", spy)
    out = tmp_path / "out" / "plan.html"
    out.parent.mkdir()
    result = shop.dro("view", "ORD-9", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == f"Wrote {out} (html, order ORD-9).\n"
    assert writes == [out]
    assert out.read_text(encoding="utf-8") == shop.dro("view", "ORD-9").stdout
    assert [p.name for p in out.parent.iterdir()] == ["plan.html"]  # no temp file left
    graph = tmp_path / "out" / "plan.dot"
    assert shop.dro("view", "ORD-9", "--format", "dot", "-o", str(graph)).exit_code == 0
    assert graph.read_text(encoding="utf-8").startswith('digraph "ORD-9" {')


def test_unknown_order_exits_2_with_did_you_mean_and_writes_nothing(shop: Shop, tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    result = shop.dro("view", "ORD-8", "-o", str(out))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (f"error: no order 'ORD-8' in the state directory {shop.state}\n"
                             "  = help: did you mean 'ORD-9'?\n")
    assert not out.exists()


def test_state_dir_option_and_the_clock(shop: Shop, tmp_path: Path) -> None:
    result = CliRunner(env={"DRO_NOW": "2026-12-02T00:00:00Z"}).invoke(
        cli, ["view", "ORD-9", "--state-dir", str(shop.state)], catch_exceptions=False)
    assert result.exit_code == 0
    assert "as of 2026-12-02T00:00:00Z" in result.stdout


def test_mermaid_has_a_class_per_state(shop: Shop) -> None:
    text = shop.dro("view", "ORD-9", "--format", "mermaid").stdout
    assert text.startswith("flowchart LR\n")
    for state in STEP_STATES:
        assert f"  classDef state_{state} fill:{STATE_COLOURS[state]}," in text
    assert "  class s0,s1 state_completed\n" in text
    assert "  class s2 state_on_hold\n" in text and "  class s3 state_pending\n" in text
    assert '["check[K#lt;1#gt;#quot;\'#amp;]<br/>manual · completed"]' in text
    assert "<script>" not in text and "#lt;script#gt;" in text


def test_dot_has_a_cluster_per_lane_and_quoted_ids_escaped(shop: Shop) -> None:
    text = shop.dro("view", "ORD-9", "--format", "dot").stdout
    assert text.count("subgraph \"cluster_") == 2
    assert 'label="Desk <script>alert(1)</script> \\"\'&";' in text
    assert f'{quoted(f"check[{ITEM}]")} -> {quoted(f"pack[{ITEM}]")};' in text
    assert '"check[K<1>\\"\'&]" [label="check[K<1>\\"\'&]\\nmanual · completed", fillcolor="#86efac"' in text
    assert '"courier" [label="courier\\npause · on_hold", fillcolor="#fde68a"' in text
    assert_balanced_dot(text)


def assert_balanced_dot(text: str) -> None:
    """Every quoted string ends on its line and the braces outside strings balance."""
    depth = 0
    for line in text.splitlines():
        outside = re.sub(r'"(?:[^"\\]|\\.)*"', "", line)
        assert '"' not in outside, line
        depth += outside.count("{") - outside.count("}")
        assert depth >= 0
    assert depth == 0


@pytest.mark.parametrize("text", ["plain", 'a"b', "a\\", "a\\\"", "x\ny", "}\"; evil -> x; \""])
def test_dot_quoting_round_trips(text: str) -> None:
    quoted_text = quoted(text)
    assert re.fullmatch(r'"(?:[^"\\\n]|\\.)*"', quoted_text)
    inner = quoted_text[1:-1]
    assert re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), inner) == text.replace("\r", "")


def test_dot_and_mermaid_without_states_are_all_pending() -> None:
    the_plan = random_plan(random.Random(1), 12)
    assert render_dot(the_plan).count('fillcolor="#e5e7eb"') == 12


# ---- the layout --------------------------------------------------------------------------------------------

LANES = ["intake", "stock", "ship", None]


def random_plan(rng: random.Random, size: int, lanes: int = 4) -> dict[str, Any]:
    """A plan as the planner makes them: steps in plan order, each after some earlier ones, in a few lanes."""
    steps = []
    for i in range(size):
        after = sorted({f"s{j}" for j in rng.sample(range(i), min(i, rng.randint(0, 3)))})
        steps.append({"id": f"s{i}", "step": f"s{i}", "title": f"Step number {i} with a long title", "type":
                      rng.choice(["auto", "manual", "milestone", "pause", "callout"]), "lane":
                      rng.choice(LANES[:lanes]), "scope": "plan", "item": None, "bundle": None, "after": after,
                      "run_as": None, "duration": rng.choice([None, 3600]), "jeopardy": None, "retry": None,
                      "queue": None, "config": {"flow": "m:f"}})
    return {"kind": "dro/plan", "schema_version": 1, "order": "ORD-R", "steps": steps, "endpoints": {},
            "lanes": {"intake": {"title": "Intake"}, "stock": {"title": "Stock"}, "ship": {"title": "Ship"}},
            "context": {"order": {"id": "ORD-R"}, "items": {}, "bundles": {}}}


def assert_layout_invariants(steps: list[Mapping[str, Any]], drawn: Layout) -> None:
    boxes = list(drawn.boxes.values())
    assert [box.step for box in boxes] == [step["id"] for step in steps]
    rows = {row.lane: row for row in drawn.lanes}
    assert len(rows) == len(drawn.lanes)
    for upper, lower in zip(drawn.lanes, drawn.lanes[1:], strict=False):
        assert upper.bottom <= lower.y  # rows do not overlap
    depth = depths(steps)
    for step, box in zip(steps, boxes, strict=True):
        row = rows[step["lane"]]
        assert row.y <= box.y and box.bottom <= row.bottom, (box, row)  # inside its lane's row
        assert box.x >= 0 and box.right <= drawn.width and box.bottom <= drawn.height
        assert (box.width, box.height) == (BOX_WIDTH, BOX_HEIGHT)
        assert box.depth == depth[step["id"]] == 1 + max((depth[d] for d in step["after"]), default=-1)
    by_place = sorted(boxes, key=lambda b: (b.x, b.y))
    for i, a in enumerate(by_place):  # no two boxes overlap (sorted by x: stop once they cannot)
        for b in by_place[i + 1:]:
            if b.x >= a.right:
                break
            assert a.bottom <= b.y or b.bottom <= a.y or a.right <= b.x, (a, b)
    edges = {(edge.source, edge.target) for edge in drawn.edges}
    assert edges == {(dep, step["id"]) for step in steps for dep in step["after"]}
    for edge in drawn.edges:
        start = drawn.boxes[edge.source]
        end = drawn.boxes[edge.target]
        assert edge.path.startswith(f"M{_n(start.right)},{_n(start.y + start.height / 2)} ")
        assert edge.path.endswith(f" {_n(end.x)},{_n(end.y + end.height / 2)}")
        assert start.right < end.x  # arrows run left to right


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 40), st.integers(1, 4))
def test_no_two_boxes_overlap_and_each_lies_in_its_lane(seed: int, size: int, lanes: int) -> None:
    the_plan = random_plan(random.Random(seed), size, lanes)
    drawn = layout(the_plan["steps"], list(dict.fromkeys(s["lane"] for s in the_plan["steps"])))
    assert_layout_invariants(the_plan["steps"], drawn)


def test_a_500_step_plan_lays_out_and_renders_at_its_real_size() -> None:
    the_plan = random_plan(random.Random(500), 500)
    drawn = layout(the_plan["steps"], list(dict.fromkeys(s["lane"] for s in the_plan["steps"])))
    assert_layout_invariants(the_plan["steps"], drawn)
    at = parse_instant(T0)
    html = render_html(the_plan, order_status(OrderView(Path("."), the_plan, Engine(the_plan), None), at), at)
    page = Page(html)
    assert len(page.select("g", "step")) == 500
    assert len(page.select("path", "edge")) == sum(len(s["after"]) for s in the_plan["steps"])
    svg = page.one("svg", None, id="plan")["attrs"]
    assert (float(svg["width"]), float(svg["height"])) == (drawn.width, drawn.height)
    assert_self_contained(html)


def test_steps_of_one_lane_at_one_depth_stack_and_the_row_grows() -> None:
    steps = [{"id": "a", "lane": "x", "after": []}, {"id": "b", "lane": "x", "after": []},
             {"id": "c", "lane": "y", "after": ["a", "b"]}, {"id": "d", "lane": "x", "after": ["c"]}]
    drawn = layout(steps, ["x", "y"])
    a, b, c, d = (drawn.boxes[s] for s in "abcd")
    assert (a.depth, b.depth, c.depth, d.depth) == (0, 0, 1, 2)
    assert (a.slot, b.slot) == (0, 1) and a.x == b.x and b.y > a.bottom
    assert drawn.lanes[0].height > drawn.lanes[1].height
    assert_layout_invariants(steps, drawn)


def test_depth_ignores_unknown_dependencies_and_survives_a_cycle() -> None:
    assert depths([{"id": "a", "after": ["zz"]}, {"id": "b", "after": ["a", "a"]}]) == {"a": 0, "b": 1}
    assert set(depths([{"id": "a", "after": ["b"]}, {"id": "b", "after": ["a"]}])) == {"a", "b"}


def test_labels_are_cut_with_an_ellipsis() -> None:
    assert fit("short", 100) == "short"
    cut = fit("x" * 100, 73)
    assert cut == "x" * 9 + "…" and len(cut) == 10
