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


# ---- 2. a snapshot and a digest are bound to the chain and to their own content -------------------

def _snapshot_now(lab: Lab) -> Path:
    """A snapshot of the order as it stands, written as a writer past SNAPSHOT_EVERY records writes it."""
    from dro_cli.journal import snapshot
    from dro_cli.journal.file import read_positioned
    from dro_cli.journal.store import read_order, read_plan

    view = read_order(lab.order)
    _, end = read_positioned(lab.order / "journal.jsonl")
    snapshot.save(lab.order, view.engine, end, read_plan(lab.order)[1])
    assert (lab.order / snapshot.SNAPSHOT_FILE).is_file()
    return lab.order / snapshot.SNAPSHOT_FILE


def _check_completed(data: dict[str, Any]) -> None:
    data["steps"]["check"] = {**data["steps"]["check"], "state": "completed", "finished_at": data["steps"]["check"]
                              .get("started_at") or "2026-12-01T10:00:00Z"}


def test_a_forged_snapshot_is_ignored_and_its_manual_step_is_not_skipped(lab: Lab) -> None:
    path = _snapshot_now(lab)
    data = json.loads(path.read_bytes())
    _check_completed(data)  # the manual step marked completed by hand
    path.write_text(json.dumps(data))
    assert lab.states() == {"approve": "completed", "check": "in_progress", "call": "pending"}
    ran = lab.dro("run", ORDER_ID)
    assert ran.returncode == 0, ran.stderr
    assert lab.service.paths == []  # the callout after `check` was not sent
    verified = lab.dro("verify", ORDER_ID)
    assert verified.returncode == 0 and "snapshot.json is damaged, foreign or was changed by hand" in verified.stderr


def test_a_snapshot_forged_with_its_hash_recomputed_is_caught_by_verify(lab: Lab) -> None:
    from dro_cli.journal.snapshot import content_sha256

    path = _snapshot_now(lab)
    assert lab.dro("verify", ORDER_ID).returncode == 0  # a genuine snapshot agrees with the replay
    data = json.loads(path.read_bytes())
    _check_completed(data)
    data["state_sha256"] = content_sha256(data)  # a forger who runs dro's code
    path.write_text(json.dumps(data))
    verified = lab.dro("verify", ORDER_ID)
    assert verified.returncode == 1, verified.stdout
    assert "snapshot.json of order ORD-T claims a state its journal's first" in verified.stderr


def _fallout(lab: Lab) -> list[Any]:
    shown = lab.dro("fallout", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    found: list[Any] = json.loads(shown.stdout)["fallout"]
    return found


def test_a_forged_digest_lists_no_fake_fallout(lab: Lab) -> None:
    from dro_cli.journal.digest import content_sha256, encode

    path = lab.order / "digest.json"
    data = json.loads(path.read_bytes())
    assert _fallout(lab) == [] and data["fallout"] == []
    data["fallout"] = [{"id": "check", "step": "check", "queue": "approvers", "error": "FAKE", "message": "forged",
                        "attempts": 1, "since": "2026-12-01T10:00:00Z"}]
    path.write_text(json.dumps(data))  # the journal's size is unchanged
    assert _fallout(lab) == []
    data["digest_sha256"] = content_sha256(data)  # a forger who runs dro's code: the scan trusts it...
    path.write_bytes(encode(data))
    verified = lab.dro("verify", ORDER_ID)  # ... and verify does not
    assert verified.returncode == 1 and "digest.json of order ORD-T is not what its journal's records say" \
        in verified.stderr, (verified.stdout, verified.stderr)


# ---- 4. the end of the journal is knowable --------------------------------------------------------

def test_a_journal_cut_at_a_record_boundary_is_reported_and_refused(lab: Lab) -> None:
    journal = lab.order / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-2]))  # whole records off the end: the chain still verifies
    before = lab.files()
    verified = lab.dro("verify", ORDER_ID)
    assert verified.returncode == 1, verified.stdout
    assert (f"error[DRO517]: the journal of order ORD-T is shorter than once seen: it ends at record "
            f"{len(lines) - 2}, digest.json saw record {len(lines)}") in verified.stderr
    for command in (["run", ORDER_ID], ["complete", ORDER_ID, "check"], ["status", ORDER_ID]):
        refused = lab.dro(*command)
        assert refused.returncode == 1 and "error[DRO517]" in refused.stderr, (command, refused.stderr)
    fallout = lab.dro("fallout")  # a scan leaves it out and names it
    assert fallout.returncode == 1 and "DRO517" not in fallout.stdout and "shorter than once seen" in fallout.stderr
    assert lab.files() == before and lab.service.paths == []


def test_an_emptied_journal_is_reported_and_not_planned_again(lab: Lab) -> None:
    (lab.order / "journal.jsonl").write_bytes(b"")
    before = lab.files()
    verified = lab.dro("verify", ORDER_ID)
    assert verified.returncode == 1 and "error[DRO517]" in verified.stderr and "it holds no record" in verified.stderr
    rerun = lab.dro("run", str(lab.root / "order.yaml"), "--catalog", str(lab.catalog))
    assert rerun.returncode == 1 and "error[DRO517]" in rerun.stderr, rerun.stderr
    assert lab.files() == before


def test_an_empty_journal_without_a_mark_is_damage_for_verify(lab: Lab) -> None:
    for cache in ("digest.json", "snapshot.json"):
        (lab.order / cache).unlink(missing_ok=True)
    (lab.order / "journal.jsonl").write_bytes(b"")  # or a planning killed before plan.created
    verified = lab.dro("verify", ORDER_ID)
    assert verified.returncode == 1 and "holds no record, though the order has a plan" in verified.stderr
    assert "intact" not in verified.stdout


def test_a_deleted_journal_is_refused_and_never_made_again(lab: Lab) -> None:
    (lab.order / "journal.jsonl").unlink()
    before = lab.files()
    for command in (["run", ORDER_ID], ["complete", ORDER_ID, "check"], ["status", ORDER_ID], ["verify", ORDER_ID],
                    ["log", ORDER_ID], ["run", str(lab.root / "order.yaml"), "--catalog", str(lab.catalog)]):
        refused = lab.dro(*command)
        assert refused.returncode == 1, (command, refused.stdout, refused.stderr)
        assert "error[DRO520]: order ORD-T has a plan but no journal" in refused.stderr, (command, refused.stderr)
        assert not (lab.order / "journal.jsonl").exists(), command
    assert lab.files() == before and lab.service.paths == []
