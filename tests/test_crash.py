"""Crash safety with real processes: `dro run` is SIGKILLed at many points and continued with `dro run ORDER_ID`.

The catalog has flows that log every call and callouts to a real HTTP server on
127.0.0.1 that logs every request with its idempotency key. Whatever the moment of
the kill, the plan completes, every step completes exactly once in the journal, no
completed step runs again, and an in-doubt flow or callout runs again only with its
first idempotency key. A command outlives the runner's SIGKILL (it runs in a session of
its own): the next run ends it, with what it started, before it runs it again.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dro_cli.journal.file import read, verify

ORDER_ID = "ORD-CRASH"
CATALOG = """
lane ops "Operations"

endpoint svc "Service" {
  url     env("CRASH_SVC_URL", "http://127.0.0.1:9")
  timeout 10s
}

group crashy "Crash test steps" {
  step prepare  { type auto      lane ops flow "crash_flows:work" }
  step call_a   { type callout   lane ops after prepare endpoint svc method POST path "/work"
                  body { step: "{{ step.id }}", prepared: "{{ outputs.prepare.key }}" } expect [200]
                  capture { id: "id" } }
  step call_b   { type callout   lane ops after prepare endpoint svc method POST path "/work"
                  body { step: "{{ step.id }}" } expect [200] capture { id: "id" } }
  step flow_c   { type auto      lane ops after call_a flow "crash_flows:work" }
  step halfway  { type milestone lane ops after [call_a, call_b] }
  step call_d   { type callout   lane ops after [halfway, flow_c, call_a] endpoint svc method POST path "/work"
                  body { step: "{{ step.id }}", a: "{{ outputs.call_a.id }}" } expect [200] capture { id: "id" } }
  step flow_e   { type auto      lane ops after call_d flow "crash_flows:work" }
  step done     { type milestone lane ops after flow_e }
}

scenario everything "Everything" {
  when item.product == "P"
  add  crashy
}
"""
FLOWS = '''
import os, time

def work(ctx):
    with open(os.environ["CRASH_FLOW_LOG"], "a") as log:
        log.write(ctx["step"]["id"] + " " + ctx["idempotency_key"] + "\\n")
        log.flush()
        os.fsync(log.fileno())
    time.sleep(float(os.environ.get("CRASH_FLOW_SLEEP", "0.05")))
    return {"key": ctx["idempotency_key"]}
'''
ORDER = f"order:\n  id: {ORDER_ID}\n  account: ACME\n  items:\n    - {{id: I1, product: P}}\n"
STEPS = ["prepare", "call_a", "call_b", "flow_c", "halfway", "call_d", "flow_e", "done"]


class Service:
    """A real HTTP server that answers after a delay and logs each request's idempotency key."""

    def __init__(self, delay: float) -> None:
        self.keys: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                key = self.headers.get("Idempotency-Key", "")
                service.keys.append(key)
                time.sleep(delay)
                body = json.dumps({"id": "R-" + key}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service() -> Iterator[Service]:
    server = Service(delay=0.15)
    yield server
    server.close()


@pytest.fixture
def world(tmp_path: Path, service: Service) -> dict[str, Any]:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "crash.dro").write_text(CATALOG)
    (catalog / "crash_flows.py").write_text(FLOWS)
    (tmp_path / "order.yaml").write_text(ORDER)
    env = {**os.environ, "CRASH_SVC_URL": service.url, "CRASH_FLOW_LOG": str(tmp_path / "flows.log"),
           "DRO_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1"}
    env.pop("DRO_NOW", None)
    return {"root": tmp_path, "catalog": catalog, "env": env, "service": service,
            "journal": tmp_path / "state" / "orders" / ORDER_ID / "journal.jsonl"}


def dro(world: dict[str, Any], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "dro_cli.main", *args], env=world["env"], cwd=world["root"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def start(world: dict[str, Any]) -> subprocess.Popen[bytes]:
    """The first run plans the order; later runs continue it by id (the plan exists once it is journaled)."""
    journal: Path = world["journal"]
    if journal.exists() and journal.stat().st_size > 0:
        return dro(world, "run", ORDER_ID)
    return dro(world, "run", str(world["root"] / "order.yaml"), "--catalog", str(world["catalog"]))


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 20) -> bool:
    """SIGKILL the process as soon as `ready()` holds; False if it exited first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            process.send_signal(signal.SIGKILL)
            process.communicate()
            return True
        time.sleep(0.002)
    process.communicate()
    return False


def finish(world: dict[str, Any]) -> None:
    """Continue until the plan completes, then check everything the crashes could have broken."""
    process = start(world)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, (out + err).decode()
    assert b"completed" in out
    journal: Path = world["journal"]
    assert verify(journal).ok
    records = read(journal)
    assert records[0]["type"] == "plan.created" and records[-1]["type"] == "plan.completed"
    completed: dict[str, int] = {}
    for record in records:
        sid = record["payload"].get("step")
        if record["type"] == "step.completed":
            completed[sid] = completed.get(sid, 0) + 1
        elif record["type"] in ("step.started", "step.restarted"):
            assert sid not in completed, f"{sid} ran again after it completed"
            assert record["payload"]["attempt"] == 1  # nothing failed, so a re-run is the same attempt
    assert completed == {sid: 1 for sid in STEPS}
    for key in world["service"].keys:  # callouts sent again carry their first key
        assert key.endswith("/1") and key.split("/")[1] in ("call_a", "call_b", "call_d"), key
    flows = (world["root"] / "flows.log").read_text().split()
    assert all(key.endswith("/1") for key in flows[1::2])
    status = subprocess.run([sys.executable, "-m", "dro_cli.main", "status", ORDER_ID, "--format", "json"],
                            env=world["env"], cwd=world["root"], capture_output=True, check=True)
    steps = json.loads(status.stdout)["steps"]
    assert {s["id"]: s["state"] for s in steps} == {sid: "completed" for sid in STEPS}
    verified = subprocess.run([sys.executable, "-m", "dro_cli.main", "verify", ORDER_ID], env=world["env"],
                              cwd=world["root"], capture_output=True, text=True)  # plan, snapshot, digest, end
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr


def lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("records", [0, 1, 2, 3, 5, 8, 13, 21])
def test_killed_after_n_journal_records_then_continued(world: dict[str, Any], records: int) -> None:
    """Between records: from planning (0: plan.json written, nothing journaled yet) to the last steps."""
    kill_when(start(world), lambda: lines(world["journal"]) >= records)
    finish(world)


@pytest.mark.parametrize("made", ["orders", "plan.json"])
def test_killed_while_the_plan_is_made(world: dict[str, Any], made: str) -> None:
    """As soon as the order's directory, or its plan.json, exists: before or around `plan.created`."""
    order_dir = world["journal"].parent
    target = order_dir.parent if made == "orders" else order_dir / made
    kill_when(start(world), target.exists)
    finish(world)


def test_killed_while_a_callout_is_in_flight(world: dict[str, Any]) -> None:
    service: Service = world["service"]
    assert kill_when(start(world), lambda: len(service.keys) >= 1)  # the server has the request, no reply yet
    sent = list(service.keys)
    finish(world)
    first = sent[0]
    assert service.keys.count(first) >= 2  # the in-doubt callout was sent again, with the same key


def test_killed_while_a_flow_runs(world: dict[str, Any]) -> None:
    world["env"]["CRASH_FLOW_SLEEP"] = "0.5"
    log = world["root"] / "flows.log"
    assert kill_when(start(world), lambda: log.exists() and log.stat().st_size > 0)
    finish(world)
    assert log.read_text().split()[:4] == ["prepare", f"{ORDER_ID}/prepare/1"] * 2  # run again, same key


def test_killed_again_and_again_at_random_moments(world: dict[str, Any]) -> None:
    rng = random.Random(int(os.environ.get("DRO_CRASH_SEED", "7")))
    for _ in range(12):
        process = start(world)
        time.sleep(rng.uniform(0.0, 0.6))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.communicate()
    finish(world)


# ---- a command, with a child of its own, outlives the runner's SIGKILL ------------------------------

COMMAND_CATALOG = """
lane ops "Operations"

group commands "A command that starts a child" {
  step work { type auto lane ops command [PYTHON, "work.py"] env ["WORK_LOG"] timeout 60s }
  step done { type milestone lane ops after work }
}

scenario everything "Everything" {
  when item.product == "P"
  add  commands
}
"""
WORK = '''
import json, os, subprocess, sys, time

LOG = os.environ["WORK_LOG"]


def note(*words):
    with open(LOG, "a") as log:
        log.write(" ".join(map(str, words)) + "\\n")
        log.flush()
        os.fsync(log.fileno())


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


if sys.argv[1:] == ["child"]:
    os.setsid()  # out of the command's session and process group: only its mark says whose it is
    note("child-start", os.getpid())
    time.sleep(1.5)
    note("child-end", os.getpid())
    sys.exit(0)
earlier = [int(line.split()[1]) for line in open(LOG).read().splitlines()] if os.path.exists(LOG) else []
note("start", os.getpid(), "alive:" + ",".join(str(pid) for pid in earlier if alive(pid)))
child = subprocess.Popen([sys.executable, __file__, "child"]CHILD_ENV)
time.sleep(1.5)
child.wait()
note("end", os.getpid())
print(json.dumps({"pid": os.getpid()}))
'''


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finding an attempt's processes needs /proc")
@pytest.mark.parametrize(("continued_by", "child_env"), [("run", "inherited"), ("tick", "inherited"),
                                                         ("run", "cleared")])
def test_a_command_left_running_by_a_killed_runner_is_ended_before_it_runs_again(
        tmp_path: Path, continued_by: str, child_env: str) -> None:
    """`cleared`: the child starts without the command's environment, so without its DRO_ATTEMPT_ID: its
    parent, the command, says whose it is."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "commands.dro").write_text(COMMAND_CATALOG.replace("PYTHON", json.dumps(sys.executable)))
    environment = ', env={"PATH": os.environ["PATH"], "WORK_LOG": LOG}' if child_env == "cleared" else ""
    (catalog / "work.py").write_text(WORK.replace("CHILD_ENV", environment))
    (tmp_path / "order.yaml").write_text(ORDER)
    log = tmp_path / "work.log"
    env = {**os.environ, "WORK_LOG": str(log), "DRO_STATE_DIR": str(tmp_path / "state"), "NO_COLOR": "1"}
    env.pop("DRO_NOW", None)
    world = {"root": tmp_path, "env": env}
    first = dro(world, "run", str(tmp_path / "order.yaml"), "--catalog", str(catalog))
    assert kill_when(first, lambda: "child-start" in (log.read_text() if log.exists() else ""))
    survivors = [int(line.split()[1]) for line in log.read_text().splitlines()]
    assert all(_alive(pid) for pid in survivors)  # the command and its child outlived the runner

    again = dro(world, "run", ORDER_ID) if continued_by == "run" else dro(world, "tick")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, (out + err).decode()
    lines = log.read_text().splitlines()
    starts = [line for line in lines if line.startswith("start ")]
    assert len(starts) == 2
    assert starts[1].endswith("alive:"), lines  # nothing of the first copy ran when the second started
    assert not any(_alive(pid) for pid in survivors)
    assert f"child-end {survivors[1]}" not in lines  # ended, not left to finish beside the second copy
    assert "ended what its command, left running by a runner that died" in err.decode()
    records = read(tmp_path / "state" / "orders" / ORDER_ID / "journal.jsonl")
    kinds = [(r["type"], r["payload"].get("step")) for r in records]
    assert ("step.restarted", "work") in kinds and kinds.count(("step.completed", "work")) == 1
    assert records[-1]["type"] == "plan.completed"


@pytest.mark.parametrize("damage", ["cut at a record boundary", "emptied", "deleted", "plan changed"])
def test_killed_then_damaged_beside_the_chain_is_refused_not_continued(world: dict[str, Any], damage: str) -> None:
    """A run killed half-way, then a loss the chain alone cannot show (issue 15, items 1 and 4): the next
    `dro run` refuses it, sends nothing and writes nothing."""
    kill_when(start(world), lambda: lines(world["journal"]) >= 8)
    start(world).communicate(timeout=60)  # continued to the end: its writer leaves the digest as it closes
    journal: Path = world["journal"]
    records = journal.read_bytes().splitlines(keepends=True)
    assert len(records) >= 8
    order = journal.parent
    if damage == "cut at a record boundary":
        journal.write_bytes(b"".join(records[:4]))
    elif damage == "emptied":
        journal.write_bytes(b"")
    elif damage == "deleted":
        journal.unlink()
    else:
        plan = order / "plan.json"
        plan.write_text(plan.read_text().replace('"/work"', '"/EVIL"'))
    before = {path.name: path.read_bytes() for path in order.iterdir() if path.name != "lock"}
    sent = len(world["service"].keys)
    for args in (["run", ORDER_ID], ["run", str(world["root"] / "order.yaml"), "--catalog", str(world["catalog"])],
                 ["verify", ORDER_ID]):
        out, err = dro(world, *args).communicate(timeout=60)
        code = {"cut at a record boundary": "DRO517", "emptied": "DRO517", "deleted": "DRO520",
                "plan changed": "DRO516"}[damage]
        assert f"error[{code}]".encode() in err, (args, out, err)
    assert {path.name: path.read_bytes() for path in order.iterdir() if path.name != "lock"} == before
    assert len(world["service"].keys) == sent
