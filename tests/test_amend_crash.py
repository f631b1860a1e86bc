"""Crash safety of `dro amend` with real processes: SIGKILLed at many points, then amended again.

The catalog provisions each line with a callout to a real HTTP server on 127.0.0.1, which logs
every request with its idempotency key; a line's provisioning is undone by a callout too (its
`compensate`). The revision changes one line (undone, then provisioned anew), removes another
(undone) and adds a third. Wherever the kill lands, the order is at revision 1 or 2, never a mix:
its live steps are those of one revision's plan, nothing of the revision ran before its
`plan.amended` was durable, and a plan.r2.json without that record is written again by the next
amendment. Amending again and continuing the order finishes the amendment, with one compensation
per undone step, each sent under one idempotency key only.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_crash import Service

from dro_cli.journal.file import read, verify
from dro_cli.journal.store import OpenOrder, read_order
from dro_cli.main import cli

ORDER_ID = "ORD-AMEND"
CATALOG = """
lane ops "Operations"

endpoint svc "Service" {
  url     env("AMEND_SVC_URL", "http://127.0.0.1:9")
  timeout 10s
}

group lines "Provisioned lines" {
  step provision { type callout lane ops scope line_item endpoint svc method POST path "/provision"
                   body { line: "{{ item.id }}", speed: "{{ item.attributes.speed }}" } expect [200]
                   capture { id: "id" } compensate unprovisioning }
  step hold      { type manual lane ops scope line_item after provision queue ops }
}

group unprovisioning "Undo a line" {
  step deprovision { type callout lane ops scope line_item endpoint svc method POST path "/deprovision"
                     body { line: "{{ item.id }}", id: "{{ undone.outputs.id }}" } expect [200]
                     when undone.state == "completed" }
}

scenario everything "Everything" {
  when item.product == "P"
  add  lines
}
"""
FIRST = {"I1": 100, "I2": 100}
REVISED = {"I1": 500, "I3": 100}  # I1 changed, I2 removed, I3 added
UNDONE = ("provision[I1]", "provision[I2]")
KILLS = 52  # of `dro amend`, at the least
KINDS = ("plan file", "temp file", "compensation in flight", "journal records", "timed")


def order_text(speeds: dict[str, int]) -> str:
    items = "".join(f"    - {{id: {line}, product: P, attributes: {{speed: {speed}}}}}\n"
                    for line, speed in speeds.items())
    return f"order:\n  id: {ORDER_ID}\n  account: ACME\n  items:\n{items}"


@pytest.fixture
def service() -> Iterator[Service]:
    server = Service(delay=0.05)  # long enough for a kill to land while a compensation is in flight
    yield server
    server.close()


class World:
    """The order running at revision 1 (prepared once, copied for each trial), and how to amend it."""

    def __init__(self, root: Path, service: Service) -> None:
        self.root, self.service = root, service
        (root / "catalog").mkdir()
        (root / "catalog" / "lines.dro").write_text(CATALOG)
        (root / "order.yaml").write_text(order_text(FIRST))
        (root / "r2.yaml").write_text(order_text(REVISED))
        self.base = root / "base"
        self.state = root / "state"
        self.env = {**os.environ, "AMEND_SVC_URL": service.url, "DRO_STATE_DIR": str(self.base), "NO_COLOR": "1",
                    "DRO_OPERATOR": "ann", "DRO_CATALOG": ""}
        self.env.pop("DRO_NOW", None)
        made = self.invoke("run", str(root / "order.yaml"), "--catalog", str(root / "catalog"))
        assert made.exit_code == 0 and "waiting on" in made.output, made.output
        self.env["DRO_STATE_DIR"] = str(self.state)
        self.order = self.state / "orders" / ORDER_ID
        self.revision_file = self.order / "plan.r2.json"

    def fresh(self) -> None:
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.copytree(self.base, self.state)
        self.service.keys.clear()

    def invoke(self, *args: str) -> Any:
        return CliRunner(env=self.env).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")

    def process(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "dro_cli.main", *args], env=self.env, cwd=self.root,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def amend(self) -> subprocess.Popen[bytes]:
        return self.process("amend", ORDER_ID, str(self.root / "r2.yaml"), "--reason", "crash test")

    def records(self) -> int:
        return (self.order / "journal.jsonl").read_bytes().count(b"\n")

    def compensations_sent(self) -> list[str]:
        return [key for key in self.service.keys if "/deprovision[" in key]


def kill_at(world: World, kind: str, rng: random.Random) -> bool:
    """Start `dro amend` and SIGKILL it at a point of `kind`; False if it finished first."""
    journal = world.records()
    ready: dict[str, Callable[[], bool]] = {
        "plan file": world.revision_file.exists,
        "temp file": lambda: any(world.order.glob(".plan.r2.json.*.tmp")) or world.revision_file.exists(),
        "compensation in flight": lambda: bool(world.compensations_sent()),
        "journal records": lambda: world.records() >= journal + wanted,
    }
    wanted = rng.randint(1, 6)
    process = world.amend()
    if kind == "timed":
        time.sleep(rng.uniform(0.05, 0.7))
        if process.poll() is not None:
            process.communicate()
            return False
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
        return True
    return spin_until(process, ready[kind])


def spin_until(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> bool:
    """SIGKILL as soon as `ready()` holds, looking without sleeping: the window between plan.r2.json and
    its durable `plan.amended` is a few milliseconds."""
    deadline = time.monotonic() + 20
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            os.kill(process.pid, signal.SIGKILL)
            process.communicate()
            return True
    process.communicate()
    return False


def check_one_revision(world: World) -> str:
    """The order as the kill left it: one revision, its live steps exactly that revision's plan, nothing
    of revision 2 run before its record; which side of the record the kill landed on."""
    journal = world.order / "journal.jsonl"
    assert verify(journal).ok
    amended = [r for r in read(journal) if r["type"] == "plan.amended"]
    engine = read_order(world.order).engine
    assert engine.revision == 1 + len(amended) and engine.revision in (1, 2)
    plan = json.loads((world.order / ("plan.json" if engine.revision == 1 else "plan.r2.json")).read_text())
    assert set(engine.steps) == set(plan["order"] if engine.revision == 2 else (s["id"] for s in plan["steps"]))
    if engine.revision == 1:
        assert not world.service.keys  # nothing of the revision runs before plan.amended is durable
        assert not any(sid.startswith("deprovision") for sid in engine.steps)
        return "plan file, no record" if world.revision_file.exists() else "before the plan file"
    undoing = [sid for sid, step in engine.steps.items() if "undoes" in step]
    assert sorted(engine.steps[sid]["undoes"] for sid in undoing) == list(UNDONE)
    if any(str(engine.runs[sid].state) != "completed" for sid in undoing):
        return "record, compensating"
    return "record, compensated"


def finish(world: World, kills: int) -> None:
    """Amend again (it completes the amendment, or nothing changes), continue the order, and check that
    the amendment was made once and each undone step compensated once."""
    at = read_order(world.order).engine.revision
    again = world.invoke("amend", ORDER_ID, str(world.root / "r2.yaml"), "--reason", "crash test")
    assert again.exit_code == 0, again.output
    assert ("amended to revision 2" if at == 1 else "nothing changes") in again.output, again.output
    assert not (world.order / "plan.r3.json").exists()
    ran = world.invoke("run", ORDER_ID)
    assert ran.exit_code == 0 and "waiting on" in ran.output, ran.output
    with OpenOrder(world.order) as order:
        writer = order.load_plan()
        written = {sid: (run.state, run.attempts) for sid, run in writer.runs.items()}
    engine = read_order(world.order).engine
    assert {sid: (run.state, run.attempts) for sid, run in engine.runs.items()} == written
    assert engine.revision == 2 and len(engine.amendments) == 1
    assert sum(r["type"] == "plan.amended" for r in read(world.order / "journal.jsonl")) == 1
    undoing = {step["undoes"]: sid for sid, step in engine.steps.items() if "undoes" in step}
    assert sorted(undoing) == list(UNDONE)  # one compensation per undone step, never a second one
    for undone, sid in undoing.items():
        assert sid == f"deprovision[r2:{undone}]"
        assert str(engine.runs[sid].state) == "completed" and engine.runs[sid].attempts == 1
    sent = world.compensations_sent()
    keys = {f"{ORDER_ID}/r2/{sid}/1" for sid in undoing.values()}
    assert set(sent) == keys  # each compensation under its one key: never a second attempt or instance
    assert all(sent.count(key) <= 1 + kills for key in keys)  # sent again only when a kill left it in doubt
    for line in ("I1", "I3"):  # the new provisioning ran, after I1's was undone
        assert str(engine.runs[f"provision[{line}]"].state) == "completed"
    provisions = [key for key in world.service.keys if "/provision[" in key]
    assert set(provisions) == {f"{ORDER_ID}/r2/provision[I1]/1", f"{ORDER_ID}/r2/provision[I3]/1"}
    first_new = world.service.keys.index(f"{ORDER_ID}/r2/provision[I1]/1")
    assert world.service.keys.index(f"{ORDER_ID}/r2/deprovision[r2:provision[I1]]/1") < first_new


def test_killed_amendments_end_at_one_revision_and_compensate_once(tmp_path: Path, service: Service) -> None:
    rng = random.Random(int(os.environ.get("DRO_CRASH_SEED", "17")))
    world = World(tmp_path, service)
    landed: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    kills = trials = 0
    while kills < KILLS:
        trials += 1
        assert trials <= 2 * KILLS, "dro amend finished before most kills: the kill points no longer hit it"
        world.fresh()
        killed = 0
        for attempt in range(2):  # killed, and if still at revision 1 killed again as it is amended again
            kind = KINDS[trials % len(KINDS)] if attempt == 0 else rng.choice(KINDS)
            if not kill_at(world, kind, rng):
                break
            killed += 1
            by_kind[kind] = by_kind.get(kind, 0) + 1
            where = check_one_revision(world)
            landed[where] = landed.get(where, 0) + 1
            if where.startswith("record"):
                break  # the amendment is made: amending again says nothing changes
        kills += killed
        if killed:
            finish(world, killed)
    assert landed.get("plan file, no record", 0) >= 1, landed  # before plan.amended was durable
    assert landed.get("record, compensating", 0) >= 1, landed  # after it, while compensations ran
    assert landed.get("before the plan file", 0) >= 1, landed
    assert set(by_kind) == set(KINDS), by_kind
