"""The limits of dsl/limits.py: each gives its documented diagnostic, located, and nothing breaks past it.

The golden cases (tests/cases/invalid*/dro0[05-8]*, dro21[12]*, dro5[01][0-9]*) show the exact output;
these check what a case directory cannot hold (files of 10 MiB, orders of thousands of items)
and the conversions that must not fail whatever the input.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from goldens import CATALOGS
from helpers import assert_no_internal_error, bounded

from dro_cli.engine.forecast import requested_by
from dro_cli.engine.instants import iso
from dro_cli.main import cli
from dro_cli.planning.orders import load_order
from dro_cli.runtime.handlers.render import RenderError, render
from dsl import check_catalog
from dsl.diagnostics import Diagnostic
from dsl.limits import (
    MAX_ALIAS_EXPANSION,
    MAX_BUNDLE_ITEMS,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_ITEMS,
    MAX_SAFE_INTEGER,
    MAX_TEXT_LENGTH,
    number_problem,
    read_integer,
)

LAPTOP = CATALOGS / "laptop"
ORDER = LAPTOP / "orders" / "ORD-1001.yaml"
NOW = "2026-12-01T10:00:00Z"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env={"NO_COLOR": "1", "DRO_NOW": NOW, **(env or {})}).invoke(
        cli, list(args), catch_exceptions=False, prog_name="dro")


def catalog_codes(tmp_path: Path, name: str, text: str) -> list[Diagnostic]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return [d for d in check_catalog([tmp_path]).diagnostics if d.is_error]


def codes_of(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.code for d in diagnostics]


# ---- the conversions ----------------------------------------------------------------------


def test_long_integers_are_not_converted() -> None:
    assert read_integer("9" * 16) == 10**16 - 1
    assert read_integer("9" * 5000) == math.inf  # int() would refuse it (over 4,300 digits)
    assert read_integer("-" + "9" * 5000) == -math.inf


@pytest.mark.parametrize(("value", "problem"), [
    (MAX_SAFE_INTEGER, None), (-MAX_SAFE_INTEGER, None), (1.5e300, None), (True, None), ("x", None),
    (MAX_SAFE_INTEGER + 1, "the number is too large"), (math.inf, "the number is too large"),
    (-math.inf, "the number is too large"), (math.nan, "NaN is not a number")])
def test_which_numbers_are_out_of_range(value: object, problem: str | None) -> None:
    assert number_problem(value) == problem


def test_instants_past_the_calendar_are_written_as_its_ends() -> None:
    assert iso(1e300) == iso(math.inf) == iso(math.nan) == "9999-12-31T23:59:59Z"
    assert iso(-1e300) == "0001-01-02T00:00:00Z"
    assert iso(0) == "1970-01-01T00:00:00Z"


def test_a_requested_date_at_the_end_of_the_calendar_is_never_reached() -> None:
    assert requested_by("9999-12-31") == math.inf  # the day's end would be past the calendar
    assert requested_by("2026-12-07") == requested_by("2026-12-08T00:00:00Z")


# ---- catalogs -----------------------------------------------------------------------------


def test_a_catalog_file_past_the_size_limit(tmp_path: Path) -> None:
    (tmp_path / "big.dro").write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 2
    assert "error[DRO005]: " in result.stdout and "is larger than 10 MiB" in result.stdout


@pytest.mark.parametrize("nested", [
    "[" * 5000 + "]" * 5000,  # RecursionError in lowering, once
    "{a: " * 5000 + "1" + "}" * 5000,
    "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
])
def test_deep_values_in_dsl(tmp_path: Path, nested: str) -> None:
    found = catalog_codes(tmp_path, "c.dro", f'lane a "A" {{ description "x" }}\nendpoint e {{ url {nested} }}\n')
    assert codes_of(found) == ["DRO006"]
    assert found[0].span is not None and found[0].span.line == 2


def test_depth_at_the_limit_is_fine(tmp_path: Path) -> None:
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # the inputs' map is one level more
    assert "DRO006" not in codes_of(catalog_codes(tmp_path, "c.dro", f"endpoint e {{ url {{ a: {nested} }} }}\n"))


@pytest.mark.parametrize("expression", [
    "not " * 5000 + "true",
    " and ".join(["true"] * 5_000),  # left-associative: deep without a bracket
    "(" * 3000 + "true" + ")" * 3000 + " and " + " or ".join(["true"] * 3000),
])
def test_deep_expressions_in_dsl_and_yaml(tmp_path: Path, expression: str) -> None:
    dsl = catalog_codes(tmp_path, "c.dro", f"scenario s {{ when {expression}\n add g }}\n")
    assert codes_of(dsl) == ["DRO006"]
    (tmp_path / "c.dro").unlink()
    yaml_form = catalog_codes(tmp_path, "c.dro.yaml", f"scenarios:\n  s:\n    when: '{expression}'\n    add: [g]\n")
    assert "DRO006" in codes_of(yaml_form)  # the expression is refused, the rest of the file checked


def test_deep_blocks_are_refused_before_fmt_recurses(tmp_path: Path) -> None:
    (tmp_path / "c.dro").write_text("group g {\n" + "step s {\n" * 3000 + "}\n" * 3001)
    for args in (("validate", str(tmp_path)), ("fmt", "--check", str(tmp_path))):
        result = run(*args)
        assert result.exit_code == 2 and "error[DRO006]" in result.stdout + result.stderr


def test_deep_yaml_is_refused(tmp_path: Path) -> None:
    found = catalog_codes(tmp_path, "c.dro.yaml", "lanes:\n  a:\n    title: " + "[" * 5000 + "]" * 5000 + "\n")
    assert codes_of(found) == ["DRO006"]


def test_billion_laughs_stop_at_the_expansion_limit(tmp_path: Path) -> None:
    anchors = "".join(f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))
    found = catalog_codes(tmp_path, "c.dro.yaml", "x:\n  - &a0 [x, x, x, x, x, x, x, x, x, x]\n" + anchors)
    assert codes_of(found) == ["DRO007"]
    assert str(f"{MAX_ALIAS_EXPANSION:,}") in found[0].summary


def test_aliases_that_repeat_little_are_fine(tmp_path: Path) -> None:
    text = ("lanes:\n  a: &lane {title: A}\n" + "".join(f"  l{i}: *lane\n" for i in range(1000)))
    assert "DRO007" not in codes_of(catalog_codes(tmp_path, "c.dro.yaml", text))


@pytest.mark.parametrize(("name", "text"), [
    ("c.dro", f'lane a "{"x" * (MAX_TEXT_LENGTH + 1)}"\n'),
    ("c.dro", f'lane a """{"x" * (MAX_TEXT_LENGTH + 1)}"""\n'),
    ("c.dro.yaml", f"lanes:\n  a: {{title: {'x' * (MAX_TEXT_LENGTH + 1)}}}\n"),
    ("c.dro.yaml", f"lanes:\n  ? {'x' * (MAX_TEXT_LENGTH + 1)}\n  : {{title: A}}\n"),  # YAML's long key form
])
def test_long_text(tmp_path: Path, name: str, text: str) -> None:
    assert "DRO008" in codes_of(catalog_codes(tmp_path, name, text))


@pytest.mark.parametrize(("name", "text"), [
    ("c.dro", "endpoint e { url { a: " + "9" * 5000 + " } }\n"),  # ValueError in int(), once
    ("c.dro", "endpoint e { url { a: 1" + "0" * 400 + ".0 } }\n"),  # a float that is infinite
    ("c.dro", "scenario s { when item.quantity > " + "9" * 30 + "\n add g }\n"),
    ("c.dro", "scenario s { when item.attributes[" + "9" * 30 + "] == 1\n add g }\n"),
    ("c.dro.yaml", "endpoints:\n  e: {url: {a: .inf}}\n"),
    ("c.dro.yaml", "endpoints:\n  e: {url: {a: .nan}}\n"),
    ("c.dro.yaml", "endpoints:\n  e: {url: {a: " + "9" * 5000 + "}}\n"),
    ("c.dro.yaml", "scenarios:\n  s: {when: 'item.quantity > " + "9" * 5000 + "', add: [g]}\n"),
])
def test_numbers_out_of_range(tmp_path: Path, name: str, text: str) -> None:
    assert "DRO212" in codes_of(catalog_codes(tmp_path, name, text))


def test_a_huge_duration_cannot_reach_the_journal(tmp_path: Path) -> None:
    """Issue 14: `duration 99999999999d` passed validate, then broke every command on the state directory."""
    catalog = tmp_path / "laptop"
    shutil.copytree(LAPTOP, catalog, ignore=shutil.ignore_patterns("orders", "*.test.yaml"))
    text = (catalog / "laptop.dro").read_text()
    (catalog / "laptop.dro").write_text(text.replace("duration     8h", "duration     99999999999d", 1))
    validated = run("validate", str(catalog))
    assert validated.exit_code == 1 and "error[DRO211]: duration 99999999999d is longer than 3650d" in validated.stdout
    state = tmp_path / "state"
    state.mkdir()  # a state directory with no orders yet: the scans of it must still work after the refusal
    result = run("run", str(ORDER), "--catalog", str(catalog), "--state-dir", str(state))
    assert result.exit_code == 1 and "DRO211" in result.stderr
    assert not (state / "orders").exists() or list((state / "orders").iterdir()) == []
    for command in ("status", "fallout", "jeopardy", "tick"):
        assert run(command, "--state-dir", str(state)).exit_code == 0, command


# ---- orders -------------------------------------------------------------------------------


def order_file(tmp_path: Path, items: list[dict[str, object]], **order: object) -> Path:
    path = tmp_path / "order.json"
    path.write_text(json.dumps({"order": {"id": "O1", "account": "A", **order, "items": items}}))
    return path


def test_an_order_file_past_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "order.yaml"
    path.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    assert codes_of(load_order(path).diagnostics) == ["DRO005"]


def test_too_many_items(tmp_path: Path) -> None:
    items: list[dict[str, object]] = [{"id": f"I{i}", "product": "DOCK-USB-C"} for i in range(MAX_ITEMS + 1)]
    found = load_order(order_file(tmp_path, items))
    assert codes_of(found.diagnostics) == ["DRO510"]
    assert found.diagnostics[0].span is not None and found.diagnostics[0].span.line == 1
    assert load_order(order_file(tmp_path, items[:MAX_ITEMS])).ok


def test_a_bundle_at_the_limit_plans(tmp_path: Path) -> None:
    items: list[dict[str, object]] = [{"id": "B", "product": "DOCK-USB-C"}]
    items += [{"id": f"M{i}", "product": "MONITOR-27", "parent": "B"} for i in range(1, MAX_BUNDLE_ITEMS)]
    assert run("plan", str(order_file(tmp_path, items)), "--catalog", str(LAPTOP)).exit_code == 0


def test_a_plan_too_large_is_neither_shown_nor_run(tmp_path: Path) -> None:
    # Two bundles of 1,000 laptops: steps within a bundle depend on each other's, a million each.
    items: list[dict[str, object]] = []
    for bundle in ("A", "B"):
        items.append({"id": f"{bundle}0", "product": "LAPTOP-BUNDLE", "attributes": {"onsite_setup": True}})
        items += [{"id": f"{bundle}{i}", "product": "LAPTOP-BUNDLE", "parent": f"{bundle}0",
                   "attributes": {"onsite_setup": True}} for i in range(1, MAX_BUNDLE_ITEMS)]
    path = order_file(tmp_path, items)
    planned = run("plan", str(path), "--catalog", str(LAPTOP), "--format", "json")
    assert planned.exit_code == 2 and planned.stdout == ""
    assert "error[DRO512]: the plan of order 'O1' is too large" in planned.stderr
    state = tmp_path / "state"
    ran = run("run", str(path), "--catalog", str(LAPTOP), "--state-dir", str(state))
    assert ran.exit_code == 2 and "DRO512" in ran.stderr
    assert not (state / "orders" / "O1").exists()
    diffed = run("diff", str(LAPTOP), str(LAPTOP), "--orders", str(tmp_path))
    assert diffed.exit_code == 1 and "error[DRO512]" in diffed.stderr


@pytest.mark.parametrize(("order", "summary"), [
    ({"id": "O" * 101}, "an order id of 101 characters is longer than 100"),
    ({"requested_date": "0001-01-01T00:00:00+01:00"}, "'0001-01-01T00:00:00+01:00' is out of range"),
    ({"requested_date": "9999-12-31"}, "'9999-12-31' is out of range"),
])
def test_order_values_past_their_limits(tmp_path: Path, order: dict[str, object], summary: str) -> None:
    found = load_order(order_file(tmp_path, [{"id": "L1", "product": "DOCK-USB-C"}], **order))
    assert len(found.diagnostics) == 1 and found.diagnostics[0].summary.startswith(summary)


@pytest.mark.parametrize("text", [
    '"quantity": 1e400', '"quantity": ' + "9" * 5000, '"quantity": 1e300', '"quantity": 99999999999999999999'])
def test_quantities_out_of_range_are_numbers_out_of_range(tmp_path: Path, text: str) -> None:
    path = tmp_path / "order.json"
    path.write_text('{"order": {"id": "O", "account": "A", "items": [{"id": "L", "product": "P", ' + text + "}]}}")
    assert codes_of(load_order(path).diagnostics) in (["DRO511"], ["DRO509"])


def test_dates_at_the_limits_run(tmp_path: Path) -> None:
    for date in ("1970-01-01", "9998-12-31T23:59:59-12:00"):
        path = order_file(tmp_path, [{"id": "L1", "product": "DOCK-USB-C"}], requested_date=date)
        state = tmp_path / date[:4]
        ran = run("run", str(path), "--catalog", str(LAPTOP), "--state-dir", str(state))
        assert ran.exit_code in (0, 1) and "Traceback" not in ran.stderr, ran.stderr
        assert run("status", "--state-dir", str(state)).exit_code == 0


# ---- what reading and rendering cost ------------------------------------------------------


def test_a_long_string_is_lexed_in_little_memory(tmp_path: Path) -> None:
    # The string regex backtracked over every character: 5 MB of string took 600 MB.
    (tmp_path / "c.dro").write_text('lane a "' + "x" * 5_000_000 + '"\n')
    done = bounded("-m", "dro_cli.main", "validate", str(tmp_path), memory=400 * 1024 * 1024)
    assert_no_internal_error(done)
    assert done.returncode == 2 and "error[DRO008]" in done.stdout


@pytest.mark.parametrize(("template", "reason"), [
    ("{{ item.note * item.quantity }}", "repeating makes more than 100,000 characters or items"),
    ("{{ item.quantity ** item.quantity }}", "the power is larger than 2^4,096"),
    ("{% for i in range(100000) %}{{ item.note }}{% endfor %}", "longer than 1,000,000 characters"),
])
def test_rendering_an_order_is_bounded(template: str, reason: str) -> None:
    context = {"item": {"note": "x" * 1000, "quantity": 1_000_000}}
    with pytest.raises(RenderError) as raised:
        render({"body": template}, context, "config")
    assert reason in raised.value.reason and raised.value.path == "config.body"
    assert render("{{ item.quantity * 2 }} {{ 2 ** 10 }} {{ 'ab' * 3 }}", context, "x") == "2000000 1024 ababab"
