"""CLI wiring: exit codes, formats, streams, and that bad input never writes anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from goldens import CATALOGS

from dro_cli.main import cli
from dsl.schemas import validator

GOOD = 'lane ops\ngroup g { step a "A" { type milestone lane ops } }\nscenario s { when item.product == "X"  add g }\n'
BAD = GOOD.replace("lane ops }", "lane opz }").replace(
    "group g {", 'group g { step b "B" { type milestone lane ops }', 1)
WARNS = GOOD + "lane spare\n"


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner(env={"NO_COLOR": "1", **(env or {})}).invoke(
        cli, list(args), catch_exceptions=False, prog_name="dro")


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "validate" in result.stdout and "compile" in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and "dro, version" in result.stdout


def test_unknown_command_suggests_the_closest() -> None:
    result = run("valdate")
    assert result.exit_code == 2
    assert "Did you mean 'validate'?" in result.stderr


def test_validate_clean_catalog_exits_0(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", str(catalog_dir({"c.dro": GOOD})))
    assert result.exit_code == 0, result.stdout
    assert "All checks passed (1 file)." in result.stdout


def test_validate_errors_exit_1_and_render_like_ruff(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"c.dro": BAD})
    result = run("validate", str(folder))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "error[DRO301]: unknown lane 'opz'"
    assert lines[1].endswith("c.dro:2:83")
    assert lines[3] == "2 | " + BAD.splitlines()[1]
    assert lines[4] == "  | " + " " * 82 + "^^^"
    assert "= help: did you mean 'ops'?" in result.stdout


def test_warnings_pass_unless_strict(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"c.dro": WARNS})
    assert run("validate", str(folder)).exit_code == 0
    strict = run("validate", "--strict", str(folder))
    assert strict.exit_code == 1
    assert "error[DRO311]" in strict.stdout


def test_missing_path_is_usage_error() -> None:
    result = run("validate", "no/such/dir")
    assert result.exit_code == 2
    assert "error[DRO001]: path 'no/such/dir' does not exist" in result.stdout


def test_non_utf8_file_is_usage_error_with_location(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"c.dro": GOOD.encode() + b"lane caf\xe9\n"})
    result = run("validate", str(folder))
    assert result.exit_code == 2
    assert "error[DRO002]: file is not UTF-8" in result.stdout
    assert "c.dro:4:9" in result.stdout


def test_json_format_follows_its_schema(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", "--format", "json", str(catalog_dir({"c.dro": BAD})))
    document = json.loads(result.stdout)
    assert [e.message for e in validator("diagnostics").iter_errors(document)] == []
    assert document["errors"] == 1
    assert document["diagnostics"][0]["code"] == "DRO301"
    assert (document["diagnostics"][0]["line"], document["diagnostics"][0]["column"]) == (2, 83)


def test_github_format_is_workflow_commands(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", "--format", "github", str(catalog_dir({"c.dro": BAD})))
    line = result.stdout.splitlines()[0]
    assert line.startswith("::error file=")
    assert ",line=2,col=83,endLine=2,endColumn=86,title=DRO301 unknown lane 'opz'::" in line
    assert "%0Ahelp: did you mean 'ops'?" in line


def test_validate_several_catalogs_each_on_its_own(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        (folder / "c.dro").write_text(GOOD)  # the same ids: fine, they are separate catalogs
    assert run("validate", str(one), str(two)).exit_code == 0


def test_compile_writes_json_to_stdout(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    result = run("compile", str(catalog_dir({"c.dro": GOOD})))
    assert result.exit_code == 0
    templates = json.loads(result.stdout)
    assert templates["schema_version"] == 1 and list(templates["steps"]) == ["a"]
    assert result.stderr == ""


def test_compile_with_errors_leaves_the_output_file_alone(catalog_dir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "templates.json"
    out.write_text("previous")
    result = run("compile", str(catalog_dir({"c.dro": BAD})), "-o", str(out))
    assert result.exit_code == 1
    assert "error[DRO301]" in result.stderr and result.stdout == ""
    assert out.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".templates")] == []


def test_compile_to_file(catalog_dir, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out.json"
    result = run("compile", str(catalog_dir({"c.dro": GOOD})), "-o", str(out))
    assert result.exit_code == 0
    assert json.loads(out.read_text())["hash"].startswith("sha256:")
    assert "Wrote" in result.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_compile_uses_dro_catalog_from_the_environment() -> None:
    result = run("compile", env={"DRO_CATALOG": str(CATALOGS / "laptop")})
    assert result.exit_code == 0
    assert "reserve" in json.loads(result.stdout)["steps"]


@pytest.mark.parametrize("name", ["validate", "compile"])
def test_command_help(name: str) -> None:
    result = run(name, "--help")
    assert result.exit_code == 0 and "Usage: dro " + name in result.stdout


def test_color_only_on_request(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = str(catalog_dir({"c.dro": BAD}))
    colored = CliRunner().invoke(cli, ["validate", folder], color=True)
    assert "\x1b[" in colored.stdout
    plain = CliRunner(env={"NO_COLOR": "1"}).invoke(cli, ["validate", folder], color=True)
    assert "\x1b[" not in plain.stdout


def test_the_installed_command_runs_without_traceback(tmp_path: Path) -> None:
    # The real entry point, as a user runs it: a directory with garbage in it.
    (tmp_path / "c.dro").write_text("lane }}} \x00 ][")
    done = subprocess.run([sys.executable, "-m", "dro_cli.main", "validate", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "error[DRO1" in done.stdout
