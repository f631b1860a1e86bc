"""`dro import salesforce`: the Nimbus sample export round-trips to a catalog that validates and is formatted,
its JSON form gives the same catalog, the planted defects fail `dro validate` in the generated files, and bad
input gets a located error, exit 2, and writes nothing."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dro_cli.main import cli

DATA = Path(__file__).parent / "data" / "salesforce"
NUMBERS = {"Priority", "RetriesAllowed", "EstimatedDuration", "JeopardyThreshold", "DelayOf"}


def dro(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return done.exit_code, done.output


def imported(export: Path, out: Path) -> Path:
    code, output = dro("import", "salesforce", str(export), "-o", str(out))
    assert code == 0, output
    return out


def test_the_sample_validates_and_is_formatted(tmp_path: Path) -> None:
    out = imported(DATA / "nimbus", tmp_path / "nimbus")
    assert dro("validate", str(out)) == (0, dro("validate", str(out))[1])
    code, output = dro("fmt", "--check", str(out))
    assert code == 0, output
    report = (out / "IMPORT_REPORT.md").read_text()
    for field in ("IsSkipBranch", "ExecuteOn", "TaskAllocationType", "DelayOf", "CrossPlan", "StagedAssetize"):
        assert field in report, field
    assert "service_live_2" in report  # the second "Service Live" was renamed, and said so
    install = re.sub(r" +", " ", (out / "group_fiber_install.dro").read_text())
    assert "# FulfillmentStepDefinition.csv row 3 (line 4)" in install
    assert "point_of_no_return true" in install and "freeze_plan true" in install
    assert "on_amend fiber_amend" in install and "compensate fiber_cancel" in install
    assert 'description "Reserve the PON port, with its \\"profile\\", in the OSS"' in install
    assert "Nimbus_Team__c = 'Network': not a field dro import reads" in report


def _as_soql_json(export: Path, target: Path) -> None:
    target.mkdir()
    for path in export.glob("*.csv"):
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        records = []
        for row in rows:
            url = f"/services/data/v62.0/sobjects/{path.stem}/{row['Id']}"
            record: dict[str, object] = {"attributes": {"type": path.stem, "url": url}}
            for key, value in row.items():
                if "." in key:
                    outer, inner = key.split(".", 1)
                    nested = record.setdefault(outer, {})
                    assert isinstance(nested, dict)
                    nested[inner] = value or None
                elif key in NUMBERS and value:
                    record[key] = float(value)  # SOQL writes numbers as 3.0
                else:
                    record[key] = {"true": True, "false": False}.get(value, value or None)
            # SOQL writes a lookup that is not set as null, not as an object of nulls
            records.append({key: None if isinstance(value, dict) and not any(value.values()) else value
                            for key, value in record.items()})
        document = {"totalSize": len(records), "done": True, "records": records}
        (target / f"{path.stem}.json").write_text(json.dumps(document, indent=2))


@pytest.mark.parametrize("form", ["made from the CSV", "nimbus-soql"])
def test_the_json_form_gives_the_same_catalog(tmp_path: Path, form: str) -> None:
    soql = DATA / form
    if not soql.exists():
        _as_soql_json(DATA / "nimbus", soql := tmp_path / "nimbus-json")
    from_csv = imported(DATA / "nimbus", tmp_path / "a")
    from_json = imported(soql, tmp_path / "b")
    hashes = []
    for out in (from_csv, from_json):
        code, output = dro("compile", str(out))
        assert code == 0, output
        hashes.append(json.loads(output)["hash"])
    assert hashes[0] == hashes[1]


def test_the_planted_defects_fail_validate_located(tmp_path: Path) -> None:
    out = imported(DATA / "nimbus-defects", tmp_path / "defects")
    code, output = dro("validate", str(out), "--format", "json")
    assert code == 1
    found = json.loads(output)
    diagnostics = found["diagnostics"] if isinstance(found, dict) else found
    errors = sorted((d["code"], Path(d["file"]).name, d["line"]) for d in diagnostics if d["severity"] == "error")
    assert [(code, file) for code, file, _ in errors] == [("DRO304", "group_fiber_install.dro"),
                                                            ("DRO317", "rules.dro")], errors
    # the dependency on "Activate Lines" (no such step), the second timeout rule (as specific as the first)
    lines = {file: (out / file).read_text().splitlines() for _, file, _ in errors}
    assert "activate_lines within plan" in lines["group_fiber_install.dro"][errors[0][2] - 1]
    rule_block = "\n".join(lines["rules.dro"][errors[1][2] - 4:errors[1][2]])
    assert "FulfillmentFalloutRule.csv row 4" in rule_block and "network_timeouts_again" in rule_block


@pytest.mark.parametrize(("edit", "located"), [
    (("FulfillmentStepDefinition.csv", "ManualTask,Plan,Fiber Install", "Robot,Plan,Fiber Install"),
     "FulfillmentStepDefinition.csv row 1 (line 2), column 'StepType': unknown StepType 'Robot'"),
    (("FulfillmentStepDefinition.csv", "Callout,LineItem,Fiber Change", "Callout,LineItem,Fiber Chnage"),
     "column 'StepDefinitionGroup.Name': step group 'Fiber Chnage' is not in FulfillmentStepDefinitionGroup"),
    (("FulfillmentStepDefinitionGroup.csv", "Id,Name", "Id,Title"),
     "FulfillmentStepDefinitionGroup.csv line 1: missing column 'Name'"),
    (("FulfillmentFalloutRule.csv", '"10,60,300"', '"10,60,300'), "FulfillmentFalloutRule.csv:"),
])
def test_bad_input_is_located_and_writes_nothing(tmp_path: Path, edit: tuple[str, str, str], located: str) -> None:
    export = tmp_path / "export"
    shutil.copytree(DATA / "nimbus", export)
    name, old, new = edit
    path = export / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    code, output = dro("import", "salesforce", str(export), "-o", str(tmp_path / "out"))
    assert code == 2 and located in output and "Traceback" not in output, output
    assert not (tmp_path / "out").exists()


def test_malformed_json_is_located(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "FulfillmentStepDefinition.json").write_text('{"records": [\n  {"a": 1,}\n]}')
    code, output = dro("import", "salesforce", str(tmp_path / "export"), "-o", str(tmp_path / "out"))
    assert code == 2 and "FulfillmentStepDefinition.json:2:" in output and "malformed JSON" in output, output


def test_a_non_empty_catalog_dir_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, output = dro("import", "salesforce", str(DATA / "nimbus"), "-o", str(out))
    assert code == 2 and "is not empty" in output and (out / "keep.txt").exists()
    assert dro("import", "salesforce", str(DATA / "nimbus"), "-o", str(out), "--force")[0] == 0
    assert not (out / "keep.txt").exists() and (out / "scenarios.dro").exists()


@pytest.mark.parametrize(("export", "out", "says"), [
    ("missing", "out", "missing: no such directory"),
    ("file", "out", "file: no such directory"),
    ("empty", "out", "empty: no .csv or .json files"),
    ("nimbus", "file", "file: exists and is not a directory"),
    ("nimbus", "missing/out", "missing: no such directory"),
])
def test_bad_paths_are_named(tmp_path: Path, export: str, out: str, says: str) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    source = DATA / "nimbus" if export == "nimbus" else tmp_path / export
    code, output = dro("import", "salesforce", str(source), "-o", str(tmp_path / out))
    assert code == 2 and says in output and "Traceback" not in output, output
    assert (tmp_path / "file").read_text() == "x"


def test_an_unknown_object_file_is_refused(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(DATA / "nimbus", export)
    (export / "Account.csv").write_text("Id,Name\n1,X\n")
    code, output = dro("import", "salesforce", str(export), "-o", str(tmp_path / "out"))
    assert code == 2 and "Account.csv: unknown object 'Account'" in output, output


def test_a_dangling_amend_group_is_left_for_validate_to_locate(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(DATA / "nimbus", export)
    path = export / "FulfillmentStepDefinition.csv"
    path.write_text(path.read_text().replace("Fiber Amend,Fiber Cancel", "Fiber Amnd,Fiber Cancel"))
    out = imported(export, tmp_path / "out")
    code, output = dro("validate", str(out))
    assert code == 1 and "fiber_amnd" in output and "group_fiber_install.dro" in output, output


def test_force_never_replaces_the_export(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(DATA / "nimbus", export)
    for out in (export, tmp_path):
        code, output = dro("import", "salesforce", str(export), "-o", str(out), "--force")
        assert code == 2 and "holds the export itself" in output, output
    assert sorted(p.name for p in export.iterdir()) == sorted(p.name for p in (DATA / "nimbus").iterdir())


def test_quiet_shows_only_what_was_not_imported(tmp_path: Path) -> None:
    code, output = dro("import", "salesforce", str(DATA / "nimbus"), "-o", str(tmp_path / "Nimbus-Fiber"), "-q")
    assert code == 0 and "wrote" not in output
    assert output.count("warning: not imported: ") == 18, output
    assert (tmp_path / "Nimbus-Fiber" / "dro.yaml").read_text() == "name: nimbus_fiber\n"


def test_ids_are_readable_and_valid() -> None:
    from dro_cli.importers.salesforce.ids import Ids, slug

    assert slug("Reserve Port (WMS)", "step") == "reserve_port_wms"
    assert slug("5G Core", "step") == "step_5g_core"
    assert slug("When", "step") == "when_"
    assert slug("StagedAssetize", "flow") == "staged_assetize" and slug("Network_Inventory", "x") == "network_inventory"
    assert slug("", "group") == "group"
    ids = Ids()
    assert [ids.new(n, "step") for n in ("Ship It", "ship-it", "Ship It!")] == ["ship_it", "ship_it_2", "ship_it_3"]
    assert ids.collisions == [("ship-it", "ship_it", "ship_it_2"), ("Ship It!", "ship_it", "ship_it_3")]


def test_every_value_the_issue_names_is_in_the_sample() -> None:
    text = "\n".join(p.read_text() for p in (DATA / "nimbus").glob("*.csv"))
    for value in ("AutoTask", "Callout", "ManualTask", "Milestone", "Pause", "StagedAssetize", "Plan", "Bundle",
                  "LineItem", "CrossPlan", "Custom", "Immediate", "Monotonous", "Staggered", "Add", "Change",
                  "Delete", "NoChange"):
        assert f",{value}," in text, value
    objects = {p.stem for p in (DATA / "nimbus").glob("*.csv")}
    from dro_cli.importers.salesforce.records import OBJECTS, READ

    assert objects == set(OBJECTS)
    for obj, columns in READ.items():
        header = (DATA / "nimbus" / f"{obj}.csv").read_text().splitlines()[0].split(",")
        missing = columns - set(header) - {"Description", "FulfillmentStepDefinition", "DependsOnStepDefinition",
                                             "FlowDefinitionName", "Name"}
        assert not missing, (obj, missing)


def test_a_file_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(DATA / "nimbus", export)
    (export / "FulfillmentStepDefinitionGroup.csv").write_bytes(b"Id,Name\na01,Fibre \xe9\n")
    code, output = dro("import", "salesforce", str(export), "-o", str(tmp_path / "out"))
    assert code == 2 and "FulfillmentStepDefinitionGroup.csv:2 (byte 18): the file is not UTF-8" in output, output


def test_an_incomplete_query_result_is_refused(tmp_path: Path) -> None:
    _as_soql_json(DATA / "nimbus", tmp_path / "export")
    path = tmp_path / "export" / "FulfillmentStepDefinition.json"
    path.write_text(path.read_text().replace('"done": true', '"done": false', 1))
    code, output = dro("import", "salesforce", str(tmp_path / "export"), "-o", str(tmp_path / "out"))
    assert code == 2 and 'FulfillmentStepDefinition.json: an incomplete query result ("done": false)' in output


def test_two_flows_with_one_slug_stay_two_functions(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(DATA / "nimbus", export)
    path = export / "FulfillmentStepDefinition.csv"
    path.write_text(path.read_text().replace("Notify_Amend_Flow", "Activate Line Flow"))
    out = imported(export, tmp_path / "out")
    flows = (out / "sf_flows.py").read_text()
    assert "def activate_line_flow(" in flows and "def activate_line_flow_2(" in flows
    assert "'Activate Line Flow': activate_line_flow_2 (activate_line_flow was taken)" in (
        out / "IMPORT_REPORT.md").read_text()
    assert dro("validate", str(out))[0] == 0


def test_the_imported_catalog_plans_an_order(tmp_path: Path) -> None:
    out = imported(DATA / "nimbus", tmp_path / "nimbus")
    code, output = dro("plan", str(DATA / "orders" / "ORD-9001.yaml"), "--catalog", str(out), "--format", "json")
    assert code == 0, output
    plan = json.loads(output[output.index("{"):output.rindex("}") + 1])
    steps = {step["step"] for step in plan["steps"]}
    assert steps == {"credit_check", "reserve_port", "install_ont", "wait_for_technician", "activate_line",
                     "create_assets", "service_live"}, steps


HOSTILE = ['Evil"} step x { type auto', "two\nlines } #", "{{ order.id }}", "ünïcödé ✓", "#", "when", "  ", "a" * 300]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_stay_data(tmp_path: Path, text: str) -> None:
    """Names, SKUs, flows and integrations end up quoted, slugged or refused: never as dro source."""
    export = tmp_path / "export"
    shutil.copytree(DATA / "nimbus", export)
    for name, old in (("FulfillmentStepDefinitionGroup.csv", "Fiber Change"),
                      ("FulfillmentStepDefinition.csv", "Network_Inventory"),
                      ("FulfillmentStepDefinition.csv", "Activate_Line_Flow"),
                      ("ProductFulfillmentDecompRule.csv", "ONT-DEVICE"),
                      ("FulfillmentFalloutRule.csv", "http_503")):
        path = export / name
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        rows = [[text if cell == old else cell for cell in row] for row in rows]
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows(rows)
    for edited in ("FulfillmentStepDefinition.csv", "ProductFulfillmentScenario.csv"):  # references too
        path = export / edited
        path.write_text(path.read_text().replace(",Fiber Change,", f",{csv_cell(text)},"))
    code, output = dro("import", "salesforce", str(export), "-o", str(tmp_path / "out"))
    assert "Traceback" not in output and "dro bug" not in output, output
    if code == 0:
        code, output = dro("validate", str(tmp_path / "out"), "--format", "json")
        codes = {d["code"] for d in json.loads(output)["diagnostics"]}
        assert not {c for c in codes if c.startswith("DRO1")}, output  # every file parses
        assert dro("fmt", "--check", str(tmp_path / "out"))[0] == 0
    else:
        assert code == 2, output


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.mark.parametrize(("name", "old", "new", "located"), [
    ("ProductFulfillmentDecompRule.csv", "NIMBUS-FIBER-BUNDLE,ONT-DEVICE", "NIMBUS-FIBER-BUNDLE,",
     "ProductFulfillmentDecompRule.csv row 2 (line 3), column 'DestinationProduct.StockKeepingUnit': empty"),
    ("FulfillmentStepDependencyDef.csv", "c02,Install ONT", "c02,Install OTN",
     "FulfillmentStepDependencyDef.csv row 2 (line 3), column 'FulfillmentStepDefinition': step 'Install OTN' is"),
    ("ProductFulfillmentScenario.csv", ",Delete,", ",Remove,",
     "ProductFulfillmentScenario.csv row 3 (line 4), column 'Action': unknown Action 'Remove'"),
    ("FulfillmentFalloutRule.csv", ",Immediate,1,", ",Immediate,one,",
     "FulfillmentFalloutRule.csv row 3 (line 4), column 'RetriesAllowed': 'one' is not a whole number"),
    ("FulfillmentStepJeopardyRule.csv", "2,Days,4,Hours", "2,Fortnights,4,Hours",
     "FulfillmentStepJeopardyRule.csv row 1 (line 2), column 'EstimatedDuration': '2' 'Fortnights' is not"),
    ("FulfillmentStepDefinition.csv", "b08,Reprofile Port,Callout,LineItem,Fiber Change,,Network_Inventory",
     "b08,Reprofile Port,Callout,LineItem,Fiber Change,,", "row 8 (line 9), column 'IntegrationDefinitionName"),
])
def test_more_bad_values_are_located(tmp_path: Path, name: str, old: str, new: str, located: str) -> None:
    export = tmp_path / "export"
    shutil.copytree(DATA / "nimbus", export)
    path = export / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    code, output = dro("import", "salesforce", str(export), "-o", str(tmp_path / "out"))
    assert code == 2 and located in output and "help:" in output, output
    assert not (tmp_path / "out").exists()
