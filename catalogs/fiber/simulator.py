"""Simulate the FiberNet catalog's systems on one port: network inventory, logistics, IPTV middleware, mobile
core and the number portability clearinghouse, so that the catalog's orders run end to end (stories.py).

    GET    /feasibility                     network_inventory  200 {"olt": {"id"}, "splitter": {"id"}, ...}
    POST   /ports/reservations              network_inventory  201 {"port": {"id", "vlan"}}
    POST   /ports/ID/activation             network_inventory  200 {"service": {"id"}}
    PATCH  /services/ID                     network_inventory  200 {"service": {"id", "profile"}}
    GET    /ports/ID/capacity               network_inventory  200 {"max_downstream_mbps"}
    PATCH  /ports/ID, DELETE /ports/ID      network_inventory  200
    POST   /shipments, POST /returns        logistics          201 {"id", "tracking"|"label", "rma"}
    POST   /households/ACCOUNT/devices      tv_platform        201 {"activation": {"code"}}
    DELETE /households/ACCOUNT/devices      tv_platform        204
    POST   /msisdn/allocations              mobile_core        201 {"msisdn", "imsi"}
    POST   /subscribers, PUT|DELETE ...     mobile_core        201 {"id"} / 200
    POST   /port-requests                   number_portability 202 {"request": {"id", "window"}}
    HEAD   /port-requests/ID/completion     number_portability 204

Every request needs the credential its endpoint is configured with (stories.py sets them in the
environment). A POST, PUT or PATCH with an `Idempotency-Key` seen before gets the stored answer again
and does nothing twice; ids derive from that key. `GET /_requests` is the request log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
# The credentials the systems accept; stories.py gives dro the same ones through the environment.
SECRETS = {"NETWORK_INVENTORY_TOKEN": "demo-noc-token", "LOGISTICS_PASSWORD": "demo-logistics",
           "TV_PLATFORM_API_KEY": "demo-tv-key", "MOBILE_CORE_TOKEN": "demo-core-token",
           "NP_USER": "fibernet-dro", "NP_PASSWORD": "demo-np-password"}
Answer = tuple[int, dict[str, Any] | None]


def _id(prefix: str, seed: str) -> str:
    return f"{prefix}-{hashlib.sha256(seed.encode()).hexdigest()[:8].upper()}"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# (method, first path segment) -> the system, its credential check, and how it answers
def _authorized(system: str, headers: Any) -> bool:
    expected = {
        "network": ("Authorization", f"Bearer {SECRETS['NETWORK_INVENTORY_TOKEN']}"),
        "logistics": ("Authorization", _basic("fibernet-dro", SECRETS["LOGISTICS_PASSWORD"])),
        "tv": ("X-Api-Key", SECRETS["TV_PLATFORM_API_KEY"]),
        "mobile": ("Authorization", f"Bearer {SECRETS['MOBILE_CORE_TOKEN']}"),
        "porting": ("Authorization", _basic(SECRETS["NP_USER"], SECRETS["NP_PASSWORD"])),
    }[system]
    return hmac.compare_digest(headers.get(expected[0], ""), expected[1])


def _system(path: str) -> str:
    first = path.strip("/").split("/")[0]
    return {"feasibility": "network", "ports": "network", "services": "network", "shipments": "logistics",
            "returns": "logistics", "households": "tv", "msisdn": "mobile", "subscribers": "mobile",
            "port-requests": "porting"}.get(first, "")


def answer(method: str, path: str, query: dict[str, list[str]], body: Any, seed: str) -> Answer:
    """What the systems answer one request (`seed`: its idempotency key, or the request itself)."""
    parts = path.strip("/").split("/")
    if method == "GET" and parts == ["feasibility"]:
        return 200, {"olt": {"id": "OLT-B12"}, "splitter": {"id": "SPL-7"}, "max_downstream_mbps": 2000}
    if method == "POST" and parts == ["ports", "reservations"]:
        return 201, {"port": {"id": _id("PORT", seed), "vlan": 1042}}
    if method == "POST" and parts[0] == "ports" and parts[-1] == "activation":
        return 200, {"service": {"id": _id("SVC", parts[1])}}
    if method == "PATCH" and parts[0] == "services":
        return 200, {"service": {"id": parts[1], "profile": (body or {}).get("profile")}}
    if method == "GET" and parts[0] == "ports" and parts[-1] == "capacity":
        return 200, {"max_downstream_mbps": 2000}
    if method in ("PATCH", "DELETE") and parts[0] == "ports":
        return 200, {"profile": {"name": (body or {}).get("profile", "released")}}
    if method == "POST" and parts == ["shipments"]:
        return 201, {"id": _id("SHP", seed), "tracking": {"number": _id("1Z", seed), "carrier": "DHL"}}
    if method == "POST" and parts == ["returns"]:
        return 201, {"id": _id("RET", seed), "rma": _id("RMA", seed), "label": {"url": f"https://labels/{seed[:8]}"}}
    if parts[0] == "households" and parts[-1] == "devices":
        return (201, {"activation": {"code": _id("TV", seed)}}) if method == "POST" else (204, None)
    if method == "POST" and parts == ["msisdn", "allocations"]:
        return 201, {"msisdn": "+49151" + str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:7],
                     "imsi": "26201" + str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:10]}
    if parts == ["subscribers"] and method == "POST":
        return 201, {"id": _id("SUB", seed)}
    if parts[0] == "subscribers":
        return 200, {"id": parts[1]}
    if method == "POST" and parts == ["port-requests"]:
        return 202, {"request": {"id": _id("NPR", seed), "window": {"start": "2026-12-07T06:00:00Z"}}}
    if method == "HEAD" and parts[0] == "port-requests" and parts[-1] == "completion":
        return 204, None
    return 404, {"error": f"no route {method} {path}"}


class Simulator:
    """The systems and their HTTP server, in a thread; a context manager."""

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._stored: dict[str, Answer] = {}
        self._log: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer((HOST, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def __enter__(self) -> Simulator:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, method: str, target: str, headers: Any, raw: bytes) -> Answer:
        split = urlsplit(target)
        system = _system(split.path)
        if not system:
            return 404, {"error": "unknown system"}
        if not _authorized(system, headers):
            return 401, {"error": "unauthorized"}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return 400, {"error": "body is not JSON"}
        key = headers.get("Idempotency-Key")
        with self._lock:
            replayed = key is not None and key in self._stored
            done = self._stored[key] if key is not None and replayed else answer(
                method, split.path, parse_qs(split.query), body, key or f"{method} {target} {raw!r}")
            if key is not None and method in ("POST", "PUT", "PATCH"):
                self._stored[key] = done
            self._log.append({"method": method, "path": target, "system": system, "key": key, "body": body,
                              "status": done[0], "replayed": replayed})
        return done

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/_requests":
                    status, body = 200, {"requests": simulator.requests()}
                else:
                    status, body = simulator.handle(self.command, self.path, self.headers, raw)
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the request log is what the stories print."""

        return Handler
