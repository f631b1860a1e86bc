"""run_step's dispatch and template rendering (secrets and the redactor: test_secrets.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

import pytest

from dro_cli.runtime.handlers import Invocation, run_step
from dro_cli.runtime.handlers.render import RenderError, compiled, render


def invocation(step_type: str, config: Any) -> Invocation:
    step = {"id": "s", "step": "s", "title": "S", "type": step_type, "lane": "l", "scope": "plan", "run_as": None,
            "config": config}
    return Invocation(step, 1, "P/s/1", {"order": {"id": "P"}}, {}, None, {})


@pytest.mark.parametrize("step_type", ["manual", "milestone", "pause", "bogus"])
def test_steps_the_engine_runs_are_refused(step_type: str) -> None:
    outcome = run_step(invocation(step_type, {}))
    assert (outcome.error, outcome.retryable) == ("unsupported_step_type", False)


@pytest.mark.parametrize(("step_type", "config"), [("auto", {}), ("auto", {"inputs": {}}), ("callout", None),
                                                   ("auto", ["flow"])])
def test_a_malformed_config_is_bad_config(step_type: str, config: Any) -> None:
    outcome = run_step(invocation(step_type, config))
    assert (outcome.error, outcome.retryable) == ("bad_config", False)


def test_a_handler_bug_becomes_a_failure_not_an_exception() -> None:
    broken = Invocation({"id": "s", "type": "callout", "config": {"endpoint": "wms"}}, 1, "k", {}, {"wms": {}}, None)
    outcome = run_step(broken)  # an endpoint without a url: a KeyError inside the handler
    assert (outcome.error, outcome.retryable) == ("handler_error", False)
    assert "KeyError" in outcome.message


def test_importing_the_package_loads_no_handler_and_no_jinja() -> None:
    probe = ("import sys, json; import dro_cli.runtime.handlers; "
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('jinja2', 'dsl', "
             "'dro_cli.runtime.handlers.')) or m in ('http.client', 'ssl', 'subprocess'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == ["dro_cli.runtime.handlers.base"]


def test_render_walks_dicts_and_lists_and_keeps_other_values() -> None:
    context = {"item": {"quantity": 2, "tags": ["a", "b"]}, "order": {"id": "O-1"}}
    value = {"q": "{{ item.quantity }}", "n": 3, "flag": None, "list": ["{{ item.tags | join(',') }}", 1.5],
             "plain": "no {template} here", "{{ key }}": "keys are not rendered"}
    assert render(value, context, "body") == {"q": "2", "n": 3, "flag": None, "list": ["a,b", 1.5],
                                              "plain": "no {template} here", "{{ key }}": "keys are not rendered"}


@pytest.mark.parametrize(("template", "reason"), [
    ("{{ order.missing }}", "has no attribute 'missing'"),
    ("{{ nobody }}", "'nobody' is undefined"),
    ("{{ order.id.__class__ }}", "unsafe"),
    ("{{ order.update({}) }}", "unsafe"),
    ("{% if %}", "Expected an expression"),
    ("{{ 1 // 0 }}", "ZeroDivisionError"),
])
def test_render_errors_name_the_path_and_the_jinja_error(template: str, reason: str) -> None:
    with pytest.raises(RenderError) as caught:
        render({"lines": [{"sku": template}]}, {"order": {"id": "O-1"}}, "body")
    assert caught.value.path == "body.lines[0].sku"
    assert reason in caught.value.reason


def test_templates_are_compiled_once_even_from_many_threads() -> None:
    text = "{{ order.id }}-compiled-once-" + str(id(object()))
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(compiled(text))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(template) for template in seen}) == 1
    assert seen[0].render({"order": {"id": "X"}}).startswith("X-compiled-once-")
