"""Golden files: diagnostics of every invalid case, templates of every example catalog.

Regenerate with `python tests/regen_goldens.py` and review the diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from goldens import (
    catalogs,
    compiled_templates,
    expected_path,
    invalid_cases,
    invalid_order_output,
    invalid_orders,
    plan_golden,
    plan_output,
    sample_orders,
    template_golden,
    validate_output,
)

from dsl.codes import CODES
from dsl.schemas import validator


@pytest.mark.parametrize("case", invalid_cases(), ids=lambda p: p.name)
def test_invalid_case_matches_its_golden(case: Path) -> None:
    golden = expected_path(case)
    assert golden.exists(), f"no golden for {case.name}: run python tests/regen_goldens.py"
    assert validate_output(case) == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", invalid_cases(), ids=lambda p: p.name)
def test_invalid_case_reports_its_own_code(case: Path) -> None:
    code = case.name.split("-")[0].upper()
    output = validate_output(case)
    assert re.search(rf"^(error|warning)\[{code}\]", output, re.MULTILINE), output


def test_every_code_has_an_invalid_case() -> None:
    covered = {case.name.split("-")[0].upper() for case in [*invalid_cases(), *invalid_orders()]}
    # DRO001 (a missing path) and DRO004 (an unreadable file) cannot live in a directory: see test_cli.
    # DRO005 needs a file of 10 MiB, DRO512 an order of thousands of items: see test_limits.
    # DRO506 and DRO508 need a catalog of their own, DRO507 a templates file: see test_plan_cli.
    # DRO601 and DRO602 are about test files: see test_scenario_tests; DRO603 needs a link: test_scenario_links.
    # DRO516, DRO517, DRO520-DRO522 are about an order's files in a state directory: test_tampering, test_bad_paths.
    # DRO530-DRO535 are about amending a running order: test_amend.
    elsewhere = {"DRO001", "DRO004", "DRO005", "DRO512", "DRO506", "DRO507", "DRO508", "DRO601", "DRO602",
                 "DRO603", "DRO516", "DRO517", "DRO520", "DRO521", "DRO522", "DRO530", "DRO531", "DRO532",
                 "DRO533", "DRO534", "DRO535"}
    assert set(CODES) - covered - elsewhere == set()


@pytest.mark.parametrize("catalog", catalogs(), ids=lambda p: p.name)
def test_catalog_compiles_to_its_golden_templates(catalog: Path) -> None:
    golden = template_golden(catalog)
    assert golden.exists(), f"no golden for {catalog.name}: run python tests/regen_goldens.py"
    assert compiled_templates(catalog) == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("catalog", catalogs(), ids=lambda p: p.name)
def test_golden_templates_follow_their_schema(catalog: Path) -> None:
    templates = json.loads(template_golden(catalog).read_text(encoding="utf-8"))
    assert [e.message for e in validator("plan-template").iter_errors(templates)] == []


@pytest.mark.parametrize("order", sample_orders(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_sample_order_plans_to_its_golden(order: Path) -> None:
    golden = plan_golden(order)
    assert golden.exists(), f"no golden for {order.name}: run python tests/regen_goldens.py"
    plan = plan_output(order)
    assert plan == golden.read_text(encoding="utf-8")
    assert [e.message for e in validator("plan").iter_errors(json.loads(plan))] == []


def test_every_catalog_with_orders_has_plans() -> None:
    assert {p.parent.parent.name for p in sample_orders()} >= {"laptop", "fiber"}


@pytest.mark.parametrize("case", invalid_orders(), ids=lambda p: p.name)
def test_invalid_order_matches_its_golden(case: Path) -> None:
    golden = expected_path(case)
    assert golden.exists(), f"no golden for {case.name}: run python tests/regen_goldens.py"
    output = invalid_order_output(case)
    assert output == golden.read_text(encoding="utf-8")
    code = case.name.split("-")[0].upper()
    assert re.search(rf"^(error|warning)\[{code}\]", output, re.MULTILINE), output
