"""Retries and error codes end to end: `dro run` as a process, on the virtual clock (DRO_NOW, nothing sleeps),
against a real HTTP server on 127.0.0.1 whose answers are scripted request by request."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ORDER = "ORD-1"
NOW = "2026-12-01T10:00:00Z"
Reply = int | tuple[int, float]  # a status, or (status, seconds to wait before answering)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    key: str | None  # the Idempotency-Key header


class ScriptedServer(ThreadingHTTPServer):
    """Answers each path with the next reply of its script; records every request it gets."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []
        self.stopping = threading.Event()  # cuts a slow answer short when the test ends
        self._lock = threading.Lock()

    def next_reply(self, request: Request) -> tuple[int, float]:
        with self._lock:
            self.requests.append(request)
            queue = self.script.get(request.path) or [599]  # unscripted: a status no test expects
            reply = queue.pop(0)
        return (reply, 0.0) if isinstance(reply, int) else reply

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def keys(self, path: str) -> list[str | None]:
        return [r.key for r in self.requests if r.path == path]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def _handle(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, delay = self.server.next_reply(Request(self.command, self.path, self.headers["Idempotency-Key"]))
        if delay and self.server.stopping.wait(delay):
            return
        data = json.dumps({"status": status}).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up waiting (the timeout test)
            self.close_connection = True

    do_GET = do_POST = do_PUT = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer()
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield running
    finally:
        running.stopping.set()
        running.shutdown()
        running.server_close()
        thread.join()


@pytest.fixture
def env(tmp_path: Path, server: ScriptedServer) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("DRO_")}
    return {**base, "NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "API_URL": server.url}


# ---- helpers -------------------------------------------------------------------------------------------------------

def dro(env: dict[str, str], now: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI, in its own process, at the instant `now`."""
    done = subprocess.run([sys.executable, "-m", "dro_cli.main", *args], env={**env, "DRO_NOW": now},
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def start(env: dict[str, str], tmp_path: Path, steps: str, *, rules: str = "",
          files: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Write a catalog of one group (`steps`) plus `rules` and flow `files`, and run an order of it at NOW."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "c.dro").write_text(
        f'lane ops "Ops"\nendpoint api "API" {{ url env("API_URL") }}\n{rules}\n'
        f'group g {{\n{steps}\n}}\nscenario s {{ when item.product == "P" add g }}\n', encoding="utf-8")
    for name, text in (files or {}).items():
        (catalog / name).write_text(text, encoding="utf-8")
    order = tmp_path / "order.yaml"
    order.write_text(f"order:\n  id: {ORDER}\n  account: A\n  items:\n    - {{id: I1, product: P}}\n")
    return dro(env, NOW, "run", str(order), "--catalog", str(catalog))


def callout(step: str, path: str, extra: str = "") -> str:
    return f'  step {step} "{step}" {{ type callout lane ops endpoint api method POST path "{path}" {extra} }}'


def steps(env: dict[str, str], now: str = NOW) -> dict[str, dict[str, Any]]:
    """`dro status ORDER --format json`: the steps by id."""
    done = dro(env, now, "status", ORDER, "--format", "json")
    assert done.returncode == 0, done.stderr
    return {step["id"]: step for step in json.loads(done.stdout)["steps"]}


def summary(step: dict[str, Any]) -> tuple[Any, ...]:
    """What a failure test checks of a step: state, attempts, error code, retryable, retry_at, fallout queue."""
    error = step["error"] or {}
    return step["state"], step["attempts"], error.get("code"), error.get("retryable"), step["retry_at"], step["queue"]


def journal(env: dict[str, str]) -> bytes:
    return (Path(env["DRO_STATE_DIR"]) / "orders" / ORDER / "journal.jsonl").read_bytes()


def failures(env: dict[str, str]) -> list[tuple[int, str, str | None, str | None]]:
    """The journal's step.failed records: (attempt, code, retry_at, queue)."""
    records = [json.loads(line) for line in journal(env).splitlines()]
    return [(r["payload"]["attempt"], r["payload"]["code"], r["payload"]["retry_at"], r["payload"]["queue"])
            for r in records if r["type"] == "step.failed"]


def shifted(instant: str, **delta: float) -> str:
    """An ISO instant moved by `delta` (timedelta's keywords), written as dro writes instants."""
    moment = datetime.fromisoformat(instant) + timedelta(**delta)
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds").replace("+00:00", "Z")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# ---- 1. the retry instants of every policy -------------------------------------------------------------------------

@pytest.mark.parametrize(("retry", "queue", "retry_instants"), [
    pytest.param("{ policy: monotonous, retries: 2, interval: 30s }", "ops_fallout",
                 ["2026-12-01T10:00:30Z", "2026-12-01T10:01:00Z"], id="monotonous"),
    pytest.param("{ policy: staggered, intervals: [10s, 1m, 5m] }", None,
                 ["2026-12-01T10:00:10Z", "2026-12-01T10:01:10Z", "2026-12-01T10:06:10Z"], id="staggered"),
    pytest.param("{ policy: exponential, retries: 4, initial: 10s, factor: 3, max: 1m }", "ops_fallout",
                 ["2026-12-01T10:00:10Z", "2026-12-01T10:00:40Z", "2026-12-01T10:01:40Z", "2026-12-01T10:02:40Z"],
                 id="exponential-capped-at-max"),
])
def test_each_retry_is_sent_at_its_instant_and_not_a_millisecond_before(
        env: dict[str, str], tmp_path: Path, server: ScriptedServer,
        retry: str, queue: str | None, retry_instants: list[str]) -> None:
    tries = len(retry_instants) + 1
    server.script["/call"] = [503] * tries
    own_queue = f"queue {queue}" if queue else ""
    first = start(env, tmp_path, callout("call", "/call", f"retry {retry} {own_queue}"))
    assert first.returncode == 0, first.stderr
    assert f"the timer at {retry_instants[0]} to retry call" in first.stdout
    for attempt, retry_at in enumerate(retry_instants, start=1):
        assert summary(steps(env)["call"]) == ("failed", attempt, "http_503", True, retry_at, None)
        before = journal(env)
        early = dro(env, shifted(retry_at, milliseconds=-1), "run", ORDER)
        assert early.returncode == 0, early.stderr
        assert len(server.requests) == attempt  # nothing sent a millisecond early
        assert journal(env) == before  # and nothing journaled
        due = dro(env, retry_at, "run", ORDER)
        assert server.requests[-1] == Request("POST", "/call", f"{ORDER}/call/{attempt + 1}")
        assert due.returncode == (1 if attempt == len(retry_instants) else 0), due.stderr
    expected_queue = queue or "fallout"
    assert f"call in fallout queue {expected_queue} (http_503)" in due.stdout
    assert summary(steps(env)["call"]) == ("fatally_failed", tries, "http_503", True, None, expected_queue)
    assert server.keys("/call") == [f"{ORDER}/call/{n}" for n in range(1, tries + 1)]
    assert [retry_at for _, _, retry_at, _ in failures(env)] == [*retry_instants, None]


def test_immediate_retries_at_once_in_the_same_run_then_falls_out(
        env: dict[str, str], tmp_path: Path, server: ScriptedServer) -> None:
    server.script["/call"] = [503, 503, 503]
    result = start(env, tmp_path, callout("call", "/call", "retry { policy: immediate, retries: 2 }"))
    assert result.returncode == 1, result.stderr
    assert server.keys("/call") == [f"{ORDER}/call/1", f"{ORDER}/call/2", f"{ORDER}/call/3"]
    assert failures(env) == [(1, "http_503", NOW, None), (2, "http_503", NOW, None), (3, "http_503", None, "fallout")]
    assert summary(steps(env)["call"]) == ("fatally_failed", 3, "http_503", True, None, "fallout")
    later = dro(env, shifted(NOW, hours=1), "run", ORDER)
    assert later.returncode == 1 and len(server.requests) == 3  # in fallout: no timer sends it again


# ---- 2-5. callout error codes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [400, 404])
def test_a_non_retryable_4xx_falls_out_at_once_despite_a_retry_policy(
        env: dict[str, str], tmp_path: Path, server: ScriptedServer, status: int) -> None:
    server.script["/call"] = [status, 200]
    result = start(env, tmp_path, callout("call", "/call", "retry { policy: monotonous, retries: 3, interval: 1m } "
                                                           "queue ops_fallout"))
    assert result.returncode == 1, result.stderr
    assert f"call in fallout queue ops_fallout (http_{status})" in result.stdout
    assert summary(steps(env)["call"]) == ("fatally_failed", 1, f"http_{status}", False, None, "ops_fallout")
    assert dro(env, shifted(NOW, minutes=1), "run", ORDER).returncode == 1
    assert server.requests == [Request("POST", "/call", f"{ORDER}/call/1")]


@pytest.mark.parametrize("status", [429, 408])
def test_429_and_408_are_retried_then_succeed(
        env: dict[str, str], tmp_path: Path, server: ScriptedServer, status: int) -> None:
    server.script["/call"] = [status, 200]
    first = start(env, tmp_path, callout("call", "/call", "retry { policy: monotonous, retries: 2, interval: 1m }"))
    assert first.returncode == 0, first.stderr
    assert summary(steps(env)["call"]) == ("failed", 1, f"http_{status}", True, "2026-12-01T10:01:00Z", None)
    second = dro(env, "2026-12-01T10:01:00Z", "run", ORDER)
    assert second.returncode == 0, second.stderr
    assert f"order {ORDER}: completed, 1/1 steps finished" in second.stdout
    step = steps(env)["call"]
    assert (step["state"], step["attempts"], step["completed_at"]) == ("completed", 2, "2026-12-01T10:01:00Z")
    assert step["error"]["code"] == f"http_{status}"  # the last failure is kept after the retry succeeds
    assert server.keys("/call") == [f"{ORDER}/call/1", f"{ORDER}/call/2"]


def test_connection_refused_is_error_connection_and_retried_per_policy(
        env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "API_URL": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    first = start(env, tmp_path, callout("call", "/call", "retry { policy: monotonous, retries: 1, interval: 5m }"))
    assert first.returncode == 0, first.stderr
    step = steps(env)["call"]
    assert summary(step) == ("failed", 1, "connection", True, "2026-12-01T10:05:00Z", None)
    assert step["error"]["message"].endswith("/call: connection refused")
    last = dro(env, "2026-12-01T10:05:00Z", "run", ORDER)
    assert last.returncode == 1, last.stderr
    assert summary(steps(env)["call"]) == ("fatally_failed", 2, "connection", True, None, "fallout")


def test_a_callout_slower_than_its_timeout_fails_with_timeout_and_is_retried(
        env: dict[str, str], tmp_path: Path, server: ScriptedServer) -> None:
    server.script["/call"] = [(200, 3.0), 200]  # the first answer comes after 3 s, ten times the step's timeout
    started = time.monotonic()
    first = start(env, tmp_path, callout("call", "/call", "timeout 300ms "
                                                          "retry { policy: monotonous, retries: 1, interval: 1m }"))
    assert time.monotonic() - started < 3.0  # dro gave up; it did not wait for the answer
    assert first.returncode == 0, first.stderr
    step = steps(env)["call"]
    assert summary(step) == ("failed", 1, "timeout", True, "2026-12-01T10:01:00Z", None)
    assert step["error"]["message"].endswith("/call: no answer within 0.3 s")
    second = dro(env, "2026-12-01T10:01:00Z", "run", ORDER)
    assert second.returncode == 0 and steps(env)["call"]["state"] == "completed"
    assert server.keys("/call") == [f"{ORDER}/call/1", f"{ORDER}/call/2"]


# ---- 6. commands and flows -----------------------------------------------------------------------------------------

def test_a_command_exiting_3_fails_with_exit_3_and_its_retry_succeeds(env: dict[str, str], tmp_path: Path) -> None:
    script = ("import json, os, sys\n"
              "if os.environ['DRO_ATTEMPT'] == '1':\n    sys.exit(3)\n"
              "print(json.dumps({'key': os.environ['DRO_IDEMPOTENCY_KEY']}))\n")
    command = json.dumps([sys.executable, "-c", script])
    first = start(env, tmp_path, f'  step cmd "Command" {{ type auto lane ops command {command} '
                                 "retry { policy: monotonous, retries: 1, interval: 1m } }")
    assert first.returncode == 0, first.stderr
    step = steps(env)["cmd"]
    assert summary(step) == ("failed", 1, "exit_3", True, "2026-12-01T10:01:00Z", None)
    assert step["error"]["message"] == f"command {sys.executable!r} exited with 3"
    second = dro(env, "2026-12-01T10:01:00Z", "run", ORDER)
    assert second.returncode == 0, second.stderr
    step = steps(env)["cmd"]
    assert (step["state"], step["attempts"], step["outputs"]) == ("completed", 2, {"key": f"{ORDER}/cmd/2"})


FLOWS = '''\
from pathlib import Path

from dro_cli import NonRetryable


class InventoryBusy(Exception):
    pass


def _called(ctx):
    with open(Path(__file__).with_name("calls.log"), "a") as log:
        log.write(ctx["idempotency_key"] + "\\n")


def busy(ctx):
    _called(ctx)
    raise InventoryBusy("try again later")


def reject(ctx):
    _called(ctx)
    raise NonRetryable("the account is closed")
'''


def test_a_flow_error_is_its_class_name_and_non_retryable_falls_out_at_once(
        env: dict[str, str], tmp_path: Path) -> None:
    retry = "retry { policy: monotonous, retries: 1, interval: 1m }"
    first = start(env, tmp_path, f'  step busy "Busy" {{ type auto lane ops flow "flows:busy" {retry} }}\n'
                                 f'  step reject "Reject" {{ type auto lane ops flow "flows:reject" {retry} }}',
                  files={"flows.py": FLOWS})
    assert first.returncode == 1, first.stderr  # reject is in fallout
    assert "reject in fallout queue fallout (NonRetryable)" in first.stdout
    now = steps(env)
    assert summary(now["busy"]) == ("failed", 1, "InventoryBusy", True, "2026-12-01T10:01:00Z", None)
    assert "flow 'flows:busy' raised InventoryBusy: try again later" in now["busy"]["error"]["message"]
    assert summary(now["reject"]) == ("fatally_failed", 1, "NonRetryable", False, None, "fallout")
    assert dro(env, "2026-12-01T10:01:00Z", "run", ORDER).returncode == 1
    assert summary(steps(env)["busy"]) == ("fatally_failed", 2, "InventoryBusy", True, None, "fallout")
    calls = (tmp_path / "catalog" / "calls.log").read_text().split()
    assert sorted(calls) == [f"{ORDER}/busy/1", f"{ORDER}/busy/2", f"{ORDER}/reject/1"]  # reject ran once


# ---- 7. fallout rules by error code --------------------------------------------------------------------------------

RULES = """\
fallout_rule api_unavailable { match { type: callout, endpoint: api, error: http_503 }
                               policy monotonous retries 1 interval 2m queue api_outage }
fallout_rule api_errors { match { type: callout, endpoint: api } policy immediate retries 1 queue api_fallout }
"""


def test_a_fallout_rule_naming_an_error_code_takes_that_error_only(
        env: dict[str, str], tmp_path: Path, server: ScriptedServer) -> None:
    server.script = {"/a": [503, 503], "/b": [500, 500], "/c": [503, 503]}
    first = start(env, tmp_path, "\n".join([callout("a", "/a"), callout("b", "/b"),
                                            callout("c", "/c", "queue own_queue")]), rules=RULES)
    assert first.returncode == 1, first.stderr  # b is in fallout
    now = steps(env)
    assert summary(now["a"]) == ("failed", 1, "http_503", True, "2026-12-01T10:02:00Z", None)
    assert summary(now["b"]) == ("fatally_failed", 2, "http_500", True, None, "api_fallout")  # the rule for all errors
    assert summary(now["c"]) == ("failed", 1, "http_503", True, "2026-12-01T10:02:00Z", None)
    assert server.keys("/b") == [f"{ORDER}/b/1", f"{ORDER}/b/2"]  # immediate: both tries in the first run
    last = dro(env, "2026-12-01T10:02:00Z", "run", ORDER)
    assert last.returncode == 1, last.stderr
    now = steps(env)
    assert summary(now["a"]) == ("fatally_failed", 2, "http_503", True, None, "api_outage")
    assert summary(now["c"]) == ("fatally_failed", 2, "http_503", True, None, "own_queue")  # the step's queue wins
    assert server.keys("/a") == [f"{ORDER}/a/1", f"{ORDER}/a/2"]
    assert server.keys("/c") == [f"{ORDER}/c/1", f"{ORDER}/c/2"]


def test_a_step_waiting_for_its_retry_is_in_no_queue(
        env: dict[str, str], tmp_path: Path, server: ScriptedServer) -> None:
    server.script["/a"] = [503]
    start(env, tmp_path, callout("a", "/a"), rules=RULES)
    step = steps(env)["a"]
    assert (step["state"], step["queue"]) == ("failed", None)  # in no queue while its retry is due
