"""Secrets in every output: a callout against a real server that echoes the credentials it gets, then the
journal, `dro log`, `dro status`, `dro fallout`, `dro view` and `dro test` read. A credential long enough is
masked everywhere, and nothing else is touched; one too short is refused and masks nothing."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dro_cli.main import cli

ORDER = "ORD-S1"
NOW = "2026-12-01T10:00:00Z"
CARRIER = "https://api.parcel-carrier.example.com"  # text full of 'e's that a secret 'e' would garble
CATALOG = """\
lane ops "Operations"

endpoint carrier "Parcel carrier" {
  url  env("ECHO_URL", "http://127.0.0.1:9")
  auth { basic: { username: env("ECHO_USER", "dro"), password: env("ECHO_PASSWORD") } }
}

endpoint warehouse "Warehouse" { url env("ECHO_URL", "http://127.0.0.1:9") }

group g {
  step ship "Ship" { type callout lane ops endpoint carrier method POST path "/shipments" }
  step pick "Pick" { type callout lane ops endpoint warehouse method POST path "/picks" }
}

scenario s { when item.product == "P" add g }
"""
SCENARIO_TEST = f"""\
start: {NOW}
cases:
  - name: the warehouse answers 503
    order: {{id: ORD-T, account: A, items: [{{id: I1, product: P}}]}}
    answers:
      pick: {{status: 503, body: "the carrier at {CARRIER} is down"}}
      ship: {{status: 201}}
    run:
      - expect: {{states: {{pick: completed}}}}
"""


class EchoServer(ThreadingHTTPServer):
    """Answers 503 to everything, echoing the credentials it was sent beside the carrier's URL."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EchoServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests += 1
        auth = self.headers.get("Authorization") or "-"
        user, _, password = base64.b64decode(auth.split()[-1]).decode().partition(":") if " " in auth else ("", "", "")
        body = json.dumps({"error": f"{CARRIER} rejected {auth}", "user": user, "password": password,
                           "url": f"{CARRIER}/v1?user={user}&password={password}"}).encode()
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[EchoServer]:
    running = EchoServer()
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield running
    finally:
        running.shutdown()
        running.server_close()
        thread.join()


def outputs(tmp_path: Path, server: EchoServer, user: str, password: str) -> dict[str, str]:
    """Run the order, then everything each output path shows of it."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "c.dro").write_text(CATALOG, encoding="utf-8")
    (catalog / "c.test.yaml").write_text(SCENARIO_TEST, encoding="utf-8")
    order = tmp_path / "order.yaml"
    order.write_text(f"order:\n  id: {ORDER}\n  account: A\n  items:\n    - {{id: I1, product: P}}\n")
    state = tmp_path / "state"
    runner = CliRunner(env={"NO_COLOR": "1", "DRO_NOW": NOW, "DRO_STATE_DIR": str(state), "ECHO_URL": server.url,
                            "ECHO_USER": user, "ECHO_PASSWORD": password})

    def dro(*args: str) -> str:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert "internal error" not in result.stderr, result.stderr
        return f"{result.stdout}{result.stderr}"

    shown = {"run": dro("run", str(order), "--catalog", str(catalog))}
    shown["journal"] = (state / "orders" / ORDER / "journal.jsonl").read_text(encoding="utf-8")
    for name, args in {"log": ["log", ORDER], "log json": ["log", ORDER, "--format", "json"],
                       "status": ["status", ORDER], "status json": ["status", ORDER, "--format", "json"],
                       "fallout": ["fallout"], "fallout json": ["fallout", "--format", "json"],
                       "scenario test": ["test", str(catalog)]}.items():
        shown[name] = dro(*args)
    dro("view", ORDER, "-o", str(tmp_path / "plan.html"))
    shown["view html"] = (tmp_path / "plan.html").read_text(encoding="utf-8")
    return shown


def test_a_credential_long_enough_is_masked_in_every_output_and_nothing_else_is(tmp_path: Path,
                                                                               server: EchoServer) -> None:
    user, password = "service-account", "pa55-w0rd-long"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    shown = outputs(tmp_path, server, user, password)
    assert server.requests == 2
    assert [name for name, text in shown.items() if password in text or token in text or user in text] == []
    # The text around them is intact (the run's summary and the scenario test never show the carrier).
    assert [name for name, text in shown.items() if CARRIER not in text] == ["run"]
    masked = ["journal", "log", "log json", "status", "status json", "fallout", "fallout json", "view html"]
    assert [name for name, text in shown.items() if "rejected Basic ***" in text] == masked
    assert [name for name, text in shown.items() if "?user=***&password=***" in text] == \
        ["journal", "log", "log json", "status json", "fallout json", "view html"]  # (text tables cut long messages)


def test_a_credential_too_short_to_mask_is_refused_and_garbles_nothing(tmp_path: Path, server: EchoServer) -> None:
    shown = outputs(tmp_path, server, "dro", "e")
    assert [name for name, text in shown.items() if "***" in text] == []
    assert server.requests == 1  # the warehouse only: the carrier callout was never sent
    assert [name for name, text in shown.items() if CARRIER not in text] == ["run"]
    refused = [name for name, text in shown.items() if "insecure_secret" in text]
    assert refused == ["run", "journal", "log", "log json", "status", "status json", "fallout", "fallout json",
                       "view html"]
    assert "environment variable ECHO_PASSWORD (endpoint carrier, auth) holds a credential of 1 character" in \
        shown["fallout"]
