"""dro on a real Temporal dev server (tests/temporal_server.py): the laptop sample order runs there with a
`dro worker` and ends as it ends on the local engine; an unreachable server and unsupported verbs are clear
errors. Skipped without the `temporal` extra, but for under $CI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from goldens import CATALOGS
from temporal_server import DevServer, require_temporal

pytestmark = pytest.mark.temporal

LAPTOP = CATALOGS / "laptop"
ORDER = LAPTOP / "orders" / "ORD-1001.yaml"
TOKEN = "temporal-test-token"
DRO = [sys.executable, "-m", "dro_cli.main"]
# The operator's path through the sample order, as catalogs/laptop/demo.py types it.
ACTS = [["complete", "ORD-1001", "credit_check", "--output", "approved_by=credit-desk"],
        ["complete", "ORD-1001", "install", "--output", "technician=T-17"],
        ["signal", "ORD-1001", "work_order.completed"]]
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A server of its own for each test (it starts in about a second): workflow ids are order ids."""
    require_temporal()
    with DevServer(tmp_path) as address:
        yield address


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("laptop_simulator_temporal", LAPTOP / "simulator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    with module.Simulator(token=TOKEN) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, simulator: Any, server: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("DRO_")}
    return {**keep, "NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "DRO_OPERATOR": "ann",
            "WMS_URL": simulator.url, "LICENSE_SERVER_URL": simulator.url, "LICENSE_SERVER_TOKEN": TOKEN,
            "DRO_TEMPORAL_ADDRESS": server, "DRO_TEMPORAL_TASK_QUEUE": f"dro-{tmp_path.name}"}


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`dro worker`, once it says it polls the task queue."""
    with log_path.open("wb") as log:
        process = subprocess.Popen([*DRO, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while b"polling" not in log_path.read_bytes():
        assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.1)
    return process


def stop_worker(process: subprocess.Popen[bytes], log_path: Path) -> None:
    process.send_signal(signal.SIGINT)
    try:
        assert process.wait(timeout=20) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()


@pytest.fixture
def worker(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(env, tmp_path / "worker.log")
    yield process
    stop_worker(process, tmp_path / "worker.log")


def dro(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DRO, *args], env=env, capture_output=True, text=True, timeout=timeout)


def comparable(status: Any) -> Any:
    """The status without what differs between hosts by nature: instants (each engine's own clock)."""
    if isinstance(status, dict):
        return {k: comparable(v) for k, v in status.items() if not (isinstance(v, str) and INSTANT.match(v))}
    if isinstance(status, list):
        return [comparable(v) for v in status]
    return status


def run_laptop(env: dict[str, str], *engine: str) -> dict[str, Any]:
    done = dro(env, "run", str(ORDER), "--catalog", str(LAPTOP), *engine)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "credit_check" in done.stdout, done.stdout  # it waits for the credit team, as locally
    for act in ACTS:
        done = dro(env, *act, *engine)
        assert done.returncode == 0, (act, done.stdout + done.stderr)
    done = dro(env, "status", "ORD-1001", "--format", "json", *engine)
    assert done.returncode == 0, done.stdout + done.stderr
    status: dict[str, Any] = json.loads(done.stdout)
    return status


def test_the_laptop_order_ends_on_temporal_as_it_ends_locally(env: dict[str, str], worker: Any) -> None:
    local = run_laptop(env)
    on_temporal = run_laptop(env, "--engine", "temporal")
    assert on_temporal["state"] == "completed"
    assert comparable(on_temporal) == comparable(local)
    history = fetch_history(env, "ORD-1001")
    from test_temporal_replay import HISTORIES, replay

    replay(history, "ORD-1001")  # the history just made replays against the workflow
    if os.environ.get("DRO_RECORD_HISTORIES"):
        (HISTORIES / "ORD-1001.history.json").write_text(history)


def fetch_history(env: dict[str, str], workflow_id: str) -> str:
    """The workflow's history as JSON, from the temporal CLI (as an operator would save it)."""
    from temporal_server import temporal_binary

    binary = temporal_binary()
    assert binary is not None
    done = subprocess.run([binary, "workflow", "show", "--workflow-id", workflow_id, "--output", "json",
                           "--address", env["DRO_TEMPORAL_ADDRESS"]], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_second_run_of_the_same_file_continues_and_a_refused_act_is_exit_2(env: dict[str, str], worker: Any,
                                                                              tmp_path: Path) -> None:
    engine = ("--engine", "temporal")
    first = dro(env, "run", str(ORDER), "--catalog", str(LAPTOP), *engine)
    assert first.returncode == 0, first.stdout + first.stderr
    again = dro(env, "run", str(ORDER), "--catalog", str(LAPTOP), *engine)
    assert again.returncode == 0 and again.stdout == first.stdout, again.stdout + again.stderr
    refused = dro(env, "complete", "ORD-1001", "no_such_step", *engine)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "no_such_step" in refused.stderr and "Traceback" not in refused.stderr
    other = tmp_path / "ORD-1001.yaml"
    other.write_text(ORDER.read_text() + "\n# another file, the same order id\n")
    different = dro(env, "run", str(other), "--catalog", str(LAPTOP), *engine)
    assert different.returncode == 2 and "different order file" in different.stderr, different.stderr


def test_an_unreachable_server_is_a_clear_error_with_exit_2(env: dict[str, str]) -> None:
    from temporal_server import free_port

    done = dro({**env, "DRO_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"}, "run", str(ORDER), "--catalog",
               str(LAPTOP), "--engine", "temporal", timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot reach the Temporal server" in done.stderr and "Traceback" not in done.stderr


def test_without_a_worker_the_run_says_which_queue_needs_one(env: dict[str, str]) -> None:
    done = dro(env, "run", str(ORDER), "--catalog", str(LAPTOP), "--engine", "temporal", timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"dro worker --task-queue {env['DRO_TEMPORAL_TASK_QUEUE']}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_verbs_not_on_temporal_yet_say_so_rather_than_run_locally(env: dict[str, str]) -> None:
    for args in (["fallout", "--engine", "temporal"], ["log", "ORD-1001", "--engine=temporal"]):
        done = dro(env, *args)
        assert done.returncode == 2 and "not yet supported on Temporal" in done.stderr, done.stderr
    assert not Path(env["DRO_STATE_DIR"]).exists()
    done = dro({**env, "DRO_ENGINE": "temporal"}, "verify", "ORD-1001")
    assert done.returncode == 2 and "not yet supported on Temporal" in done.stderr, done.stderr





def test_a_worker_killed_mid_callout_is_replaced_and_the_callout_sent_again_with_its_key(
        env: dict[str, str], simulator: Any, tmp_path: Path) -> None:
    from acme_systems.faults import Fault

    first = start_worker(env, tmp_path / "first.log")
    try:
        done = dro(env, "run", str(ORDER), "--catalog", str(LAPTOP), "--engine", "temporal")
        assert done.returncode == 0, done.stdout + done.stderr  # it waits for the credit team
        simulator.set_faults({"/reservations": Fault(delay=5.0)})  # a slow reservation: time to kill its worker
        before = len(simulator.requests())
        approve = subprocess.Popen([*DRO, *ACTS[0], "--engine", "temporal", "--format", "json"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not reserving(env):
            assert time.monotonic() < deadline and approve.poll() is None, approve.communicate()
            time.sleep(0.2)
        time.sleep(2.0)  # the step has started: its worker picks it up and sends it (the server waits 5 s)
        first.kill()  # SIGKILL mid-callout: no outcome, no goodbye
        first.wait(timeout=10)
        second = start_worker(env, tmp_path / "second.log")
        try:
            out, err = approve.communicate(timeout=120)
        finally:
            stop_worker(second, tmp_path / "second.log")
    finally:
        simulator.set_faults({})
        if first.poll() is None:
            first.kill()
    assert approve.returncode == 0, out + err
    status = json.loads(out)
    assert all(s["state"] == "completed" for s in status["steps"] if s["step"] == "reserve"), out
    sent = simulator.requests()[before:]
    reservations = [r for r in sent if r["path"] == "/reservations"]
    assert len(reservations) == 2 and reservations[0]["key"] == reservations[1]["key"], sent
    others = [(r["method"], r["path"], r["key"]) for r in sent if r["path"] != "/reservations"]
    assert len(others) == len(set(others)), sent  # nothing else was sent twice


def reserving(env: dict[str, str]) -> bool:
    done = dro(env, "status", "ORD-1001", "--engine", "temporal", "--format", "json", timeout=30)
    if done.returncode != 0:
        return False
    steps = json.loads(done.stdout)["steps"]
    return any(s["step"] == "reserve" and s["state"] == "in_progress" for s in steps)


def test_a_retry_fires_on_its_durable_timer_with_no_dro_command_running(
        env: dict[str, str], simulator: Any, worker: Any) -> None:
    from acme_systems.faults import Fault

    done = dro(env, "run", str(ORDER), "--catalog", str(LAPTOP), "--engine", "temporal")
    assert done.returncode == 0, done.stdout + done.stderr
    simulator.set_faults({"/reservations": Fault(status=503, count=1)})  # once: the retry, 30 s later, succeeds
    try:
        done = dro(env, *ACTS[0], "--engine", "temporal", "--format", "json")
    finally:
        simulator.set_faults({})
    assert done.returncode == 0, done.stdout + done.stderr
    assert [s["state"] for s in json.loads(done.stdout)["steps"] if s["step"] == "reserve"] == ["failed"]
    deadline = time.monotonic() + 90  # no `dro tick`, no `dro run`: the workflow's timer fires on the cluster
    while True:
        done = dro(env, "status", "ORD-1001", "--engine", "temporal", "--format", "json")
        reserve = [s for s in json.loads(done.stdout)["steps"] if s["step"] == "reserve"]
        if reserve[0]["state"] == "completed":
            break
        assert time.monotonic() < deadline, reserve
        time.sleep(1)
    assert reserve[0]["attempts"] == 2
