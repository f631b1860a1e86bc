"""Kept-alive HTTP connections: each used by one callout at a time, returned afterwards for the next one.

Idle connections wait in a pool per (scheme, host, port, CA file). A callout checks one
out, so no two threads ever share a connection, and puts it back when the response is
read in full. Before reuse, a connection is polled: one the server has closed (or that
holds unexpected bytes) is dropped without sending anything on it. `close_connections`
closes the idle ones; it also runs at exit.

Servers close idle connections after a while (5 s for Node and Apache, 75 s for nginx);
a request sent just as that happens is lost in flight, and the caller cannot always
tell whether the server acted on it. So a connection is kept idle for at most
MAX_IDLE_SECONDS, or less when the server's `Keep-Alive: timeout=N` says so (N - 1 s,
as Node's agent does).

A callout's timeout is a deadline for its whole exchange, not for each read: connecting,
the TLS handshake, sending and every read of the answer wait at most for what is left
of it (`Connection`), so a server that trickles its answer a byte at a time fails at the
timeout rather than succeeding much later.
"""

from __future__ import annotations

import atexit
import functools
import http.client
import io
import math
import select
import socket
import ssl
import threading
import time
from typing import Any

Key = tuple[str, str, int, str | None]  # scheme, host, port, CA file (https)

MAX_IDLE = 16  # per key; more than the runner's worker threads
MAX_IDLE_SECONDS = 4.0

_idle: dict[Key, list[tuple[float, Connection]]] = {}  # (until, connection)
_lock = threading.Lock()


def seconds_left(deadline: float) -> float:
    """What is left until `deadline` (time.monotonic()); TimeoutError when nothing is."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the callout's deadline passed")
    return left


class Connection(http.client.HTTPConnection):
    """An HTTP connection whose every wait ends at `deadline` (time.monotonic()), set before each exchange."""

    deadline = math.inf

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = self._connect_tcp

    def _connect_tcp(self, address: tuple[str, int], timeout: Any, source_address: Any) -> socket.socket:
        sock = socket.create_connection(address, seconds_left(self.deadline), source_address)
        sock.settimeout(seconds_left(self.deadline))  # for the TLS handshake that may follow
        return sock

    def connect(self) -> None:
        super().connect()
        assert self.sock is not None
        self.sock.settimeout(seconds_left(self.deadline))  # for sending the request (sendall: all of it)

    def response_class(self, sock: socket.socket, *args: Any, **kwargs: Any) -> http.client.HTTPResponse:  # type: ignore[override]
        """The response, reading from `sock` until this exchange's deadline."""
        return http.client.HTTPResponse(_UntilDeadline(sock, self.deadline), *args, **kwargs)  # type: ignore[arg-type]


class TLSConnection(Connection, http.client.HTTPSConnection):
    """Connection over TLS. The handshake, in HTTPSConnection.connect, is within the deadline too: CPython's
    ssl takes the socket's timeout, set to what is left, as one deadline for the whole handshake, not
    for each read of it (tests/test_handlers_callout.py has a server that trickles one)."""


class _UntilDeadline:
    """What an HTTPResponse reads from: its socket's file, each read given only what is left of the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self.sock, self.deadline))


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self.sock = sock
        self.raw = sock.makefile("rb", buffering=0)  # keeps the socket open while the response reads
        self.deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        self.sock.settimeout(seconds_left(self.deadline))
        return self.raw.readinto(buffer)

    def close(self) -> None:
        self.raw.close()
        super().close()


def checkout(key: Key, deadline: float) -> tuple[Connection, bool]:
    """A live idle connection for `key` and True, or a new (not yet connected) one and False; either
    waits for nothing past `deadline` (time.monotonic())."""
    while True:
        with _lock:
            idle = _idle.get(key)
            until, connection = idle.pop() if idle else (0.0, None)
        if connection is None:
            break
        if time.monotonic() < until and _alive(connection):
            connection.deadline = deadline
            assert connection.sock is not None
            connection.sock.settimeout(seconds_left(deadline))
            return connection, True
        connection.close()
    scheme, host, port, cafile = key
    fresh = (TLSConnection(host, port, context=tls_context(cafile)) if scheme == "https"
             else Connection(host, port))
    fresh.deadline = deadline
    return fresh, False


def checkin(key: Key, connection: Connection, keep_alive: str | None = None) -> None:
    """Put back a connection whose response was read in full; `keep_alive` is the response's Keep-Alive header."""
    seconds = min(MAX_IDLE_SECONDS, _server_idle_timeout(keep_alive) - 1.0)
    now = time.monotonic()
    expired: list[Connection] = []
    with _lock:
        for pool in _idle.values():  # drop what expired everywhere, so nothing lingers until exit
            if pool and pool[0][0] <= now:
                expired.extend(c for until, c in pool if until <= now)
                pool[:] = [(until, c) for until, c in pool if until > now]
        idle = _idle.setdefault(key, [])
        if seconds > 0 and len(idle) < MAX_IDLE:
            idle.append((now + seconds, connection))
        else:
            expired.append(connection)
    for stale in expired:
        stale.close()


def _server_idle_timeout(keep_alive: str | None) -> float:
    """The `timeout=N` of a Keep-Alive header ("timeout=5, max=100"), or infinity."""
    for part in (keep_alive or "").split(","):
        name, _, value = part.partition("=")
        if name.strip().lower() == "timeout":
            try:
                return float(value.strip())
            except ValueError:
                break
    return float("inf")


def close_connections() -> None:
    """Close every idle connection (connections in use are closed or returned by their callout)."""
    with _lock:
        pools = list(_idle.values())
        _idle.clear()
    for pool in pools:
        for _, connection in pool:
            connection.close()


atexit.register(close_connections)


def _alive(connection: http.client.HTTPConnection) -> bool:
    """False when the server closed the connection or sent something nobody asked for."""
    sock = connection.sock
    if sock is None:
        return False
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return False
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return not poller.poll(0)
        readable, _, _ = select.select([sock], [], [], 0)
        return not readable
    except (OSError, ValueError):  # a closed descriptor
        return False


@functools.lru_cache(maxsize=8)
def tls_context(cafile: str | None) -> ssl.SSLContext:
    """The verifying TLS context: the system's CAs, or only those of `cafile` (SSL_CERT_FILE)."""
    return ssl.create_default_context(cafile=cafile)
