"""`dro diff OLD NEW`: plan and template differences of edited catalogs, in text, json and markdown; exit codes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from goldens import CATALOGS, PLAN_GOLDENS, TEMPLATE_GOLDENS
from hypothesis import given, settings
from hypothesis import strategies as st

from dro_cli.main import cli
from dsl.schemas import validator

LAPTOP = CATALOGS / "laptop"
FIBER = CATALOGS / "fiber"


def run(*args: str, env: dict[str, str] | None = None, color: bool = False) -> Result:
    return CliRunner(env={"NO_COLOR": "1", **(env or {})}).invoke(
        cli, list(args), catch_exceptions=False, prog_name="dro", color=color)


def copy_catalog(tmp_path: Path, name: str = "new", source: Path = LAPTOP) -> Path:
    """A copy of a sample catalog (with its orders) to edit."""
    target = tmp_path / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there, once, however its spaces are aligned) by `new` in `path`."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile("[ \t]+".join(re.escape(part) for part in re.split(" +", old)))
    assert len(pattern.findall(text)) == 1, f"{old!r} is not in {path} once"
    path.write_text(pattern.sub(lambda _: new, text), encoding="utf-8")


def diff(old: Path | str, new: Path | str, *more: str, env: dict[str, str] | None = None) -> Result:
    return run("diff", str(old), str(new), *more, env=env)


def diff_json(old: Path | str, new: Path | str, *more: str) -> dict[str, Any]:
    result = diff(old, new, *more, "--format", "json")
    assert result.exit_code in (0, 3), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    assert [e.message for e in validator("diff").iter_errors(document)] == []
    return document


def lines(result: Result) -> list[str]:
    return [line.strip() for line in result.stdout.splitlines()]


# ---- no difference -----------------------------------------------------------------


def test_the_same_catalog_twice_has_no_differences_and_exits_0() -> None:
    result = diff(LAPTOP, LAPTOP)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("No differences: 4 orders plan the same")
    assert result.stderr == ""
    document = diff_json(LAPTOP, LAPTOP)
    assert document["differences"] is False and document["schema_version"] == 1
    assert [o["order"] for o in document["orders"]] == ["ORD-1001", "ORD-1002", "ORD-1003", "PO-7001"]
    assert document["summary"] == {"orders": 4, "orders_changed": 0, "add": 0, "remove": 0, "change": 0}
    markdown = diff(LAPTOP, LAPTOP, "--format", "markdown")
    assert markdown.exit_code == 0 and "No differences." in markdown.stdout and "<details>" not in markdown.stdout


@pytest.mark.parametrize(("dsl", "yaml"), [(LAPTOP, CATALOGS / "laptop-yaml"), (FIBER, CATALOGS / "fiber-yaml")])
def test_the_dsl_and_yaml_forms_of_a_catalog_plan_the_same(dsl: Path, yaml: Path) -> None:
    result = diff(dsl, yaml, "--orders", str(dsl / "orders"))
    assert result.exit_code == 0, result.stdout + result.stderr


def test_moving_a_declaration_to_another_file_is_no_difference(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    rules = (new / "rules.dro").read_text(encoding="utf-8")
    (new / "rules.dro").unlink()
    (new / "more" / "rules_moved.dro").parent.mkdir()
    (new / "more" / "rules_moved.dro").write_text("\n\n" + rules, encoding="utf-8")
    assert diff(LAPTOP, new).exit_code == 0


def test_a_compiled_templates_file_is_a_catalog_too(tmp_path: Path) -> None:
    templates = tmp_path / "laptop.json"
    assert run("compile", str(LAPTOP), "-o", str(templates)).exit_code == 0
    result = diff(templates, LAPTOP)
    assert result.exit_code == 0 and result.stdout.startswith("No differences")


# ---- what differences look like ------------------------------------------------------


def test_a_changed_duration_is_a_change_in_every_plan_with_the_step(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", "    duration     8h\n", "    duration     4h\n")
    result = diff(LAPTOP, new)
    assert result.exit_code == 3, result.stderr
    out = lines(result)
    assert out[0].startswith("ORD-1001  (") and out[0].endswith("new/orders/ORD-1001.yaml)")
    assert out[1] == "~ credit_check: duration 8h -> 4h"
    assert "~ step credit_check: duration 8h -> 4h" in out
    assert "ORD-1001: 0 to add, 0 to remove, 1 to change" in out
    assert "ORD-1002: no differences" in out
    assert "templates: 0 to add, 0 to remove, 1 to change" in out
    assert "PO-7001: 0 to add, 0 to remove, 1 to change" in out  # a TMF622 sample order plans as its twin
    assert out[-1] == ("3 of 4 orders plan differently: 0 to add, 0 to remove, 3 to change; "
                       "templates: 0 to add, 0 to remove, 1 to change.")


def test_a_changed_lane_and_path_are_field_changes_with_old_and_new(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", "    lane     inventory\n", "    lane     shipping\n")
    edit(new / "laptop.dro", 'path     "/reservations"', 'path     "/v2/reservations"')
    out = lines(diff(LAPTOP, new, "--orders", str(new / "orders" / "ORD-1001.yaml")))
    assert out[1:3] == ["~ reserve[L1/LAPTOP-HW]: lane inventory -> shipping",
                        '~ reserve[L1/LAPTOP-HW]: path "/reservations" -> "/v2/reservations"']
    document = diff_json(LAPTOP, new, "--orders", str(new / "orders" / "ORD-1001.yaml"))
    (changed,) = document["orders"][0]["changed"]
    assert changed["changes"] == [{"field": "lane", "old": "inventory", "new": "shipping"},
                                  {"field": "config.path", "old": "/reservations", "new": "/v2/reservations"}]


def test_an_added_step_is_added_to_plans_and_templates(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", '  step delivered "Order delivered" {',
         '  step notify "Notify the customer" {\n    type  milestone\n    lane  shipping\n    scope plan\n'
         '    after credit_check\n  }\n\n  step delivered "Order delivered" {')
    result = diff(LAPTOP, new, "--orders", str(new / "orders" / "ORD-1001.yaml"))
    assert result.exit_code == 3
    out = lines(result)
    assert "+ notify  (shipping, plan)" in out and "+ step notify" in out
    assert "~ group laptop_delivery: steps + notify" in out and "~ scenario laptop: steps + notify" in out
    (order,) = diff_json(LAPTOP, new, "--orders", str(new / "orders" / "ORD-1001.yaml"))["orders"]
    assert order["added"] == [{"id": "notify", "step": "notify", "type": "milestone", "lane": "shipping",
                               "scope": "plan", "item": None, "bundle": None}]
    assert order["summary"] == {"add": 1, "remove": 0, "change": 0}
    mirrored = diff_json(new, LAPTOP, "--orders", str(new / "orders" / "ORD-1001.yaml"))["orders"][0]
    assert mirrored["removed"] == order["added"] and mirrored["added"] == []


def test_a_removed_dependency_is_listed_per_instance(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", "after [reserve within plan, wait_work_order]", "after [reserve within plan]")
    out = lines(diff(LAPTOP, new))
    assert "~ start_billing: after - wait_work_order[L1]" in out
    assert "~ start_billing: after - wait_work_order[B2]" in out  # B1 has no on-site setup, so no wait
    assert [line for line in out if "wait_work_order[B1]" in line] == []
    assert "~ step start_billing: after [reserve within plan, wait_work_order] -> [reserve within plan]" in out
    document = diff_json(LAPTOP, new)
    changed = document["orders"][0]["changed"][0]
    assert changed == {"id": "start_billing", "step": "start_billing", "changes": [],
                       "after": {"added": [], "removed": ["wait_work_order[L1]"]}}


def test_a_changed_retry_policy_reads_as_in_dro_plan(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", "retry    { policy: monotonous, retries: 3, interval: 30s }",
         "retry    { policy: staggered, intervals: [1m, 5m, 1h] }")
    out = lines(diff(LAPTOP, new))
    assert "~ reserve[L1/LAPTOP-HW]: retry monotonous 3x30s -> staggered 1m,5m,1h" in out
    # a failure with http_503 gets the step's retry too, and the queue of the wms_down rule
    assert "~ reserve[L1/LAPTOP-HW]: on http_503 retry monotonous 3x30s -> staggered 1m,5m,1h" in out


def test_an_added_fallout_rule_adds_an_override_by_error_code(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    with (new / "rules.dro").open("a", encoding="utf-8") as rules:
        rules.write('\nfallout_rule wms_timeout {\n  match  { type: callout, endpoint: wms, error: "timeout" }\n'
                    "  queue  wms_timeouts\n}\n")
    out = lines(diff(LAPTOP, new, "--orders", str(new / "orders" / "ORD-1001.yaml")))
    assert "~ reserve[L1/LAPTOP-HW]: on timeout none -> retry monotonous 3x30s, queue wms_timeouts" in out
    assert "+ fallout_rule wms_timeout" in out


def test_a_scenario_that_no_longer_matches_removes_its_instances(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", 'when item.product == "LAPTOP-HW"\n  add  laptop_delivery',
         'when item.product == "LAPTOP-HW" and item.quantity > 5\n  add  laptop_delivery')
    result = diff(LAPTOP, new, "--orders", str(new / "orders" / "ORD-1001.yaml"))
    out = lines(result)
    assert [line for line in out if line.startswith("- ")] == [
        "- credit_check  (billing, plan)", "- delivered  (shipping, plan)",
        "- reserve[L1/LAPTOP-HW]  (inventory, line_item)", "- start_billing  (billing, plan)"]
    assert "~ install[L1]: after - reserve[L1/LAPTOP-HW]" in out
    assert ('~ scenario laptop: when "item.product == \\"LAPTOP-HW\\"" -> '
            '"item.product == \\"LAPTOP-HW\\" and item.quantity > 5"') in out
    assert "~ register_warranty[L2]: after - delivered" in out
    assert "ORD-1001: 0 to add, 4 to remove, 3 to change" in out


def test_a_changed_decomposition_changes_fulfillment_items(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", '  into "OS-LICENSE"\n', '  into "OS-LICENSE" { quantity 1 }\n')
    out = lines(diff(LAPTOP, new, "--orders", str(new / "orders" / "ORD-1001.yaml")))
    assert "~ item L1/OS-LICENSE: quantity 2 -> 1" in out
    assert any(line.startswith("~ decomposition LAPTOP-BUNDLE: into [") for line in out)


def test_a_fiber_catalog_edit(tmp_path: Path) -> None:
    old, new = copy_catalog(tmp_path, "old", FIBER), copy_catalog(tmp_path, "new", FIBER)
    text = (new / "fiber.dro").read_text(encoding="utf-8")
    duration = re.search(r"\n(\s+duration\s+)(\S+)\n", text)
    assert duration is not None
    edit(new / "fiber.dro", duration.group(0), f"\n{duration.group(1)}7d\n")
    result = diff(old, new)
    assert result.exit_code == 3 and "-> 7d" in result.stdout


def test_json_is_stable_and_valid(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", "    duration     8h\n", "    duration     4h\n")
    first, second = diff(LAPTOP, new, "--format", "json"), diff(LAPTOP, new, "--format", "json")
    assert first.exit_code == 3 and first.stdout == second.stdout
    document = json.loads(first.stdout)
    assert [e.message for e in validator("diff").iter_errors(document)] == []
    assert document["templates"]["changed"] == [
        {"kind": "step", "id": "credit_check", "changes": [{"field": "duration", "old": 28800, "new": 14400}]}]
    assert run("schema", "diff").stdout == (CATALOGS.parent / "schemas" / "diff.schema.json").read_text()


def test_text_is_coloured_only_when_wanted(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", "    duration     8h\n", "    duration     4h\n")
    coloured = CliRunner().invoke(cli, ["diff", str(LAPTOP), str(new)], color=True)
    assert "\x1b[33m~ credit_check: duration 8h -> 4h" in coloured.stdout
    plain = CliRunner(env={"NO_COLOR": "1"}).invoke(cli, ["diff", str(LAPTOP), str(new)], color=True)
    assert "\x1b[" not in plain.stdout and "~ credit_check: duration 8h -> 4h" in plain.stdout
    piped = CliRunner().invoke(cli, ["diff", str(LAPTOP), str(new)])
    assert "\x1b[" not in piped.stdout


# ---- errors ------------------------------------------------------------------------


def test_a_broken_new_catalog_exits_1_with_its_diagnostics(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", "    lane     inventory\n", "    lane     inventori\n")
    text = (new / "laptop.dro").read_text(encoding="utf-8")
    row, source = next((n, line) for n, line in enumerate(text.splitlines(), 1) if "inventori" in line)
    result = diff(LAPTOP, new)
    assert result.exit_code == 1 and result.stdout == ""
    assert "error[DRO301]: unknown lane 'inventori'" in result.stderr
    assert re.search(rf"--> \S*new/laptop\.dro:{row}:{source.index('inventori') + 1}\n", result.stderr)
    assert f"error: the catalog '{new}' cannot be compiled" in result.stderr
    assert "= help: fix the errors above" in result.stderr


def test_a_missing_catalog_exits_1(tmp_path: Path) -> None:
    result = diff(tmp_path / "nothing", LAPTOP)
    assert result.exit_code == 1 and "catalog '" in result.stderr and "does not exist" in result.stderr


def test_an_order_that_cannot_be_planned_with_one_revision_is_an_error(tmp_path: Path) -> None:
    def catalog(name: str, quantity: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "c.dro").write_text(
            f'lane ops\ndecompose "PACK" {{ into "SEAT" {quantity} }}\n'
            'group g { step s "S" { type milestone lane ops scope line_item } }\n'
            'scenario x { when item.product == "SEAT"  add g }\n', encoding="utf-8")
        return folder

    old, new = catalog("old", ""), catalog("new", "{ quantity item.attributes.seats }")
    orders = tmp_path / "orders"
    orders.mkdir()
    (orders / "o1.yaml").write_text("order:\n  id: O1\n  account: A\n  items:\n"
                                    "    - {id: P1, product: PACK, attributes: {seats: 0}}\n", encoding="utf-8")
    result = diff(old, new, "--orders", str(orders))
    assert result.exit_code == 1 and result.stdout == ""
    assert "error[DRO506]: bad decomposed quantity 0 for 'P1/SEAT'" in result.stderr
    assert f"(with '{new}')" in result.stderr and f"with '{old}'" not in result.stderr


def test_orders_dir_takes_yaml_yml_and_json_and_ignores_other_files(tmp_path: Path) -> None:
    orders = tmp_path / "orders"
    orders.mkdir()
    shutil.copy(LAPTOP / "orders" / "ORD-1001.yaml", orders / "a.yml")
    shutil.copy(LAPTOP / "orders" / "ORD-1002.json", orders / "b.JSON")
    (orders / "README.md").write_text("# not an order\n")
    (orders / "cases.test.yaml").write_text("a scenario test, not an order\n")
    (orders / ".hidden.yaml").write_text("junk\n")
    document = diff_json(LAPTOP, LAPTOP, "--orders", str(orders))
    assert [o["order"] for o in document["orders"]] == ["ORD-1001", "ORD-1002"]


def test_an_invalid_order_file_is_an_error_that_names_it(tmp_path: Path) -> None:
    orders = tmp_path / "orders"
    orders.mkdir()
    shutil.copy(LAPTOP / "orders" / "ORD-1001.yaml", orders / "good.yaml")
    (orders / "bad.yaml").write_text("order:\n  id: O2\n  items: []\n", encoding="utf-8")
    result = diff(LAPTOP, LAPTOP, "--orders", str(orders))
    assert result.exit_code == 1 and result.stdout == ""
    assert "bad.yaml:" in result.stderr and "error[DRO2" in result.stderr
    assert re.search(r"error: cannot plan every sample order: \S*bad\.yaml \(not a valid order\)\n", result.stderr)


def test_orders_default_to_new_orders_else_a_usage_error(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    assert len(diff_json(LAPTOP, new)["orders"]) == 4
    shutil.rmtree(new / "orders")
    result = diff(LAPTOP, new)
    assert result.exit_code == 2 and "pass --orders DIR" in result.stderr and "is not a directory" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = diff(LAPTOP, new, "--orders", str(empty))
    assert result.exit_code == 2 and "no order files in" in result.stderr


# ---- markdown ----------------------------------------------------------------------


def outside_code(markdown: str) -> str:
    """The markdown with its fenced code blocks left out."""
    return re.sub(r"^(`{3,})diff\n.*?^\1$", "", markdown, flags=re.MULTILINE | re.DOTALL)


def test_markdown_has_a_table_and_a_diff_block_per_order(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", "    duration     8h\n", "    duration     4h\n")
    edit(new / "laptop.dro", "after [reserve within plan, wait_work_order]", "after [reserve within plan]")
    result = diff(LAPTOP, new, "--format", "markdown")
    assert result.exit_code == 3
    out = result.stdout
    assert out.startswith("<!-- dro diff -->\n### dro diff: ")
    assert "| Order | Added | Removed | Changed |\n|---|---:|---:|---:|\n| ORD-1001 | 0 | 0 | 2 |\n" \
           "| ORD-1002 | 0 | 0 | 0 |\n| ORD-1003 | 0 | 0 | 2 |\n" in out
    assert out.count("<details>") == out.count("</details>") == 4  # three orders (PO-7001 too) and the templates
    assert "```diff\n! credit_check: duration 8h -> 4h\n! start_billing: after - wait_work_order[L1]\n```" in out
    assert "<summary>Plan templates: 0 to add, 0 to remove, 2 to change</summary>" in out


def test_markdown_shows_user_text_but_never_as_html(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    attack = "<img src=x onerror=alert(1)>"
    edit(new / "laptop.dro", 'step credit_check "Credit check"', f'step credit_check "{attack} ``` @octocat"')
    orders = tmp_path / "orders"
    orders.mkdir()
    order = (LAPTOP / "orders" / "ORD-1001.yaml").read_text(encoding="utf-8")
    (orders / "o.yaml").write_text(order.replace("id: ORD-1001", 'id: "<b>@octocat|x"'), encoding="utf-8")
    result = diff(LAPTOP, new, "--orders", str(orders), "--format", "markdown")
    assert result.exit_code == 3, result.stderr
    out = result.stdout
    # shown verbatim inside a code block whose fence is longer than the backticks in it
    assert f'````diff\n! credit_check: title "Credit check" -> "{attack} ``` @octocat"\n' in out
    prose = outside_code(out)
    assert "<img" not in prose and "<b>" not in prose and "@octocat" not in prose and "|x" not in prose
    assert set(re.findall(r"<(/?\w+|!--)", prose)) == {"!--", "details", "/details", "summary", "/summary"}
    assert "| &#60;b&#62;&#64;octocat&#124;x | 0 | 0 | 1 |" in prose


def test_markdown_is_cut_to_fit_a_comment() -> None:
    from dro_cli.diff.api import DiffReport, OrderDiff
    from dro_cli.diff.plans import InstanceRef, PlanDiff
    from dro_cli.diff.templates import TemplateDiff
    from dro_cli.output.views.diff_markdown import COMMENT_LIMIT, render_markdown

    added = tuple(InstanceRef(f"step_{i}[ITEM-{i}]", f"step_{i}", "manual", "lane", "line_item", f"ITEM-{i}", "B")
                  for i in range(3000))
    orders = tuple(OrderDiff(f"orders/o{n}.yaml", PlanDiff(f"O{n}", added=added)) for n in range(3))
    report = DiffReport("old", "new", orders, TemplateDiff())
    for limit in (COMMENT_LIMIT, 3000):
        out = render_markdown(report, limit)
        assert len(out) <= limit
        assert "**Cut short**: the whole difference would not fit in a comment" in out
        assert out.count("<details>") == out.count("</details>")
        assert len(re.findall(r"^```", out, re.MULTILINE)) % 2 == 0
    small = render_markdown(DiffReport("old", "new", orders[:1], TemplateDiff()), 10**6)
    assert "Cut short" not in small and small.count("\n+ step_") == 3000


# ---- values, one line each -----------------------------------------------------------


def test_values_read_as_in_dro_plan() -> None:
    from dro_cli.diff.plans import Change
    from dro_cli.output.views.diff_text import clean, describe, show

    assert show("duration", 5400) == "1h30m" and show("jeopardy", None) == "none"
    assert show("retry", {"policy": "exponential", "retries": 4, "initial": 10, "factor": 3, "max": 300}) == \
        "exponential 4x from 10s factor 3 max 5m"
    assert show("retry", {"policy": "immediate", "retries": 2}) == "immediate 2x"
    assert show("intervals", [10, 60, 300]) == "[10s, 1m, 5m]"
    assert show("lane", "billing") == "billing" and show("title", "Credit check") == '"Credit check"'
    assert show("title", "none") == '"none"' and show("expect", [200, 201]) == "[200, 201]"
    assert show("body", {"sku": "{{ item.product }}"}) == '{sku: "{{ item.product }}"}'
    assert describe(Change("config.flow", "a:b", "a:c")) == "flow a:b -> a:c"
    assert describe(Change("fallout.http_503.queue", "q1", "q2")) == "on http_503 queue q1 -> q2"
    assert describe(Change("expect", [200, 201], [201, 202, 204])) == "expect + 202, + 204, - 200"
    assert describe(Change("expect", [200, 201], [201, 200])) == "expect [200, 201] -> [201, 200]"
    assert describe(Change("intervals", [10, 60], [10])) == "intervals [10s, 1m] -> [10s]"
    assert clean("ok") == "ok" and clean("a\x1b[31mb\x9bc") == "a\\x1b[31mb\\x9bc"
    assert show("title", "bell\x07 csi\x9b") == '"bell\\u0007 csi\\x9b"'


# ---- properties --------------------------------------------------------------------

PLANS = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(PLAN_GOLDENS.rglob("*.json"))]
TEMPLATES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(TEMPLATE_GOLDENS.glob("*.json"))]


def test_every_sample_plan_and_template_is_no_different_from_itself() -> None:
    from dro_cli.diff.plans import diff_plans
    from dro_cli.diff.templates import diff_templates

    assert len(PLANS) >= 6 and len(TEMPLATES) >= 4
    assert all(diff_plans(p, json.loads(json.dumps(p))).empty for p in PLANS)
    assert all(diff_templates(t, json.loads(json.dumps(t))).empty for t in TEMPLATES)


@pytest.mark.parametrize("catalog", sorted(p for p in CATALOGS.iterdir() if (p / "orders").is_dir()),
                         ids=lambda p: p.name)
def test_every_sample_catalog_is_no_different_from_itself(catalog: Path) -> None:
    assert diff(catalog, catalog).exit_code == 0


def mirrored(plan_diff: Any) -> Any:
    """What diff(b, a) should be, given diff(a, b)."""
    from dataclasses import replace

    from dro_cli.diff.plans import Change

    def swap(changes: Any) -> Any:
        return tuple(Change(c.field, c.new, c.old) for c in changes)

    return replace(
        plan_diff, added=plan_diff.removed, removed=plan_diff.added,
        changed=tuple(replace(c, changes=swap(c.changes), after_added=c.after_removed, after_removed=c.after_added)
                      for c in plan_diff.changed),
        items_added=plan_diff.items_removed, items_removed=plan_diff.items_added,
        items_changed=tuple(replace(i, changes=swap(i.changes)) for i in plan_diff.items_changed))


def test_template_differences_mirror() -> None:
    from dro_cli.diff.templates import diff_templates

    for a in TEMPLATES:
        for b in TEMPLATES:
            forth, back = diff_templates(a, b), diff_templates(b, a)
            assert (forth.added, forth.removed) == (back.removed, back.added)
            assert [(e.kind, e.id, [(c.field, c.new, c.old) for c in e.changes]) for e in forth.changed] == \
                   [(e.kind, e.id, [(c.field, c.old, c.new) for c in e.changes]) for e in back.changed]


@st.composite
def plan_pairs(draw: Any) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """A sample plan and an edited copy, with the edits made."""
    plan = draw(st.sampled_from(PLANS))
    other = json.loads(json.dumps(plan))
    steps, made = other["steps"], []
    ids = [s["id"] for s in plan["steps"]]
    for _ in range(draw(st.integers(0, 6))):
        if not steps:
            break
        step = steps[draw(st.integers(0, len(steps) - 1))]
        edit = draw(st.sampled_from(["drop", "rename", "duration", "lane", "after", "config", "retry",
                                     "fallout", "item"]))
        made.append(edit)
        if edit == "drop":
            steps.remove(step)
        elif edit == "rename":
            step["id"] += "_2"
        elif edit == "duration":
            step["duration"] = draw(st.none() | st.integers(1, 10**6))
        elif edit == "lane":
            step["lane"] = draw(st.sampled_from([None, "billing", "elsewhere"]))
        elif edit == "after":
            step["after"] = sorted(set(draw(st.lists(st.sampled_from(ids), max_size=4))))
        elif edit == "config":
            step["config"][draw(st.sampled_from(["path", "flow", "new_key"]))] = draw(st.text(max_size=4))
        elif edit == "retry":
            step["retry"] = draw(st.none() | st.builds(lambda n: {"policy": "immediate", "retries": n},
                                                       st.integers(0, 5)))
        elif edit == "fallout":
            step["fallout"] = [{"error": code, "retry": None, "queue": draw(st.sampled_from(["q1", "q2"]))}
                               for code in sorted(set(draw(st.lists(st.sampled_from(["http_503", "timeout"])))))]
        else:
            items = other["context"]["items"]
            if not items:  # every item deleted by earlier edits
                continue
            name = draw(st.sampled_from(sorted(items)))
            if draw(st.booleans()):
                del items[name]
            else:
                items[name] = {**items[name], "quantity": draw(st.integers(1, 9))}
    return plan, other, made


@settings(max_examples=150, deadline=None)
@given(plan_pairs())
def test_plan_differences_mirror_and_render(pair: tuple[dict[str, Any], dict[str, Any], list[str]]) -> None:
    from dro_cli.diff.api import DiffReport, OrderDiff
    from dro_cli.diff.plans import diff_plans
    from dro_cli.diff.templates import TemplateDiff
    from dro_cli.output.views.diff_markdown import render_markdown
    from dro_cli.output.views.diff_text import render_text

    a, b, made = pair
    forth, back = diff_plans(a, b), diff_plans(b, a)
    assert back == mirrored(forth)
    assert diff_plans(b, b).empty
    if a == b:
        assert forth.empty
    if "drop" in made or "rename" in made:
        assert forth.removed
    report = DiffReport("a", "b", (OrderDiff("o.yaml", forth),), TemplateDiff())
    document = report.as_json()
    assert [e.message for e in validator("diff").iter_errors(document)] == []
    assert report.differences == (not forth.empty)
    assert render_text(report) and render_markdown(report)


def test_template_differences_alone_are_differences(tmp_path: Path) -> None:
    new = copy_catalog(tmp_path)
    edit(new / "laptop.dro", 'lane field     "Field service"', 'lane field     "Field crew"')
    result = diff(LAPTOP, new)
    assert result.exit_code == 3
    out = lines(result)
    assert out[:2] == ["Templates", '~ lane field: title "Field service" -> "Field crew"']
    assert out[-1] == ("0 of 4 orders plan differently: 0 to add, 0 to remove, 0 to change; "
                       "templates: 0 to add, 0 to remove, 1 to change.")


def test_what_an_amendment_reads_of_a_step_is_a_template_difference(tmp_path: Path) -> None:
    """point_of_no_return, freeze_plan, compensate and on_amend are in the templates only: a change to
    them shows there, and no sample order's plan changes."""
    new = copy_catalog(tmp_path, "new", FIBER)
    dro = new / "fiber.dro"
    edit(dro, "    point_of_no_return true\n", "")
    edit(dro, "    freeze_plan true\n", "")
    edit(dro, "    capture { port_id: \"port.id\", vlan_id: \"port.vlan\" }\n",
         "    capture { port_id: \"port.id\", vlan_id: \"port.vlan\" }\n    on_amend line_reprofile\n")
    boxes = "    # Cancelled after they shipped: the customer sends the boxes back.\n    compensate shipment_return\n"
    edit(dro, boxes, "    compensate request_return\n")  # the label, not the wait for the parcel
    result = diff(FIBER, new)
    assert result.exit_code == 3
    out = lines(result)
    templates = out[out.index("Templates") + 1:]
    assert templates[:4] == ["~ step activate_line: freeze_plan true -> none",
                             "~ step request_port_in: point_of_no_return true -> none",
                             "~ step reserve_port: on_amend none -> [reprofile_line]",
                             "~ step ship_tv_box: compensate - shipment_returned"]
    # the revisions of a sample order share its id: the summary names their files
    assert "ORD-2001 (ORD-2001-r2-no-tv.yaml): no differences" in out
    assert out[-1].startswith("0 of ") and out[-1].endswith("templates: 0 to add, 0 to remove, 4 to change.")
    changed = {e["id"]: {c["field"] for c in e["changes"]} for e in diff_json(FIBER, new)["templates"]["changed"]}
    assert changed == {"request_port_in": {"point_of_no_return"}, "activate_line": {"freeze_plan"},
                       "reserve_port": {"on_amend"}, "ship_tv_box": {"compensate"}}
