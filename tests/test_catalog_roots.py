"""Catalog roots (dro.yaml): a directory of several catalogs is checked, tested and formatted catalog by catalog."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from goldens import CATALOGS

from dro_cli.main import cli
from dsl.schemas import validator

GOOD = 'lane ops "Ops"\n\ngroup g "G" {\n  step a "A" {\n    type  manual\n    lane  ops\n    queue q\n  }\n}\n\n' \
       'scenario s "S" {\n  when item.product == "X"\n  add  g\n}\n'
BAD = GOOD.replace("lane  ops", "lane  opz")
TEST = "cases:\n  - {name: one, order: {id: O-1, account: A, items: [{id: L1, product: X}]}, expect: {total: 1}}\n"


def dro(*args: str) -> Result:
    return CliRunner(env={"NO_COLOR": "1"}).invoke(cli, list(args), catch_exceptions=False)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_sample_catalogs_are_four_catalogs_not_one(repo: Path) -> None:
    shutil.copytree(CATALOGS, repo / "catalogs", ignore=shutil.ignore_patterns("__pycache__"))
    result = dro("validate", "catalogs")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "catalogs/fiber: all checks passed (9 files)",
        "catalogs/fiber-yaml: all checks passed (9 files)",
        "catalogs/laptop: all checks passed (7 files)",
        "catalogs/laptop-yaml: all checks passed (2 files)",
        "All checks passed (27 files of 4 catalogs).",
    ]


def test_each_root_is_checked_on_its_own_and_the_worst_exit_wins(repo: Path) -> None:
    write(repo, {"c/one/dro.yaml": "name: one\n", "c/one/a.dro": GOOD,
                 "c/two/dro.yaml": "name: second\n", "c/two/a.dro": BAD,  # the same ids: no duplicates
                 "c/two/nested/dro.yaml": "name: nested\n", "c/two/nested/a.dro": GOOD})
    result = dro("validate", "c")
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if line.startswith(("error", "warning", "c/", "Found"))] == [
        "warning[DRO311]: lane 'ops' is never used",
        "error[DRO301]: unknown lane 'opz'",
        "c/one: all checks passed (2 files)",
        "c/two (second): 1 error, 1 warning in 2 files",  # the nested root is not in it
        "c/two/nested: all checks passed (2 files)",
        "Found 1 error, 1 warning in 6 files of 3 catalogs.",
    ]
    document = json.loads(dro("validate", "--format", "json", "c").stdout)
    assert [e.message for e in validator("diagnostics").iter_errors(document)] == []
    assert [(c["path"], c["name"], c["errors"]) for c in document["catalogs"]] == [
        ("c/one", "one", 0), ("c/two", "second", 1), ("c/two/nested", "nested", 0)]
    assert dro("validate", "c", "c/one").output == result.output  # a root named twice is checked once
    write(repo, {"c/three/dro.yaml": "name: three\n"})
    (repo / "c" / "three" / "a.dro").write_bytes(b"lane \xff\n")
    assert dro("validate", "c").exit_code == 2  # a usage error in one catalog is the worst


def test_files_outside_every_root_are_named_not_checked(repo: Path) -> None:
    write(repo, {"c/one/dro.yaml": "name: one\n", "c/one/a.dro": GOOD, "c/loose/b.dro": BAD})
    result = dro("validate", "c")
    assert result.exit_code == 0
    assert "warning[DRO320]: 1 catalog file in 'c' outside its catalog roots not checked" in result.output
    assert "no root holds the files in c/loose" in result.output and "opz" not in result.output
    assert dro("validate", "--strict", "c").exit_code == 1


def test_without_roots_a_directory_is_one_catalog_with_a_hint(repo: Path) -> None:
    write(repo, {"c/one/a.dro": GOOD, "c/two/a.dro": GOOD})
    result = dro("validate", "c")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "warning[DRO321]: 'c' looks like 2 catalogs checked as one"
    assert result.output.count("error[DRO305]") == 4  # lane, group, step, scenario
    assert "put a dro.yaml in each (`name: one`)" in result.output
    write(repo, {"d/a.dro": GOOD, "d/sub/b.dro": GOOD.replace("lane ops", "lane ops2")})
    assert "DRO321" not in dro("validate", "d").output  # one catalog split in directories, no shared ids


def test_the_project_file_is_checked_against_its_schema(repo: Path) -> None:
    write(repo, {"c/dro.yaml": "name: my catalog\nengine: temporal\n", "c/a.dro": GOOD})
    result = dro("validate", "c")
    assert result.exit_code == 1
    assert "error[DRO201]: unknown setting 'engine'" in result.output
    assert "error[DRO208]: 'my catalog' is not a valid name" in result.output
    assert "--> c/dro.yaml:2:1" in result.output
    schema = json.loads(dro("schema", "project").stdout)
    assert schema["required"] == ["name"] and "project" in dro("schema").stdout.split()


def test_commands_that_take_one_catalog_refuse_a_directory_of_roots(repo: Path) -> None:
    write(repo, {"c/one/dro.yaml": "name: one\n", "c/one/a.dro": GOOD, "c/two/dro.yaml": "name: two\n",
                 "c/two/a.dro": GOOD})
    result = dro("compile", "c")
    assert result.exit_code == 2
    assert "error[DRO003]: no catalog files in 'c' outside its catalog roots" in result.stderr
    assert "It holds 2 catalogs, each a directory with a dro.yaml: c/one, c/two." in result.stderr
    assert dro("compile", "c/one").exit_code == 0


def test_a_test_file_tests_the_root_it_is_in(repo: Path) -> None:
    write(repo, {"c/one/dro.yaml": "name: one\n", "c/one/a.dro": GOOD, "c/one/tests/one.test.yaml": TEST,
                 "c/two/dro.yaml": "name: two\n", "c/two/a.dro": BAD, "c/two/t.test.yaml": TEST})
    result = dro("test", "c")
    assert result.exit_code == 1  # two's catalog does not compile; one's test, in a subdirectory, passes
    assert "c/one/tests/one.test.yaml ." in result.output and "c/two/t.test.yaml E" in result.output


def test_fmt_formats_every_root_and_refuses_an_empty_directory(repo: Path) -> None:
    write(repo, {"c/one/dro.yaml": "name: one\n", "c/one/a.dro": GOOD.replace("type  manual", "type manual"),
                 "c/two/dro.yaml": "name: two\n", "c/two/a.dro": GOOD, "c/yaml/x.dro.yaml": "lanes: {}\n"})
    result = dro("fmt", "--check", "c")
    assert (result.exit_code, result.stdout) == (1, "c/one/a.dro\n")
    assert result.stderr == "1 file would be reformatted, 1 file already formatted\n"
    assert dro("fmt", "--check", "c/yaml").exit_code == 0  # YAML files only: nothing to format, not an error
    (repo / "empty").mkdir()
    result = dro("fmt", "empty")
    assert result.exit_code == 2 and "error[DRO003]: no catalog files in 'empty'" in result.stderr
    assert dro("validate", "empty").exit_code == dro("test", "empty").exit_code == 2


def test_the_yaml_twins_run_the_same_flows_as_their_dsl_forms() -> None:
    for dsl_form, flows in [("laptop", "acme_flows.py"), ("fiber", "fiber_flows.py")]:
        original = (CATALOGS / dsl_form / flows).read_bytes()
        assert (CATALOGS / f"{dsl_form}-yaml" / flows).read_bytes() == original
    names = {p.parent.name: p.read_text(encoding="utf-8") for p in CATALOGS.glob("*/dro.yaml")}
    assert names == {name: f"name: {name}\n" for name in ("laptop", "laptop-yaml", "fiber", "fiber-yaml")}
