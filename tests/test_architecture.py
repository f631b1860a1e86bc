"""Layering and start-up: dsl stands alone, and `dro --help` loads nothing heavy."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_dsl_never_imports_dro_cli() -> None:
    offenders = [p.name for p in (ROOT / "dsl").glob("*.py") if "dro_cli" in _imports(p)]
    assert offenders == []


def test_modules_stay_small() -> None:
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
             for folder in ("dsl", "dro_cli") for p in (ROOT / folder).rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_help_loads_no_heavy_module() -> None:
    probe = (
        "import sys\n"
        "from dro_cli.main import cli\n"
        "try:\n    cli.main(['--help'], prog_name='dro')\nexcept SystemExit:\n    pass\n"
        "print(__import__('json').dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'dsl', 'jsonschema', 'lark', 'jinja2', 'yaml'})))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_grammar_and_schemas_are_package_data() -> None:
    from importlib import resources

    assert "start:" in resources.files("dsl").joinpath("grammar.lark").read_text(encoding="utf-8")
    for name in ("catalog", "plan-template", "diagnostics"):
        schema = json.loads(resources.files("schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))
        assert schema["$schema"].endswith("2020-12/schema")


def test_the_wheel_holds_every_module_and_data_file(tmp_path: Path) -> None:
    # An editable install finds everything in the tree; a real install only what the wheel holds.
    # Built from a clean copy: setuptools would reuse a stale build/ directory of the tree.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".work", ".hypothesis", "*_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("dro-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if not name.startswith("dro-")}
    expected = {p.relative_to(ROOT).as_posix() for folder in ("dsl", "dro_cli", "schemas")
                for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".lark", ".json")
                and "__pycache__" not in p.parts}
    assert expected - shipped == set()
