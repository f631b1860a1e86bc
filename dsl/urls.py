"""Endpoint base URLs and HTTP header names: what a callout can send, decided once for validate and run."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

SCHEMES = ("http", "https")
EXAMPLE = "http://127.0.0.1:8081"
# RFC 9110 5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class BaseUrl(NamedTuple):
    scheme: str
    host: str
    port: int
    prefix: str  # the URL's path without a trailing slash: a callout's path is appended to it


class UrlProblem(NamedTuple):
    what: str  # "'127.0.0.1:1' has no scheme"
    fix: str


def parse_base_url(text: str) -> BaseUrl:
    """The parts of an endpoint's base URL; ValueError saying what is wrong, and how to fix it, when it has none."""
    problem = url_problem(text)
    if problem is not None:
        raise ValueError(f"{problem.what}; {problem.fix}")
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return BaseUrl(scheme, parts.hostname or "", port, parts.path.rstrip("/"))


def url_problem(text: str) -> UrlProblem | None:
    """What keeps `text` from being an http(s)://host[:port][/prefix] base URL, if anything.

    Messages show the URL with any user name and password masked: an env() value may hold
    a secret, and these messages reach the journal.
    """
    url = text.strip()
    if not url:
        return UrlProblem("the URL is empty", f"write the endpoint's base URL, such as '{EXAMPLE}'")
    shown = masked(url)
    odd = next((c for c in url if c.isspace() or not c.isprintable()), None)
    if odd is not None:
        return UrlProblem(f"'{shown}' contains {'a space' if odd == ' ' else repr(odd)}",
                          "remove it (a space in a path is written %20)")
    if "://" not in url:
        return UrlProblem(f"'{shown}' has no scheme", f"write 'http://{shown}' (or https://)")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unbalanced '[' of an IPv6 address
        return UrlProblem(f"'{shown}' is not a URL ({exc})", f"write it as '{EXAMPLE}' or 'http://[::1]:8081'")
    if parts.scheme.lower() not in SCHEMES:
        return UrlProblem(f"'{shown}' has the scheme '{parts.scheme}'",
                          "callouts speak HTTP: write http:// or https://")
    host_port = parts.netloc.rpartition("@")[2]
    if not parts.hostname or host_port.startswith(":"):
        return UrlProblem(f"'{shown}' has no host", f"write the host after '://', as in '{EXAMPLE}'")
    if "@" in parts.netloc:
        return UrlProblem(f"'{shown}' has a user name or password in it, which callouts do not send",
                          "remove it; give the endpoint `auth` with a secret from the environment")
    port = _port_text(host_port)
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        return UrlProblem(f"'{shown}' has the port '{port}'", "a port is a number from 1 to 65535")
    if parts.query or url.endswith("?"):
        return UrlProblem(f"'{shown}' has a query ('?{parts.query}'), which a base URL cannot keep",
                          "callouts append their path to the base URL: put the query in the steps' path")
    if parts.fragment or url.endswith("#"):
        return UrlProblem(f"'{shown}' has a fragment ('#{parts.fragment}'), which is never sent", "remove it")
    return None


def masked(url: str) -> str:
    """`url` with the user name and password of its authority, if any, replaced by ***."""
    start = url.find("://")
    start = 0 if start < 0 else start + 3
    end = min((i for i in (url.find(c, start) for c in "/?#") if i >= 0), default=len(url))
    at = url.rfind("@", start, end)
    return url if at < 0 else url[:start] + "***" + url[at:]


def _port_text(host_port: str) -> str:
    if host_port.startswith("["):  # an IPv6 address: [::1]:8080
        return host_port.partition("]")[2].removeprefix(":")
    return host_port.partition(":")[2]


def header_value_problem(value: str) -> str | None:
    """Why `value` cannot be sent as a header value, if it cannot (http.client refuses line breaks)."""
    return "a header value cannot contain a line break" if "\n" in value or "\r" in value else None


def header_problem(name: str) -> str | None:
    """Why `name` cannot be an HTTP header name, if it cannot."""
    if _TOKEN.fullmatch(name):
        return None
    odd = next((c for c in name if not _TOKEN.fullmatch(c)), None)
    if odd is None:
        return "an HTTP header name cannot be empty"
    shown = "a space" if odd == " " else f"'{odd}'" if odd.isprintable() else repr(odd)
    return f"an HTTP header name cannot contain {shown}"


def path_problem(path: str) -> str | None:
    """Why a callout's rendered `path` could leave its endpoint's base path, or be read otherwise by
    servers and proxies, if it could: it must start with one '/', have no '.' or '..' segment (written
    percent-encoded either), and no '#' or '\\'. The same rule for the text written in a catalog
    (DRO213) and for the path an order's values rendered (refused before anything is sent)."""
    if not path.startswith("/"):
        return "it does not start with '/'"
    if path.startswith("//"):
        return "it starts with '//', which names a host rather than a path"
    for mark, name in (("#", "a '#'"), ("\\", "a '\\'")):
        if mark in path:
            return f"it contains {name}, which servers read in different ways"
    segments = path.partition("?")[0].split("/")
    dots = next((s for s in segments if unquote(s) in (".", "..")), None)
    if dots is not None:
        return f"it has the segment '{dots}', a relative step servers resolve ('..' climbs out of the base path)"
    return None
