"""Order files: loaded into an Order with defaults, or rejected with every problem located."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from goldens import CATALOGS, ROOT
from helpers import mutate, source_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dro_cli.planning.order_model import Order, OrderItem
from dro_cli.planning.orders import OrderResult, load_order
from dsl.codes import CODES
from dsl.diagnostics import Diagnostic, Span
from dsl.limits import MAX_DEPTH
from dsl.schemas import fast_check, load_schema, validator

SAMPLES = sorted(p for p in CATALOGS.glob("*/orders/*") if p.suffix in (".yaml", ".yml", ".json"))
INVALID_ORDERS = sorted(p for p in (ROOT / "tests" / "cases" / "invalid-orders").iterdir() if p.is_dir())


def write(tmp_path: Path, text: str | bytes, name: str = "order.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str | bytes, name: str = "order.yaml") -> OrderResult:
    return load_order(write(tmp_path, text, name))


def codes(result: OrderResult) -> list[str]:
    return [d.code for d in result.diagnostics]


def only(result: OrderResult, code: str) -> Diagnostic:
    assert codes(result) == [code], [(d.code, d.summary) for d in result.diagnostics]
    assert result.order is None
    return result.diagnostics[0]


def located(result: OrderResult, where: Diagnostic | Span | None) -> str:
    """The text a diagnostic or a span points at."""
    span = where.span if isinstance(where, Diagnostic) else where
    assert span is not None
    return source_of(result.sources.texts[span.file], span)


def order_yaml(*items: str, head: str = "") -> str:
    lines = ["order:", "  id: ORD-1", "  account: ACME", *head.splitlines(), "  items:"]
    return "\n".join(lines + [f"    - {item}" for item in items]) + "\n"


# ---- good orders ------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_sample_order_loads_cleanly(path: Path) -> None:
    result = load_order(path)
    assert result.diagnostics == []
    assert isinstance(result.order, Order) and result.ok
    assert result.order.items and all(isinstance(i, OrderItem) for i in result.order.items)


def test_the_design_example_becomes_an_order_with_defaults() -> None:
    result = load_order(CATALOGS / "laptop" / "orders" / "ORD-1001.yaml")
    assert result.order == Order(
        id="ORD-1001", account="ACME-CORP", attributes={"country": "DE"}, requested_date=None,
        items=(OrderItem("L1", "LAPTOP-BUNDLE", 2, "add", {"onsite_setup": True}, None),
               OrderItem("L2", "WARRANTY-3Y", 1, "add", {}, "L1")))
    assert result.order.bundle_roots()["L2"] == "L1"


def test_defaults_apply_to_everything_left_out(tmp_path: Path) -> None:
    order = load(tmp_path, order_yaml("{id: L1, product: P}")).order
    assert order is not None
    assert (order.attributes, order.requested_date) == ({}, None)
    assert order.items == (OrderItem(id="L1", product="P", quantity=1, action="add", attributes={}, parent=None),)


def test_yaml_dates_stay_text(tmp_path: Path) -> None:
    for written in ("2026-12-07", "2026-12-07T09:30:00Z", "2026-12-07 09:30:00+01:00", '"2026-12-07T09:30"'):
        order = load(tmp_path, order_yaml("{id: L1, product: P}", head=f"  requested_date: {written}")).order
        assert order is not None and order.requested_date == written.strip('"')


def test_json_and_yaml_give_the_same_order(tmp_path: Path) -> None:
    data = yaml.safe_load((CATALOGS / "laptop" / "orders" / "ORD-1003.yaml").read_text(encoding="utf-8"))
    from_yaml = load(tmp_path, yaml.safe_dump(data), "a.yaml").order
    from_json = load(tmp_path, json.dumps(data, indent=2), "a.json").order
    assert from_yaml is not None and from_yaml == from_json


def test_json_escapes_surrogate_pairs_and_numbers_are_json(tmp_path: Path) -> None:
    text = ('{"order": {"id": "ORD-\\u00e9", "account": "A\\/B \\ud83d\\ude00", "items": [{"id": "L1", '
            '"product": "P", "quantity": 1.5e3, "attributes": {"port": "OLT\\/1", "w": 2e-1}}]}}')
    order = load(tmp_path, text, "order.json").order
    assert order is not None
    assert (order.id, order.account) == ("ORD-é", "A/B \U0001f600")
    assert order.items[0].quantity == 1500 and isinstance(order.items[0].quantity, int)
    assert order.items[0].attributes == {"port": "OLT/1", "w": 0.2}


def test_spans_after_a_surrogate_pair_stay_in_place(tmp_path: Path) -> None:
    text = ('{"order": {"id": "ORD-1", "account": "\\ud83d\\ude00", '
            '"items": [{"id": "L1", "product": "P", "quantity": 0}]}}')
    result = load(tmp_path, text, "order.json")
    assert located(result, only(result, "DRO208")) == "0"


def test_json_written_by_python_loads(tmp_path: Path) -> None:
    data = {"order": {"id": "ORD-1", "account": "Zoë 🚚", "items": [{"id": "L1", "product": "P",
                                                                      "attributes": {"note": "a\tb\\c\"d/e"}}]}}
    order = load(tmp_path, json.dumps(data), "order.json").order
    assert order is not None and order.account == "Zoë 🚚" and order.items[0].attributes["note"] == "a\tb\\c\"d/e"


def test_item_span_points_at_an_item_or_one_of_its_fields(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L1, product: P}", "{id: L2, product: WARRANTY, parent: L1}"))
    assert result.order is not None
    assert located(result, result.item_span("L2", "product")) == "WARRANTY"
    assert located(result, result.item_span("L1")) == "{id: L1, product: P}"
    assert result.item_span("L9") is None


# ---- the checks of DRO5xx -----------------------------------------------------------------


def test_duplicate_item_id_names_both_places(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L1, product: A}", "{id: L2, product: B}", "{id: L1, product: C}",
                                       "{id: L1, product: D}"))
    first, second = result.diagnostics
    assert codes(result) == ["DRO501", "DRO501"] and result.order is None
    assert first.summary == "duplicate item id 'L1'"
    assert first.span is not None and (first.span.line, first.span.col) == (7, 12)
    assert second.span is not None and second.span.line == 8
    assert first.detail is not None and "line 5" in first.detail and "Item 1" in first.detail
    assert located(result, first) == "L1"


def test_unknown_parent_suggests_the_nearest_item(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: B1, product: A}", "{id: B1W, product: W, parent: B01}"))
    d = only(result, "DRO502")
    assert d.summary == "unknown parent item 'B01'" and d.hint == "did you mean 'B1'?"
    assert located(result, d) == "B01"
    assert d.detail == "Item 'B1W' belongs to 'B01', but the order has no item 'B01'."


def test_unknown_parent_without_a_near_id_lists_the_items(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: B1, product: A}", "{id: C1, product: W, parent: ZZZ}"))
    assert only(result, "DRO502").hint == "the items of this order are 'B1', 'C1'"


def test_parent_cycle_is_named_and_located(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L2, product: A, parent: L3}", "{id: L1, product: A, parent: L2}",
                                       "{id: L3, product: A, parent: L1}", "{id: R, product: A}"))
    d = only(result, "DRO503")
    assert d.summary == "parent cycle: L1 -> L2 -> L3 -> L1"
    assert d.span is not None and d.span.line == 6 and located(result, d) == "L2"


def test_an_item_that_is_its_own_parent(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L1, product: A}", "{id: L2, product: B, parent: L2}"))
    d = only(result, "DRO503")
    assert d.summary == "item 'L2' is its own parent" and located(result, d) == "L2"


def test_nested_bundles_are_fine(tmp_path: Path) -> None:
    order = load(tmp_path, order_yaml("{id: M, product: A, parent: D}", "{id: D, product: B, parent: L}",
                                      "{id: L, product: C}")).order
    assert order is not None and order.bundle_roots()["M"] == "L"


def test_every_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    text = order_yaml("{id: L1, product: A, quantity: 0}", "{id: L1, product: B, action: remove}",
                      "{id: L3, product: C, parent: L4}", "{id: L5, product: D, parent: L5}",
                      "{id: L6, prodct: E}", head="  requested_date: 2026-02-30")
    result = load(tmp_path, text)
    assert sorted(codes(result)) == ["DRO201", "DRO202", "DRO205", "DRO208", "DRO208", "DRO501", "DRO502",
                                     "DRO503"]
    lines = [d.span.line for d in result.diagnostics if d.span is not None]
    assert lines == sorted(lines) and result.order is None


# ---- schema problems, worded for orders ------------------------------------------------


def test_unknown_item_attribute_suggests_the_right_one(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L1, product: A, quantiy: 2}"))
    d = only(result, "DRO201")
    assert (d.summary, d.hint, located(result, d)) == ("unknown attribute 'quantiy'", "did you mean 'quantity'?",
                                                       "quantiy")
    assert d.detail == "Item 'L1' has no attribute 'quantiy'."


def test_unknown_order_attribute_and_section(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L1, product: A}", head="  acount: X"))
    assert {(d.code, d.summary, d.hint) for d in result.diagnostics} >= {
        ("DRO201", "unknown attribute 'acount'", "did you mean 'account'?")}
    result = load(tmp_path, "orders:\n  id: X\n")
    assert [(d.code, d.hint) for d in result.diagnostics] == [("DRO201", "did you mean 'order'?"),
                                                              ("DRO202", "add `order: ...`")]


def test_quantity_zero(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L1, product: A, quantity: 0}"))
    d = only(result, "DRO208")
    assert (d.summary, d.detail, located(result, d)) == ("quantity must be at least 1", "In item 'L1'.", "0")


def test_quantity_as_text_or_fraction(tmp_path: Path) -> None:
    assert only(load(tmp_path, order_yaml('{id: L1, product: A, quantity: "2"}')), "DRO203").summary == (
        "quantity should be a whole number, not the text '2'")
    only(load(tmp_path, order_yaml("{id: L1, product: A, quantity: 1.5}")), "DRO203")


def test_bad_action(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L1, product: A, action: remove}"))
    d = only(result, "DRO205")
    assert d.summary == "'remove' is not a valid action"
    assert d.detail == "An action is one of: add, change, delete, no_change."
    assert located(result, d) == "remove"
    assert only(load(tmp_path, order_yaml("{id: L1, product: A, action: chnage}")), "DRO205").hint == (
        "did you mean 'change'?")


def test_missing_fields_name_their_owner(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L1, product: A}", "{product: B}", "{id: L3}"))
    assert [(d.code, d.summary, d.hint) for d in result.diagnostics] == [
        ("DRO202", "item 2 needs 'id'", "add `id: ...`"), ("DRO202", "item 'L3' needs 'product'", "add `product: ...`")]
    assert located(result, result.diagnostics[0]) == "{product: B}"
    result = load(tmp_path, "order:\n  id: ORD-1\n  items: [{id: L1, product: A}]\n")
    d = only(result, "DRO202")
    assert (d.summary, located(result, d)) == ("the order needs 'account'", "order")


@pytest.mark.parametrize(("value", "code"), [
    ("L1/A", "DRO206"), ('"L 1"', "DRO206"), ('""', "DRO206"), ("7", "DRO206"), ('"L1\\n"', "DRO206")])
def test_bad_item_ids(tmp_path: Path, value: str, code: str) -> None:
    d = only(load(tmp_path, order_yaml(f"{{id: {value}, product: A}}")), code)
    assert d.hint is not None and "ITEM/PRODUCT" in d.hint


@pytest.mark.parametrize("value", ["ORD/1", '"ORD 1"', ".hidden", "..", '"ORD\\\\1"', '"ORD\\t1"'])
def test_bad_order_ids(tmp_path: Path, value: str) -> None:
    result = load(tmp_path, f"order: {{id: {value}, account: A, items: [{{id: L1, product: P}}]}}\n")
    d = only(result, "DRO206")
    assert d.detail == "The id of the order is not a valid id."


def test_a_number_as_id_says_to_quote_it(tmp_path: Path) -> None:
    d = only(load(tmp_path, "order: {id: 1001, account: A, items: [{id: L1, product: P}]}\n"), "DRO206")
    assert d.summary == "id should be text, not the number 1001" and d.hint is not None and '"1001"' in d.hint


def test_requested_date_form_and_reality(tmp_path: Path) -> None:
    bad_form = only(load(tmp_path, order_yaml("{id: L1, product: A}", head="  requested_date: next week")),
                    "DRO208")
    assert bad_form.summary == "'next week' is not a valid requested date"
    for unreal in ("2026-02-30", "2026-13-01", "2026-12-07T24:00", "2026-12-07T10:00+25:00"):
        d = only(load(tmp_path, order_yaml("{id: L1, product: A}", head=f"  requested_date: '{unreal}'")),
                 "DRO208")
        assert d.summary == f"'{unreal}' is not a real date"


def test_items_must_be_a_non_empty_list(tmp_path: Path) -> None:
    assert only(load(tmp_path, "order: {id: O, account: A, items: []}\n"), "DRO208").summary == (
        "items must not be empty")
    assert only(load(tmp_path, "order: {id: O, account: A, items: {id: L1}}\n"), "DRO203").summary == (
        "items should be a list, not a map")


def test_non_finite_numbers_are_refused(tmp_path: Path) -> None:
    result = load(tmp_path, order_yaml("{id: L1, product: A, attributes: {w: .inf}}", head="  attributes: {x: .nan}"))
    assert codes(result) == ["DRO511", "DRO511"]
    assert [located(result, d) for d in result.diagnostics] == [".nan", ".inf"]
    text = '{"order": {"id": "O", "account": "A", "attributes": {"x": NaN}, "items": [{"id": "L", "product": "P"}]}}'
    result = load(tmp_path, text, "order.json")
    assert only(result, "DRO511").summary == "x is out of range: NaN is not a number"


# ---- files that are not orders ------------------------------------------------------------


@pytest.mark.parametrize(("text", "summary"), [
    ("", "the order file is empty"),
    ("# nothing yet\n\n", "the order file is empty"),
    ("- {id: L1, product: A}\n", "an order file must be a map with the key 'order'"),
    ("hello\n", "an order file must be a map with the key 'order'"),
    ("null\n", "an order file must be a map with the key 'order'"),
])
def test_files_that_hold_no_order(tmp_path: Path, text: str, summary: str) -> None:
    d = only(load(tmp_path, text), "DRO505")
    assert d.summary == summary and d.hint is not None and "docs/orders.md" in d.hint


@pytest.mark.parametrize(("text", "name"), [("", "o.json"), ("  \n", "o.json"), ("[1]", "o.json"), ('"x"', "o.json")])
def test_json_files_that_hold_no_order(tmp_path: Path, text: str, name: str) -> None:
    only(load(tmp_path, text, name), "DRO505")


def test_deep_nesting_is_refused_before_it_is_built(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for text, name in ((f'{{"order": {deep}}}', "o.json"), (f"order: {deep}\n", "o.yaml"),
                       ("order:\n  x:\n    " + "- " * (MAX_DEPTH + 5) + "x\n", "o.yaml")):
        d = only(load(tmp_path, text, name), "DRO006")
        assert str(MAX_DEPTH) in d.summary


def test_deep_json_that_yaml_cannot_scan_is_refused_too(tmp_path: Path) -> None:
    text = '{"note": "\\ud800", "order": ' + "[" * 3000 + "]" * 3000 + "}"
    assert str(MAX_DEPTH) in only(load(tmp_path, text, "o.json"), "DRO006").summary


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    only(load_order(tmp_path), "DRO505")
    assert only(load_order(tmp_path / "nope.yaml"), "DRO001").summary.endswith("does not exist")


def test_json_syntax_errors_are_located(tmp_path: Path) -> None:
    result = load(tmp_path, '{\n  "order": {\n    "id": "O",\n    "account": "A"\n    "items": []\n  }\n}\n', "o.json")
    d = only(result, "DRO106")
    assert d.summary == "invalid JSON: Expecting ',' delimiter"
    assert d.span is not None and (d.span.line, d.span.col) == (5, 5)
    trailing = only(load(tmp_path, '{"order": {"id": "O",}}', "o.json"), "DRO106")
    assert trailing.span is not None and trailing.span.col == 22


def test_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    text = '{"order": {"id": "O", "account": "\\ud83d", "items": [{"id": "L", "product": "P"}]}}'
    d = only(load(tmp_path, text, "o.json"), "DRO106")
    assert d.summary.startswith("cannot read this JSON")


def test_yaml_loader_problems_speak_of_orders(tmp_path: Path) -> None:
    two = only(load(tmp_path, "order: {id: A}\n---\norder: {id: B}\n"), "DRO108")
    assert two.hint == "one order per file: put each order in a file of its own"
    tag = only(load(tmp_path, "order: !include other.yaml\n"), "DRO108")
    assert tag.hint is not None and "order files" in tag.hint
    result = load(tmp_path, order_yaml("{id: L1, product: A, product: B}"))
    assert codes(result) == ["DRO107"]
    d = only(load(tmp_path, "order:\n\tid: A\n"), "DRO106")
    assert d.hint == "indent with spaces, not tabs"


def test_a_json_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = '{"order": {"id": "O", "id": "P", "account": "A", "items": [{"id": "L", "product": "P"}]}}'
    assert codes(load(tmp_path, text, "o.json")) == ["DRO107"]


def test_not_utf8(tmp_path: Path) -> None:
    d = only(load(tmp_path, "order:\n  id: ORD-1\n  account: Caf\xe9\n".encode("latin-1")), "DRO002")
    assert d.span is not None and (d.span.line, d.span.col) == (3, 15)


# ---- the schema itself, and the cases for the goldens -------------------------------------


def test_the_schema_is_2020_12_package_data_the_fast_checker_compiles() -> None:
    schema = load_schema("order")
    assert schema["$schema"].endswith("2020-12/schema")
    smallest = {"order": {"id": "O", "account": "A", "items": [{"id": "L", "product": "P"}]}}
    assert fast_check("order")(smallest) and validator("order").is_valid(smallest)


@pytest.mark.parametrize("case", INVALID_ORDERS, ids=lambda p: p.name)
def test_each_invalid_order_reports_its_own_code(case: Path) -> None:
    code = case.name.split("-")[0].upper()
    order = next(p for p in sorted(case.iterdir()) if p.name != "expected.txt")
    result = load_order(order)
    if code in ("DRO504", "DRO515"):  # the planner's warnings: the order itself is fine
        assert result.ok and result.diagnostics == []
    else:
        assert result.order is None and code in codes(result), [(d.code, d.summary) for d in result.diagnostics]


# ---- fuzzing: mutated sample orders give diagnostics, never an exception -------------------

TEXTS = {p: p.read_text(encoding="utf-8") for p in SAMPLES}
FRAGMENTS = ["{", "}", "[", "]", '"', "'", ":", ",", "\n", " ", "  ", "- ", "#", "\\", "\\u", "\\ud83d",
             "\\ud83d\\ude00", "\\/", "parent: L1", "parent: B1", "id: L1", "id: B1", '"parent": "B1"',
             '"id": "B1"', "quantity: 0", "action: remove", "null", "true", "NaN", "1e999", ".nan", "-1", "\t",
             "é", "\x00", "---", "!tag ", "&a ", "*a", "<<: ", "2026-02-30", "order:", "items:"]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_result(result: OrderResult) -> None:
    assert all(isinstance(d, Diagnostic) and d.code in CODES and d.summary for d in result.diagnostics)
    for d in result.diagnostics:
        if d.span is not None:
            assert d.span.line >= 1 and d.span.col >= 1
    errors = any(d.is_error for d in result.diagnostics)
    assert (result.order is None) == errors
    if result.order is not None:
        ids = [i.id for i in result.order.items]
        assert len(ids) == len(set(ids))
        assert set(result.order.bundle_roots().values()) <= set(ids)


def load_text(name: str, text: str) -> OrderResult:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        return load_order(path)


@st.composite
def mutated_text(draw: st.DrawFn) -> tuple[str, str]:
    path = draw(st.sampled_from(SAMPLES))
    text = mutate(draw, TEXTS[path], FRAGMENTS)
    return path.name, text


@FUZZ
@given(mutated_text())
def test_mutated_order_text_gives_only_diagnostics(case: tuple[str, str]) -> None:
    check_result(load_text(*case))


VALUES = st.sampled_from([None, True, 0, 1, -1, 2.5, "", "L1", "B1", "L2", "X/Y", "a b", [], {}, ["L1"], {"a": 1},
                          "add", "delete", "2026-12-07", float("nan")])


@st.composite
def mutated_data(draw: st.DrawFn) -> tuple[str, str, Any]:
    """A sample order with a few fields of its data replaced, removed or duplicated."""
    path = draw(st.sampled_from(SAMPLES))
    data = yaml.safe_load(TEXTS[path]) if path.suffix != ".json" else json.loads(TEXTS[path])
    for _ in range(draw(st.integers(1, 5))):
        order = data.get("order") if isinstance(data, dict) else None
        items = order.get("items") if isinstance(order, dict) else None
        places = (data, order, *(items if isinstance(items, list) else []))
        targets: list[Any] = [t for t in places if isinstance(t, dict)]
        if isinstance(items, list) and items and draw(st.booleans()):
            items.append(copy.deepcopy(draw(st.sampled_from(items))))
            continue
        target = draw(st.sampled_from(targets))
        key = draw(st.sampled_from([*target, "parent", "id", "quantity", "action", "attributes", "items", "extra"]))
        if draw(st.booleans()) and key in target:
            del target[key]
        else:
            target[key] = copy.deepcopy(draw(VALUES))  # never a shared list or map
    as_json = draw(st.booleans())
    text = json.dumps(data, indent=1) if as_json else yaml.safe_dump(data, allow_unicode=True)
    return ("order.json" if as_json else "order.yaml"), text, data


@FUZZ
@given(mutated_data())
def test_mutated_order_data_gives_only_diagnostics(case: tuple[str, str, Any]) -> None:
    name, text, data = case
    result = load_text(name, text)
    check_result(result)
    assert fast_check("order")(data) == validator("order").is_valid(data)
