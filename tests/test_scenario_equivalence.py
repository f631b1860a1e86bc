"""A scenario test's simulated run ends where a real run ends: the same plan run by `dro run`,
`dro complete` and `dro tick` processes against a real HTTP server on 127.0.0.1 (on DRO_NOW's
clock), and by `dro test` with the same answers scripted, leave every step in the same state,
with the same attempts, error codes and outputs."""

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
from test_scenario_tests import CATALOG, ORDER

from dro_cli.scenario_tests.simulation import Simulation

T0, T1 = "2026-12-01T09:00:00Z", "2026-12-01T09:00:10Z"
# What the warehouse answers, per item, attempt by attempt.
REPLIES = {"/reservations/K1": [(503, {}), (201, {"id": "R-1"})], "/reservations/K2": [(410, {"gone": True})]}
FLOWS = "def ship(ctx):\n    return {'parcel': 'P-' + ctx['inputs']['reservation']}\n"


class Warehouse(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls: dict[str, int] = {}


class _Handler(BaseHTTPRequestHandler):
    server: Warehouse
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        replies = REPLIES[self.path]
        count = self.server.calls.get(self.path, 0)
        self.server.calls[self.path] = count + 1
        status, body = replies[min(count, len(replies) - 1)]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def warehouse() -> Iterator[Warehouse]:
    server = Warehouse()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def real_run(tmp_path: Path, warehouse: Warehouse) -> dict[str, tuple[Any, ...]]:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "kit.dro").write_text(CATALOG, encoding="utf-8")
    (catalog / "flows.py").write_text(FLOWS, encoding="utf-8")
    (tmp_path / "order.yaml").write_text(ORDER, encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"),
           "WMS_URL": f"http://127.0.0.1:{warehouse.server_address[1]}"}

    def dro(now: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dro_cli.main", *args], env={**env, "DRO_NOW": now},
                              capture_output=True, text=True, timeout=60)

    dro(T0, "run", str(tmp_path / "order.yaml"), "--catalog", str(catalog))
    dro(T0, "complete", "ORD-1", "check")
    dro(T1, "tick")
    status = json.loads(dro(T1, "status", "ORD-1", "--format", "json").stdout)
    return {s["id"]: (s["state"], s["attempts"], (s["error"] or {}).get("code"), s["outputs"]) for s in status["steps"]}


def simulated_run(tmp_path: Path) -> dict[str, tuple[Any, ...]]:
    from dro_cli.engine.instants import parse_instant
    from dro_cli.planning.api import plan_order
    from dro_cli.planning.orders import load_order
    from dsl import compile_catalog

    answers: dict[str, Any] = {f"reserve[{path.rsplit('/', 1)[1]}]": [{"status": status, "body": body}
                                                                      for status, body in replies]
                               for path, replies in REPLIES.items()}
    answers["ship"] = [{"outputs": {"parcel": "P-R-1"}}]
    templates = compile_catalog([tmp_path / "catalog"]).templates
    plan = plan_order(load_order(tmp_path / "order.yaml"), templates).plan
    assert plan is not None
    sim = Simulation(plan, answers, parse_instant(T0))
    sim.act("complete", "check", {})
    sim.advance_to(parse_instant(T1))
    return {sid: (str(run.state), run.attempts, (run.error or {}).get("code"), run.outputs)
            for sid, run in sim.engine.runs.items()}


def test_a_simulated_run_ends_where_the_real_run_ends(tmp_path: Path, warehouse: Warehouse) -> None:
    real = real_run(tmp_path, warehouse)
    assert warehouse.calls == {"/reservations/K1": 2, "/reservations/K2": 1}  # the real run did talk to it
    assert real["reserve[K1]"][:2] == ("completed", 2) and real["reserve[K2]"][:3] == ("fatally_failed", 1, "http_410")
    assert simulated_run(tmp_path) == real
