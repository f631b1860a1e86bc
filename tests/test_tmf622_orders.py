"""TMF622 ProductOrders in (docs/tmf622.md): v4 and v5 plan as the dro order they map to, bad ones are located.

The invalid ProductOrders with their diagnostics are goldens in tests/cases/invalid-orders (dro54x-*).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tmf622_spec
from click.testing import CliRunner
from goldens import CATALOGS, ROOT

from dro_cli.main import cli
from dro_cli.planning.orders import load_order
from dro_cli.planning.tmf622 import OrderForm, pointer
from dsl.schemas import validator

DATA = ROOT / "tests" / "data" / "tmf622"
CATALOG = DATA / "catalog.dro"
V5, V4 = DATA / "PO-5001.v5.json", DATA / "PO-5001.v4.json"
LAPTOP = CATALOGS / "laptop"


def dro(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner(env={"NO_COLOR": "1", **(env or {})}).invoke(cli, list(args), catch_exceptions=False,
                                                                 prog_name="dro")


def planned(order: Path, catalog: Path = CATALOG, *options: str) -> dict[str, Any]:
    result = dro("plan", str(order), "--catalog", str(catalog), "--format", "json", *options)
    assert result.exit_code == 0, result.stderr
    plan: dict[str, Any] = json.loads(result.stdout)
    assert [e.message for e in validator("plan").iter_errors(plan)] == []
    return plan


def without_source(plan: dict[str, Any]) -> dict[str, Any]:
    plan["context"]["order"].pop("source")
    return plan


def test_a_v5_product_order_maps_to_a_dro_order() -> None:
    order = load_order(V5).order
    assert order is not None
    assert (order.id, order.account, order.requested_date) == ("PO-5001", "CUST-42", "2026-12-20T12:00:00Z")
    assert order.attributes == {"category": "residential", "priority": "2", "external_id": "PO-5001"}
    assert [(i.id, i.product, i.quantity, i.action, i.parent) for i in order.items] == [
        ("1", "FIBER-500", 1, "add", None), ("1.1", "ROUTER", 1, "no_change", "1"), ("2", "ROUTER", 1, "add", "1")]
    assert order.items[0].attributes == {"speed_mbps": 500, "static_ip": False, "sku": "FIBER-500"}
    assert order.source is not None and order.source["channel"][0]["name"] == "web shop"


@pytest.mark.parametrize("sample", [V5, LAPTOP / "orders" / "PO-7001.tmf622.json"], ids=lambda p: p.name)
def test_the_v5_samples_are_valid_product_orders_as_the_specification_says(sample: Path) -> None:
    assert tmf622_spec.errors("ProductOrder_FVO", json.loads(sample.read_text(encoding="utf-8"))) == []


def test_the_specification_check_can_fail() -> None:
    order = json.loads(V5.read_text(encoding="utf-8"))
    order["productOrderItem"][0]["quantity"] = "one"
    del order["relatedParty"][1]["partyOrPartyRole"]["@type"]
    found = tmf622_spec.errors("ProductOrder_FVO", order)
    assert any(e.startswith("productOrderItem/0/quantity: 'one' is not of type 'integer'") for e in found), found
    assert any(e.startswith("relatedParty/1/partyOrPartyRole") for e in found), found


def test_v4_and_v5_of_the_same_order_plan_the_same() -> None:
    v5, v4 = planned(V5), planned(V4)
    assert v5["context"]["order"]["source"]["externalId"][0]["id"] == "PO-5001"  # each keeps what it was sent
    assert v4["context"]["order"]["source"]["externalId"] == "PO-5001"
    assert without_source(v5) == without_source(v4)
    assert {s["id"] for s in v5["steps"]} == {"provision[1]", "ship[2]", "confirm[1.1]"}  # no_change: confirm only


def test_v4_text_values_get_the_type_their_characteristic_declares() -> None:
    order = load_order(V4).order
    assert order is not None and order.items[0].attributes == {"speed_mbps": 500, "static_ip": False,
                                                               "sku": "FIBER-500"}


def test_the_laptop_sample_in_tmf622_plans_as_its_dro_order_does() -> None:
    tmf = planned(LAPTOP / "orders" / "PO-7001.tmf622.json", LAPTOP)
    dro_order = planned(LAPTOP / "orders" / "ORD-1001.yaml", LAPTOP)
    assert tmf["context"]["order"]["attributes"]["country"] == "DE"
    assert [(s["id"], s["after"]) for s in tmf["steps"]] == [(s["id"], s["after"]) for s in dro_order["steps"]]


@pytest.mark.parametrize("where", ["productOffering.id", "productSpecification.id", "characteristic:sku"])
def test_where_the_product_is_named_is_configurable(where: str, tmp_path: Path) -> None:
    order = json.loads(V5.read_text(encoding="utf-8"))
    if where == "productSpecification.id":  # a deployment whose specifications carry the catalog's products
        for item in [order["productOrderItem"][0], *order["productOrderItem"][0]["productOrderItem"],
                     order["productOrderItem"][1]]:
            item["product"]["productSpecification"]["id"] = item["productOffering"].pop("id")
    path = tmp_path / "order.json"
    path.write_text(json.dumps(order), encoding="utf-8")
    by_option = planned(path, CATALOG, "--tmf-product", where)
    by_env = json.loads(dro("plan", str(path), "--catalog", str(CATALOG), "--format", "json",
                            env={"DRO_TMF622_PRODUCT": where}).stdout)
    assert [s["id"] for s in by_option["steps"]] == [s["id"] for s in by_env["steps"]] == [
        s["id"] for s in planned(V5)["steps"]]


def test_a_bad_product_field_option_is_a_usage_error() -> None:
    result = dro("plan", str(V5), "--catalog", str(CATALOG), "--tmf-product", "offering")
    assert result.exit_code == 2
    assert "productOffering.id, productSpecification.id or characteristic:NAME, not 'offering'" in result.stderr


def test_the_order_format_can_be_said_instead_of_recognised() -> None:
    as_dro = dro("plan", str(V5), "--catalog", str(CATALOG), "--order-format", "dro")
    assert as_dro.exit_code == 2 and "error[DRO202]: the file needs 'order'" in as_dro.stderr
    as_tmf = dro("plan", str(LAPTOP / "orders" / "ORD-1001.yaml"), "--catalog", str(LAPTOP),
                 "--order-format", "tmf622")
    assert as_tmf.exit_code == 2 and "error[DRO540]: the ProductOrder has no productOrderItem" in as_tmf.stderr
    assert "Traceback" not in as_dro.stderr + as_tmf.stderr


def test_dro_checks_of_a_translated_order_point_at_the_tmf_field(tmp_path: Path) -> None:
    order = json.loads(V5.read_text(encoding="utf-8"))
    order["productOrderItem"][1]["quantity"] = 0
    order["productOrderItem"][1]["id"] = "2 b"
    path = tmp_path / "order.json"
    path.write_text(json.dumps(order, indent=1), encoding="utf-8")
    result = load_order(path)
    assert result.order is None
    found = {d.code: d for d in result.diagnostics}
    assert set(found) == {"DRO203", "DRO206"} or set(found) >= {"DRO206"}
    text = path.read_text(encoding="utf-8").splitlines()
    bad_id = found["DRO206"]
    assert bad_id.span is not None and '"2 b"' in text[bad_id.span.line - 1][bad_id.span.col - 1:]
    assert "(TMF622 field /productOrderItem/1/id)" in (bad_id.detail or "")


def test_a_bad_product_order_writes_nothing(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "cases" / "invalid-orders" / "dro541-unknown-tmf-action" / "order.json"
    result = dro("run", str(bad), "--catalog", str(LAPTOP), "--state-dir", str(tmp_path / "state"))
    assert result.exit_code == 2 and "error[DRO541]" in result.stderr
    assert not (tmp_path / "state" / "orders" / "PO-541").exists()


def test_a_running_tmf_order_is_amended_by_a_revised_product_order(tmp_path: Path) -> None:
    env = {"DRO_NOW": "2026-12-03T09:00:00Z"}
    state = str(tmp_path / "state")
    started = dro("run", str(V5), "--catalog", str(CATALOG), "--state-dir", state, env=env)
    assert started.exit_code in (0, 1), started.stderr  # the callout's server is not there: a retry or fallout
    revised = json.loads(V5.read_text(encoding="utf-8"))
    revised["productOrderItem"][0]["product"]["productCharacteristic"][0]["value"] = 1000
    path = tmp_path / "PO-5001.r2.json"
    path.write_text(json.dumps(revised), encoding="utf-8")
    preview = dro("plan", "--amend", "PO-5001", str(path), "--state-dir", state, "--format", "json", env=env)
    assert preview.exit_code == 0, preview.stderr
    document = json.loads(preview.stdout)
    assert [e.message for e in validator("amendment").iter_errors(document)] == []
    changed = [change["step"] for change in document["changes"]]
    assert changed and all(step.endswith("[1]") for step in changed)  # only the line whose speed changed


def test_pointers_escape_as_rfc_6901_says() -> None:
    assert pointer(("productOrderItem", 0, "a/b~c")) == "/productOrderItem/0/a~1b~0c"
    assert pointer(()) == "/"


def test_an_unknown_format_in_the_environment_is_named() -> None:
    assert OrderForm("xml").problem() == "--order-format ($DRO_ORDER_FORMAT) is one of auto, dro, tmf622, not 'xml'"


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [at, *(p for k, v in value.items() for p in _paths(v, (*at, k)))]
    if isinstance(value, list):
        return [at, *(p for i, v in enumerate(value) for p in _paths(v, (*at, i)))]
    return [at]


@pytest.mark.parametrize("sample", [V5, V4], ids=lambda p: p.name)
def test_any_value_of_the_wrong_shape_gets_a_diagnostic_never_an_exception(sample: Path, tmp_path: Path) -> None:
    """Every field of a ProductOrder replaced by a list, a map, null and a number, one at a time."""
    original = json.loads(sample.read_text(encoding="utf-8"))
    path = tmp_path / "order.json"
    for at in _paths(original)[1:]:
        for wrong in ([], {}, None, 7, ["add"], {"id": "1"}):
            order = json.loads(json.dumps(original))
            target = order
            for key in at[:-1]:
                target = target[key]
            target[at[-1]] = wrong
            path.write_text(json.dumps(order), encoding="utf-8")
            result = load_order(path)  # raises on a defect
            assert result.order is not None or result.diagnostics, (at, wrong)
