"""Layering and start-up: the layers of docs/architecture.md hold, the engine and dsl stand alone, and
`dro --help` loads nothing heavy."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import grimp
import pytest

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


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` (import-linter, a test dependency) over the tree at `root`, with its contracts."""
    script = Path(sys.executable).parent / "lint-imports"
    command = [str(script)] if script.is_file() else [shutil.which("lint-imports") or "lint-imports"]
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "300"}
    return subprocess.run([*command, "--no-cache", "--no-logo"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_layers_hold() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 4 kept, 0 broken." in done.stdout


# A deliberate bad import of each kind the contracts forbid, and what lint-imports must say about it.
BAD_IMPORTS = {
    "the engine reads the clock": ("dro_cli/engine/states.py", "import time",
                                   "dro_cli.engine is not allowed to import time"),
    "the engine uses click": ("dro_cli/engine/acts.py", "import click",
                              "dro_cli.engine is not allowed to import click"),
    "the engine writes the journal": ("dro_cli/engine/machine.py", "from dro_cli.journal import store",
                                      "dro_cli.engine is not allowed to import dro_cli.journal"),
    "planning runs plans": ("dro_cli/planning/planner.py", "from dro_cli.runtime import runner",
                            "dro_cli.planning is not allowed to import dro_cli.runtime"),
    "the runtime renders": ("dro_cli/runtime/status.py", "from dro_cli.output import terminal",
                            "dro_cli.runtime is not allowed to import dro_cli.output"),
    "diff and the runtime are independent": ("dro_cli/diff/plans.py", "from dro_cli.runtime import status",
                                             "dro_cli.diff is not allowed to import dro_cli.runtime"),
    "the digest reads the store again": ("dro_cli/journal/digest.py", "from dro_cli.journal import store",
                                         "No cycles are allowed in dro_cli.journal."),
    "the report imports a format": ("dro_cli/output/reporters/report.py", "from dro_cli.output.reporters import text",
                                    "No cycles are allowed in dro_cli.output.reporters."),
    "dsl imports dro_cli": ("dsl/durations.py", "import dro_cli", "dsl is not allowed to import dro_cli"),
}


@pytest.mark.parametrize("case", list(BAD_IMPORTS))
def test_a_bad_import_breaks_a_contract(tmp_path: Path, case: str) -> None:
    module, line, complaint = BAD_IMPORTS[case]
    for part in ("dro_cli", "dsl"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / module).open("a", encoding="utf-8") as file:
        file.write(f"\n{line}  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert complaint in done.stdout


def test_no_modules_import_each_other() -> None:
    # lint-imports forbids cycles between siblings; this also catches a package and a module inside it.
    graph = grimp.build_graph("dro_cli", "dsl", exclude_type_checking_imports=True)
    cycles = sorted((importer, imported) for importer in graph.modules
                    for imported in graph.find_modules_directly_imported_by(importer)
                    if graph.chain_exists(importer=imported, imported=importer))
    assert cycles == []


# What a module of the engine may never load, even through another: a workflow sandbox (Temporal's)
# allows deterministic code only, and the engine decides, the hosts act.
NOT_IN_THE_ENGINE = {"click", "jinja2", "markupsafe", "yaml", "jsonschema", "lark", "http", "socket", "ssl",
                     "select", "selectors", "threading", "concurrent", "asyncio", "subprocess", "pathlib",
                     "tempfile", "shutil", "fcntl", "urllib"}
HOSTS_AND_ABOVE = ("dro_cli.planning", "dro_cli.journal", "dro_cli.runtime", "dro_cli.output", "dro_cli.diff",
                   "dro_cli.commands", "dro_cli.scenario_tests", "dro_cli.main")


def test_the_engine_imports_alone() -> None:
    modules = sorted(f"dro_cli.engine.{p.stem}" for p in (ROOT / "dro_cli" / "engine").glob("*.py")
                     if p.stem != "__init__")
    probe = ("import sys\nbefore = set(sys.modules)\n"
             f"sys.path.insert(0, {str(ROOT)!r})\n"
             f"for name in {modules!r}:\n    __import__(name)\n"
             "print(' '.join(sorted(set(sys.modules) - before)))\n")
    # -S: no site, so that nothing but the engine's own imports loads modules
    done = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, timeout=60,
                          check=True)
    loaded = set(done.stdout.split())
    assert {"dro_cli.engine.machine", "dro_cli.engine.acts"} <= loaded
    assert sorted(m for m in loaded if m.split(".")[0] in NOT_IN_THE_ENGINE) == []
    assert sorted(m for m in loaded if m.startswith(HOSTS_AND_ABOVE)) == []


def test_modules_stay_small() -> None:
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
             for folder in ("dsl", "dro_cli", "catalogs") for p in (ROOT / folder).rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_help_loads_no_heavy_module() -> None:
    probe = (
        "import sys\n"
        "from dro_cli.main import cli\n"
        "try:\n    cli.main(['--help'], prog_name='dro')\nexcept SystemExit:\n    pass\n"
        "print(__import__('json').dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'dsl', 'jsonschema', 'lark', 'jinja2', 'yaml', 'temporalio'})))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout.splitlines()[-1]) == []


def _validate_loads(path: Path, temp: Path | None = None) -> tuple[int, list[str]]:
    """`dro validate PATH` in a fresh process (TMPDIR `temp`, where the parse tables are cached): its
    exit status, and which heavy libraries it loaded."""
    probe = (
        "import sys\n"
        "from dro_cli.main import cli\n"
        f"try:\n    cli.main(['validate', {str(path)!r}], prog_name='dro')\nexcept SystemExit as e:\n"
        "    code = e.code\n"
        "print(code, *sorted({m.split('.')[0] for m in sys.modules} & "
        "{'jsonschema', 'referencing', 'lark', 'jinja2', 'yaml'}))\n"
    )
    env = dict(os.environ, TMPDIR=str(temp or path.parent))
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                          env=env)
    code, *loaded = done.stdout.splitlines()[-1].split()
    return int(code), loaded


# `dro validate FILE` is what editors and pre-commit hooks run on one file: on a clean file its start-up
# is the whole cost, and jsonschema alone takes longer to import than the check takes to run.
def test_validate_of_a_clean_dro_file_loads_none_once_the_tables_are_cached(tmp_path: Path) -> None:
    clean = tmp_path / "lanes.dro"
    clean.write_text('lane billing "Billing"\n', encoding="utf-8")
    assert _validate_loads(clean) == (0, ["lark"])  # the first process builds the tables with lark
    assert _validate_loads(clean) == (0, [])


def test_validate_of_a_clean_yaml_file_loads_only_yaml(tmp_path: Path) -> None:
    clean = tmp_path / "lanes.dro.yaml"
    clean.write_text("lanes:\n  billing: {title: Billing}\n", encoding="utf-8")
    assert _validate_loads(clean) == (0, ["yaml"])


def test_validate_loads_jsonschema_to_explain_a_schema_error(tmp_path: Path) -> None:
    broken = tmp_path / "lanes.dro.yaml"
    broken.write_text("lanes:\n  billing: {title: Billing, colour: red}\n", encoding="utf-8")
    code, loaded = _validate_loads(broken)
    assert code == 1
    assert "jsonschema" in loaded


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
