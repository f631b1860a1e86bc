"""Templates cannot hang or exhaust memory, and see an order's keys before a mapping's methods.

Before: `{{ 'a'|center(10**9) }}`-like constants were computed while `dro validate` inspected
the template, a nested `{% for %}` hung `dro run` while it held the order's lock, widths in
`%` and str.format built gigabytes, and `{{ order.items }}` was dict.items.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import assert_no_internal_error, bounded

from dro_cli.engine.machine import Engine
from dro_cli.planning.api import make_plan
from dro_cli.runtime.handlers.render import render
from dro_cli.runtime.step_context import StepContexts
from dsl.templates import TEMPLATE_FIELDS, inspect_template

ROOT = Path(__file__).resolve().parent.parent
LAPTOP = ROOT / "catalogs" / "laptop"

HOSTILE = {
    "{{ 9**99999999 }}": "the power is larger",
    "{{ (9**999)**999 }}": "the power is larger",
    "{{ 'a'*1000000000 }}": "repeating makes more",
    "{{ ('a'*100000)*100000 }}": "repeating makes more",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}": "loops ran more than",
    "{% for a in range(100000) %}{% for b in range(100000) %}{{ '' }}{% endfor %}{% endfor %}": "loops ran more",
    "{{ 'a'|center(1000000000) }}": "width or precision",
    "{{ 'a'.center(1000000000) }}": "width or precision",
    "{{ 'a'.ljust(1000000000) }}": "width or precision",
    "{{ '%999999999s' % 'a' }}": "width or precision",
    "{{ '%*s' % (999999999, 'a') }}": "width or precision",
    "{{ '%999999999s'|format('a') }}": "width or precision",
    "{{ '{:>999999999}'.format('a') }}": "width or precision",
    "{{ '{:{w}}'.format('a', w=999999999) }}": "format spec taken from a value",
    "{{ ('a'*100000)|replace('a', 'b'*100000) }}": "longer than",
    "{{ ('a'*100000).replace('a', 'b'*100000) }}": "longer than",
    "{{ ('\t'*100000).expandtabs(100000) }}": "longer than",
    "{{ ('x\n'*50000)|indent(100000) }}": "longer than",
    "{% for a in range(100000) %}{{ 'abcdefghijklmnopqrstuvwxyz' }}{% endfor %}": "longer than 1,000,000",
}

_RENDER_ALL = """
import json, sys, time
from dro_cli.runtime.handlers.render import RenderError, render
results = {}
for template in json.loads(sys.argv[1]):
    began = time.perf_counter()
    try:
        render(template, {"order": {"id": "O-1"}}, "body")
        results[template] = ["rendered", time.perf_counter() - began]
    except RenderError as error:
        results[template] = [error.reason, time.perf_counter() - began]
print(json.dumps(results))
"""


def test_hostile_templates_fail_fast_and_small() -> None:
    # A child process capped at 1 GB of address space: before, most of these took it all or hung.
    done = bounded("-c", _RENDER_ALL, json.dumps(list(HOSTILE)), timeout=120)
    assert_no_internal_error(done)
    results = json.loads(done.stdout)
    for template, expected in HOSTILE.items():
        reason, seconds = results[template]
        assert expected in reason, (template, reason)
        assert seconds < 5, (template, seconds)  # microseconds to a second or so (the loop bound)


@pytest.mark.parametrize("template", ["{{ 'a' ~ 'b' }}-{{ '%05d' % 7 }}-{{ '{}:{:>3}'.format(1, 2) }}-"
                                      "{{ 'x'|center(5) }}-{{ 'a,b'|replace(',', ';') }}-"
                                      "{% for i in range(3) %}{{ i }}{% endfor %}"])
def test_ordinary_templates_still_render(template: str) -> None:
    assert render(template, {}, "body") == "ab-00007-1:  2-  x  -a;b-012"


def catalog_with(tmp_path: Path, template: str) -> Path:
    catalog = tmp_path / "laptop"
    shutil.copytree(LAPTOP, catalog)
    laptop = catalog / "laptop.dro"
    text = laptop.read_text()
    assert 'sku: "{{ item.product }}"' in text
    laptop.write_text(text.replace('sku: "{{ item.product }}"', f"sku: {json.dumps(template)}"))
    return catalog


@pytest.mark.parametrize("template", ["{{ 'a'|center(1000000000) }}", "{{ 9**99999999 }}",
                                      "{{ ('a'*100000)|replace('a', 'b'*100000) }}"])
def test_validate_computes_nothing(tmp_path: Path, template: str) -> None:
    catalog = catalog_with(tmp_path, template)
    began = time.perf_counter()
    done = bounded("-m", "dro_cli.main", "validate", str(catalog), timeout=60)
    assert time.perf_counter() - began < 20
    assert_no_internal_error(done)
    assert done.returncode == 0, done.stdout


def test_a_nested_loop_fails_its_step_and_frees_the_order(tmp_path: Path) -> None:
    loop = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    catalog = catalog_with(tmp_path, loop)
    state = tmp_path / "state"

    def dro(*args: str) -> subprocess.CompletedProcess[str]:
        done = bounded("-m", "dro_cli.main", *args, "--state-dir", str(state), timeout=60)
        assert_no_internal_error(done)
        return done

    dro("run", str(LAPTOP / "orders" / "ORD-1001.yaml"), "--catalog", str(catalog))
    began = time.perf_counter()
    completed = dro("complete", "ORD-1001", "credit_check")  # the callouts render next: hung before
    assert time.perf_counter() - began < 30
    assert "in fallout queue fallout (template_error)" in completed.stdout
    status = dro("status", "ORD-1001", "--format", "json")  # the lock is free
    assert status.returncode == 0
    log = dro("log", "ORD-1001")
    assert "the loops ran more than 1,000,000 times" in log.stdout


def test_template_fields_are_the_contexts_fields() -> None:
    seen: dict[str, set[str]] = {}
    for order in ("ORD-1001.yaml", "PO-7001.tmf622.json"):  # a TMF622 order adds order.source
        outcome = make_plan(LAPTOP / "orders" / order, LAPTOP)
        assert outcome.plan is not None
        contexts = StepContexts(Engine(outcome.plan))
        for sid in (step["id"] for step in outcome.plan["steps"]):
            for root, value in contexts.of(sid, 1).items():
                if isinstance(value, dict) and root != "outputs":
                    seen.setdefault(root, set()).update(value)
    assert seen == {root: set(fields) for root, fields in TEMPLATE_FIELDS.items()}


def test_order_items_are_the_orders_items_at_run_time() -> None:
    outcome = make_plan(LAPTOP / "orders" / "ORD-1001.yaml", LAPTOP)
    assert outcome.plan is not None
    sid = outcome.plan["steps"][0]["id"]
    context = StepContexts(Engine(outcome.plan)).of(sid, 1)
    rendered = render("{{ order.items|length }} {{ order['items'][0].id }} {% for i in order.items %}"
                      "{{ i.product }};{% endfor %}", context, "body")
    assert rendered.startswith(f"{len(context['order']['items'])} ")
    assert "LAPTOP-HW;" in rendered and "method" not in rendered


@pytest.mark.parametrize(("template", "unknown"), [
    ("{{ order.items }} {{ item.product }}", ()),
    ("{{ order.acount }}", (("order", "acount"),)),
    ("{{ item.items }}", (("item", "items"),)),
    ("{{ item['keys'] }} {{ step.attempt }} {{ plan.name }}", (("item", "keys"), ("plan", "name"))),
    ("{% for item in order.items %}{{ item.sku }}{% endfor %}", ()),  # a loop's item is not the step's
    ("{{ outputs.anything }} {{ order.attributes.anything }}", ()),
])
def test_fields_are_checked_at_compile_time(template: str, unknown: tuple[tuple[str, str], ...]) -> None:
    assert inspect_template(template).unknown_fields == unknown


def test_validate_reports_an_unknown_field_with_its_place(tmp_path: Path) -> None:
    catalog = catalog_with(tmp_path, "{{ item.items }}-{{ order.acount }}")
    done = subprocess.run([sys.executable, "-m", "dro_cli.main", "validate", str(catalog)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "error[DRO406]: 'item' has no field 'items'" in done.stdout
    assert "error[DRO406]: 'order' has no field 'acount'" in done.stdout
    assert "did you mean 'account'?" in done.stdout
    assert "laptop.dro:42:" in done.stdout
