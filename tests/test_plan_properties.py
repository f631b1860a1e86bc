"""Plans from random catalogs and random orders keep the rules of DESIGN 4; exact examples of the wiring rule."""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dro_cli.planning.decompose import decompose
from dro_cli.planning.evaluation import holds
from dro_cli.planning.order_model import ACTIONS, Order, OrderItem
from dro_cli.planning.orders import load_order
from dro_cli.planning.planner import PlanResult, instantiate
from dsl import compile_catalog
from dsl.schemas import validator

PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PLAN_SCHEMA = validator("plan")

# ---- random catalogs ----------------------------------------------------------------------------------

# What the random catalogs decompose and match; "PB.2" may meet the "PB.2" that a rule into PB twice makes.
PRODUCTS = ["PA", "PB", "PB.2", "PC", "PD"]
UNKNOWN = ["ZZ-NONE", "PA-LEGACY"]               # products no catalog knows
SCOPES = ["plan", "bundle", "line_item"]
LANES = ["l1", "l2"]
STEP_WHEN = [
    'item.attributes.color == "red"',
    "item.attributes.flag == true",
    'bundle.attributes.color == "blue"',
    "not (bundle.attributes.flag == true)",
    "item.quantity > 1",
    "exists(item.attributes.n)",
    'order.attributes.country == "DE"',
    'item.attributes.color in ["red", "blue"] and bundle.attributes.flag != true',
]
INTO_WHEN = [
    "item.attributes.flag == true",
    'item.attributes.color != "blue"',
    "bundle.attributes.n >= 1",
    'order.attributes.country not in ["US"]',
]


def _scenario_when(draw: st.DrawFn) -> str:
    """A scenario condition: guarded by item.product (==, in, under `and`) or not guarded at all."""
    a, b = draw(st.sampled_from(PRODUCTS)), draw(st.sampled_from(PRODUCTS))
    attribute = draw(st.sampled_from(STEP_WHEN))
    return draw(st.sampled_from([
        f'item.product == "{a}"',
        f'item.product in ["{a}", "{b}"]',
        f'item.product in ["{a}", "{b}", "PD"]',
        f'item.product == "{a}" and {attribute}',
        f'{attribute} and item.product in ["{a}", "{b}", "PA-LEGACY"]',
        f'item.product == "{a}" or {attribute}',
        f'not (item.product == "{a}")',
        f'item.product != "{a}"',
        f'"{a}" == item.product',
        f'item.product == "{a}" and item.product == "{b}"',
        attribute,
    ]))


@st.composite
def catalogs(draw: st.DrawFn) -> dict[str, Any]:
    """A small catalog in the YAML form whose `after` only names earlier steps: acyclic, so it compiles."""
    n_steps = draw(st.integers(1, 7))
    n_groups = draw(st.integers(1, min(3, n_steps)))
    groups: dict[str, dict[str, Any]] = {f"g{g}": {"steps": {}} for g in range(n_groups)}
    for k in range(n_steps):
        step: dict[str, Any] = {"type": draw(st.sampled_from(["milestone", "manual"]))}
        if draw(st.booleans()):
            step["lane"] = draw(st.sampled_from(LANES))
        scope = draw(st.sampled_from([None, *SCOPES]))
        if scope is not None:
            step["scope"] = scope
        if k:
            refs = []
            for j in draw(st.lists(st.integers(0, k - 1), unique=True, min_size=draw(st.integers(0, 1)),
                                   max_size=3)):
                within = draw(st.sampled_from([None, None, *SCOPES]))
                refs.append(f"s{j}" if within is None else {"step": f"s{j}", "within": within})
            if refs:
                step["after"] = refs
        if draw(st.integers(0, 3)) == 0:
            step["when"] = draw(st.sampled_from(STEP_WHEN))
        group = k if k < n_groups else draw(st.integers(0, n_groups - 1))
        groups[f"g{group}"]["steps"][f"s{k}"] = step
    members = [*groups, *(f"s{k}" for k in range(n_steps))]
    scenarios: dict[str, dict[str, Any]] = {}
    for j in range(draw(st.integers(2, 5))):
        scenario: dict[str, Any] = {"when": _scenario_when(draw),
                                    "add": draw(st.lists(st.sampled_from(members), min_size=1, max_size=3,
                                                         unique=True))}
        if draw(st.integers(0, 3)) == 0:
            scenario["actions"] = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, unique=True))
        scenarios[f"sc{j}"] = scenario
    decompositions = []
    for i, product in enumerate(PRODUCTS[:-1]):
        if not draw(st.booleans()):
            continue
        into = []
        # Only into later products: chains (PA -> PB -> PD), never cycles; a product may come twice.
        for target in draw(st.lists(st.sampled_from(PRODUCTS[i + 1:]), min_size=1, max_size=3)):
            rule: dict[str, Any] = {"product": target}
            if draw(st.integers(0, 3)) == 0:
                rule["when"] = draw(st.sampled_from(INTO_WHEN))
            if draw(st.integers(0, 3)) == 0:
                rule["quantity"] = draw(st.sampled_from([2, "item.quantity", "item.attributes.n"]))
            if draw(st.integers(0, 3)) == 0:
                rule["attributes"] = {"color": '"blue"', "n": 2, "origin": "item.product"}
            into.append(rule)
        decompositions.append({"product": product, "into": into})
    return {"lanes": {lane: {} for lane in LANES}, "decompositions": decompositions, "groups": groups,
            "scenarios": scenarios}


def compile_yaml(catalog: Mapping[str, Any]) -> dict[str, Any] | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.dro.yaml"
        path.write_text(yaml.safe_dump(dict(catalog), sort_keys=False), encoding="utf-8")
        return compile_catalog([path]).templates


# ---- random orders ------------------------------------------------------------------------------------

ATTRIBUTES = st.fixed_dictionaries({}, optional={
    "color": st.sampled_from(["red", "blue", "green"]),
    "flag": st.booleans(),
    "n": st.integers(0, 3),
})


@st.composite
def orders(draw: st.DrawFn) -> Order:
    """Items with known and unknown products; a parent is always an earlier item, so bundles have no cycle."""
    items: list[OrderItem] = []
    for i in range(draw(st.integers(1, 10))):
        parent = draw(st.none() | st.sampled_from([it.id for it in items])) if items else None
        items.append(OrderItem(
            id=f"I{i}",
            product=draw(st.sampled_from(PRODUCTS) | st.sampled_from(UNKNOWN)),
            quantity=draw(st.integers(1, 3)),
            action=draw(st.sampled_from(["add", "add", "add", "add", "change", "delete"])),
            attributes=draw(ATTRIBUTES),
            parent=parent,
        ))
    country = draw(st.sampled_from([None, "DE", "US"]))
    return Order("ORD-1", "ACME", tuple(items), {} if country is None else {"country": country})


# ---- what every plan must satisfy ---------------------------------------------------------------------

def scope_key(instance: Mapping[str, Any]) -> tuple[str, str | None]:
    """What makes an instance of a step unique: nothing (plan), its bundle, its line item."""
    return {"plan": (instance["step"], None), "bundle": (instance["step"], instance["bundle"]),
            "line_item": (instance["step"], instance["item"])}[instance["scope"]]


def topological_order(steps: Sequence[Mapping[str, Any]]) -> list[str]:
    """The instance ids in an order that respects `after` (Kahn); fails on a cycle."""
    waiting = {s["id"]: len(s["after"]) for s in steps}
    unlocks: dict[str, list[str]] = {s["id"]: [] for s in steps}
    for s in steps:
        for dep in s["after"]:
            unlocks[dep].append(s["id"])
    ready = [i for i, n in waiting.items() if n == 0]
    done = []
    while ready:
        current = ready.pop()
        done.append(current)
        for nxt in unlocks[current]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
    assert len(done) == len(steps), f"the plan has a cycle among {sorted(set(waiting) - set(done))}"
    return done


def check_plan(templates: Mapping[str, Any], result: PlanResult) -> None:
    plan = result.plan
    assert [e.message for e in PLAN_SCHEMA.iter_errors(plan)] == []
    steps = plan["steps"]
    ids = [s["id"] for s in steps]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    by_id = {s["id"]: s for s in steps}
    for s in steps:
        assert s["scope"] == templates["steps"][s["step"]]["scope"]
        expected_id = {"plan": s["step"], "bundle": f"{s['step']}[{s['bundle']}]",
                       "line_item": f"{s['step']}[{s['item']}]"}[s["scope"]]
        assert s["id"] == expected_id
        assert (s["bundle"] is None) == (s["scope"] == "plan")
        assert (s["item"] is None) == (s["scope"] != "line_item")
        if s["item"] is not None:
            assert s["item"] in plan["context"]["items"]
            assert plan["context"]["items"][s["item"]]["bundle"] == s["bundle"]
        if s["bundle"] is not None:
            assert s["bundle"] in plan["context"]["bundles"]
        template_after = {d["step"] for d in templates["steps"][s["step"]]["after"]}
        for dep in s["after"]:
            assert dep in by_id, f"{s['id']} runs after {dep}, which the plan does not have"
            assert by_id[dep]["step"] in template_after, f"{s['id']} -> {dep} is no edge of the templates"
    keys = Counter(scope_key(s) for s in steps)
    assert [k for k, n in keys.items() if n > 1] == []
    topological_order(steps)


def expected_instances(templates: Mapping[str, Any], order: Order) -> tuple[set[tuple[Any, ...]], list[str]]:
    """By brute force: every scenario against every fulfillment item, no index. (step, item, bundle) triples."""
    items = decompose(order, templates["decompositions"]).items
    bundles = {i.id: i.as_context() for i in order.items}
    found: set[tuple[Any, ...]] = set()
    unmatched = []
    for item in items:
        context = {"order": order.as_context(), "item": item.as_context(), "bundle": bundles[item.bundle]}
        matching = [s for s in templates["scenarios"].values()
                    if item.action in s["actions"] and holds(s["when"], context)]
        if not matching:
            unmatched.append(item.id)
        for scenario in matching:
            for step_id in scenario["steps"]:
                step = templates["steps"][step_id]
                if holds(step["when"], context):
                    scope = step["scope"]
                    found.add((step_id, item.id if scope == "line_item" else None,
                               item.bundle if scope != "plan" else None))
    return found, unmatched


def expected_after(templates: Mapping[str, Any], steps: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """DESIGN 4 read literally, over the plan's own instances: same line item, else bundle, else plan."""
    out = {}
    for a in steps:
        ids: set[str] = set()
        for dependency in templates["steps"][a["step"]]["after"]:
            of_b = [b for b in steps if b["step"] == dependency["step"]]
            same_item = [b for b in of_b if a["item"] is not None and b["item"] == a["item"]]
            same_bundle = [b for b in of_b if a["bundle"] is not None and b["bundle"] == a["bundle"]]
            chosen = {"line_item": same_item, "bundle": same_bundle, "plan": of_b,
                      None: same_item or same_bundle or of_b}[dependency["within"]]
            ids.update(b["id"] for b in chosen)
        out[a["id"]] = sorted(ids)
    return out


@PROPERTIES
@given(catalogs(), orders(), st.randoms(use_true_random=False))
def test_random_plans_keep_the_rules(catalog: dict[str, Any], order: Order, rng: random.Random) -> None:
    templates = compile_yaml(catalog)
    assume(templates is not None)
    assert templates is not None
    result = instantiate(templates, order)
    check_plan(templates, result)

    plan_instances = {(s["step"], s["item"], s["bundle"]) for s in result.plan["steps"]}
    instances, unmatched = expected_instances(templates, order)
    assert plan_instances == instances
    assert [i.id for i in result.unmatched] == unmatched
    assert {s["id"]: s["after"] for s in result.plan["steps"]} == expected_after(templates, result.plan["steps"])
    position = {step: i for i, step in enumerate(templates["order"])}
    assert [(position[s["step"]], s["id"]) for s in result.plan["steps"]] == \
        sorted((position[s["step"]], s["id"]) for s in result.plan["steps"])

    again = instantiate(templates, order)
    assert again.plan == result.plan
    assert again.unmatched == result.unmatched

    names = list(templates["scenarios"])
    rng.shuffle(names)
    shuffled = {**templates, "scenarios": {name: templates["scenarios"][name] for name in names}}
    assert instantiate(shuffled, order).plan == result.plan


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs())
def test_random_catalogs_compile(catalog: dict[str, Any]) -> None:
    """The generator is meant to make catalogs that compile; a failure here means the properties test little."""
    assert compile_yaml(catalog) is not None


# ---- exact examples -----------------------------------------------------------------------------------

WIRING = """
groups:
  g:
    steps:
      prep:      {type: milestone, scope: line_item}
      work:      {type: milestone, scope: line_item, after: [prep]}
      w_plan:    {type: milestone, scope: line_item, after: [{step: prep, within: plan}]}
      w_bundle:  {type: milestone, scope: line_item, after: [{step: prep, within: bundle}]}
      w_item:    {type: milestone, scope: line_item, after: [{step: prep, within: line_item}]}
      pack:      {type: milestone, scope: bundle, after: [prep]}
      credit:    {type: milestone, scope: plan}
      done:      {type: milestone, scope: plan, after: [work, pack, credit, {step: prep, within: bundle}]}
      ghost:     {type: milestone, scope: line_item}
      haunted:   {type: milestone, scope: line_item, after: [ghost]}
      express:   {type: milestone, scope: line_item, when: item.attributes.express == true}
scenarios:
  x:      {when: 'item.product == "X"', add: [prep, work, w_plan, w_bundle, w_item, pack, credit, done, express]}
  y:      {when: 'item.product in ["Y", "Z"]', add: [work, w_plan, w_bundle, w_item, pack, credit, haunted]}
  never:  {when: 'item.product == "NEVER"', add: [ghost]}
  also_y: {when: 'item.product == "Y"', add: [credit, pack]}
"""

# Bundle B1: I1 (X), I2 (Y), I4 (X); bundle B2: I3 (Y), no X at all; I5 (UNKNOWN) in B2.
WIRING_ORDER = Order("ORD-W", "ACME", (
    OrderItem("I1", "X", attributes={"express": True}),
    OrderItem("I2", "Y", parent="I1"),
    OrderItem("I3", "Y"),
    OrderItem("I4", "X", parent="I2"),
    OrderItem("I5", "UNKNOWN", parent="I3"),
))


def templates_of(catalog_dir: Any, text: str) -> dict[str, Any]:
    result = compile_catalog([catalog_dir({"catalog.dro.yaml": text})])
    assert result.templates is not None, [d.summary for d in result.diagnostics]
    return result.templates


def plan_of(catalog_dir: Any, text: str, order: Order) -> tuple[dict[str, list[str]], PlanResult]:
    templates = templates_of(catalog_dir, text)
    result = instantiate(templates, order)
    check_plan(templates, result)
    return {s["id"]: s["after"] for s in result.plan["steps"]}, result


def test_wiring_prefers_the_line_item_then_the_bundle_then_the_plan(catalog_dir: Any) -> None:
    after, _ = plan_of(catalog_dir, WIRING, WIRING_ORDER)
    assert after["work[I1]"] == ["prep[I1]"]                      # same line item
    assert after["work[I4]"] == ["prep[I4]"]
    assert after["work[I2]"] == ["prep[I1]", "prep[I4]"]          # no prep for I2: its bundle's
    assert after["work[I3]"] == ["prep[I1]", "prep[I4]"]          # none in bundle I3: the plan's
    assert after["pack[I1]"] == ["prep[I1]", "prep[I4]"]          # a bundle instance: its bundle's
    assert after["pack[I3]"] == ["prep[I1]", "prep[I4]"]
    assert after["done"] == ["credit", "pack[I1]", "pack[I3]", "work[I1]", "work[I2]", "work[I3]", "work[I4]"]


def test_within_forces_the_level(catalog_dir: Any) -> None:
    after, _ = plan_of(catalog_dir, WIRING, WIRING_ORDER)
    assert after["w_plan[I1]"] == ["prep[I1]", "prep[I4]"]        # not only its own item's
    assert after["w_plan[I3]"] == ["prep[I1]", "prep[I4]"]
    assert after["w_bundle[I1]"] == ["prep[I1]", "prep[I4]"]
    assert after["w_bundle[I3]"] == []                            # none in its bundle: dropped, no fall-back
    assert after["w_item[I1]"] == ["prep[I1]"]
    assert after["w_item[I2]"] == []                              # none on its line item: dropped
    assert "prep[I1]" not in after["done"]                        # a plan instance has no bundle


def test_an_edge_to_a_step_without_instances_is_dropped(catalog_dir: Any) -> None:
    after, _ = plan_of(catalog_dir, WIRING, WIRING_ORDER)
    assert after["haunted[I2]"] == [] and after["haunted[I3]"] == []
    assert not any(i.startswith("ghost") for i in after)


def test_duplicates_collapse(catalog_dir: Any) -> None:
    after, _ = plan_of(catalog_dir, WIRING, WIRING_ORDER)
    # credit: plan scope, added by three scenarios for four items; pack: one per bundle, by two scenarios.
    assert sorted(i for i in after if i.split("[")[0] in ("credit", "pack")) == ["credit", "pack[I1]", "pack[I3]"]


def test_a_step_whose_when_is_false_is_not_created(catalog_dir: Any) -> None:
    after, _ = plan_of(catalog_dir, WIRING, WIRING_ORDER)
    assert [i for i in after if i.startswith("express")] == ["express[I1]"]


def test_an_item_no_scenario_matches_is_unmatched(catalog_dir: Any) -> None:
    after, result = plan_of(catalog_dir, WIRING, WIRING_ORDER)
    assert [(i.id, i.product, i.bundle) for i in result.unmatched] == [("I5", "UNKNOWN", "I3")]
    assert not any("I5" in i for i in after)
    assert "I5" in result.plan["context"]["items"]


def test_scenario_actions_filter(catalog_dir: Any) -> None:
    text = """
groups:
  g:
    steps:
      adding:   {type: milestone, scope: line_item}
      changing: {type: milestone, scope: line_item}
scenarios:
  add:    {when: 'item.product == "X"', add: [adding]}
  change: {when: 'item.product == "X"', add: [changing], actions: [change, delete]}
"""
    order = Order("O", "A", (OrderItem("I1", "X"), OrderItem("I2", "X", action="change"),
                             OrderItem("I3", "X", action="delete")))
    after, result = plan_of(catalog_dir, text, order)
    assert sorted(after) == ["adding[I1]", "changing[I2]", "changing[I3]"]
    assert result.unmatched == []


DECOMPOSITION = """
decompositions:
  - product: BUNDLE
    into:
      - product: IPTV
      - product: ROUTER
        when: item.attributes.wifi == true
      - product: IPTV
  - product: IPTV
    into:
      - product: TV-BOX
        quantity: item.attributes.boxes
        attributes: {tier: '"gold"', region: '"EU"', was: item.attributes.tier, boxes: 1}
      - product: SMARTCARD
        quantity: 2
groups:
  g:
    steps:
      ship: {type: milestone, scope: line_item}
scenarios:
  all: {when: 'item.product in ["TV-BOX", "SMARTCARD", "ROUTER"]', add: [ship]}
"""


def test_chained_decomposition_ids(catalog_dir: Any) -> None:
    order = Order("O", "A", (OrderItem("B1", "BUNDLE", attributes={"boxes": 3, "tier": "basic", "color": "red"}),
                             OrderItem("B2", "IPTV", parent="B1", attributes={"boxes": 1})))
    after, result = plan_of(catalog_dir, DECOMPOSITION, order)
    items = result.plan["context"]["items"]
    assert list(items) == ["B1/IPTV/TV-BOX", "B1/IPTV/SMARTCARD", "B1/IPTV.2/TV-BOX", "B1/IPTV.2/SMARTCARD",
                           "B2/TV-BOX", "B2/SMARTCARD"]
    assert {(i["bundle"], i["source"]) for i in items.values() if i["id"].startswith("B1/")} == {("B1", "B1")}
    assert (items["B2/TV-BOX"]["bundle"], items["B2/TV-BOX"]["source"]) == ("B1", "B2")
    assert "ship[B1/IPTV/TV-BOX]" in after and "ship[B1/IPTV.2/SMARTCARD]" in after
    assert result.unmatched == [] and result.diagnostics == []


def test_decomposition_attributes_merge_over_the_copied_ones(catalog_dir: Any) -> None:
    order = Order("O", "A", (OrderItem("B1", "BUNDLE", attributes={"boxes": 3, "tier": "basic", "color": "red"}),))
    _, result = plan_of(catalog_dir, DECOMPOSITION, order)
    items = result.plan["context"]["items"]
    # Copied from B1 (through B1/IPTV), then the rule's mapping, evaluated against the parent, on top.
    assert items["B1/IPTV/TV-BOX"]["attributes"] == {"boxes": 1, "tier": "gold", "color": "red", "region": "EU",
                                                     "was": "basic"}
    assert items["B1/IPTV/SMARTCARD"]["attributes"] == {"boxes": 3, "tier": "basic", "color": "red"}


def test_decomposition_quantity_and_when(catalog_dir: Any) -> None:
    order = Order("O", "A", (OrderItem("B1", "BUNDLE", quantity=5, attributes={"boxes": 3, "wifi": True}),))
    _, result = plan_of(catalog_dir, DECOMPOSITION, order)
    quantities = {i["id"]: i["quantity"] for i in result.plan["context"]["items"].values()}
    assert quantities == {"B1/IPTV/TV-BOX": 3, "B1/IPTV/SMARTCARD": 2, "B1/ROUTER": 5,   # copied by default
                          "B1/IPTV.2/TV-BOX": 3, "B1/IPTV.2/SMARTCARD": 2}


def test_a_bad_decomposition_quantity_is_a_diagnostic(catalog_dir: Any) -> None:
    order = Order("O", "A", (OrderItem("B1", "IPTV", attributes={"boxes": 0}),))
    _, result = plan_of(catalog_dir, DECOMPOSITION, order)
    assert [d.code for d in result.diagnostics] == ["DRO506"]
    assert list(result.plan["context"]["items"]) == ["B1/SMARTCARD"]


@pytest.mark.parametrize("catalog", ["laptop", "fiber"])
def test_example_catalogs_give_valid_plans(catalog: str) -> None:
    root = Path(__file__).resolve().parents[1] / "catalogs" / catalog
    templates = compile_catalog([root]).templates
    assert templates is not None
    for path in sorted(p for p in (root / "orders").iterdir() if p.suffix in (".yaml", ".json")):
        order = load_order(path).order  # TMF622 samples too
        assert order is not None, path.name
        result = instantiate(templates, order)
        check_plan(templates, result)
        assert result.plan["steps"], path.name


def test_a_product_named_twice_gets_numbered_ids(catalog_dir: Any) -> None:
    text = """
decompositions:
  - product: PA
    into: [{product: PB}, {product: PB}, {product: PB.2}]
groups:
  g:
    steps:
      ship: {type: milestone, scope: line_item}
scenarios:
  b: {when: 'item.product in ["PB", "PB.2"]', add: [ship]}
"""
    after, result = plan_of(catalog_dir, text, Order("O", "A", (OrderItem("I1", "PA"),)))
    items = result.plan["context"]["items"]
    assert {i: items[i]["product"] for i in items} == {"I1/PB": "PB", "I1/PB.2": "PB", "I1/PB.2.2": "PB.2"}
    assert sorted(after) == ["ship[I1/PB.2.2]", "ship[I1/PB.2]", "ship[I1/PB]"]
