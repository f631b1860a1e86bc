"""Golden outputs: how each is made, shared by the tests and by `python tests/regen_goldens.py`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from dro_cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
INVALID_CASES = ROOT / "tests" / "cases" / "invalid"
INVALID_ORDERS = ROOT / "tests" / "cases" / "invalid-orders"
CATALOGS = ROOT / "catalogs"
TEMPLATE_GOLDENS = ROOT / "tests" / "golden" / "templates"
PLAN_GOLDENS = ROOT / "tests" / "golden" / "plans"
# The catalog invalid orders are planned against.
ORDER_CASE_CATALOG = CATALOGS / "laptop"


def invalid_cases() -> list[Path]:
    return sorted(p for p in INVALID_CASES.iterdir() if p.is_dir()) if INVALID_CASES.is_dir() else []


def catalogs() -> list[Path]:
    return sorted(p for p in CATALOGS.iterdir() if p.is_dir())


def _run(*args: str) -> Any:
    """`dro ARGS`, run from the repository root without colour."""
    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        return CliRunner(env={"NO_COLOR": "1"}).invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(previous)


def validate_output(case: Path) -> str:
    """`dro validate CASE` as text, plus its exit code."""
    result = _run("validate", str(case.relative_to(ROOT)))
    return f"{result.stdout}[exit {result.exit_code}]\n"


def sample_orders() -> list[Path]:
    return sorted(p for p in CATALOGS.glob("*/orders/*") if p.suffix in (".yaml", ".yml", ".json"))


def plan_output(order: Path) -> str:
    """`dro plan ORDER --catalog ITS_CATALOG --format json`; the plan must be made."""
    catalog = order.parent.parent
    result = _run("plan", str(order.relative_to(ROOT)), "--catalog", str(catalog.relative_to(ROOT)),
                  "--format", "json")
    if result.exit_code != 0:
        raise AssertionError(f"{order.name} does not plan:\n{result.stderr}")
    return str(result.stdout)


def plan_golden(order: Path) -> Path:
    return PLAN_GOLDENS / order.parent.parent.name / f"{order.stem}.json"


def invalid_orders() -> list[Path]:
    return sorted(p for p in INVALID_ORDERS.iterdir() if p.is_dir()) if INVALID_ORDERS.is_dir() else []


def invalid_order_output(case: Path) -> str:
    """`dro plan` of the case's order against the laptop catalog: diagnostics and exit code."""
    order = next(p for p in sorted(case.iterdir()) if p.name != "expected.txt")
    result = _run("plan", str(order.relative_to(ROOT)), "--catalog", str(ORDER_CASE_CATALOG.relative_to(ROOT)))
    return f"{result.stderr}[exit {result.exit_code}]\n"


def compiled_templates(catalog: Path) -> str:
    from dsl import compile_catalog
    from dsl.compiler import dumps

    result = compile_catalog([catalog])
    if result.templates is None:
        problems = "\n".join(f"{d.code} {d.summary} {d.span}" for d in result.diagnostics)
        raise AssertionError(f"{catalog.name} does not compile:\n{problems}")
    return dumps(result.templates)


def expected_path(case: Path) -> Path:
    return case / "expected.txt"


def template_golden(catalog: Path) -> Path:
    return TEMPLATE_GOLDENS / f"{catalog.name}.json"


def regenerate() -> list[Path]:
    """Write every golden file anew; the paths written."""
    written = []
    for case in invalid_cases():
        expected_path(case).write_text(validate_output(case), encoding="utf-8")
        written.append(expected_path(case))
    TEMPLATE_GOLDENS.mkdir(parents=True, exist_ok=True)
    for catalog in catalogs():
        path = template_golden(catalog)
        path.write_text(compiled_templates(catalog), encoding="utf-8")
        written.append(path)
    for order in sample_orders():
        path = plan_golden(order)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan_output(order), encoding="utf-8")
        written.append(path)
    for case in invalid_orders():
        expected_path(case).write_text(invalid_order_output(case), encoding="utf-8")
        written.append(expected_path(case))
    from doc_samples import regenerate as regenerate_doc_samples

    written += regenerate_doc_samples()  # docs/sla-and-fallout.md's sample output
    return written


def load_json(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data
