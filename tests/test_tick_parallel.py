"""`dro tick --parallel N` continues up to N due orders at once, against a real slow HTTP server on
127.0.0.1 that records how many of its requests overlap; the report lists the orders in id order
whichever finished first, and every order's journal has its own records."""

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

NOW = "2026-12-01T10:00:00Z"
LATER = "2026-12-01T10:05:00Z"  # past every order's retry (interval 1m)
ORDERS = [f"ORD-{n}" for n in range(1, 5)]
WAIT_FOR_COMPANY = 1.0  # seconds a slow answer waits for a second request to arrive, so overlap is not luck


class SlowServer(ThreadingHTTPServer):
    """Answers 503 while `failing`; else holds each request until another one is in flight too (or
    WAIT_FOR_COMPANY passes), then answers 200. Records the most requests it had in flight at once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.failing = True
        self.paths: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.changed = threading.Condition()
        self.stopping = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, path: str) -> int:
        with self.changed:
            self.paths.append(path)
            if self.failing:
                return 503
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.in_flight > 1 or self.stopping, timeout=WAIT_FOR_COMPANY)
        return 200

    def done(self) -> None:
        with self.changed:
            self.in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SlowServer

    def _handle(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.answer(self.path)
        data = json.dumps({"status": status}).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            if status == 200:
                self.server.done()

    do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[SlowServer]:
    running = SlowServer()
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield running
    finally:
        with running.changed:
            running.stopping = True
            running.changed.notify_all()
        running.shutdown()
        running.server_close()
        thread.join()


def dro(env: dict[str, str], now: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "dro_cli.main", *args], env={**env, "DRO_NOW": now},
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture
def env(tmp_path: Path, server: SlowServer) -> dict[str, str]:
    """Four orders whose callout failed at NOW (503) and is due again at LATER; the server then answers slowly."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("DRO_")}
    env = {**base, "NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "API_URL": server.url}
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "c.dro").write_text(
        'lane ops "Ops"\nendpoint api "API" { url env("API_URL") }\n'
        'group g {\n  step call "Call" { type callout lane ops endpoint api method POST path "/call" '
        'retry { policy: monotonous, retries: 1, interval: 1m } }\n}\n'
        'scenario s { when item.product == "P" add g }\n', encoding="utf-8")
    for order_id in ORDERS:
        order = tmp_path / f"{order_id}.yaml"
        order.write_text(f"order:\n  id: {order_id}\n  account: A\n  items:\n    - {{id: I1, product: P}}\n")
        started = dro(env, NOW, "run", str(order), "--catalog", str(catalog))
        assert started.returncode == 0, started.stdout + started.stderr
    assert len(server.paths) == len(ORDERS)
    server.failing = False
    return env


def tick(env: dict[str, str], parallel: int) -> dict[str, Any]:
    done = dro(env, LATER, "tick", "--parallel", str(parallel), "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def journaled_types(env: dict[str, str], order_id: str) -> list[str]:
    journal = Path(env["DRO_STATE_DIR"]) / "orders" / order_id / "journal.jsonl"
    return [json.loads(line)["type"] for line in journal.read_text().splitlines()]


def test_parallel_orders_overlap_and_are_reported_in_id_order(env: dict[str, str], server: SlowServer) -> None:
    document = tick(env, 4)
    assert server.most_in_flight >= 2
    assert len(server.paths) == 2 * len(ORDERS)
    assert [entry["status"]["order"] for entry in document["orders"]] == ORDERS
    assert {entry["status"]["state"] for entry in document["orders"]} == {"completed"}
    for order_id in ORDERS:  # each order's journal holds its own run, whole
        types = journaled_types(env, order_id)
        assert types[-1] == "plan.completed" and types.count("step.completed") == 1, (order_id, types)


def test_parallel_1_continues_one_order_at_a_time(env: dict[str, str], server: SlowServer) -> None:
    document = tick(env, 1)
    assert server.most_in_flight == 1
    assert [entry["status"]["order"] for entry in document["orders"]] == ORDERS
    assert {entry["status"]["state"] for entry in document["orders"]} == {"completed"}
