"""The catalog language of in-flight changes: point_of_no_return, freeze_plan, compensate, on_amend."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from goldens import CATALOGS

from dro_cli.main import cli
from dro_cli.planning.api import make_plan
from dsl import compile_catalog
from dsl.api import CompileResult
from dsl.formatter import format_text
from dsl.schemas import validator

FIBER = CATALOGS / "fiber"

CATALOG = '''\
lane logistics "Logistics"

group shipping "Shipping" {
  step ship_router "Ship the router" {
    type               manual
    lane               logistics
    queue              warehouse
    point_of_no_return false
    freeze_plan        true
    compensate         return_shipping
    on_amend           relabel
  }

  step ship_tv_box "Ship the TV box" {
    type  manual
    lane  logistics
    queue warehouse
  }
}

group return_shipping "Return shipment" {
  step restock "Put it back in stock" {
    type         manual
    lane         logistics
    queue        warehouse
    after        collect
    when         undone.state == "completed" and revision.number > 1
    instructions "Restock {{ undone.outputs.serial }} ({{ undone.step }}), revision {{ revision.number }}."
  }

  step collect "Collect the parcel" {
    type  manual
    lane  logistics
    queue warehouse
  }
}

group relabelling "Relabelling" {
  step relabel "Print a new label" {
    type         manual
    lane         logistics
    queue        warehouse
    instructions "Reason: {{ revision.reason }}"
  }
}

scenario router "Router" {
  when item.product == "ROUTER"
  add  [shipping]
}
'''


def check(tmp_path: Path, text: str, name: str = "catalog.dro") -> CompileResult:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return compile_catalog([tmp_path])


def codes(result: CompileResult) -> list[str]:
    return [d.code for d in result.diagnostics]


def templates(tmp_path: Path, text: str = CATALOG) -> dict[str, Any]:
    result = check(tmp_path, text)
    assert result.templates is not None, [(d.code, d.summary) for d in result.diagnostics]
    return result.templates


# ---- compiled templates ------------------------------------------------------------


def test_the_attributes_compile_into_the_step_template_with_what_they_run_in_dependency_order(
        tmp_path: Path) -> None:
    compiled = templates(tmp_path)
    ship = compiled["steps"]["ship_router"]
    assert ship["compensate"] == ["collect", "restock"]  # restock runs after collect
    assert ship["on_amend"] == ["relabel"]
    assert (ship["point_of_no_return"], ship["freeze_plan"]) == (False, True)
    assert [e.message for e in validator("plan-template").iter_errors(compiled)] == []


def test_a_step_without_them_carries_none_of_the_keys(tmp_path: Path) -> None:
    tv_box = templates(tmp_path)["steps"]["ship_tv_box"]
    assert tv_box.keys().isdisjoint({"compensate", "on_amend", "point_of_no_return", "freeze_plan"})


def test_compensation_steps_are_templates_that_no_scenario_plans(tmp_path: Path) -> None:
    compiled = templates(tmp_path)
    assert {"collect", "restock", "relabel"} <= compiled["steps"].keys()
    assert compiled["scenarios"]["router"]["steps"] == ["ship_router", "ship_tv_box"]
    result = check(tmp_path, CATALOG)
    assert not {"DRO313", "DRO314"} & set(codes(result))  # the return groups are not "never added"


def test_each_attribute_changes_the_content_hash(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    base = templates(tmp_path / "base")["hash"]
    for name, edits in [("ponr", [("point_of_no_return false", "point_of_no_return true")]),
                        ("freeze", [("freeze_plan        true", "freeze_plan        false")]),
                        ("compensate", [("compensate         return_shipping", "compensate         restock")]),
                        ("on_amend", [("    on_amend           relabel\n", ""),
                                      ("{{ revision.reason }}", "none")])]:
        text = CATALOG
        for old, new in edits:
            assert text.count(old) == 1
            text = text.replace(old, new)
        (tmp_path / name).mkdir()
        assert templates(tmp_path / name, text)["hash"] != base, name


def test_naming_a_group_or_its_only_step_is_the_same_template(tmp_path: Path) -> None:
    (tmp_path / "step").mkdir()
    (tmp_path / "group").mkdir()
    by_group = CATALOG.replace("on_amend           relabel", "on_amend           relabelling")
    assert templates(tmp_path / "step")["hash"] == templates(tmp_path / "group", by_group)["hash"]


def test_plans_leave_them_out_of_instances_and_never_hold_compensation_steps() -> None:
    outcome = make_plan(FIBER / "orders" / "ORD-2001-new-bundle.yaml", FIBER)
    assert outcome.plan is not None
    steps = {s["step"]: s for s in outcome.plan["steps"]}
    assert "ship_router" in steps and "request_port_in" in steps and "activate_line" in steps
    assert not {"request_return", "shipment_returned", "reprofile_line"} & steps.keys()
    for step in steps.values():
        assert step["config"].keys().isdisjoint({"compensate", "on_amend", "point_of_no_return", "freeze_plan"})


def test_the_fiber_catalog_uses_them() -> None:
    result = compile_catalog([FIBER])
    assert result.templates is not None
    steps = result.templates["steps"]
    assert steps["request_port_in"]["point_of_no_return"] is True
    assert steps["ship_router"]["compensate"] == ["request_return", "shipment_returned"]
    assert steps["activate_line"]["freeze_plan"] is True
    assert steps["activate_line"]["on_amend"] == ["reprofile_line"]


# ---- the YAML form -------------------------------------------------------------------

YAML_CATALOG = '''\
lanes:
  logistics: {title: Logistics}
groups:
  shipping:
    title: Shipping
    steps:
      ship_router:
        title: Ship the router
        type: manual
        lane: logistics
        queue: warehouse
        point_of_no_return: false
        freeze_plan: true
        compensate: return_shipping
        on_amend: relabel
      ship_tv_box: {title: Ship the TV box, type: manual, lane: logistics, queue: warehouse}
  return_shipping:
    title: Return shipment
    steps:
      restock:
        title: Put it back in stock
        type: manual
        lane: logistics
        queue: warehouse
        after: [collect]
        when: undone.state == "completed" and revision.number > 1
        instructions: "Restock {{ undone.outputs.serial }} ({{ undone.step }}), revision {{ revision.number }}."
      collect: {title: Collect the parcel, type: manual, lane: logistics, queue: warehouse}
  relabelling:
    title: Relabelling
    steps:
      relabel: {title: Print a new label, type: manual, lane: logistics, queue: warehouse,
                instructions: "Reason: {{ revision.reason }}"}
scenarios:
  router: {title: Router, when: item.product == "ROUTER", add: [shipping]}
'''


def test_the_yaml_form_compiles_to_the_same_templates(tmp_path: Path) -> None:
    (tmp_path / "dsl").mkdir()
    (tmp_path / "yaml").mkdir()
    from_dsl = templates(tmp_path / "dsl")
    result = check(tmp_path / "yaml", YAML_CATALOG, "catalog.dro.yaml")
    assert result.templates is not None, [(d.code, d.summary) for d in result.diagnostics]
    assert result.templates["hash"] == from_dsl["hash"]


def test_the_yaml_form_reports_the_same_checks(tmp_path: Path) -> None:
    bad = YAML_CATALOG.replace("compensate: return_shipping", "compensate: return_shiping").replace(
        "{title: Ship the TV box,", "{freeze_plan: 1, title: Ship the TV box,")
    result = check(tmp_path, bad, "catalog.dro.yaml")
    found = {d.code: d for d in result.diagnostics}
    assert found["DRO322"].hint == "did you mean 'return_shipping'?"
    assert found["DRO322"].span is not None and found["DRO322"].span.line == 14
    assert found["DRO203"].span is not None and found["DRO203"].span.line == 16


# ---- checks ---------------------------------------------------------------------------


def test_an_unknown_target_is_located_with_did_you_mean(tmp_path: Path) -> None:
    result = check(tmp_path, CATALOG.replace("on_amend           relabel", "on_amend           relabell"))
    (problem,) = [d for d in result.diagnostics if d.code == "DRO322"]
    assert problem.summary == "unknown group or step 'relabell' in on_amend"
    assert problem.hint == "did you mean 'relabel'?"
    assert problem.span is not None and (problem.span.line, problem.span.col) == (11, 24)


def test_an_empty_group_is_no_compensation(tmp_path: Path) -> None:
    text = CATALOG.replace("compensate         return_shipping", "compensate         nothing") + \
        'group nothing "Nothing" {}\n'
    assert "group 'nothing' in compensate has no steps" in [d.summary for d in check(tmp_path, text).diagnostics]


def test_a_compensation_cycle_is_one_error_not_also_nested_compensation(tmp_path: Path) -> None:
    text = CATALOG.replace('''    type  manual
    lane  logistics
    queue warehouse
  }
}

group relabelling''', '''    type       manual
    lane       logistics
    queue      warehouse
    compensate shipping
  }
}

group relabelling''')
    result = check(tmp_path, text)
    assert codes(result).count("DRO323") == 1
    assert "DRO324" not in codes(result)
    (cycle,) = [d for d in result.diagnostics if d.code == "DRO323"]
    assert cycle.summary == "compensation cycle: collect -> ship_router -> collect"


def test_a_step_that_compensates_itself_is_a_cycle(tmp_path: Path) -> None:
    text = CATALOG.replace('instructions "Reason: {{ revision.reason }}"',
                           'instructions "Reason: {{ revision.reason }}"\n    on_amend relabelling')
    summaries = [d.summary for d in check(tmp_path, text).diagnostics if d.code == "DRO323"]
    assert summaries == ["compensation cycle: relabel -> relabel"]


def test_a_compensation_step_with_its_own_compensation_says_how_to_fix_it(tmp_path: Path) -> None:
    text = CATALOG.replace('instructions "Reason: {{ revision.reason }}"',
                           'instructions "Reason: {{ revision.reason }}"\n    compensate ship_tv_box')
    (problem,) = [d for d in check(tmp_path, text).diagnostics if d.code == "DRO324"]
    assert problem.summary == "compensation step 'relabel' has its own compensate"
    assert problem.hint is not None and problem.hint.startswith("remove `compensate` from 'relabel'")


@pytest.mark.parametrize(("when", "fires"), [
    ("false", True), ("1 > 2", True), ("not true", True),
    ("true", False), ('item.product == "X"', False), ("exists(item.attributes.x)", False)])
def test_a_point_of_no_return_under_a_constant_false_when(tmp_path: Path, when: str, fires: bool) -> None:
    text = CATALOG.replace("point_of_no_return false", f"point_of_no_return true\n    when {when}")
    assert ("DRO325" in codes(check(tmp_path, text))) is fires


def test_a_point_of_no_return_on_a_compensation_or_unadded_step(tmp_path: Path) -> None:
    on_compensation = CATALOG.replace('instructions "Reason: {{ revision.reason }}"',
                                      'instructions "Reason: {{ revision.reason }}"\n    point_of_no_return true')
    (problem,) = [d for d in check(tmp_path, on_compensation).diagnostics if d.code == "DRO325"]
    assert "on_amend step of step 'ship_router'" in (problem.detail or "")
    (tmp_path / "b").mkdir()
    tv_box = '  step ship_tv_box "Ship the TV box" {\n'
    unadded = CATALOG.replace("add  [shipping]", "add  [ship_router]").replace(
        tv_box, tv_box + "    point_of_no_return true\n")
    result = check(tmp_path / "b", unadded)
    assert {"DRO314", "DRO325"} <= set(codes(result))


def test_undone_and_revision_are_unknown_outside_compensation_steps(tmp_path: Path) -> None:
    text = CATALOG.replace('''    type  manual
    lane  logistics
    queue warehouse
  }
}

group return_shipping''', '''    type         manual
    lane         logistics
    queue        warehouse
    when         revision.number > 1
    instructions "{{ undone.outputs.serial }}"
  }
}

group return_shipping''')
    found = {d.code: d for d in check(tmp_path, text).diagnostics}
    assert found["DRO402"].summary == "unknown name 'revision' in expression"
    assert found["DRO405"].summary == "unknown name 'undone' in template"
    for code in ("DRO402", "DRO405"):
        assert "known only in the steps that a `compensate` or `on_amend` runs" in (found[code].detail or "")


def test_fields_of_undone_and_revision_are_checked(tmp_path: Path) -> None:
    text = CATALOG.replace("{{ undone.step }}", "{{ undone.stepp }}")
    (problem,) = [d for d in check(tmp_path, text).diagnostics if d.code == "DRO406"]
    assert problem.summary == "'undone' has no field 'stepp'"
    assert problem.hint == "did you mean 'step'?"


# ---- dro fmt and dro diff ---------------------------------------------------------------


def test_fmt_aligns_the_new_attributes_and_round_trips() -> None:
    source = CATALOG.replace("    point_of_no_return false\n", "  point_of_no_return   false\n").replace(
        "    compensate         return_shipping", "  compensate return_shipping")
    formatted, problems = format_text(source, "t.dro")
    assert problems == [] and formatted == CATALOG
    assert format_text(CATALOG, "t.dro")[0] == CATALOG


def test_fmt_leaves_the_fiber_catalog_as_it_is() -> None:
    text = (FIBER / "fiber.dro").read_text(encoding="utf-8")
    assert format_text(text, "fiber.dro")[0] == text


def test_diff_lists_the_new_attributes_as_template_changes(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    (tmp_path / "old" / "catalog.dro").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "new" / "catalog.dro").write_text(
        CATALOG.replace("point_of_no_return false", "point_of_no_return true").replace(
            "compensate         return_shipping", "compensate         restock"), encoding="utf-8")
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "ORD-1.yaml").write_text(
        "order: {id: ORD-1, account: A, items: [{id: R1, product: ROUTER}]}\n", encoding="utf-8")
    runner = CliRunner(env={"NO_COLOR": "1"})
    result = runner.invoke(cli, ["diff", str(tmp_path / "old"), str(tmp_path / "new"), "--orders",
                                 str(tmp_path / "orders"), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 3, result.output
    changed = json.loads(result.stdout)["templates"]["changed"]
    assert changed == [{"kind": "step", "id": "ship_router", "changes": [
        {"field": "compensate", "old": ["collect", "restock"], "new": ["restock"]},
        {"field": "point_of_no_return", "old": False, "new": True}]}]


def test_unknown_targets_are_held_back_while_a_file_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "broken.dro").write_text('group return_shipping "Return" {\n', encoding="utf-8")
    result = check(tmp_path, CATALOG.replace("compensate         return_shipping", "compensate         returns"))
    assert "DRO102" in codes(result) and "DRO322" not in codes(result)
