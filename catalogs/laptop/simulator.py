"""Simulate the Acme laptop catalog's fulfillment systems (WMS, license server, parcel carrier) on one port.

One HTTP server answers every callout of the catalog, so a demo points WMS_URL,
LICENSE_SERVER_URL and the carrier's URL at it:

    POST  /reservations      wms             201 {"id": "RES-…", ...}
    POST  /picks             wms             201 {"id": "PCK-…", "bin": {"location": "C-17-4"}, ...}
    POST  /entitlements      license_server  201 {"id": "ENT-…", "key": "XXXXX-…", ...}   (bearer)
    PATCH /entitlements/ID   license_server  200 {"id": "ID", "key": "XXXXX-…", ...}      (bearer)
    POST  /shipments         carrier         201 {"id": "SHP-…", "tracking": {"number": "1Z…"}, ...}   (basic)

It behaves like a careful real API: a POST or PATCH with an `Idempotency-Key` seen
before gets the stored response again (header `Idempotent-Replayed: true`) and
creates nothing; ids derive from that key, so the same order gives the same ids.
Control paths for tests: `GET /_requests` (the request log), `GET|POST /_faults`.
The systems themselves are the package `acme_systems/` beside this file, a module
each; this one serves them: routes, credentials, idempotency, faults, HTTP.

    python catalogs/laptop/simulator.py --port 8081 --token s3cret --fail /reservations=503:2
"""

from __future__ import annotations

import argparse
import base64
import hmac
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, cast
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # loaded by its path (as the tests do), not run or imported from here
    sys.path.insert(0, HERE)

from acme_systems import carrier, wms  # noqa: E402  (the systems: a package beside this file)
from acme_systems.api import Answer, ApiError, Call, Json, digest, json_object  # noqa: E402
from acme_systems.faults import Fault, faults_from_json, parse_faults  # noqa: E402
from acme_systems.licenses import LicenseServer  # noqa: E402

__all__ = ["HOST", "ApiError", "Fault", "Simulator", "main", "parse_faults"]
HOST = "127.0.0.1"


class Simulator:
    """The simulated systems and their HTTP server. `start()` serves in a thread; also a context manager.

    `token`: the bearer token /entitlements expects; `basic`: the (user, password) /shipments expects.
    None disables the check. `faults`: by path, see `Fault`.
    """

    def __init__(self, port: int = 0, *, token: str | None = None, basic: tuple[str, str] | None = None,
                 faults: Mapping[str, Fault] | None = None, verbose: bool = False) -> None:
        self._port = port
        self.token = token
        self.basic = basic
        self.verbose = verbose
        self._faults = dict(faults or {})
        self._lock = threading.Lock()
        self._stored: dict[str, tuple[str, int, Json]] = {}  # idempotency key -> (request fingerprint, status, body)
        self._log: list[Json] = []
        licenses = LicenseServer()
        # (method, collection) -> route; "/entitlements/*" is one entitlement.
        self._routes: dict[tuple[str, str], Route] = {
            ("POST", "/reservations"): wms.reserve,
            ("POST", "/picks"): wms.pick,
            ("POST", "/entitlements"): licenses.create,
            ("PATCH", "/entitlements/*"): licenses.change,
            ("POST", "/shipments"): carrier.ship,
        }
        self._keyless = 0  # requests without an idempotency key, for their ids
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def start(self) -> Simulator:
        if self._server is not None:
            raise RuntimeError("the simulator is already started")
        self._server = _Server(self, self._port)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._stopping.set()  # wakes requests sleeping on a delay fault
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    # -- state for tests ------------------------------------------------------------------------------------------

    def requests(self) -> list[Json]:
        """The log: one {method, path, key, status, replayed} per request, control paths left out."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def faults(self) -> dict[str, Fault]:
        with self._lock:
            return {path: Fault(f.status, f.count, f.delay) for path, f in self._faults.items()}

    def set_faults(self, faults: Mapping[str, Fault]) -> None:
        """Replace every fault (an empty mapping clears them)."""
        with self._lock:
            self._faults = dict(faults)

    # -- one request ----------------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Message, raw: bytes) -> tuple[int, object, dict[str, str]]:
        """Answer one request: (status, JSON body, extra headers). Thread-safe."""
        path = urlsplit(target).path
        if path.startswith("/_"):
            try:
                return self._control(method, path, raw)
            except ApiError as error:
                return error.status, {"error": str(error)}, error.headers
        key = headers.get("Idempotency-Key")
        replayed = False
        try:
            self._inject_faults(path)
            route, call_target = self._route(method, path)
            self._authorize(path, headers)
            body = json_object(raw)
            status, payload, replayed = self._run(route, method, path, key, body, call_target)
            extra = {"Idempotent-Replayed": "true"} if replayed else {}
        except ApiError as error:
            status, payload, extra = error.status, {"error": str(error)}, error.headers
        with self._lock:
            self._log.append({"method": method, "path": path, "key": key, "status": status, "replayed": replayed})
        return status, payload, extra

    def _inject_faults(self, path: str) -> None:
        """Wait and/or fail as the most specific fault on the path says."""
        with self._lock:
            matches = [p for p in self._faults if path == p or path.startswith(p.rstrip("/") + "/")]
            if not matches:
                return
            fault = self._faults[max(matches, key=len)]
            fires = fault.status is not None and (fault.count is None or fault.count > 0)
            if fires and fault.count is not None:
                fault.count -= 1
        if fault.delay:
            self._stopping.wait(fault.delay)
        if fires:
            raise ApiError(cast(int, fault.status), f"injected fault on {path}")

    def _authorize(self, path: str, headers: Message) -> None:
        if path.startswith("/entitlements") and self.token is not None:
            expected, challenge = f"Bearer {self.token}", 'Bearer realm="licenses"'
        elif path.startswith("/shipments") and self.basic is not None:
            expected = "Basic " + base64.b64encode(":".join(self.basic).encode()).decode()
            challenge = 'Basic realm="carrier"'
        else:
            return
        if not hmac.compare_digest(headers.get("Authorization", "").encode(), expected.encode()):
            scheme = challenge.split()[0].lower()
            raise ApiError(401, f"missing or wrong {scheme} credentials", {"WWW-Authenticate": challenge})

    def _run(self, route: Route, method: str, path: str, key: str | None, body: Json,
             target: str) -> tuple[int, Json, bool]:
        """Run the route once per idempotency key; a key seen before replays its stored response."""
        fingerprint = digest(method, path, json.dumps(body, sort_keys=True))
        with self._lock:
            if key is not None and key in self._stored:
                seen, status, payload = self._stored[key]
                if seen != fingerprint:
                    raise ApiError(422, "this Idempotency-Key was used with a different request")
                return status, payload, True
            if key is None:
                self._keyless += 1
            seed = f"{path} {key}" if key is not None else f"{path} #{self._keyless}"
            status, payload = route(Call(body, seed, target))
            if key is not None:
                self._stored[key] = (fingerprint, status, payload)
            return status, payload, False

    def _control(self, method: str, path: str, raw: bytes) -> tuple[int, object, dict[str, str]]:
        if (method, path) == ("GET", "/_requests"):
            return 200, self.requests(), {}
        if path == "/_faults" and method in ("GET", "POST"):
            if method == "POST":
                self.set_faults(faults_from_json(json_object(raw)))
            return 200, {p: f.to_json() for p, f in self.faults().items()}, {}
        raise ApiError(404, f"no control path {method} {path}")

    def _route(self, method: str, path: str) -> tuple[Route, str]:
        parts = path.strip("/").split("/")
        if len(parts) > 2:
            raise ApiError(404, f"no such path: {path}")
        pattern = "/" + parts[0] + ("/*" if len(parts) == 2 else "")
        allowed = sorted(m for m, p in self._routes if p == pattern)
        if not allowed:
            raise ApiError(404, f"no such path: {path}")
        if method not in allowed:
            raise ApiError(405, f"{method} is not allowed on {path}", {"Allow": ", ".join(allowed)})
        return self._routes[method, pattern], parts[1] if len(parts) == 2 else ""


Route = Callable[[Call], Answer]


# ---- HTTP ----------------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, simulator: Simulator, port: int) -> None:
        self.simulator = simulator
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Print a bug's traceback; a client that hung up (e.g. timed out on a delay) only when verbose."""
        if self.simulator.verbose or not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server_version = "acme-simulator/1"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        simulator = cast(_Server, self.server).simulator
        status: int
        body: object
        headers: dict[str, str]
        try:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        except ValueError:
            status, body, headers = 400, {"error": "bad Content-Length"}, {}
        else:
            status, body, headers = simulator.handle(self.command, self.path, self.headers, raw)
        data = json.dumps(body, indent=None).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if cast(_Server, self.server).simulator.verbose:
            super().log_message(format, *args)


# ---- the program ---------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: a free one)")
    parser.add_argument("--token", help="bearer token /entitlements expects (default: env LICENSE_SERVER_TOKEN)")
    parser.add_argument("--basic", metavar="USER:PASSWORD",
                        help="credentials /shipments expects (default: env CARRIER_USER, CARRIER_PASSWORD)")
    parser.add_argument("--fail", action="append", default=[], metavar="PATH=STATUS[:COUNT]",
                        help="answer STATUS to the first COUNT requests on PATH (all, without COUNT); repeatable")
    parser.add_argument("--delay", action="append", default=[], metavar="PATH=SECONDS",
                        help="wait SECONDS before answering on PATH; repeatable")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    try:
        faults = parse_faults(args.fail, args.delay)
    except ValueError as exc:
        parser.error(str(exc))
    token = (args.token if args.token is not None else os.environ.get("LICENSE_SERVER_TOKEN")) or None
    basic = _credentials(args.basic, parser)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    simulator = Simulator(args.port, token=token, basic=basic, faults=faults, verbose=args.verbose)
    try:
        simulator.start()
    except OSError as exc:
        print(f"error: cannot listen on {HOST}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        print(f"listening on {simulator.url}", flush=True)
        stop.wait()
    finally:
        simulator.stop()
    return 0


def _credentials(given: str | None, parser: argparse.ArgumentParser) -> tuple[str, str] | None:
    if given is not None:
        user, sep, password = given.partition(":")
        if not sep:
            parser.error("--basic takes USER:PASSWORD")
        return user, password
    secret = os.environ.get("CARRIER_PASSWORD")
    return (os.environ.get("CARRIER_USER") or "acme-shipping", secret) if secret else None


if __name__ == "__main__":
    sys.exit(main())
