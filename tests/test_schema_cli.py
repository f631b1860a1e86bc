"""`dro schema` prints the shipped JSON Schemas; `.pre-commit-hooks.yaml` names commands that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from dro_cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"


def test_schema_lists_and_prints_every_shipped_schema() -> None:
    runner = CliRunner()
    names = runner.invoke(cli, ["schema"]).output.split()
    assert names == sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))
    assert {"catalog", "order", "plan", "status", "queues"} <= set(names)
    for name in names:
        printed = runner.invoke(cli, ["schema", name])
        assert printed.exit_code == 0
        assert printed.output == (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
        assert json.loads(printed.output)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert runner.invoke(cli, ["schema", "plan.schema.json"]).output == runner.invoke(cli, ["schema", "plan"]).output


def test_an_unknown_schema_is_a_usage_error_with_a_suggestion() -> None:
    result = CliRunner().invoke(cli, ["schema", "statu"])
    assert result.exit_code == 2
    assert "no schema 'statu'" in result.output and "did you mean 'status'?" in result.output


def test_the_pre_commit_hooks_run_dro_commands_on_catalog_files() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [hook["id"] for hook in hooks] == ["dro-validate", "dro-fmt", "dro-test"]
    for hook in hooks:
        program, command, *_ = hook["entry"].split()
        assert program == "dro" and command in COMMANDS
        files = re.compile(hook["files"])
        assert files.search("catalogs/laptop/laptop.dro")
        assert not files.search("notes.md") and not files.search("order.yaml")
        # fmt rewrites .dro files only; the others read whole catalogs, so they do not take file names
        assert bool(files.search("acme/billing.dro.yaml")) == (command != "fmt")
        assert hook["pass_filenames"] == (command == "fmt")
