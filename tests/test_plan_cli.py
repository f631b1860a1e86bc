"""`dro plan`: formats, templates from a catalog or a compiled file, exit codes, warnings."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from goldens import CATALOGS

from dro_cli.main import cli
from dsl.schemas import validator

LAPTOP = CATALOGS / "laptop"
ORDER = LAPTOP / "orders" / "ORD-1001.yaml"


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner(env={"NO_COLOR": "1", **(env or {})}).invoke(
        cli, list(args), catch_exceptions=False, prog_name="dro")


def test_text_shows_steps_by_lane_with_dependencies() -> None:
    result = run("plan", str(ORDER), "--catalog", str(LAPTOP))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("Plan for order ORD-1001: ")
    assert "Inventory  [inventory]" in out
    reserve = next(line for line in out.splitlines() if line.strip().startswith("reserve[L1/LAPTOP-HW]"))
    assert "callout" in reserve and "item L1/LAPTOP-HW" in reserve and "retry monotonous 3x30s" in reserve
    assert "after credit_check" in out


def test_json_is_the_plan_and_follows_its_schema() -> None:
    result = run("plan", str(ORDER), "--catalog", str(LAPTOP), "--format", "json")
    plan = json.loads(result.stdout)
    assert [e.message for e in validator("plan").iter_errors(plan)] == []
    ids = [s["id"] for s in plan["steps"]]
    assert "reserve[L1/LAPTOP-HW]" in ids and "install[L1]" in ids and "start_billing" in ids
    start = next(s for s in plan["steps"] if s["id"] == "start_billing")
    assert start["after"] == ["reserve[L1/LAPTOP-HW]", "wait_work_order[L1]"]


def test_mermaid_draws_one_subgraph_per_lane() -> None:
    result = run("plan", str(ORDER), "--catalog", str(LAPTOP), "--format", "mermaid")
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    plan = json.loads(run("plan", str(ORDER), "--catalog", str(LAPTOP), "--format", "json").stdout)
    lanes = {s["lane"] for s in plan["steps"]}
    assert sum(1 for line in lines if line.strip().startswith("subgraph ")) == len(lanes)
    assert sum(1 for line in lines if "-->" in line) == sum(len(s["after"]) for s in plan["steps"])


def test_a_compiled_templates_file_gives_the_same_plan(tmp_path: Path) -> None:
    templates = tmp_path / "laptop.json"
    assert run("compile", str(LAPTOP), "-o", str(templates)).exit_code == 0
    from_file = run("plan", str(ORDER), "--catalog", str(templates), "--format", "json")
    from_catalog = run("plan", str(ORDER), "--catalog", str(LAPTOP), "--format", "json")
    assert from_file.exit_code == 0 and from_file.stdout == from_catalog.stdout


def test_an_edited_templates_file_is_refused(tmp_path: Path) -> None:
    templates = tmp_path / "laptop.json"
    run("compile", str(LAPTOP), "-o", str(templates))
    data = json.loads(templates.read_text())
    data["steps"]["reserve"]["lane"] = "billing"
    templates.write_text(json.dumps(data))
    result = run("plan", str(ORDER), "--catalog", str(templates))
    assert result.exit_code == 2
    assert "error[DRO507]" in result.stderr and "changed after it was compiled" in result.stderr


def test_a_foreign_or_newer_templates_file_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "other.json"
    foreign.write_text('{"hello": "world"}')
    assert "is not a plan templates file" in run("plan", str(ORDER), "--catalog", str(foreign)).stderr
    newer = tmp_path / "newer.json"
    run("compile", str(LAPTOP), "-o", str(newer))
    newer.write_text(newer.read_text().replace('"schema_version": 1', '"schema_version": 99'))
    result = run("plan", str(ORDER), "--catalog", str(newer))
    assert result.exit_code == 2 and "schema_version 99" in result.stderr


def test_a_catalog_with_errors_exits_1(tmp_path: Path) -> None:
    (tmp_path / "c.dro").write_text('lane a\ngroup g { step s "S" { type milestone lane b } }\n'
                                    'scenario x { when item.product == "P"  add g }\n')
    result = run("plan", str(ORDER), "--catalog", str(tmp_path))
    assert result.exit_code == 1 and "error[DRO301]" in result.stderr and result.stdout == ""


def test_a_missing_order_file_exits_2() -> None:
    result = run("plan", "no/such/order.yaml", "--catalog", str(LAPTOP))
    assert result.exit_code == 2 and result.stdout == ""


def test_a_product_without_scenario_is_a_warning_at_its_product(tmp_path: Path) -> None:
    order = tmp_path / "order.yaml"
    order.write_text("order:\n  id: O1\n  account: A\n  items:\n"
                     "    - {id: L1, product: LAPTOP-BUNDLE}\n"
                     "    - {id: K1, product: KEYBAORD-DE, parent: L1}\n")
    result = run("plan", str(order), "--catalog", str(LAPTOP))
    assert result.exit_code == 0 and "Plan for order O1" in result.stdout
    lines = result.stderr.splitlines()
    assert lines[0] == "warning[DRO504]: no scenario matches product 'KEYBAORD-DE'"
    assert lines[1].endswith("order.yaml:6:25")
    assert lines[4] == "  | " + " " * 24 + "^" * len("KEYBAORD-DE")


def test_catalog_comes_from_the_environment() -> None:
    result = run("plan", str(ORDER), env={"DRO_CATALOG": str(LAPTOP)})
    assert result.exit_code == 0 and "Plan for order ORD-1001" in result.stdout


def decomposing(tmp_path: Path, rule: str, part: str, item: str) -> tuple[Path, Path]:
    """A one-rule catalog whose `part` gets one line-item step, and an order of one `item`."""
    catalog = tmp_path / "cat"
    catalog.mkdir()
    (catalog / "c.dro").write_text(
        f'lane ops\n{rule}\n'
        'group g { step s "S" { type milestone lane ops scope line_item } }\n'
        f'scenario x {{ when item.product == "{part}"  add g }}\n')
    order = tmp_path / "order.yaml"
    order.write_text(f"order:\n  id: O1\n  account: A\n  items:\n    - {item}\n")
    return catalog, order


def test_a_decomposed_quantity_that_is_not_a_count_exits_2(tmp_path: Path) -> None:
    catalog, order = decomposing(tmp_path, 'decompose "PACK" { into "SEAT" { quantity item.attributes.seats } }',
                                 "SEAT", "{id: P1, product: PACK, attributes: {seats: 0}}")
    result = run("plan", str(order), "--catalog", str(catalog))
    assert result.exit_code == 2
    assert "error[DRO506]: bad decomposed quantity 0 for 'P1/SEAT'" in result.stderr
    order.write_text(order.read_text().replace("seats: 0", "seats: 3"))
    planned = json.loads(run("plan", str(order), "--catalog", str(catalog), "--format", "json").stdout)
    assert planned["context"]["items"]["P1/SEAT"]["quantity"] == 3
    assert [s["id"] for s in planned["steps"]] == ["s[P1/SEAT]"]


def test_an_item_decomposed_into_nothing_is_a_warning(tmp_path: Path) -> None:
    catalog, order = decomposing(tmp_path, 'decompose "KIT" { into "PART" when item.attributes.model == "laser" }',
                                 "PART", "{id: P1, product: KIT, attributes: {model: lazer}}")
    result = run("plan", str(order), "--catalog", str(catalog), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["steps"] == []
    assert "warning[DRO508]: item 'P1' decomposes into nothing" in result.stderr
    assert "order.yaml:5:25" in result.stderr
    order.write_text(order.read_text().replace("lazer", "laser"))
    fixed = run("plan", str(order), "--catalog", str(catalog), "--format", "json")
    assert fixed.stderr == "" and [s["id"] for s in json.loads(fixed.stdout)["steps"]] == ["s[P1/PART]"]
