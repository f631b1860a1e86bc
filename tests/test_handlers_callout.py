"""Callout steps against real HTTP servers on 127.0.0.1: statuses, captures, headers, auth, secrets, reconnects."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import ssl
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dro_cli.runtime.handlers import Invocation, Outcome, close_connections, run_step
from dro_cli.runtime.handlers.callout import dig

TOKEN = "s3cr3t-t0ken-value"


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: Message
    body: bytes
    peer: tuple[str, int]


Reply = tuple[int, Any] | tuple[int, Any, dict[str, str]] | None  # None: hang up without answering


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[Seen] = []
        self.respond: Callable[[Seen], Reply] = lambda seen: (200, {"ok": True})
        self.close_after_reply = False  # close kept-alive connections without saying so
        self.closed = 0  # connections the server has closed
        self._changed = threading.Condition()

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self._changed:
            self.closed += 1
            self._changed.notify_all()

    def wait_closed(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.closed >= count, timeout=5)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, self.headers, body, self.client_address)
        self.server.seen.append(seen)
        reply = self.server.respond(seen)
        if reply is None:
            self.close_connection = True
            return
        status, payload = reply[0], reply[1]
        headers = reply[2] if len(reply) == 3 else {}
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:  # the client gave up (timeout tests)
            self.close_connection = True
        if self.server.close_after_reply:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(server: Server) -> Iterator[Server]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        close_connections()  # our kept-alive connections end, so the server's handler threads do
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def server() -> Iterator[Server]:
    yield from _serve(Server())


def endpoint(base: str | None = None, env: str | None = "WMS_URL", **extra: Any) -> dict[str, Any]:
    return {"title": "Warehouse", "url": {"env": env, "default": base}, "timeout": None, "headers": {},
            "auth": None, **extra}


def callout(config: dict[str, Any], endpoints: dict[str, Any], *, environ: dict[str, str] | None = None,
            attempt: int = 1, item: dict[str, Any] | None = None, outputs: dict[str, Any] | None = None) -> Outcome:
    step = {"id": "reserve[L1/HW]", "step": "reserve", "title": "Reserve", "type": "callout", "lane": "inventory",
            "scope": "line_item", "run_as": None, "config": {"endpoint": "wms", **config}}
    context = {
        "order": {"id": "ORD-1", "account": "ACME", "attributes": {"country": "DE"}, "items": []},
        "item": item or {"id": "L1/HW", "product": "LAPTOP-HW", "quantity": 2, "attributes": {"color": "silver"}},
        "bundle": {"id": "L1"},
        "plan": {"id": "ORD-1"},
        "step": {"id": "reserve[L1/HW]", "attempt": attempt},
        "outputs": outputs or {"check": {"slot": "A-7"}},
    }
    invocation = Invocation(step, attempt, f"ORD-1/reserve[L1/HW]/{attempt}", context, endpoints, None,
                            environ or {})
    return run_step(invocation)


def test_success_posts_the_rendered_body_and_captures_from_the_response(server: Server) -> None:
    server.respond = lambda seen: (201, {"id": "R-9", "lines": [{"sku": "X"}, {"sku": "Y"}], "slot": {"n": 4}})
    outcome = callout({"method": "POST", "path": "/reservations/{{ outputs.check.slot }}",
                       "body": {"sku": "{{ item.product }}", "quantity": "{{ item.quantity }}", "gift": False},
                       "expect": [200, 201], "capture": {"reservation": "id", "second": "lines.1.sku", "n": "slot.n"}},
                      {"wms": endpoint(server.base)})
    assert outcome == Outcome({"reservation": "R-9", "second": "Y", "n": 4})
    (seen,) = server.seen
    assert (seen.method, seen.path) == ("POST", "/reservations/A-7")
    assert json.loads(seen.body) == {"sku": "LAPTOP-HW", "quantity": "2", "gift": False}
    assert seen.headers["Content-Type"] == "application/json"


def test_the_url_comes_from_the_environment_before_the_default(server: Server) -> None:
    outcome = callout({"path": "/ping"}, {"wms": endpoint("http://127.0.0.1:9")}, environ={"WMS_URL": server.base})
    assert outcome.ok
    assert [s.path for s in server.seen] == ["/ping"]


def test_a_base_url_with_a_path_prefixes_the_step_path_and_spaces_are_quoted(server: Server) -> None:
    outcome = callout({"path": "/find?q={{ item.attributes.color }} grey&n=1"}, {"wms": endpoint(server.base + "/v2/")})
    assert outcome.ok
    assert server.seen[0].path == "/v2/find?q=silver%20grey&n=1"


def test_headers_auth_and_the_idempotency_key_reach_the_server(server: Server) -> None:
    wms = endpoint(server.base, headers={"Accept": "application/json", "X-Tenant": "acme"},
                   auth={"bearer": {"env": "WMS_TOKEN"}})
    outcome = callout({"headers": {"x-tenant": "{{ order.account }}-eu", "X-Attempt": "{{ step.attempt }}"}},
                      {"wms": wms}, environ={"WMS_TOKEN": TOKEN}, attempt=3)
    assert outcome.ok
    headers = server.seen[0].headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Idempotency-Key"] == "ORD-1/reserve[L1/HW]/3"
    assert headers.get_all("X-Tenant") == ["ACME-eu"]  # the step's header replaces the endpoint's
    assert headers["Accept"] == "application/json"
    assert headers["X-Attempt"] == "3"
    assert headers["Content-Type"] is None  # no body, no content type
    assert headers["User-Agent"].startswith("dro/")


def test_basic_auth_and_header_auth(server: Server) -> None:
    basic = endpoint(server.base, auth={"basic": {"username": "dro", "password": {"env": "WMS_PASSWORD"}}})
    assert callout({}, {"wms": basic}, environ={"WMS_PASSWORD": "pa:ss-w0rd"}).ok
    expected = "Basic " + base64.b64encode(b"dro:pa:ss-w0rd").decode()
    assert server.seen[-1].headers["Authorization"] == expected
    keyed = endpoint(server.base, auth={"header": {"name": "X-Api-Key", "value": {"env": "KEY"}}})
    assert callout({}, {"wms": keyed}, environ={"KEY": "k-1234567"}).ok
    assert server.seen[-1].headers["X-Api-Key"] == "k-1234567"


def test_a_credential_too_short_to_mask_fails_before_any_request(server: Server) -> None:
    wms = endpoint(server.base, auth={"basic": {"username": "dro", "password": {"env": "WMS_PASSWORD"}}})
    outcome = callout({}, {"wms": wms}, environ={"WMS_PASSWORD": "e"})
    assert (outcome.error, outcome.retryable) == ("insecure_secret", False)
    assert outcome.message.startswith("environment variable WMS_PASSWORD (endpoint wms, auth) holds a credential "
                                      "of 1 character; dro sends only credentials of 8 or more")
    assert server.seen == []


def test_a_missing_credential_fails_before_any_request(server: Server) -> None:
    wms = endpoint(server.base, auth={"bearer": {"env": "WMS_TOKEN"}})
    outcome = callout({}, {"wms": wms})
    assert (outcome.error, outcome.retryable) == ("missing_env", False)
    assert outcome.message == "environment variable WMS_TOKEN is not set (endpoint wms, auth)"
    assert server.seen == []


def test_a_missing_url_names_the_variable() -> None:
    outcome = callout({}, {"wms": endpoint(None)})
    assert (outcome.error, outcome.retryable) == ("missing_env", False)
    assert outcome.message == "environment variable WMS_URL is not set (endpoint wms, url)"


def test_the_secret_never_reaches_the_message(server: Server) -> None:
    def echo(seen: Seen) -> Reply:
        return 500, f"upstream rejected {seen.headers['Authorization']} (basic {TOKEN!r})".encode()

    server.respond = echo
    outcome = callout({}, {"wms": endpoint(server.base, auth={"bearer": {"env": "WMS_TOKEN"}})},
                      environ={"WMS_TOKEN": TOKEN})
    assert (outcome.error, outcome.retryable) == ("http_500", True)
    assert TOKEN not in outcome.message and TOKEN[:8] not in outcome.message
    assert "Bearer ***" in outcome.message


def test_captured_secrets_are_redacted_in_outputs(server: Server) -> None:
    server.respond = lambda seen: (200, {"echo": {"auth": seen.headers["Authorization"], "list": [TOKEN]}})
    outcome = callout({"capture": {"auth": "echo.auth", "list": "echo.list"}},
                      {"wms": endpoint(server.base, auth={"bearer": {"env": "WMS_TOKEN"}})},
                      environ={"WMS_TOKEN": TOKEN})
    assert outcome == Outcome({"auth": "Bearer ***", "list": ["***"]})


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (500, True), (404, False), (400, False),
                                                    (422, False), (408, True), (429, True), (302, True)])
def test_status_codes_and_their_retryability(server: Server, status: int, retryable: bool) -> None:
    server.respond = lambda seen: (status, {"error": "nope", "detail": "x" * 1000})
    outcome = callout({"method": "PUT", "path": "/things/1", "body": {}}, {"wms": endpoint(server.base)})
    assert (outcome.error, outcome.retryable) == (f"http_{status}", retryable)
    assert outcome.message.startswith(f"PUT {server.base}/things/1: HTTP {status} ")
    assert '"error": "nope"' in outcome.message
    assert len(outcome.message) < 500  # the start of the body only


def test_a_status_outside_expect_fails_even_when_2xx(server: Server) -> None:
    server.respond = lambda seen: (200, {"id": "R-1"})
    outcome = callout({"method": "POST", "body": {}, "expect": [201], "capture": {"id": "id"}},
                      {"wms": endpoint(server.base)})
    assert (outcome.error, outcome.retryable, outcome.outputs) == ("http_200", True, {})


def test_expect_may_accept_a_4xx(server: Server) -> None:
    server.respond = lambda seen: (404, b"")
    assert callout({"method": "DELETE", "expect": [204, 404]}, {"wms": endpoint(server.base)}).ok


def test_a_missing_capture_path_is_named(server: Server) -> None:
    server.respond = lambda seen: (200, {"port": {"id": 7}})
    outcome = callout({"capture": {"vlan": "port.vlan"}}, {"wms": endpoint(server.base)})
    assert (outcome.error, outcome.retryable) == ("capture_missing", False)
    assert "'port.vlan'" in outcome.message and "capture vlan" in outcome.message


def test_capturing_from_a_body_that_is_not_json(server: Server) -> None:
    server.respond = lambda seen: (200, b"<html>ok</html>")
    outcome = callout({"capture": {"id": "id"}}, {"wms": endpoint(server.base)})
    assert (outcome.error, outcome.retryable) == ("capture_missing", False)


def test_head_requests(server: Server) -> None:
    server.respond = lambda seen: (204, b"")
    assert callout({"method": "HEAD", "path": "/x", "expect": [204]}, {"wms": endpoint(server.base)}).ok


def test_connection_refused_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = callout({}, {"wms": endpoint(f"http://127.0.0.1:{port}")})
    assert (outcome.error, outcome.retryable) == ("connection", True)
    assert "connection refused" in outcome.message


def test_an_unknown_host_is_a_connection_failure() -> None:
    outcome = callout({}, {"wms": endpoint("http://no-such-host.invalid")})
    assert (outcome.error, outcome.retryable) == ("connection", True)


def test_a_slow_server_times_out(server: Server) -> None:
    def slow(seen: Seen) -> Reply:
        time.sleep(1.0)
        return 200, {}

    server.respond = slow
    started = time.monotonic()
    outcome = callout({"timeout": 0.15}, {"wms": endpoint(server.base, timeout=10)})
    assert (outcome.error, outcome.retryable) == ("timeout", True)
    assert time.monotonic() - started < 0.9


def test_the_endpoint_timeout_applies_when_the_step_has_none(server: Server) -> None:
    def slow(seen: Seen) -> Reply:
        time.sleep(0.6)
        return 200, {}

    server.respond = slow
    assert callout({}, {"wms": endpoint(server.base, timeout=0.15)}).error == "timeout"


class _Trickle(BaseHTTPRequestHandler):
    """Answers 200 with a 12-byte body, sending one byte every 0.5 s: of the status line and headers, of the
    body, or of a chunked body."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        mode = self.path.strip("/")
        body = b'{"ok": true}'
        if mode == "chunked":
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            rest = b"".join(b"1\r\n" + bytes([byte]) + b"\r\n" for byte in body) + b"0\r\n\r\n"
        else:
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n\r\n")
            rest = body
        if mode == "headers":
            chunks = [bytes([byte]) for byte in head] + [rest]
        else:
            self.wfile.write(head)
            step = 6 if mode == "chunked" else 1  # a chunk of one byte is 6 bytes on the wire
            chunks = [rest[i:i + step] for i in range(0, len(rest), step)]
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:  # the client gave up
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize("mode", ["headers", "body", "chunked"])
def test_the_timeout_is_a_deadline_for_the_whole_exchange(mode: str) -> None:
    """A real server that trickles its answer, each byte well within the timeout: the callout fails at the
    timeout, it does not wait for the last byte."""
    trickle = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    trickle.daemon_threads = True
    thread = threading.Thread(target=trickle.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        base = f"http://127.0.0.1:{trickle.server_address[1]}"
        started = time.monotonic()
        outcome = callout({"path": f"/{mode}", "timeout": 1.0}, {"wms": endpoint(base)})
        took = time.monotonic() - started
    finally:
        close_connections()
        trickle.shutdown()
        trickle.server_close()
        thread.join()
    assert (outcome.error, outcome.retryable) == ("timeout", True), outcome
    assert "within 1 s" in outcome.message
    assert 0.9 < took < 1.5, took


def test_template_errors_name_the_attribute(server: Server) -> None:
    outcome = callout({"method": "POST", "body": {"lines": [{"sku": "{{ item.nope }}"}]}},
                      {"wms": endpoint(server.base)})
    assert (outcome.error, outcome.retryable) == ("template_error", False)
    assert "body.lines[0].sku" in outcome.message and "nope" in outcome.message
    assert server.seen == []


def test_a_header_with_a_line_break_is_refused_before_sending(server: Server) -> None:
    outcome = callout({"headers": {"X-Note": "a\r\nX-Evil: 1"}}, {"wms": endpoint(server.base)})
    assert (outcome.error, outcome.retryable) == ("invalid_request", False)
    assert server.seen == []


def test_an_unknown_endpoint_or_a_bad_url_is_bad_config() -> None:
    assert callout({}, {}).error == "bad_config"
    outcome = callout({}, {"wms": endpoint("ftp://example.org")})
    assert (outcome.error, outcome.retryable) == ("bad_config", False)


def test_connections_are_kept_alive_and_reused(server: Server) -> None:
    for _ in range(5):
        assert callout({"path": "/a"}, {"wms": endpoint(server.base)}).ok
    assert len({seen.peer for seen in server.seen}) == 1


def test_a_kept_alive_connection_the_server_closed_is_replaced_before_sending(server: Server) -> None:
    server.close_after_reply = True  # without "Connection: close": the client learns it from the socket
    for n in range(1, 4):
        assert callout({"method": "POST", "body": {"n": 1}}, {"wms": endpoint(server.base)}).ok
        server.wait_closed(n)  # the server closed the idle connection, as after its keep-alive timeout
    assert len(server.seen) == 3  # each POST sent once
    assert len({seen.peer for seen in server.seen}) == 3


def test_the_servers_keep_alive_timeout_is_honoured(server: Server) -> None:
    server.respond = lambda seen: (200, {}, {"Keep-Alive": "timeout=1, max=100"})
    for _ in range(3):
        assert callout({}, {"wms": endpoint(server.base)}).ok
    assert len({seen.peer for seen in server.seen}) == 3  # too short to keep: 1 s minus a second of margin


def test_idle_connections_expire(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    from dro_cli.runtime.handlers import connections

    monkeypatch.setattr(connections, "MAX_IDLE_SECONDS", 0.05)
    assert callout({}, {"wms": endpoint(server.base)}).ok
    assert callout({}, {"wms": endpoint(server.base)}).ok
    time.sleep(0.1)
    assert callout({}, {"wms": endpoint(server.base)}).ok
    assert len({seen.peer for seen in server.seen}) == 2


def _hang_up_on_the_second_request(server: Server) -> None:
    calls = {"n": 0}

    def respond(seen: Seen) -> Reply:
        calls["n"] += 1
        return None if calls["n"] == 2 else (200, {"n": calls["n"]})

    server.respond = respond


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH"])
def test_a_request_is_resent_once_with_its_key_when_the_server_hangs_up_on_a_reused_connection(
        server: Server, method: str) -> None:
    _hang_up_on_the_second_request(server)
    assert callout({"path": "/first"}, {"wms": endpoint(server.base)}).ok
    outcome = callout({"method": method, "path": "/second", "capture": {"n": "n"}, "body": {}},
                      {"wms": endpoint(server.base)})
    assert outcome == Outcome({"n": 3})
    assert [seen.path for seen in server.seen] == ["/first", "/second", "/second"]
    assert server.seen[1].headers["Idempotency-Key"] == server.seen[2].headers["Idempotency-Key"]


def test_a_request_is_resent_only_once(server: Server) -> None:
    server.respond = lambda seen: None if seen.path == "/second" else (200, {})
    assert callout({"path": "/first"}, {"wms": endpoint(server.base)}).ok
    outcome = callout({"method": "POST", "path": "/second", "body": {}}, {"wms": endpoint(server.base)})
    assert (outcome.error, outcome.retryable) == ("connection", True)
    assert "may have been processed" in outcome.message
    assert [seen.path for seen in server.seen] == ["/first", "/second", "/second"]


def test_a_fresh_connection_is_never_resent(server: Server) -> None:
    server.respond = lambda seen: None
    outcome = callout({"path": "/x"}, {"wms": endpoint(server.base)})
    assert outcome.error == "connection"
    assert len(server.seen) == 1


def test_concurrent_callouts_from_many_threads(server: Server) -> None:
    server.respond = lambda seen: (200, {"path": seen.path})
    results: list[Outcome] = []

    def work(n: int) -> None:
        for i in range(10):
            results.append(callout({"path": f"/t{n}/{i}", "capture": {"path": "path"}}, {"wms": endpoint(server.base)}))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.outputs["path"] for r in results) == sorted(f"/t{n}/{i}" for n in range(6) for i in range(10))
    assert len({seen.peer for seen in server.seen}) <= 6


def test_dig_follows_keys_and_list_indexes() -> None:
    document = {"a": [{"b": 1}, {"b": [10, 20]}], "0": "zero", "n": None}
    assert dig(document, "a.1.b.1") == (True, 20)
    assert dig(document, "0") == (True, "zero")
    assert dig(document, "n") == (True, None)
    assert dig(document, "a.2")[0] is False
    assert dig(document, "a.-1")[0] is False
    assert dig(document, "a.x")[0] is False
    assert dig([5], "0") == (True, 5)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_https_with_a_certificate_from_ssl_cert_file(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    server = Server()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for running in _serve(server):
        base = f"https://127.0.0.1:{running.server_address[1]}"
        trusted = callout({"path": "/secure"}, {"wms": endpoint(base)}, environ={"SSL_CERT_FILE": str(cert)})
        assert trusted.ok, trusted.message
        assert callout({"path": "/again"}, {"wms": endpoint(base)}, environ={"SSL_CERT_FILE": str(cert)}).ok
        untrusted = callout({"path": "/x"}, {"wms": endpoint(base)})
        assert untrusted.error == "connection"
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.message
        assert [seen.path for seen in running.seen] == ["/secure", "/again"]


@dataclass
class _Timing:
    samples: list[float] = field(default_factory=list)

    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000


def test_the_added_cost_of_a_callout_over_a_bare_request_is_small(server: Server) -> None:
    server.respond = lambda seen: (201, {"id": "R-1", "port": {"vlan": 12}})
    wms = {"wms": endpoint(server.base, auth={"bearer": {"env": "WMS_TOKEN"}}, headers={"Accept": "application/json"})}
    config = {"method": "POST", "path": "/reservations/{{ item.id }}", "expect": [201],
              "body": {"sku": "{{ item.product }}", "quantity": "{{ item.quantity }}"},
              "capture": {"id": "id", "vlan": "port.vlan"}}
    payload = json.dumps({"sku": "LAPTOP-HW", "quantity": "2"}).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "k", "Content-Type": "application/json"}
    bare, ours = _Timing(), _Timing()
    connection = HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        for _ in range(3):  # interleaved rounds, so that machine noise hits both alike
            for _ in range(100):
                started = time.perf_counter()
                connection.request("POST", "/reservations/L1/HW", body=payload, headers=headers)
                response = connection.getresponse()
                json.loads(response.read())
                bare.samples.append(time.perf_counter() - started)
            for _ in range(100):
                started = time.perf_counter()
                outcome = callout(config, wms, environ={"WMS_TOKEN": TOKEN})
                ours.samples.append(time.perf_counter() - started)
                assert outcome.ok
    finally:
        connection.close()
    added = ours.median_ms() - bare.median_ms()
    print(f"\ncallout median {ours.median_ms():.3f} ms, bare http.client {bare.median_ms():.3f} ms, "
          f"added {added:.3f} ms")
    assert added < 2.0


def test_the_deadline_bounds_a_tls_handshake_that_trickles() -> None:
    """A real TCP server that begins a TLS record (a handshake record of 16 KiB) and sends it one byte every
    0.3 s: each read of the handshake gets its byte well within the timeout, the whole does not."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        peer, _ = listener.accept()
        with peer:
            peer.recv(4096)  # the ClientHello
            peer.sendall(b"\x16\x03\x03\x40\x00")  # a handshake record of 16384 bytes follows...
            while not stop.wait(0.3):
                try:
                    peer.sendall(b"\x02")  # ...one byte at a time
                except OSError:  # the client gave up
                    return

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        base = f"https://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        outcome = callout({"path": "/x", "timeout": 1.0}, {"wms": endpoint(base)})
        took = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert (outcome.error, outcome.retryable) == ("timeout", True), outcome
    assert 0.9 < took < 1.5, took
