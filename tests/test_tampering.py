"""The files beside the journal are believed only with proof: plan.json, snapshot.json, digest.json, the journal's end.

Each case is the reproducer of issue 15, run with real `dro` processes against a real
HTTP server on 127.0.0.1 that logs the path of every request: the order waits at a
manual step before its callout, a file is changed by hand, and the next command must
refuse (or ignore the forged cache) rather than act on it; `dro verify` must say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ORDER_ID = "ORD-T"
CATALOG = """
lane ops "Operations"

endpoint svc "Service" {
  url     env("TAMPER_SVC_URL", "http://127.0.0.1:9")
  timeout 10s
}

group tampered "Tampering test steps" {
  step approve { type manual  lane ops queue approvers }
  step check   { type manual  lane ops queue approvers after approve }
  step call    { type callout lane ops after check endpoint svc method POST path "/z/work"
                 body { step: "{{ step.id }}" } expect [200] }
}

scenario everything "Everything" {
  when item.product == "P"
  add  tampered
}
"""
ORDER = f"order:\n  id: {ORDER_ID}\n  account: ACME\n  items:\n    - {{id: I1, product: P}}\n"


class Service:
    """A real HTTP server that answers 200 and logs the path of every request."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                service.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Lab:
    def __init__(self, root: Path, service: Service) -> None:
        self.root = root
        self.service = service
        self.catalog = root / "catalog"
        self.catalog.mkdir()
        (self.catalog / "t.dro").write_text(CATALOG)
        (root / "order.yaml").write_text(ORDER)
        self.order = root / "state" / "orders" / ORDER_ID
        self.env = {**os.environ, "TAMPER_SVC_URL": f"http://127.0.0.1:{service.server.server_address[1]}",
                    "DRO_STATE_DIR": str(root / "state"), "NO_COLOR": "1"}
        self.env.pop("DRO_DEBUG", None)

    def dro(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dro_cli.main", *args], env=self.env, cwd=self.root,
                              capture_output=True, text=True, timeout=60)

    def files(self) -> dict[str, bytes]:
        """Every file of the order, to check that a refusal wrote nothing."""
        return {path.name: path.read_bytes() for path in sorted(self.order.iterdir()) if path.name != "lock"}

    def states(self) -> dict[str, str]:
        shown = self.dro("status", ORDER_ID, "--format", "json")
        assert shown.returncode == 0, shown.stderr
        return {step["id"]: step["state"] for step in json.loads(shown.stdout)["steps"]}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """ORD-T planned and run: `approve` completed by an operator, `check` waiting, the callout not yet sent."""
    service = Service()
    made = Lab(tmp_path, service)
    ran = made.dro("run", str(tmp_path / "order.yaml"), "--catalog", str(made.catalog))
    assert ran.returncode == 0, ran.stderr
    done = made.dro("complete", ORDER_ID, "approve")
    assert done.returncode == 0, done.stderr
    assert made.states() == {"approve": "completed", "check": "in_progress", "call": "pending"}
    yield made
    service.close()


# ---- 1. plan.json is checked against plan_sha256 in plan.created ----------------------------------

def test_a_plan_changed_on_disk_is_refused_by_every_command_and_nothing_is_sent(lab: Lab) -> None:
    plan = lab.order / "plan.json"
    plan.write_text(plan.read_text().replace("/z/", "/EVIL/"))  # sed -i 's#/z/#/EVIL/#' plan.json
    before = lab.files()
    for command in (["complete", ORDER_ID, "check"], ["run", ORDER_ID], ["status", ORDER_ID],
                    ["run", str(lab.root / "order.yaml"), "--catalog", str(lab.catalog)]):
        refused = lab.dro(*command)
        assert refused.returncode == 1, (command, refused.stdout, refused.stderr)
        assert "error[DRO516]" in refused.stderr and "plan.json of order ORD-T" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    assert lab.service.paths == []
    assert lab.files() == before  # nothing written: no record, no cache
    verified = lab.dro("verify", ORDER_ID)
    assert verified.returncode == 1 and "DRO516" in verified.stderr, (verified.stdout, verified.stderr)
    assert "intact" not in verified.stdout


def test_the_plan_as_planned_runs_and_verifies(lab: Lab) -> None:
    assert lab.dro("complete", ORDER_ID, "check").returncode == 0
    assert lab.service.paths == ["/z/work"]
    verified = lab.dro("verify", ORDER_ID)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stderr


# ---- 3. a whole last record that fails its checksum is damage, not a torn write ---------------------

def test_a_bit_flipped_in_the_last_fsynced_record_is_refused_not_cut_off(lab: Lab) -> None:
    journal = lab.order / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    assert b"operator.complete" in b"".join(lines[-3:])  # the operator's act, and what it started
    flipped = bytearray(lines[-1])
    flipped[flipped.index(b'"seq":') - 3] ^= 0x01  # one bit of the payload, the line still whole
    journal.write_bytes(b"".join(lines[:-1]) + bytes(flipped))
    before = lab.files()
    for command in (["run", ORDER_ID], ["complete", ORDER_ID, "check"], ["status", ORDER_ID]):
        refused = lab.dro(*command)
        assert refused.returncode == 1, (command, refused.stdout, refused.stderr)
        assert "error[DRO521]" in refused.stderr and "not a torn write" in refused.stderr, refused.stderr
    assert lab.files() == before  # the record is still there, for whoever restores it
    assert lab.service.paths == []
    verified = lab.dro("verify", ORDER_ID)
    assert verified.returncode == 1 and f"damaged at line {len(lines)}" in verified.stderr, verified.stderr
    assert "torn" not in verified.stdout
