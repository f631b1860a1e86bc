"""`dro run`, `status`, `log`, `complete`, `signal`, `resume`, `cancel`, `verify` through the CLI, against
the simulated systems of the laptop catalog: exit codes, messages, and bad input that leaves the journal untouched."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from goldens import CATALOGS

from dro_cli.main import cli
from dsl.schemas import validator

LAPTOP = CATALOGS / "laptop"
ORDER = LAPTOP / "orders" / "ORD-1001.yaml"
TOKEN = "test-token"
NOW = "2026-12-01T10:00:00Z"


def _simulator_class() -> Any:
    spec = importlib.util.spec_from_file_location("laptop_simulator", LAPTOP / "simulator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["laptop_simulator"] = module
    spec.loader.exec_module(module)
    return module.Simulator


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    with _simulator_class()(token=TOKEN) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, simulator: Any) -> dict[str, str]:
    return {"NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "DRO_NOW": NOW, "DRO_OPERATOR": "ann",
            "WMS_URL": simulator.url, "LICENSE_SERVER_URL": simulator.url, "LICENSE_SERVER_TOKEN": TOKEN,
            "DRO_CATALOG": ""}


def dro(env: dict[str, str], *args: str) -> Result:
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")


def journal(env: dict[str, str]) -> bytes:
    return (Path(env["DRO_STATE_DIR"]) / "orders" / "ORD-1001" / "journal.jsonl").read_bytes()


def started(env: dict[str, str]) -> Result:
    result = dro(env, "run", str(ORDER), "--catalog", str(LAPTOP))
    assert result.exit_code == 0, result.output
    return result


def test_run_plans_runs_and_says_what_the_plan_waits_on(env: dict[str, str]) -> None:
    result = started(env)
    assert "order ORD-1001: in_progress, 0/8 steps finished" in result.stdout
    assert "an operator to complete credit_check (queue credit_team)" in result.stdout
    assert "dro complete ORD-1001 credit_check" in result.stdout


def test_the_whole_order_through_operator_acts(env: dict[str, str]) -> None:
    started(env)
    done = dro(env, "complete", "ORD-1001", "credit_check", "--output", "approved_by=desk")
    assert done.exit_code == 0 and "install[L1]" in done.stdout
    assert dro(env, "complete", "ORD-1001", "install").exit_code == 0
    last = dro(env, "signal", "ORD-1001", "work_order.completed")
    assert last.exit_code == 0 and "order ORD-1001: completed, 8/8 steps finished" in last.stdout
    status = json.loads(dro(env, "status", "ORD-1001", "--format", "json").stdout)
    assert [e.message for e in validator("status").iter_errors(status)] == []
    steps = {s["id"]: s for s in status["steps"]}
    assert status["state"] == "completed" and all(s["state"] == "completed" for s in steps.values())
    assert steps["reserve[L1/LAPTOP-HW]"]["outputs"]["reservation_id"].startswith("RES-")
    assert steps["credit_check"]["outputs"] == {"approved_by": "desk"}
    assert steps["credit_check"]["acts"][0]["operator"] == "ann"
    billing = steps["start_billing"]["outputs"]
    assert billing["account"] == "ACME-CORP" and billing["seats"] == 2
    log = dro(env, "log", "ORD-1001").stdout
    assert "ann" in log and "work_order.completed" in log
    assert TOKEN not in journal(env).decode()  # the bearer token never reaches the journal
    assert dro(env, "verify", "ORD-1001").exit_code == 0


def test_status_lists_every_order_on_one_line(env: dict[str, str]) -> None:
    started(env)
    result = dro(env, "status")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("ORD-1001"))
    assert "in_progress" in line and "0/8" in line and "credit_check" in line
    data = json.loads(dro(env, "status", "--format", "json").stdout)
    assert [e.message for e in validator("status").iter_errors(data)] == []
    assert [o["order"] for o in data["orders"]] == ["ORD-1001"]


@pytest.mark.parametrize(("args", "message", "hint"), [
    (["complete", "ORD-1010", "credit_check"], "no order 'ORD-1010'", "did you mean 'ORD-1001'?"),
    (["complete", "ORD-1001", "credit_chek"], "has no step 'credit_chek'", "did you mean 'credit_check'?"),
    (["complete", "ORD-1001", "delivered"], "step delivered is pending, not waiting for an operator",
     "waiting for an operator: credit_check"),
    (["signal", "ORD-1001", "work_order.complete"], "no step of order ORD-1001 waits for event 'work_order.complete'",
     "did you mean 'work_order.completed'?"),
    (["signal", "ORD-1001", "work_order.completed"], "is on hold for event 'work_order.completed' yet",
     "wait_work_order[L1] will wait for it"),
    (["resume", "ORD-1001", "wait_work_order"], "not on hold", None),
    (["complete", "ORD-1001", "credit_check", "--output", "novalue"], "is not KEY=VALUE", None),
    (["run", "ORD-1010"], "no order 'ORD-1010'", "did you mean 'ORD-1001'?"),
    (["run", "missing/ORD-9.yaml"], "order file 'missing/ORD-9.yaml' does not exist", None),
])
def test_bad_input_is_a_clear_error_with_exit_2_and_an_untouched_journal(
        env: dict[str, str], args: list[str], message: str, hint: str | None) -> None:
    started(env)
    before = journal(env)
    result = dro(env, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr
    if hint:
        assert f"help: {hint}" in result.stderr
    assert result.stdout == ""
    assert journal(env) == before


def test_a_different_order_file_under_the_same_id_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    started(env)
    changed = tmp_path / "ORD-1001.yaml"
    changed.write_text(ORDER.read_text().replace("quantity: 2", "quantity: 3"))
    before = journal(env)
    result = dro(env, "run", str(changed), "--catalog", str(LAPTOP))
    assert result.exit_code == 2 and "runs from a different order file" in result.stderr
    assert "`dro amend` changes it" in result.stderr
    assert journal(env) == before
    again = dro(env, "run", str(ORDER), "--catalog", str(LAPTOP))  # the same file continues the order
    assert again.exit_code == 0 and "0/8 steps finished" in again.stdout


def test_a_second_concurrent_writer_is_told_who_holds_the_order(env: dict[str, str]) -> None:
    started(env)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
         "from dro_cli.journal.lock import OrderLock\n"
         "with OrderLock(Path(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(60)",
         str(Path(env["DRO_STATE_DIR"]) / "orders" / "ORD-1001")], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        before = journal(env)
        result = dro(env, "complete", "ORD-1001", "credit_check")
        assert result.exit_code == 2 and f"order ORD-1001 is locked by pid {holder.pid}" in result.stderr
        assert journal(env) == before
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


def test_a_bad_order_file_gives_diagnostics_and_creates_nothing(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("order:\n  id: ORD-7\n  account: A\n  items: []\n")
    result = dro(env, "run", str(bad), "--catalog", str(LAPTOP))
    assert result.exit_code == 2 and "error[" in result.stderr
    assert not (Path(env["DRO_STATE_DIR"]) / "orders" / "ORD-7").exists()


def test_cancel_needs_a_reason_and_stops_everything(env: dict[str, str]) -> None:
    started(env)
    assert dro(env, "cancel", "ORD-1001").exit_code == 2
    result = dro(env, "cancel", "ORD-1001", "--reason", "customer withdrew")
    assert result.exit_code == 0 and "order ORD-1001: canceled" in result.stdout
    status = json.loads(dro(env, "status", "ORD-1001", "--format", "json").stdout)
    assert status["canceled"]["reason"] == "customer withdrew" and status["canceled"]["operator"] == "ann"
    assert {s["state"] for s in status["steps"]} == {"canceled"}
    again = dro(env, "complete", "ORD-1001", "credit_check")
    assert again.exit_code == 2 and "is canceled" in again.stderr


def test_a_canceled_order_says_how_many_steps_were_canceled_everywhere(env: dict[str, str], tmp_path: Path) -> None:
    started(env)
    assert "3/8 steps finished" in dro(env, "complete", "ORD-1001", "credit_check").stdout
    result = dro(env, "cancel", "ORD-1001", "--reason", "customer withdrew")
    assert "order ORD-1001: canceled, 3/8 steps finished, 5 canceled\n" in result.stdout
    listed = dro(env, "status").stdout.splitlines()[1]
    assert listed.split() == ["ORD-1001", "canceled", "3/8", "5", "steps", "canceled"]
    assert dro(env, "status", "ORD-1001").stdout.startswith("ORD-1001  canceled  3/8 steps, 5 canceled\n")
    status = json.loads(dro(env, "status", "ORD-1001", "--format", "json").stdout)
    assert status["progress"] == {"finished": 3, "canceled": 5, "total": 8}
    assert dro(env, "view", "ORD-1001", "-o", str(tmp_path / "plan.html")).exit_code == 0
    assert "3/8 steps finished, 5 canceled</span>" in (tmp_path / "plan.html").read_text(encoding="utf-8")
    from dro_cli.output.serve import dashboard

    row, = dashboard(Path(env["DRO_STATE_DIR"]), 0.0)["orders"]
    assert (row["finished"], row["canceled"], row["total"]) == (3, 5, 8)


def test_a_pause_waits_on_its_timer_and_dro_now_moves_time(env: dict[str, str], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "c.dro").write_text(
        'lane ops "Ops"\ngroup g {\n  step cool { type pause lane ops resume_after 2h }\n'
        '  step done { type milestone lane ops after cool }\n}\nscenario s { when item.product == "P" add g }\n')
    order = tmp_path / "o.yaml"
    order.write_text("order:\n  id: ORD-T\n  account: A\n  items:\n    - {id: I1, product: P}\n")
    first = dro(env, "run", str(order), "--catalog", str(catalog))
    assert first.exit_code == 0 and "the timer at 2026-12-01T12:00:00Z to resume cool" in first.stdout
    early = dro({**env, "DRO_NOW": "2026-12-01T11:59:59Z"}, "run", "ORD-T")
    assert "in_progress" in early.stdout
    due = dro({**env, "DRO_NOW": "2026-12-01T12:00:00Z"}, "run", "ORD-T")
    assert "order ORD-T: completed" in due.stdout
    assert dro(env, "run", "ORD-T", "--wait").exit_code == 2  # DRO_NOW fixes the clock: nothing to wait for


def test_a_step_in_fallout_exits_1_and_can_be_completed_with_a_reason(env: dict[str, str], simulator: Any) -> None:
    env = {**env, "LICENSE_SERVER_TOKEN": "wrong-token"}  # 401: not retryable, straight to fallout
    started(env)
    result = dro(env, "complete", "ORD-1001", "credit_check")
    assert result.exit_code == 1
    assert "assign_license[L1/OS-LICENSE] in fallout queue licensing_fallout (http_401)" in result.stdout
    refused = dro(env, "complete", "ORD-1001", "assign_license")
    assert refused.exit_code == 2 and "needs a reason" in refused.stderr
    fixed = dro(env, "complete", "ORD-1001", "assign_license", "--reason", "licensed by hand",
                "--output", "license_key=MANUAL")
    assert fixed.exit_code == 0
    log = dro(env, "log", "ORD-1001").stdout
    assert "licensed by hand" in log


def test_a_step_that_fell_out_for_a_missing_variable_names_it_wherever_it_is_listed(env: dict[str, str]) -> None:
    env = {**env, "LICENSE_SERVER_TOKEN": ""}  # empty counts as unset
    started(env)
    assert dro(env, "complete", "ORD-1001", "credit_check").exit_code == 1
    why = "environment variable LICENSE_SERVER_TOKEN is not set (endpoint license_server, auth)"
    fallout = dro(env, "fallout").stdout.splitlines()
    assert fallout[1].split()[1:4] == ["assign_license[L1/OS-LICENSE]", "licensing_fallout", "missing_env"]
    assert fallout[2] == " " * len("ORDER     ") + why  # under the step, from the second column on
    status = dro(env, "status", "ORD-1001").stdout.splitlines()
    line = next(i for i, text in enumerate(status) if text.startswith("  assign_license"))
    assert status[line + 1].strip() == why


def _timed_catalog(tmp_path: Path, wait: str) -> tuple[Path, Path]:
    catalog = tmp_path / "timed"
    catalog.mkdir()
    (catalog / "c.dro").write_text(
        f'lane ops "Ops"\ngroup g {{\n  step cool {{ type pause lane ops resume_after {wait} }}\n'
        '  step done { type milestone lane ops after cool }\n}\nscenario s { when item.product == "P" add g }\n')
    order = tmp_path / "timed.yaml"
    order.write_text("order:\n  id: ORD-W\n  account: A\n  items:\n    - {id: I1, product: P}\n")
    return catalog, order


def test_wait_sleeps_until_the_next_timer_then_goes_on(tmp_path: Path, env: dict[str, str]) -> None:
    catalog, order = _timed_catalog(tmp_path, "1s")
    real_clock = {key: value for key, value in env.items() if key != "DRO_NOW"}
    started_at = time.monotonic()
    result = dro(real_clock, "run", str(order), "--catalog", str(catalog), "--wait")
    assert result.exit_code == 0, result.output
    assert "waiting" in result.stdout and "order ORD-W: completed, 2/2 steps finished" in result.stdout
    assert time.monotonic() - started_at >= 0.9


def test_ctrl_c_stops_a_run_at_once_and_the_next_run_sends_the_step_again(tmp_path: Path, env: dict[str, str]) -> None:
    catalog = tmp_path / "slow"
    catalog.mkdir()
    (catalog / "c.dro").write_text('lane ops "Ops"\ngroup g {\n  step slow { type auto lane ops flow "slow:work" }\n}\n'
                                   'scenario s { when item.product == "P" add g }\n')
    marker = tmp_path / "flow-started"
    (catalog / "slow.py").write_text(
        "import os, time\n\ndef work(ctx):\n    if not os.environ.get('FAST'):\n"
        f"        open({str(marker)!r}, 'w').close()\n        time.sleep(30)\n    return {{'ok': 1}}\n")
    order = tmp_path / "slow.yaml"
    order.write_text("order:\n  id: ORD-S\n  account: A\n  items:\n    - {id: I1, product: P}\n")
    process = subprocess.Popen([sys.executable, "-m", "dro_cli.main", "run", str(order), "--catalog", str(catalog)],
                               env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal_path = Path(env["DRO_STATE_DIR"]) / "orders" / "ORD-S" / "journal.jsonl"
    deadline = time.monotonic() + 20
    while not marker.exists():  # the flow runs: its `step.started` is durable
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)  # the flow sleeps 30 s: exiting at once is the point
    assert process.returncode == 130 and b"interrupted" in err and b"Traceback" not in err
    again = dro({**env, "FAST": "1"}, "run", "ORD-S")
    assert "order ORD-S: completed" in again.stdout
    assert '"type":"step.restarted"' in journal_path.read_text()


def test_verify_tells_a_torn_last_write_from_damage(env: dict[str, str]) -> None:
    started(env)
    path = Path(env["DRO_STATE_DIR"]) / "orders" / "ORD-1001" / "journal.jsonl"
    intact = path.read_bytes()
    path.write_bytes(intact + b'{"checksum":"ab')  # a write cut short by a crash
    torn = dro(env, "verify", "ORD-1001")
    assert torn.exit_code == 0 and "torn last write" in torn.stdout
    lines = intact.splitlines(keepends=True)
    lines[1] = lines[1].replace(b"credit_check", b"credit_chekk")
    path.write_bytes(b"".join(lines))
    damaged = dro(env, "verify", "ORD-1001")
    assert damaged.exit_code == 1 and "damaged at line 2" in damaged.stderr
    status = dro(env, "status", "ORD-1001")  # readers refuse damage too, clearly
    assert status.exit_code == 1 and "damaged at line 2" in status.stderr and "Traceback" not in status.stderr
    run = dro(env, "run", "ORD-1001")
    assert run.exit_code == 1 and "nothing was changed" in run.stderr
    assert path.read_bytes() == b"".join(lines)
