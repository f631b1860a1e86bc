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


# ---- step code that raises what is not an Exception (sys.exit() and its kin) -----------------------

@pytest.mark.parametrize("timeout", [None, 5.0])
@pytest.mark.parametrize(("body", "named"), [
    ("sys.exit(3)", "SystemExit: 3"),
    ("sys.exit()", "SystemExit"),
    ("raise KeyboardInterrupt", "KeyboardInterrupt"),  # raised by the flow itself, not a Ctrl-C
    ("raise GeneratorExit", "GeneratorExit"),
    ("raise asyncio.CancelledError('gone')", "CancelledError: gone"),
    ("raise Custom('odd')", "Custom: odd"),
])
def test_a_flow_that_raises_a_base_exception_is_a_failed_attempt(tmp_path: Path, flows: MakeFlows,
                                                                  body: str, named: str,
                                                                  timeout: float | None) -> None:
    module = flows(f"""
        import asyncio, sys

        class Custom(BaseException):
            pass

        def bail(ctx):
            {body}
    """)
    outcomes: list[Outcome] = []
    worker = threading.Thread(target=lambda: outcomes.append(run_flow(tmp_path, f"{module}:bail", timeout=timeout)))
    worker.start()  # as the runner calls it: on a worker thread, where no Ctrl-C can land
    worker.join(10)
    [outcome] = outcomes
    assert (outcome.error, outcome.retryable) == ("handler_error", False)
    assert f"raised {named}" in outcome.message
    assert f"{module}.py:" in outcome.message


def test_a_flow_module_that_exits_at_import_is_an_import_error(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("import sys\nsys.exit('no config')\n")
    outcome = run_flow(tmp_path, f"{module}:run")
    assert (outcome.error, outcome.retryable) == ("flow_import_error", False)
    assert "SystemExit: no config" in outcome.message


def test_a_real_ctrl_c_in_the_main_thread_still_stops_the_run(tmp_path: Path, flows: MakeFlows) -> None:
    module = flows("def stop(ctx):\n    raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        run_flow(tmp_path, f"{module}:stop")


TICK_CATALOG = """
lane ops "Operations"

group exits "A flow that calls sys.exit()" {
  step wait { type pause lane ops resume_after 1h }
  step work { type auto  lane ops after wait flow "tick_flows:{flow}" }
}

scenario everything "Everything" {
  when item.product == "P"
  add  exits
}
"""
TICK_FLOWS = '''
import sys

def bail(ctx):
    sys.exit(4)

def fine(ctx):
    return {"done": ctx["idempotency_key"]}
'''


def test_dro_tick_goes_on_after_a_flow_that_calls_sys_exit(tmp_path: Path) -> None:
    """Real `dro` processes: ORD-A's flow calls sys.exit(4) when the tick resumes it; ORD-B comes after it."""
    import json
    import os
    import subprocess

    env = {**os.environ, "DRO_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1", "DRO_NOW": "2026-12-01T10:00:00Z"}
    env.pop("DRO_DEBUG", None)
    for order, flow in (("ORD-A", "bail"), ("ORD-B", "fine")):
        catalog = tmp_path / f"catalog-{order}"
        catalog.mkdir()
        (catalog / "exits.dro").write_text(TICK_CATALOG.replace("{flow}", flow))
        (catalog / "tick_flows.py").write_text(TICK_FLOWS)
        (tmp_path / f"{order}.yaml").write_text(f"order:\n  id: {order}\n  account: ACME\n"
                                                "  items:\n    - {id: I1, product: P}\n")
        planned = subprocess.run([sys.executable, "-m", "dro_cli.main", "run", str(tmp_path / f"{order}.yaml"),
                                  "--catalog", str(catalog)], env=env, capture_output=True, text=True, timeout=60)
        assert planned.returncode == 0, planned.stdout + planned.stderr
    later = {**env, "DRO_NOW": "2026-12-01T11:30:00Z"}
    tick = subprocess.run([sys.executable, "-m", "dro_cli.main", "tick", "--format", "json"], env=later,
                          capture_output=True, text=True, timeout=60)
    assert tick.returncode == 1, tick.stdout + tick.stderr  # a step fell out
    assert "Traceback" not in tick.stderr
    states = {}
    for order in ("ORD-A", "ORD-B"):
        status = subprocess.run([sys.executable, "-m", "dro_cli.main", "status", order, "--format", "json"],
                                env=later, capture_output=True, text=True, timeout=60)
        states[order] = {step["id"]: step["state"] for step in json.loads(status.stdout)["steps"]}
    assert states == {"ORD-A": {"wait": "completed", "work": "fatally_failed"},
                      "ORD-B": {"wait": "completed", "work": "completed"}}
    log = subprocess.run([sys.executable, "-m", "dro_cli.main", "log", "ORD-A", "--format", "json"], env=later,
                         capture_output=True, text=True, timeout=60)
    records = [json.loads(line) for line in log.stdout.splitlines()]
    [failed] = [r["payload"] for r in records if r["type"] == "step.failed"]
    assert failed["code"] == "handler_error" and "SystemExit: 4" in failed["message"]
