"""run_step's dispatch, template rendering, environment references and the redactor."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dro_cli.runtime.handlers import Invocation, Outcome, run_step
from dro_cli.runtime.handlers.render import RenderError, compiled, render
from dro_cli.runtime.handlers.secrets import MissingEnv, Redactor, auth_headers, resolve, secret_values


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


def test_resolve_prefers_the_environment_then_the_default() -> None:
    assert resolve("literal", {}, "w") == "literal"
    assert resolve({"env": "A", "default": "d"}, {"A": "set"}, "w") == "set"
    assert resolve({"env": "A", "default": "d"}, {}, "w") == "d"
    assert resolve({"env": "A", "default": "d"}, {"A": ""}, "w") == "d"  # empty counts as unset
    assert resolve({"env": None, "default": "http://x"}, {}, "w") == "http://x"
    with pytest.raises(MissingEnv, match=r"^environment variable A is not set \(endpoint wms, auth\)$"):
        resolve({"env": "A"}, {"B": "b"}, "endpoint wms, auth")


def test_auth_headers_for_every_form() -> None:
    environ = {"T": "tok", "U": "user", "P": "pw", "K": "key"}
    assert auth_headers("e", None, environ) == {}
    assert auth_headers("e", {"bearer": {"env": "T"}}, environ) == {"Authorization": "Bearer tok"}
    assert auth_headers("e", {"basic": {"username": {"env": "U"}, "password": {"env": "P"}}}, environ) == {
        "Authorization": "Basic dXNlcjpwdw=="}
    assert auth_headers("e", {"header": {"name": "X-Key", "value": {"env": "K"}}}, environ) == {"X-Key": "key"}
    with pytest.raises(MissingEnv, match="variable P is not set"):
        auth_headers("e", {"basic": {"username": "u", "password": {"env": "P"}}}, {})


def test_secret_values_are_the_resolved_credentials_of_every_endpoint() -> None:
    endpoints = {
        "a": {"auth": {"bearer": {"env": "T"}}, "url": {"env": "A_URL", "default": None}},
        "b": {"auth": {"basic": {"username": "literal-user", "password": {"env": "P"}}}},
        "c": {"auth": {"header": {"name": "X", "value": {"env": "UNSET"}}}},
        "d": {"auth": None},
    }
    environ = {"T": "tok", "P": "pw", "A_URL": "http://a"}
    assert secret_values(endpoints, environ) == {"tok", "pw", "bGl0ZXJhbC11c2VyOnB3"}  # base64 of user:pw


def test_the_redactor_masks_texts_and_outputs_recursively() -> None:
    redactor = Redactor(["tok-1", 'q"uote'])
    assert redactor.text("a tok-1 b tok-1") == "a *** b ***"
    assert redactor.text(json.dumps({"v": 'q"uote'})) == '{"v": "***"}'
    assert redactor.text("url?t=q%22uote") == "url?t=***"
    outcome = Outcome({"tok-1": ["x tok-1", {"n": 1, "deep": ("tok-1",)}]}, "http_500", "saw tok-1", False)
    assert redactor.outcome(outcome) == Outcome({"***": ["x ***", {"n": 1, "deep": ["***"]}]}, "http_500",
                                                "saw ***", False)
    assert Redactor([]).outcome(outcome) is outcome


def test_a_secret_holding_another_is_masked_whole() -> None:
    assert Redactor(["abc", "abcdef"]).text("abcdef") == "***"


@given(secrets=st.lists(st.text(st.characters(codec="utf-8", exclude_characters="*"), min_size=1, max_size=12),
                        max_size=3),
       text=st.text(max_size=60))
def test_no_secret_survives_redaction(secrets: list[str], text: str) -> None:
    redacted = Redactor(secrets).value([[text + "".join(secrets) + text]])  # (a key could be a secret itself)
    assert not any(secret in redacted[0][0] for secret in secrets)


@given(secret=st.text("abcdef", min_size=1, max_size=20), before=st.text("0123456789 ", max_size=40),
       after=st.text("0123456789 ", max_size=40), limit=st.integers(1, 80))
def test_an_excerpt_never_cuts_a_secret_in_half(secret: str, before: str, after: str, limit: int) -> None:
    excerpt = Redactor([secret]).excerpt(before + secret + after, limit)
    assert set(excerpt) <= set(before + after + "*.")
