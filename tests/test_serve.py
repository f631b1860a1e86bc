"""`dro serve`: the read-only dashboard over real HTTP on 127.0.0.1: rows, plan pages that know when their
journal grew, nothing but GET, no way out of the state directory."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_fallout_queues import Lab, into_fallout

from dro_cli.output.serve import make_server


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    lab = Lab(tmp_path)
    into_fallout(lab, "ORD-1")
    lab.now = "2026-12-01T10:00:00Z"
    lab.start("ORD-2")
    lab.now = "2026-12-01T13:30:00Z"  # ORD-2's check is in jeopardy from 13:00
    return lab


@pytest.fixture
def server(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("DRO_NOW", lab.now)
    running = make_server(lab.state, "127.0.0.1", 0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running.server_address[1]
    running.shutdown()
    running.server_close()


def get(port: int, path: str, method: str = "GET") -> tuple[int, str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode()
    finally:
        connection.close()


def api(port: int, path: str) -> Any:
    status, kind, body = get(port, path)
    assert (status, kind) == (200, "application/json; charset=utf-8"), body
    return json.loads(body)


def test_the_dashboard_lists_every_order_with_its_counts(server: int) -> None:
    status, kind, page = get(server, "/")
    assert (status, kind) == (200, "text/html; charset=utf-8")
    assert '<table id="orders">' in page and "http" not in page.replace("/api/orders", "")
    assert api(server, "/api/orders")["orders"] == [
        {"order": "ORD-1", "state": "in_progress", "revision": 1, "finished": 1, "canceled": 0, "total": 3,
         "fallout": 1, "jeopardy": 0},
        {"order": "ORD-2", "state": "in_progress", "revision": 1, "finished": 0, "canceled": 0, "total": 3,
         "fallout": 0, "jeopardy": 1},
    ]


def test_a_plan_page_reloads_itself_when_its_journal_grows(lab: Lab, server: int) -> None:
    status, _, page = get(server, "/orders/ORD-2")
    assert status == 200 and '<h1 id="order">ORD-2</h1>' in page
    version = api(server, "/api/orders/ORD-2/version")["version"]
    assert f"var version = {version};" in page and 'fetch("/api/orders/ORD-2/version"' in page
    lab.stock(down=False)
    assert lab.dro("complete", "ORD-2", "check").exit_code == 0
    assert api(server, "/api/orders/ORD-2/version")["version"] > version
    assert api(server, "/api/orders")["orders"][1]["state"] == "completed"


@pytest.mark.parametrize("path", ["/orders/ORD-9", "/orders/..%2F..%2Fetc", "/api/orders/..%2Forders/version",
                                  "/nothing", "/orders/ORD-1/extra"])
def test_unknown_paths_and_orders_are_not_found(server: int, path: str) -> None:
    assert get(server, path)[0] == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "TRACE"])
def test_it_is_read_only(server: int, method: str) -> None:
    status, headers, _ = exchange(server, "/api/orders", method)
    assert (status, headers["Allow"]) == (405, "GET, HEAD, OPTIONS")


@pytest.mark.parametrize("path", ["/", "/api/orders", "/orders/ORD-1", "/api/orders/ORD-1/version", "/nothing"])
def test_head_answers_what_get_would_without_the_body(server: int, path: str) -> None:
    status, headers, body = exchange(server, path, "HEAD")
    got_status, got_headers, got_body = exchange(server, path, "GET")
    assert (status, body) == (got_status, b"")
    assert headers["Content-Type"] == got_headers["Content-Type"]
    assert headers["Content-Length"] == got_headers["Content-Length"] == str(len(got_body))


def test_options_says_which_methods_it_answers(server: int) -> None:
    status, headers, body = exchange(server, "/api/orders", "OPTIONS")
    assert (status, headers["Allow"], body) == (204, "GET, HEAD, OPTIONS", b"")


def exchange(port: int, path: str, method: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_dro_serve_binds_loopback_and_says_where(lab: Lab) -> None:
    env = {**os.environ, "DRO_STATE_DIR": str(lab.state), "DRO_NOW": lab.now}
    process = subprocess.Popen([sys.executable, "-m", "dro_cli.main", "serve", "--port", "0"], env=env,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(f"serving the orders of {lab.state} at http://127.0.0.1:")
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        assert [o["order"] for o in api(port, "/api/orders")["orders"]] == ["ORD-1", "ORD-2"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def ask(port: int, path: str, host: str | None, method: str = "GET", address: str = "127.0.0.1") -> tuple[int, bytes]:
    """A request with exactly this Host header (None: none at all)."""
    connection = http.client.HTTPConnection(address, port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/", "/api/orders", "/orders/ORD-1", "/api/orders/ORD-1/version"])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8008", "localhost.evil.example", "127.0.0.1.nip.io"])
def test_a_request_for_another_host_is_misdirected(server: int, path: str, host: str) -> None:
    """DNS rebinding: evil.example re-pointed at 127.0.0.1 must not read the orders through a browser."""
    status, body = ask(server, path, host)
    assert status == 421
    assert b"ORD-1" not in body and b"--allow-host" in body


@pytest.mark.parametrize("host", [None, "", "a b", "[not-v6]", "[::1", "host:99999", "host:port", "a/b"])
def test_a_request_without_a_valid_host_is_bad(server: int, host: str | None) -> None:
    status, body = ask(server, "/api/orders", host)
    assert status == 400 and b"ORD-1" not in body and b"Host" in body


def test_head_of_a_misdirected_request_has_no_body(server: int) -> None:
    assert ask(server, "/api/orders", "evil.example", method="HEAD") == (421, b"")


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost.", "localhost:{port}", "127.0.0.1",
                                  "127.0.0.1:{port}", "[::1]:{port}", "10.0.0.7"])
def test_its_own_names_and_addresses_are_answered(server: int, host: str) -> None:
    status, body = ask(server, "/api/orders", host.format(port=server))
    assert status == 200 and b"ORD-1" in body


def test_allow_host_adds_a_name(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRO_NOW", lab.now)
    running = make_server(lab.state, "127.0.0.1", 0, allowed_hosts=("Dashboard.Internal",))
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        port = running.server_address[1]
        assert ask(port, "/api/orders", "dashboard.internal:443")[0] == 200
        assert ask(port, "/api/orders", "other.internal")[0] == 421
    finally:
        running.shutdown()
        running.server_close()


def _ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_dro_serve_binds_ipv6_loopback(lab: Lab) -> None:
    env = {**os.environ, "DRO_STATE_DIR": str(lab.state), "DRO_NOW": lab.now}
    process = subprocess.Popen([sys.executable, "-m", "dro_cli.main", "serve", "--host", "::1", "--port", "0"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("serving the orders of") and "http://[::1]:" in line, line
        port = int(line.split("http://[::1]:")[1].split("/")[0])
        assert ask(port, "/api/orders", f"[::1]:{port}", address="::1")[0] == 200
        assert ask(port, "/api/orders", "evil.example", address="::1")[0] == 421
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
