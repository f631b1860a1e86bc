"""Which Host headers `dro serve` answers: a guard against DNS rebinding.

A web page on evil.example can point its own name at 127.0.0.1 and then read the
dashboard through its visitor's browser: the request arrives on loopback, but its
Host header still says evil.example. So a request is answered only when its
Host names this server: `localhost`, the name or address it was bound to, a name
given with `--allow-host`, or any IP address literal (a rebinding attack needs a name
it controls; an address cannot be re-pointed). Webpack's dev server and Vite draw
the same line.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass

# host [":" port], with an IPv6 literal in brackets (RFC 9110 section 7.2, RFC 3986 section 3.2.2)
_HOST = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))(?::(?P<port>[0-9]{1,5}))?")


class BadHost(ValueError):
    """A Host header that is missing or not a host."""


@dataclass(frozen=True)
class HostCheck:
    """The host names a server bound to `bound` accepts, besides address literals."""

    names: frozenset[str]

    @classmethod
    def for_bind(cls, bound: str, allowed: Iterable[str] = ()) -> HostCheck:
        names = {"localhost", *(_normal(name) for name in allowed)}
        if not _is_address(bound) and bound:
            names.add(_normal(bound))
        return cls(frozenset(names))

    def accepts(self, header: str | None) -> bool:
        """Whether a request with this Host header is for this server. Raises BadHost for a malformed one."""
        host = host_of(header)
        return _is_address(host) or host in self.names


def host_of(header: str | None) -> str:
    """The host of a Host header, lower case, without port or brackets."""
    if header is None or not header.strip():
        raise BadHost("the request has no Host header")
    match = _HOST.fullmatch(header.strip())
    if match is None or (match["port"] is not None and int(match["port"]) > 65535):
        raise BadHost("the Host header is not a host name or address, with an optional port")
    if match["v6"] is not None:
        if not _is_address(match["v6"]):
            raise BadHost("the Host header's brackets do not hold an IPv6 address")
        return match["v6"].lower()
    return _normal(match["name"])


def address_family(host: str) -> socket.AddressFamily:
    """IPv6 for an IPv6 literal (`::1`, `::`), IPv4 for everything else."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _normal(name: str) -> str:
    return name.strip().rstrip(".").lower()  # `localhost.` is `localhost`


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True
