"""`dro validate --format sarif|junit`: valid documents, right positions, and the exit codes of every format."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import pytest
from click.testing import CliRunner
from goldens import ROOT
from jsonschema import Draft7Validator, FormatChecker

from dro_cli.main import cli
from dro_cli.output.junit_xml import Case, Suite, render_junit
from dro_cli.output.reporters.sarif import sarif_rule
from dsl.codes import CODES

SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

GOOD = 'lane ops\ngroup g { step a "A" { type milestone lane ops } }\nscenario s { when item.product == "X"  add g }\n'
# An unknown lane after non-ASCII text: 'é' is one UTF-16 code unit, '🚚' two.
BAD_DRO = ('lane ops\ngroup g { step a "Trück 🚚 é" { type milestone lane opz } }\n'
           'scenario s { when item.product == "X"  add g }\n')
BAD_YAML = ('lanes:\n  spare: {title: "Spare 🚚"}\ngroups:\n  h:\n    steps:\n'
            '      b: {title: "B 🚚🚚", type: milestone, lane: nope}\n'
            'scenarios:\n  t: {when: item.product == "Y", add: [h]}\n')
WARNS = GOOD + "lane spare\n"


def run(*args: str, color: bool = False):  # type: ignore[no-untyped-def]
    env = {} if color else {"NO_COLOR": "1"}
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False, prog_name="dro", color=color)


def sarif_errors(document: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(SARIF_SCHEMA, format_checker=FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def sarif(*args: str) -> tuple[dict[str, Any], int]:
    result = run("validate", "--format", "sarif", *args)
    document = json.loads(result.stdout)
    assert sarif_errors(document) == []
    return document, result.exit_code


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root as the current directory, as in CI: uris are relative to it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def utf16(line: str, column: int) -> int:
    return len(line[: column - 1].encode("utf-16-le")) // 2 + 1


# ---- sarif -----------------------------------------------------------------------


def test_the_vendored_schema_is_sarif_2_1_0() -> None:
    Draft7Validator.check_schema(SARIF_SCHEMA)
    assert SARIF_SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SARIF_SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]
    # The schema is strict enough to catch a malformed log.
    assert sarif_errors({"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": [{}]}]}) != []


def test_sarif_of_a_clean_catalog(repo: Path) -> None:
    write(repo, {"cat/c.dro": GOOD})
    document, code = sarif("cat")
    assert code == 0
    assert document["version"] == "2.1.0"
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    (run_,) = document["runs"]
    assert run_["tool"]["driver"]["name"] == "dro" and run_["tool"]["driver"]["rules"] == []
    assert run_["results"] == []
    assert run_["artifacts"] == [{"location": {"uri": "cat/c.dro", "uriBaseId": "%SRCROOT%"}}]


def test_sarif_with_errors_and_warnings_in_several_files(repo: Path) -> None:
    write(repo, {"cat/a.dro": BAD_DRO, "cat/sub/b.dro.yaml": BAD_YAML})
    # Located, but no text to count columns in; in a catalog of its own, as it would hold back
    # the unknown and unused names of the catalog it is in (it may declare them).
    (repo / "other").mkdir()
    (repo / "other" / "latin1.dro").write_bytes(b"lane caf\xe9\n")
    document, code = sarif("cat", "other", "no/such/catalog")
    assert code == 2  # the missing path is a usage error, whatever the format
    results = document["runs"][0]["results"]
    by_code = {r["ruleId"]: r for r in results}
    assert {"DRO001", "DRO002", "DRO301", "DRO311"} <= set(by_code)
    region = by_code["DRO002"]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (1, 9)
    assert by_code["DRO301"]["level"] == "error" and by_code["DRO311"]["level"] == "warning"
    assert "locations" not in by_code["DRO001"]  # no span, no location
    assert by_code["DRO001"]["message"]["text"].startswith("path 'no/such/catalog' does not exist")
    located = [r for r in results if "locations" in r]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in located} == {
        "cat/a.dro", "other/latin1.dro", "cat/sub/b.dro.yaml"}
    (unknown,) = [r["message"]["text"].split("\n") for r in results if "'opz'" in r["message"]["text"]]
    assert unknown[0] == "unknown lane 'opz'" and unknown[-1] == "help: did you mean 'ops'?"


def test_sarif_positions_match_the_json_format(repo: Path) -> None:
    write(repo, {"cat/a.dro": BAD_DRO, "cat/b.dro.yaml": BAD_YAML})
    document, _ = sarif("cat")
    diagnostics = json.loads(run("validate", "--format", "json", "cat").stdout)["diagnostics"]
    results = document["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [d["code"] for d in diagnostics]
    texts = {"cat/a.dro": BAD_DRO, "cat/b.dro.yaml": BAD_YAML}
    for result, d in zip(results, diagnostics, strict=True):
        region = result["locations"][0]["physicalLocation"]["region"]
        lines = texts[d["file"]].split("\n")
        assert (region["startLine"], region["endLine"]) == (d["line"], d["end_line"])
        assert region["startColumn"] == utf16(lines[d["line"] - 1], d["column"])
        assert region["endColumn"] == utf16(lines[d["end_line"] - 1], d["end_column"])
    # The unknown lanes sit after one and two emoji: SARIF columns count their UTF-16 surrogate pairs.
    columns = [(d["file"], r["locations"][0]["physicalLocation"]["region"]["startColumn"] - d["column"])
               for r, d in zip(results, diagnostics, strict=True) if d["code"] == "DRO301"]
    assert sorted(columns) == [("cat/a.dro", 1), ("cat/b.dro.yaml", 2)]
    assert document["runs"][0]["columnKind"] == "utf16CodeUnits"


def test_every_result_names_its_rule_by_id_and_index(repo: Path) -> None:
    write(repo, {"cat/a.dro": BAD_DRO, "cat/b.dro.yaml": BAD_YAML, "cat/c.dro": "lane spare2\n"})
    document, _ = sarif("cat")
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    results = document["runs"][0]["results"]
    ids = [rule["id"] for rule in rules]
    assert ids == sorted(set(ids)) == sorted({r["ruleId"] for r in results}) == ["DRO301", "DRO311"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert rules[0]["helpUri"].endswith("/language.md#dro301-unknown-lane")


def test_the_links_go_to_the_repository_docs_or_where_dro_docs_url_says(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo, {"cat/a.dro": BAD_DRO})
    monkeypatch.delenv("DRO_DOCS_URL", raising=False)
    driver = sarif("cat")[0]["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://github.com/OWNER/dro"
    assert driver["rules"][0]["helpUri"] == \
        "https://github.com/OWNER/dro/blob/main/docs/language.md#dro301-unknown-lane"
    assert "dro.dev" not in json.dumps(driver)
    monkeypatch.setenv("DRO_DOCS_URL", "https://docs.example.com/dro")
    driver = sarif("cat")[0]["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://docs.example.com/dro/"
    assert driver["rules"][0]["helpUri"] == "https://docs.example.com/dro/language.md#dro301-unknown-lane"


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_rule_links_to_the_section_documenting_its_code(code: str) -> None:
    rule = sarif_rule(code)
    assert rule["id"] == code and rule["shortDescription"]["text"] == CODES[code]
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", rule["name"])
    page, _, anchor = rule["helpUri"].rpartition("#")
    assert page.startswith("https://")
    text = (ROOT / "docs" / page.rpartition("/")[2]).read_text(encoding="utf-8")
    # GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes.
    anchors = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}
    assert anchor in anchors and anchor.startswith(code.lower() + "-")


def test_sarif_uris_are_relative_with_forward_slashes(repo: Path) -> None:
    write(repo, {"cat/deep/er/a.dro": GOOD, "cat/with space/é.dro.yaml": BAD_YAML})
    document, _ = sarif("cat")
    run_ = document["runs"][0]
    base = run_["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file://") and base.endswith("/")
    assert Path(url2pathname(urlsplit(base).path)).resolve() == repo.resolve()
    uris = [a["location"]["uri"] for a in run_["artifacts"]]
    assert uris == ["cat/deep/er/a.dro", "cat/with%20space/%C3%A9.dro.yaml"]
    for artifact in run_["artifacts"]:
        location = artifact["location"]
        assert location["uriBaseId"] == "%SRCROOT%"
        assert "\\" not in location["uri"] and not urlsplit(location["uri"]).scheme
        assert Path(url2pathname(urlsplit(urljoin(base, location["uri"])).path)).is_file()
    for result in run_["results"]:
        artifact_location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert run_["artifacts"][artifact_location["index"]]["location"]["uri"] == artifact_location["uri"]
    assert unquote(uris[1]) == "cat/with space/é.dro.yaml"


def test_files_outside_the_current_directory_get_absolute_uris(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"cat/a.dro": BAD_DRO})
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    document, code = sarif(str(tmp_path / "cat"))
    assert code == 1
    location = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert "uriBaseId" not in location and location["uri"].startswith("file:///")
    assert Path(url2pathname(urlsplit(location["uri"]).path)) == (tmp_path / "cat" / "a.dro").resolve()


def test_sarif_is_deterministic(repo: Path) -> None:
    write(repo, {"cat/a.dro": BAD_DRO, "cat/b.dro.yaml": BAD_YAML})
    first = run("validate", "--format", "sarif", "cat").stdout
    assert first == run("validate", "--format", "sarif", "cat").stdout
    assert first.startswith('{\n  "$schema": ')


# ---- exit codes ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "junit"])
@pytest.mark.parametrize(("files", "extra", "expected"), [
    ({"c.dro": GOOD}, [], 0),
    ({"c.dro": WARNS}, [], 0),
    ({"c.dro": WARNS}, ["--strict"], 1),
    ({"c.dro": BAD_DRO}, [], 1),
    ({"c.dro": GOOD}, ["missing-dir"], 2),
])
def test_exit_codes_do_not_depend_on_the_format(repo: Path, fmt: str, files: dict[str, str],
                                                extra: list[str], expected: int) -> None:
    write(repo / "cat", files)
    options = [o for o in extra if o.startswith("--")]
    paths = [o for o in extra if not o.startswith("--")]
    assert run("validate", "--format", fmt, *options, "cat", *paths).exit_code == expected


# ---- junit -----------------------------------------------------------------------


def junit(*args: str, color: bool = False) -> tuple[ET.Element, int, str]:
    result = run("validate", "--format", "junit", *args, color=color)
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(result.stdout), result.exit_code, result.stdout


def totals(element: ET.Element) -> tuple[int, ...]:
    return tuple(int(element.get(key, "-1")) for key in ("tests", "failures", "errors", "skipped"))


def test_junit_a_case_per_file_failed_by_its_errors(repo: Path) -> None:
    write(repo, {"cat/a.dro": BAD_DRO, "cat/b.dro": "lane spare\n", "cat/c.dro.yaml": "lanes: {x: {}}\n"})
    root, code, text = junit("cat", color=True)
    assert code == 1
    assert "\x1b" not in text  # rendered without colour even on a colour terminal
    (suite,) = root
    assert suite.get("name") == "dro validate"
    assert totals(root) == totals(suite) == (3, 1, 0, 0)
    cases = {case.get("name"): case for case in suite}
    assert set(cases) == {"cat/a.dro", "cat/b.dro", "cat/c.dro.yaml"}
    failure = cases["cat/a.dro"].find("failure")
    assert failure is not None and failure.text is not None
    assert "DRO301" in failure.get("message", "") and "cat/a.dro:2:" in failure.get("message", "")
    assert failure.text.startswith("error[DRO301]: unknown lane 'opz'\n --> cat/a.dro:2:")
    assert "= help: did you mean 'ops'?" in failure.text
    assert (cases["cat/a.dro"].get("file"), cases["cat/a.dro"].get("line")) == ("cat/a.dro", "2")
    assert cases["cat/b.dro"].find("failure") is None  # its unused lane is a warning
    out = cases["cat/b.dro"].find("system-out")
    assert out is not None and out.text is not None and "warning[DRO311]" in out.text


def test_junit_warnings_pass_unless_strict(repo: Path) -> None:
    write(repo, {"cat/c.dro": WARNS})
    root, code, _ = junit("cat")
    assert (code, totals(root)) == (0, (1, 0, 0, 0))
    root, code, _ = junit("--strict", "cat")
    assert (code, totals(root)) == (1, (1, 1, 0, 0))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and "DRO311" in failure.get("message", "")


def test_junit_problems_without_a_file_are_a_case_of_their_own(repo: Path) -> None:
    write(repo, {"cat/c.dro": GOOD})
    root, code, _ = junit("cat", "no/such/dir")
    assert code == 2
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert set(cases) == {"cat/c.dro", "(catalog)"}
    failure = cases["(catalog)"].find("failure")
    assert failure is not None and "DRO001" in failure.get("message", "")
    assert cases["(catalog)"].get("file") is None


def test_junit_survives_characters_xml_forbids(repo: Path) -> None:
    write(repo, {"cat/c.dro": 'lane ops "Ops \x07 bell"\nlane x\x01y\n'})
    root, code, text = junit("cat")  # parsing it is the test: a raw \x01 would be malformed XML
    assert code == 1
    assert "\x01" not in text and "\x07" not in text
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.text is not None and "DRO104" in failure.text
    assert "2 | lane xy" in failure.text


# ---- dro_cli/output/junit_xml.py ------------------------------------------------------------


def test_render_junit_totals_across_suites() -> None:
    suites = [
        Suite("one", [Case("a", "k", 0.25), Case("b", "k", 0.5, failure="no"), Case("c", "k", skipped="later")]),
        Suite("two", [Case("d", "k", 1.0, failure="cannot run", error=True)], seconds=2.0,
              timestamp="2026-01-02T03:04:05Z"),
    ]
    root = ET.fromstring(render_junit(suites))
    assert root.tag == "testsuites" and totals(root) == (4, 1, 1, 1)
    assert root.get("time") == "2.750"  # 0.75 summed from the first suite's cases, 2.0 given for the second
    one, two = root
    assert totals(one) == (3, 1, 0, 1) and one.get("time") == "0.750" and one.get("timestamp") is None
    assert totals(two) == (1, 0, 1, 0) and two.get("time") == "2.000"
    assert two.get("timestamp") == "2026-01-02T03:04:05Z"
    assert [case.get("time") for case in one] == ["0.250", "0.500", "0.000"]


def test_render_junit_error_failure_and_skipped_elements() -> None:
    cases = [Case("fails", "k", failure="wrong", details="line 1\nline 2"),
             Case("broken", "k", failure="could not run", error=True),
             Case("later", "k", skipped="not yet"),
             Case("both", "k", failure="wrong", skipped="ignored: a failure wins")]
    by_name = {case.get("name"): case for case in ET.fromstring(render_junit([Suite("s", cases)])).iter("testcase")}
    failure = by_name["fails"].find("failure")
    assert failure is not None and failure.get("message") == "wrong" and failure.text == "line 1\nline 2"
    assert by_name["fails"].find("error") is None
    error = by_name["broken"].find("error")
    assert error is not None and error.get("message") == "could not run" and by_name["broken"].find("failure") is None
    skipped = by_name["later"].find("skipped")
    assert skipped is not None and skipped.get("message") == "not yet"
    assert by_name["both"].find("failure") is not None and by_name["both"].find("skipped") is None


def test_render_junit_escapes_and_cleans_text() -> None:
    nasty = 'a <b> & "c" \'d\'\tnew\nline'
    case = Case(nasty, "k.<x>", failure=nasty, details=nasty + "\x00\x1b[31m\ud800\ufffe", stdout="out \x0b& <in>",
                file="dir/f&.dro", line=7)
    xml = render_junit([Suite("s&<>", [case])])
    assert "\x00" not in xml and "\x1b" not in xml and "\ud800" not in xml and "\x0b" not in xml
    element = ET.fromstring(xml).find("testsuite/testcase")
    assert element is not None
    assert element.get("name") == nasty and element.get("classname") == "k.<x>"
    assert (element.get("file"), element.get("line")) == ("dir/f&.dro", "7")
    failure = element.find("failure")
    assert failure is not None and failure.get("message") == nasty and failure.text == nasty + "[31m"
    out = element.find("system-out")
    assert out is not None and out.text == "out & <in>"


def test_render_junit_passed_cases_have_no_children() -> None:
    xml = render_junit([Suite("s", [Case("ok", "k")]), Suite("empty", [])])
    root = ET.fromstring(xml)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    assert totals(root) == (1, 0, 0, 0)
    (case,) = root.iter("testcase")
    assert list(case) == [] and case.get("file") is None and case.get("line") is None
    assert totals(root[1]) == (0, 0, 0, 0)
