"""Callout steps: one HTTP request to a named endpoint, its status checked and its JSON response captured.

The request goes through `http.client` on a kept-alive connection (see connections.py).
When a reused connection turns out to be closed by the server, the request is sent
again once on a new connection, but only where that cannot make the server act twice:

- nothing was sent yet (the poll before reuse saw the close), or sending failed: the
  server had already closed its end and cannot have read the whole request; any method;
- the request was sent and the server closed the reused connection without a byte of
  response (it timed the connection out as the request arrived): any method too,
  because every request dro sends carries an Idempotency-Key, and the second one
  carries the same key, which a server that dedupes on it uses to recognise a repeat
  (Go's HTTP client replays such requests on the same condition). A hang-up on a
  fresh connection is not replayed: it fails with `connection`.
"""

from __future__ import annotations

import functools
import http.client
import json
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from dro_cli import __version__
from dro_cli.runtime.handlers import connections
from dro_cli.runtime.handlers.base import Invocation, Outcome, failure, success
from dro_cli.runtime.handlers.render import render, render_path
from dro_cli.runtime.handlers.secrets import Redactor, auth_headers, resolve
from dsl.urls import parse_base_url

DEFAULT_TIMEOUT = 30.0
BODY_EXCERPT = 300
RETRYABLE_4XX = frozenset({408, 429})
_PATH_SAFE = "!#$%&'()*+,/:;=?@[]~"  # reserved characters and '%': only spaces, controls, non-ASCII get quoted


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    prefix: str  # the base URL's path, without a trailing slash


class InvalidRequest(Exception):
    """A request http.client refuses to send (a header value with a line break, say)."""


@functools.lru_cache(maxsize=256)
def target(base: str) -> Target:
    """Where an endpoint's base URL points. Raises ValueError for anything but http(s)://host[:port][/prefix]:
    the rule `dro validate` checks written URLs and env() defaults by (dsl.urls)."""
    url = parse_base_url(base)
    return Target(url.scheme, url.host, url.port, url.prefix)


def run_callout(invocation: Invocation, redactor: Redactor) -> Outcome:
    config = invocation.step["config"]
    name = config.get("endpoint")
    endpoint = invocation.endpoints.get(name) if isinstance(name, str) else None
    if not isinstance(endpoint, Mapping):
        return failure("bad_config", f"step {invocation.step.get('id')}: endpoint {name!r} is not in the plan",
                       retryable=False)
    environ = invocation.environ
    base = resolve(endpoint["url"], environ, f"endpoint {name}, url")
    try:
        where = target(base)
    except ValueError as exc:
        return failure("bad_config", f"endpoint {name}: {exc}", retryable=False)
    context = invocation.context
    method = str(config.get("method") or "GET").upper()
    path = quote(where.prefix + render_path(config.get("path") or "/", context), safe=_PATH_SAFE)
    body = config.get("body")
    payload = None if body is None else json.dumps(render(body, context, "body"), ensure_ascii=False,
                                                   separators=(",", ":")).encode("utf-8")
    headers = _headers(invocation, endpoint, render(config.get("headers") or {}, context, "headers"),
                       payload is not None, auth_headers(name, endpoint.get("auth"), environ))
    timeout = _timeout(config.get("timeout"), endpoint.get("timeout"))
    cafile = (environ.get("SSL_CERT_FILE") or None) if where.scheme == "https" else None
    key = (where.scheme, where.host, where.port, cafile)
    host = f"[{where.host}]" if ":" in where.host else where.host  # an IPv6 address
    url = f"{where.scheme}://{host}:{where.port}{path}"
    try:
        status, reason, data = exchange(key, method, path, payload, headers, timeout)
    except InvalidRequest as exc:
        return failure("invalid_request", f"{method} {url}: {exc}", retryable=False)
    except TimeoutError:
        return failure("timeout", f"{method} {url}: no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as exc:
        return failure("connection", f"{method} {url}: {_describe(exc)}")
    return judge(config, status, reason, data, f"{method} {url}", redactor)


def judge(config: Mapping[str, Any], status: int, reason: str, data: bytes, request: str,
          redactor: Redactor) -> Outcome:
    """How an answer to a callout ends the attempt: success (with what `capture` takes from the
    body) if its status is expected, else a failure coded `http_<status>`, retryable unless a 4xx
    other than 408 and 429. Scenario tests judge their scripted answers here too."""
    expect = config.get("expect")
    if not (status in expect if expect else 200 <= status <= 299):
        retryable = not (400 <= status <= 499) or status in RETRYABLE_4XX
        text = redactor.excerpt(data.decode("utf-8", "replace").strip(), BODY_EXCERPT)
        message = f"{request}: HTTP {status} {reason}" + (f": {text}" if text else "")
        return failure(f"http_{status}", message, retryable=retryable)
    return _captured(config.get("capture") or {}, data, request)


def _headers(invocation: Invocation, endpoint: Mapping[str, Any], step_headers: Mapping[str, Any],
             has_body: bool, auth: Mapping[str, str]) -> dict[str, str]:
    """Endpoint headers, step headers, then dro's own and auth (a later name replaces an earlier one, any case)."""
    headers: dict[str, str] = {}
    names: dict[str, str] = {}  # lower case -> as written

    def put(name: str, value: Any) -> None:
        old = names.pop(name.lower(), None)
        if old is not None:
            del headers[old]
        headers[name] = str(value)
        names[name.lower()] = name

    for name, value in (endpoint.get("headers") or {}).items():
        put(name, value)
    for name, value in step_headers.items():
        put(name, value)
    put("Idempotency-Key", invocation.idempotency_key)
    if has_body and "content-type" not in names:
        put("Content-Type", "application/json")
    if "user-agent" not in names:
        put("User-Agent", f"dro/{__version__}")
    for name, value in auth.items():
        put(name, value)
    return headers


def _timeout(step: Any, endpoint: Any) -> float:
    for value in (step, endpoint):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
    return DEFAULT_TIMEOUT


def exchange(key: connections.Key, method: str, path: str, payload: bytes | None, headers: Mapping[str, str],
             timeout: float) -> tuple[int, str, bytes]:
    """Send one request and read its whole response: (status, reason, body), all of it within `timeout`
    seconds (TimeoutError). Resends at most once (module doc), within the same time."""
    deadline = time.monotonic() + timeout
    for first in (True, False):
        connection, reused = connections.checkout(key, deadline)
        try:
            try:
                connection.request(method, path, body=payload, headers=dict(headers))
            except ssl.SSLError:  # a certificate error is a ValueError too, but it is the connection's
                raise
            except ValueError as exc:  # http.client checks headers and the path before it sends anything
                raise InvalidRequest(str(exc)) from None
            response = connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):  # RemoteDisconnected too
            connection.close()
            if reused and first:
                continue
            raise
        except BaseException:
            connection.close()
            raise
        try:
            data = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            connections.checkin(key, connection, response.getheader("Keep-Alive"))
        return response.status, response.reason, data
    raise AssertionError("unreachable: the second try returns or raises")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering (the request may have been processed)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.HTTPException):
        return f"bad HTTP response: {type(exc).__name__}: {exc}"
    detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {detail}"


def _captured(capture: Mapping[str, str], data: bytes, request: str) -> Outcome:
    if not capture:
        return success()
    try:
        document = json.loads(data)
    except ValueError:
        names = ", ".join(sorted(capture))
        return failure("capture_missing", f"{request}: the response is not JSON, cannot capture {names}",
                       retryable=False)
    outputs: dict[str, Any] = {}
    for name, path in capture.items():
        found, value = dig(document, path)
        if not found:
            return failure("capture_missing", f"{request}: the response has no {path!r} (capture {name})",
                           retryable=False)
        outputs[name] = value
    return success(outputs)


def dig(document: Any, path: str) -> tuple[bool, Any]:
    """(True, value) at a dotted path ("port.vlan", "items.0.id": integer segments index lists), else (False, None)."""
    value = document
    for segment in path.split("."):
        if isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isascii() and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return False, None
    return True, value
