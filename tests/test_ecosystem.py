"""The files that put dro into other tools: pre-commit hooks, the CI workflow in docs/ci.md, editor set-up."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from goldens import ROOT
from jsonschema import Draft7Validator

from dro_cli.main import COMMANDS, cli
from dro_cli.output.reporters import REPORTERS

WORKFLOW_FILE = ROOT / "docs" / "examples" / "github-workflow.yml"
CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def load_workflow() -> dict[Any, Any]:
    workflow: dict[Any, Any] = yaml.safe_load(WORKFLOW_FILE.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def steps() -> list[dict[str, Any]]:
    return [step for job in load_workflow()["jobs"].values() for step in job["steps"]]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^( *)```{language}\n(.*?)^\1```$", text, re.MULTILINE | re.DOTALL)


def block_texts(text: str, language: str) -> list[str]:
    """The code blocks of a language, dedented by their fence's indentation."""
    return [re.sub(rf"^{indent}", "", body, flags=re.MULTILINE) for indent, body in code_blocks(text, language)]


def dro_invocations(script: str) -> list[list[str]]:
    """The argument lists of the `dro` commands in a shell script, up to a redirection or `||`."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0]
        for match in re.finditer(r"(?<![\w/.$-])dro\s+([a-z][a-z-]*)", line):
            command = re.split(r"\s(?:>|\|\||&&|\||;)", line[match.start():])[0]
            found.append(shlex.split(command)[1:])
    return found


def command(name: str) -> click.Command:
    assert name in COMMANDS, f"dro has no command {name!r}"
    try:
        loaded = cli.get_command(click.Context(cli), name)
    except ImportError:  # built by other work in progress: its options cannot be checked yet
        pytest.skip(f"dro {name} is not importable yet")
    assert loaded is not None
    return loaded


def check_arguments(arguments: list[str]) -> None:
    """Every option is one the command has, and a choice one of its values."""
    name, rest = arguments[0], arguments[1:]
    params = {opt: param for param in command(name).params for opt in [*param.opts, *param.secondary_opts]}
    for i, token in enumerate(rest):
        if not token.startswith("-") or token == "-":
            continue
        option, _, inline = token.partition("=")
        assert option in params, f"dro {name} has no option {option}"
        param = params[option]
        if isinstance(param.type, click.Choice):
            value = inline or rest[i + 1]
            assert value in param.type.choices, f"dro {name} {option} has no value {value!r}"


# ---- pre-commit ------------------------------------------------------------------


def test_the_hooks_run_dro_commands() -> None:
    assert [hook["id"] for hook in HOOKS] == ["dro-validate", "dro-fmt", "dro-test"]
    for hook in HOOKS:
        program, name, *_ = hook["entry"].split()
        assert program == "dro" and name in COMMANDS
        assert hook["language"] == "python" and hook["description"]


@pytest.mark.parametrize(("hook", "matching", "other"), [
    ("dro-validate", ["a.dro", "c/b.dro.yaml", "c/b.dro.yml", "dro.yaml", "c/dro.yaml"],
     ["a.yaml", "a.test.yaml", "a.drop", "c/xdro.yaml"]),
    ("dro-fmt", ["a.dro", "c/d/b.dro"], ["a.dro.yaml", "a.py", "a.dro.bak"]),
    ("dro-test", ["a.dro", "b.dro.yaml", "t/x.test.yaml", "t/x.test.yml", "c/dro.yaml"],
     ["orders/o.yaml", "a.py"]),
])
def test_the_hooks_run_for_their_files(hook: str, matching: list[str], other: list[str]) -> None:
    (definition,) = [h for h in HOOKS if h["id"] == hook]
    pattern = re.compile(definition["files"])
    assert [name for name in matching if not pattern.search(name)] == []
    assert [name for name in other if pattern.search(name)] == []


def test_only_the_formatter_takes_file_names() -> None:
    # validate and test need whole catalogs: references and scenarios cross files.
    assert {hook["id"]: hook["pass_filenames"] for hook in HOOKS} == {
        "dro-validate": False, "dro-fmt": True, "dro-test": False}


# ---- the GitHub Actions workflow -------------------------------------------------


def test_ci_doc_embeds_the_example_workflow() -> None:
    assert WORKFLOW_FILE.read_text(encoding="utf-8") in block_texts(CI_DOC, "yaml")


def test_the_workflow_runs_on_pull_requests_with_what_its_steps_need() -> None:
    workflow = load_workflow()
    assert "pull_request" in workflow["on"]
    (job,) = workflow["jobs"].values()
    assert {"security-events": "write", "pull-requests": "write"}.items() <= job["permissions"].items()
    uses = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    assert uses["actions/checkout"]["with"]["fetch-depth"] == 0  # dro diff reads the base out of git
    assert uses["github/codeql-action/upload-sarif"]["with"]["sarif_file"] == "dro.sarif"
    assert uses["github/codeql-action/upload-sarif"]["if"] == "always()"
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "--format sarif" in runs and "> dro.sarif" in runs
    assert "--format junit > dro-tests.xml" in runs
    assert "> plan-diff.md" in runs and uses["marocchino/sticky-pull-request-comment"]["with"]["path"] == "plan-diff.md"


def workflow_invocations() -> list[list[str]]:
    return [args for step in steps() for args in dro_invocations(step.get("run", ""))]


def test_the_workflow_runs_validate_test_fmt_and_diff() -> None:
    assert sorted({args[0] for args in workflow_invocations()}) == ["diff", "fmt", "test", "validate"]


@pytest.mark.parametrize("arguments", workflow_invocations(), ids=lambda args: " ".join(args[:3]))
def test_the_workflow_uses_only_options_dro_has(arguments: list[str]) -> None:
    if arguments[0] == "validate":
        assert arguments[arguments.index("--format") + 1] in REPORTERS
    check_arguments(arguments)


@pytest.mark.skipif(shutil.which("bash") is None, reason="GitHub runs run: scripts with bash")
@pytest.mark.parametrize(("dro_exit", "step_exit"), [(0, 0), (3, 0), (1, 1), (2, 2)])
def test_the_diff_step_treats_differences_as_success(tmp_path: Path, dro_exit: int, step_exit: int) -> None:
    (step,) = [s for s in steps() if "dro diff" in s.get("run", "")]
    fake = tmp_path / "bin" / "dro"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "## plan diff: $*"\nexit "$FAKE_EXIT"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}", "FAKE_EXIT": str(dro_exit),
           "CATALOG": "catalogs/acme", "BASE_SHA": "0123abc"}
    # As GitHub runs a `run:` script: bash --noprofile --norc -eo pipefail {0}.
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == step_exit, done.stderr
    assert (tmp_path / "plan-diff.md").read_text() == (
        "## plan diff: diff git:0123abc:catalogs/acme catalogs/acme --orders catalogs/acme/orders --format markdown\n")


def test_the_workflow_follows_the_github_workflow_schema() -> None:
    from importlib import resources

    from check_jsonschema.builtin_schemas import vendor  # SchemaStore's copy (a test dependency)

    schema = json.loads(resources.files(vendor).joinpath("github-workflows.json").read_text(encoding="utf-8"))
    validator = Draft7Validator(schema)
    assert [e.message for e in validator.iter_errors(load_workflow())] == []
    assert list(validator.iter_errors({"on": "push", "jobs": {"x": {"runs-on": "a", "stepz": []}}})) != []


# ---- the rest of docs/ci.md ------------------------------------------------------


def json_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for item in value.values() for s in json_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in json_strings(item)]
    return [value] if isinstance(value, str) else []


def test_every_dro_command_in_ci_doc_exists() -> None:
    scripts = [*block_texts(CI_DOC, "yaml"), *block_texts(CI_DOC, "sh"), *re.findall(r"`(dro [^`]+)`", CI_DOC)]
    scripts += [s for block in block_texts(CI_DOC, "json") for s in json_strings(json.loads(block))]
    invocations = [args for script in scripts for args in dro_invocations(script)]
    assert len(invocations) > 10
    assert sorted({args[0] for args in invocations} - set(COMMANDS)) == []


def test_ci_doc_json_blocks_parse() -> None:
    blocks = block_texts(CI_DOC, "json")
    assert len(blocks) >= 3
    for block in blocks:
        json.loads(block)


def test_the_problem_matcher_reads_github_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tasks,) = [json.loads(b) for b in block_texts(CI_DOC, "json") if "problemMatcher" in b]
    pattern = tasks["tasks"][0]["problemMatcher"]["pattern"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat").mkdir()
    catalog = 'lane ops\nlane spare\ngroup g { step a "A" { type milestone lane opz } }\n'
    (tmp_path / "cat" / "c.dro").write_text(catalog)
    output = CliRunner(env={"NO_COLOR": "1"}).invoke(cli, ["validate", "--format", "github", "cat"]).stdout
    diagnostics = json.loads(CliRunner().invoke(cli, ["validate", "--format", "json", "cat"]).stdout)["diagnostics"]
    matches = [re.match(pattern["regexp"], line) for line in output.splitlines()]
    assert len(matches) == len(diagnostics) > 1 and all(matches)
    for match, d in zip(matches, diagnostics, strict=True):
        assert match is not None
        assert match.group(pattern["severity"]) == d["severity"]
        assert (match.group(pattern["file"]), int(match.group(pattern["line"])),
                int(match.group(pattern["column"]))) == (d["file"], d["line"], d["column"])
        assert (int(match.group(pattern["endLine"])), int(match.group(pattern["endColumn"]))) == (
            d["end_line"], d["end_column"])
        assert (match.group(pattern["code"]), match.group(pattern["message"])) == (d["code"], d["summary"])


# ---- editor set-up ---------------------------------------------------------------

DRAFT7_KEYWORDS = set(Draft7Validator.META_SCHEMA["properties"]) | {"$defs"}


def _keywords(schema: Any, found: set[str]) -> set[str]:
    if isinstance(schema, dict):
        found.update(key for key in schema if not key.startswith("x-"))
        for key, value in schema.items():
            if key in ("properties", "$defs", "patternProperties", "definitions"):
                for sub in value.values():
                    _keywords(sub, found)
            elif key not in ("enum", "const", "examples", "default"):
                _keywords(value, found)
    elif isinstance(schema, list):
        for item in schema:
            _keywords(item, found)
    return found


@pytest.mark.parametrize("name", ["catalog", "order"])
def test_editor_schemas_mean_the_same_to_draft7_tools(name: str) -> None:
    result = CliRunner().invoke(cli, ["schema", name])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert sorted(_keywords(schema, set()) - DRAFT7_KEYWORDS) == []
    refs_with_siblings = re.findall(r'\{\s*"\$ref": "[^"]+",\s*"(?!description|title)', json.dumps(schema, indent=1))
    assert refs_with_siblings == []  # draft-07 would ignore a keyword beside $ref


def test_a_draft7_validator_checks_yaml_catalogs_like_dro() -> None:
    schema = json.loads(CliRunner().invoke(cli, ["schema", "catalog"]).stdout)
    validator = Draft7Validator(schema)
    files = sorted((ROOT / "catalogs").rglob("*.dro.yaml"))
    assert files
    for path in files:
        assert [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))] == []
    bad = {"lanes": {"ops": {"name": "Ops"}}, "groups": {"g": {"steps": {"a": {"type": "milestone", "retries": 2}}}}}
    assert len(list(validator.iter_errors(bad))) >= 2
