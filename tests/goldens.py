"""Golden outputs: how each is made, shared by the tests and by `python tests/regen_goldens.py`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from dro_cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
INVALID_CASES = ROOT / "tests" / "cases" / "invalid"
CATALOGS = ROOT / "catalogs"
TEMPLATE_GOLDENS = ROOT / "tests" / "golden" / "templates"


def invalid_cases() -> list[Path]:
    return sorted(p for p in INVALID_CASES.iterdir() if p.is_dir()) if INVALID_CASES.is_dir() else []


def catalogs() -> list[Path]:
    return sorted(p for p in CATALOGS.iterdir() if p.is_dir())


def validate_output(case: Path) -> str:
    """`dro validate CASE` as text, run from the repository root, plus its exit code."""
    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner(env={"NO_COLOR": "1"}).invoke(
            cli, ["validate", str(case.relative_to(ROOT))], catch_exceptions=False)
    finally:
        os.chdir(previous)
    return f"{result.stdout}[exit {result.exit_code}]\n"


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
    return written


def load_json(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data
