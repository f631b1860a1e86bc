"""`dro serve`: a read-only dashboard of the state directory, over the standard library's HTTP server.

    /                          every order: state, progress, fallout and jeopardy counts
    /orders/<id>               the order's plan view (`dro view`), reloaded as its journal grows
    /api/orders                the dashboard's rows as JSON, and the orders that cannot be read
    /api/orders/<id>/version   the journal's size: the plan view polls it to know when to reload

It reads through digests and folds, never takes a lock and writes nothing but digests
(the caches scans leave). GET and HEAD (the headers of GET, for health checks) are
answered, OPTIONS says so, and every other method is refused with 405. A request whose
Host header names another server gets 421 (serve_hosts.py: DNS rebinding), one without
a valid Host 400.
"""

from __future__ import annotations

import json
import os
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from dro_cli.errors import DroError
from dro_cli.journal.file import JOURNAL_FILE
from dro_cli.journal.order_errors import about_order
from dro_cli.journal.path_errors import path_error
from dro_cli.journal.store import order_ids
from dro_cli.output.serve_hosts import BadHost, HostCheck, address_family
from dro_cli.runtime.clock import now
from dro_cli.runtime.queues import Scan, jeopardy_rows

POLL_MS = 1000  # how often pages ask whether something changed

_LIVE_SCRIPT = """<script>
(function () {
  var version = %(version)s;
  setInterval(function () {
    fetch("/api/orders/%(order)s/version", {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (d) { if (d.version !== version) { location.reload(); } })
      .catch(function () {});
  }, %(poll)d);
})();
</script>
"""


def dashboard(root: Path, at: float) -> dict[str, Any]:
    """`orders`: one row per order (state, revision, progress, steps in fallout, steps in jeopardy or late at `at`);
    `unreadable`: the orders that cannot be read, each with why."""
    scan = Scan(root)
    digests = list(scan.digests())
    late: dict[str, int] = {}
    for row in jeopardy_rows(digests, at):
        late[row["order"]] = late.get(row["order"], 0) + 1
    rows = [{"order": d["order"], "state": d["state"], "revision": d["summary"]["revision"],
             "finished": d["progress"][0], "canceled": d["progress"][1], "total": d["progress"][2],
             "fallout": len(d["fallout"]), "jeopardy": late.get(d["order"], 0)} for d in digests]
    return {"orders": rows, "unreadable": [{"order": order, "error": why} for order, why in scan.unreadable]}


def make_server(root: Path, host: str, port: int, allowed_hosts: tuple[str, ...] = ()) -> ThreadingHTTPServer:
    """A server of `root`'s orders on `host`:`port`, answering requests for `host`, localhost,
    any address literal and `allowed_hosts`."""
    handler = type("DashboardHandler", (_Handler,), {"root": root, "hosts": HostCheck.for_bind(host, allowed_hosts)})
    server_class: type[ThreadingHTTPServer] = type("DashboardServer", (ThreadingHTTPServer,),
                                                   {"address_family": address_family(host)})
    server = server_class((host, port), handler)
    server.daemon_threads = True
    return server


ALLOWED = "GET, HEAD, OPTIONS"


class _Handler(BaseHTTPRequestHandler):
    root: Path
    hosts: HostCheck
    server_version = "dro-serve"
    _head = False  # answering HEAD: the headers GET would send, no body

    def parse_request(self) -> bool:
        """The standard parse, then the Host check, before any method sees the request."""
        if not super().parse_request():
            return False
        try:
            ours = self.hosts.accepts(self.headers.get("Host"))
        except BadHost as error:
            self._head, self.close_connection = self.command == "HEAD", True
            self._send(HTTPStatus.BAD_REQUEST, "text/plain", f"{error}\n")
            return False
        if not ours:
            self._head, self.close_connection = self.command == "HEAD", True
            self._send(HTTPStatus.MISDIRECTED_REQUEST, "text/plain",
                       "this server answers only for its own host names; start it with --allow-host NAME "
                       "to add one\n")
            return False
        return True

    def do_HEAD(self) -> None:
        self._head = True
        self.do_GET()

    def do_OPTIONS(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Allow", ALLOWED)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        parts = [part for part in path.split("/") if part]
        try:
            if not parts:
                self._send(HTTPStatus.OK, "text/html", _dashboard_page())
            elif parts == ["api", "orders"]:
                self._json(dashboard(self.root, now()))
            elif len(parts) == 4 and parts[:2] == ["api", "orders"] and parts[3] == "version":
                self._json({"version": self._version(parts[2])})
            elif len(parts) == 2 and parts[0] == "orders":
                self._send(HTTPStatus.OK, "text/html", self._plan_page(parts[1]))
            else:
                self._send(HTTPStatus.NOT_FOUND, "text/plain", "not found\n")
        except _NoOrder:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", "no such order\n")
        except (DroError, OSError) as error:  # a damaged journal, an order that cannot be read: say so, keep serving
            message = error.message if isinstance(error, DroError) else path_error(error, action="read").message
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, "text/plain", f"error: {message}\n")

    def do_POST(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, "text/plain", "the dashboard is read-only\n")

    do_PUT = do_DELETE = do_PATCH = do_TRACE = do_CONNECT = do_POST

    def _order_dir(self, order_id: str) -> Path:
        if order_id not in order_ids(self.root):  # also keeps paths inside the state directory
            raise _NoOrder(order_id)
        return self.root / "orders" / order_id

    def _version(self, order_id: str) -> int:
        return os.stat(self._order_dir(order_id) / JOURNAL_FILE).st_size

    def _plan_page(self, order_id: str) -> str:
        from dro_cli.journal.store import read_order
        from dro_cli.output.views.plan_html import render_html
        from dro_cli.runtime.status import order_status

        order_dir = self._order_dir(order_id)
        version = os.stat(order_dir / JOURNAL_FILE).st_size
        at = now()
        with about_order(order_id):
            view = read_order(order_dir)
            page = render_html(view.engine.plan, order_status(view, at), at)  # the live revision's plan
        # the order id goes in url-quoted: no quote or `<` of it can end the string or the element
        live = _LIVE_SCRIPT % {"version": version, "order": _url_safe(order_id), "poll": POLL_MS}
        return page.replace("</body>", live + "</body>", 1)

    def _json(self, data: Any) -> None:
        self._send(HTTPStatus.OK, "application/json", json.dumps(data, ensure_ascii=False, sort_keys=True))

    def _send(self, status: HTTPStatus, kind: str, text: str) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if status is HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", ALLOWED)
        self.end_headers()
        if not self._head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a dashboard polled every second would flood the terminal."""


class _NoOrder(Exception):
    pass


def _url_safe(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _dashboard_page() -> str:
    from importlib import resources

    return resources.files("dro_cli.output.views").joinpath("templates", "dashboard.html").read_text(encoding="utf-8") \
        .replace("__POLL_MS__", str(POLL_MS))
