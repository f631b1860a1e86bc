"""Auto steps with a flow: imported from a temporary catalog directory and called with a read-only context."""

from __future__ import annotations

import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import dro_cli
from dro_cli.engine.flow_errors import NonRetryable
from dro_cli.runtime.handlers import Invocation, Outcome, run_step

MakeFlows = Callable[[str], str]


@pytest.fixture
def flows(tmp_path: Path) -> Iterator[MakeFlows]:
    """Write a flow module with a unique name into the catalog directory; returns the module name."""
    names: list[str] = []

    def make(source: str, *, name: str | None = None) -> str:
        module = name or f"flows_{uuid.uuid4().hex}"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        names.append(module)
        return module

    yield make
    for name in names:
        sys.modules.pop(name, None)


def run_flow(tmp_path: Path, flow: str, *, inputs: Any = None, timeout: float | None = None,
             environ: dict[str, str] | None = None, endpoints: dict[str, Any] | None = None,
             attempt: int = 2) -> Outcome:
    config: dict[str, Any] = {"flow": flow}
    if inputs is not None:
        config["inputs"] = inputs
    if timeout is not None:
        config["timeout"] = timeout
    step = {"id": "bill[L1]", "step": "bill", "title": "Bill", "type": "auto", "lane": "billing",
            "scope": "bundle", "run_as": "{{ order.account }}-bot", "duration": 60, "config": config}
    context = {
        "order": {"id": "ORD-7", "account": "ACME", "items": [{"id": "L1", "quantity": 2}]},
        "item": None,
        "bundle": {"id": "L1", "attributes": {"seats": 3}},
        "plan": {"id": "ORD-7"},
        "step": {"id": "bill[L1]", "attempt": attempt},
        "outputs": {"reserve": {"reservation_id": "R-1"}},
    }
    return run_step(Invocation(step, attempt, f"ORD-7/bill[L1]/{attempt}", context, endpoints or {}, tmp_path,
                               environ or {}))


def test_a_flow_gets_its_context_and_returns_outputs(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("""
        def bill(ctx):
            return {
                "order": ctx["order"]["id"],
                "first_item": ctx["order"]["items"][0]["id"],
                "item": ctx["item"],
                "seats": ctx["bundle"]["attributes"]["seats"],
                "inputs": ctx["inputs"],
                "step": ctx["step"],
                "attempt": ctx["attempt"],
                "key": ctx["idempotency_key"],
                "keys": sorted(ctx),
            }
    """)
    outcome = run_flow(tmp_path, f"{module}:bill",
                       inputs={"reservation": "{{ outputs.reserve.reservation_id }}", "tags": ["a", "{{ plan.id }}"]})
    assert outcome == Outcome({
        "order": "ORD-7", "first_item": "L1", "item": None, "seats": 3,
        "inputs": {"reservation": "R-1", "tags": ["a", "ORD-7"]},  # read-only mapping and tuple, made plain
        "step": {"id": "bill[L1]", "step": "bill", "title": "Bill", "type": "auto", "lane": "billing",
                 "scope": "bundle", "run_as": "ACME-bot"},
        "attempt": 2, "key": "ORD-7/bill[L1]/2",
        "keys": ["attempt", "bundle", "idempotency_key", "inputs", "item", "order", "step"],
    })


def test_a_flow_returning_none_succeeds_without_outputs(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("def noop(ctx):\n    return None\n")
    assert run_flow(tmp_path, f"{module}:noop") == Outcome()


@pytest.mark.parametrize("mutation", [
    'ctx["attempt"] = 3',
    'ctx["order"]["id"] = "other"',
    'ctx["order"]["items"][0] = {}',
    'ctx["order"]["items"][0]["quantity"] = 9',
    'ctx["inputs"]["list"][0] = 1',
])
def test_the_context_is_read_only_all_the_way_down(tmp_path: Path, flows: MakeFlows, mutation: str) -> None:
    module = flows(f"def mutate(ctx):\n    {mutation}\n")
    outcome = run_flow(tmp_path, f"{module}:mutate", inputs={"list": [1, 2]})
    assert (outcome.error, outcome.retryable) == ("TypeError", True)
    assert "does not support item assignment" in outcome.message


def test_an_exception_is_a_retryable_failure_named_after_its_class(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("""
        class BillingDown(Exception):
            pass

        def bill(ctx):
            raise BillingDown("billing answered 502")
    """)
    outcome = run_flow(tmp_path, f"{module}:bill")
    assert (outcome.error, outcome.retryable) == ("BillingDown", True)
    assert "billing answered 502" in outcome.message
    assert f"{module}.py:6 in bill" in outcome.message


@pytest.mark.parametrize("raise_it", ["raise NonRetryable('credit rejected')",
                                      "raise CreditRejected('credit rejected')"])
def test_non_retryable_goes_straight_to_fallout(tmp_path: Path, flows: MakeFlows, raise_it: str) -> None:
    module = flows(f"""
        from dro_cli import NonRetryable

        class CreditRejected(NonRetryable):
            pass

        def check(ctx):
            {raise_it}
    """)
    outcome = run_flow(tmp_path, f"{module}:check")
    assert outcome.error == raise_it.split()[1].split("(")[0]
    assert outcome.retryable is False
    assert "credit rejected" in outcome.message


def test_non_retryable_is_exported_by_dro_cli() -> None:
    assert dro_cli.NonRetryable is NonRetryable
    assert issubclass(NonRetryable, Exception)


@pytest.mark.parametrize(("body", "detail"), [
    ("return [1, 2]", "returned list"),
    ("return 'done'", "returned str"),
    ("return {'when': object()}", "not JSON"),
    ("return {'ratio': float('nan')}", "not JSON"),
])
def test_a_bad_return_is_not_retryable(tmp_path: Path, flows: MakeFlows, body: str, detail: str) -> None:
    module = flows(f"def bad(ctx):\n    {body}\n")
    outcome = run_flow(tmp_path, f"{module}:bad")
    assert (outcome.error, outcome.retryable) == ("bad_return", False)
    assert detail in outcome.message


def test_outputs_are_made_plain_json(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("def out(ctx):\n    return {'pair': (1, 2), 'order': ctx['order'], 3: 'three'}\n")
    outcome = run_flow(tmp_path, f"{module}:out")
    assert outcome.outputs == {"pair": [1, 2], "order": {"id": "ORD-7", "account": "ACME",
                                                         "items": [{"id": "L1", "quantity": 2}]}, "3": "three"}


def test_a_flow_that_runs_too_long_times_out(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("""
        import threading
        release = threading.Event()

        def slow(ctx):
            release.wait(10)
            return {"late": True}
    """)
    started = time.monotonic()
    outcome = run_flow(tmp_path, f"{module}:slow", timeout=0.1)
    assert (outcome.error, outcome.retryable) == ("timeout", True)
    assert time.monotonic() - started < 2
    sys.modules[module].release.set()


def test_a_flow_within_its_timeout_returns_normally(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("""
        def quick(ctx):
            return {"ok": ctx["attempt"]}

        def broken(ctx):
            raise KeyError("k")
    """)
    assert run_flow(tmp_path, f"{module}:quick", timeout=5) == Outcome({"ok": 2})
    assert run_flow(tmp_path, f"{module}:broken", timeout=5).error == "KeyError"


@pytest.mark.parametrize("flow", ["no_such_module_4f2a:run", "{module}:missing", "{module}:NOT_CALLABLE"])
def test_a_flow_that_does_not_exist(tmp_path: Path, flows: MakeFlows, flow: str) -> None:
    module = flows("NOT_CALLABLE = 3\n")
    outcome = run_flow(tmp_path, flow.format(module=module))
    assert (outcome.error, outcome.retryable) == ("flow_not_found", False)


@pytest.mark.parametrize(("source", "detail"), [
    ("def broken(:\n", "SyntaxError"),
    ("import no_such_dependency_9c1b\n", "ModuleNotFoundError: No module named 'no_such_dependency_9c1b'"),
    ("raise RuntimeError('bad config at import')\n", "RuntimeError: bad config at import"),
])
def test_a_flow_module_that_does_not_import(tmp_path: Path, flows: MakeFlows, source: str, detail: str) -> None:
    module = flows(source)
    outcome = run_flow(tmp_path, f"{module}:run")
    assert (outcome.error, outcome.retryable) == ("flow_import_error", False)
    assert detail in outcome.message


def test_the_catalog_directory_comes_first_and_does_not_stay_on_the_path(tmp_path: Path, flows: MakeFlows) -> None:
    helper = flows("RATE = 0.19\n")
    module = flows(f"import {helper}\n\ndef rate(ctx):\n    return {{'rate': {helper}.RATE}}\n")
    before = list(sys.path)
    assert run_flow(tmp_path, f"{module}:rate") == Outcome({"rate": 0.19})
    assert sys.path == before
    assert Path(sys.modules[module].__file__ or "").parent == tmp_path


def test_a_module_is_imported_once_and_reused(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("""
        import time
        time.sleep(0.05)  # a slow import, so that threads arrive while it runs
        IMPORTS = [1]

        def count(ctx):
            return {"imports": len(IMPORTS), "module": __name__}
    """)
    results: list[Outcome] = []
    threads = [threading.Thread(target=lambda: results.append(run_flow(tmp_path, f"{module}:count")))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [Outcome({"imports": 1, "module": module})] * 8


def test_a_template_error_in_inputs_names_the_input(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("def run(ctx):\n    return None\n")
    outcome = run_flow(tmp_path, f"{module}:run", inputs={"options": {"speed": "{{ item.attributes.speed }}"}})
    assert (outcome.error, outcome.retryable) == ("template_error", False)
    assert "inputs.options.speed" in outcome.message


def test_credentials_in_a_flow_message_are_redacted(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("""
        import os

        def leak(ctx):
            raise ValueError("token " + ctx["inputs"]["token"] + " rejected")
    """)
    endpoints = {"billing": {"url": {"env": None, "default": "http://127.0.0.1:9"}, "timeout": None, "headers": {},
                             "auth": {"bearer": {"env": "BILLING_TOKEN"}}, "title": None}}
    outcome = run_flow(tmp_path, f"{module}:leak", inputs={"token": "tok-42-secret"},
                       environ={"BILLING_TOKEN": "tok-42-secret"}, endpoints=endpoints)
    assert outcome.error == "ValueError"
    assert "tok-42-secret" not in outcome.message
    assert "token *** rejected" in outcome.message
