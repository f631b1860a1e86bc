"""Endpoint URLs and credentials from the environment, and the redactor that keeps secrets out of the journal.

A credential is masked ("***") wherever it appears as a whole: not run together with a
letter or digit on either side. A value shorter than MIN_SECRET_LENGTH cannot be masked
without garbling the text around it (masking "e" turns every "e" of the journal into
"***"), so such a credential is never masked, and a callout refuses to send it
(`insecure_secret`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from dro_cli.runtime.handlers.base import Outcome
from dro_cli.runtime.handlers.shared import by_identity

MASK = "***"
MIN_SECRET_LENGTH = 8
# An escape that ends in a letter or digit (%20, \n, \u00e9, \x41) still separates what follows it.
_ESCAPE_BEFORE = re.compile(r"(?:%[0-9A-Fa-f]{2}|\\[bfnrt]|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2})\Z")


class MissingEnv(Exception):
    """An `env("NAME")` reference without a default whose variable is not set."""

    def __init__(self, name: str, where: str) -> None:
        super().__init__(f"environment variable {name} is not set ({where})")
        self.name = name


class InsecureSecret(Exception):
    """A credential too short to be masked in what dro writes: the callout is not sent."""

    def __init__(self, name: str, where: str, length: int) -> None:
        super().__init__(
            f"environment variable {name} ({where}) holds a credential of {length} character"
            f"{'' if length == 1 else 's'}; dro sends only credentials of {MIN_SECRET_LENGTH} or more, "
            f"which it can mask in the journal and every output without garbling other text")
        self.name = name


def resolve(ref: Any, environ: Mapping[str, str], where: str) -> str:
    """A literal string, or `{"env": NAME, "default": D}` looked up in `environ`.

    An empty variable counts as unset, as `${NAME:-default}` does in a shell: an empty
    token or URL is never what was meant.
    """
    if isinstance(ref, str):
        return ref
    if not isinstance(ref, Mapping):
        raise TypeError(f"expected a string or env(...) reference, got {type(ref).__name__}")
    name = ref.get("env")
    value = environ.get(name, "") if isinstance(name, str) else ""
    if value:
        return value
    default = ref.get("default")
    if isinstance(default, str):
        return default
    if isinstance(name, str):
        raise MissingEnv(name, where)
    raise TypeError("an env(...) reference names no variable and has no default")


def auth_headers(endpoint: str, auth: Mapping[str, Any] | None, environ: Mapping[str, str]) -> dict[str, str]:
    """The headers an endpoint's `auth` adds: bearer, basic or a named header.

    Raises MissingEnv, and InsecureSecret for a token, password or header value shorter
    than MIN_SECRET_LENGTH (a username is not a secret: any length goes).
    """
    if not auth:
        return {}
    where = f"endpoint {endpoint}, auth"
    if "bearer" in auth:
        return {"Authorization": "Bearer " + _credential(auth["bearer"], environ, where)}
    if "basic" in auth:
        basic = auth["basic"]
        user = resolve(basic["username"], environ, where)
        password = _credential(basic["password"], environ, where)
        return {"Authorization": "Basic " + _basic_token(user, password)}
    if "header" in auth:
        header = auth["header"]
        return {str(header["name"]): _credential(header["value"], environ, where)}
    raise ValueError(f"endpoint {endpoint}: unknown auth form {sorted(auth)}")


def _credential(ref: Any, environ: Mapping[str, str], where: str) -> str:
    value = resolve(ref, environ, where)
    if len(value) < MIN_SECRET_LENGTH and isinstance(ref, Mapping) and isinstance(ref.get("env"), str):
        raise InsecureSecret(ref["env"], where, len(value))
    return value


def _basic_token(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def secret_values(endpoints: Mapping[str, Any], environ: Mapping[str, str]) -> set[str]:
    """Every credential of every endpoint read from the environment, in the forms it may travel in.

    Literal strings and `env(...)` defaults are written in the catalog, so they are not
    secrets (a basic username); values from the environment, and the basic token built
    with them, are. Values shorter than MIN_SECRET_LENGTH are left out: they cannot be
    masked safely, and no callout sends them. Unset variables are skipped: the handler
    that needs one reports it.
    """
    found: set[str] = set()
    for endpoint in endpoints.values():
        auth = endpoint.get("auth") if isinstance(endpoint, Mapping) else None
        if not isinstance(auth, Mapping):
            continue
        for form, spec in auth.items():
            if not isinstance(spec, Mapping):
                continue
            refs = [spec] if form == "bearer" else [spec.get(k) for k in ("username", "password", "value")]
            for ref in refs:
                if isinstance(ref, Mapping) and isinstance(ref.get("env"), str):
                    found.add(environ.get(ref["env"]) or "")
            if form == "basic":
                with contextlib.suppress(MissingEnv, KeyError, TypeError):
                    password = resolve(spec["password"], environ, "")
                    if len(password) >= MIN_SECRET_LENGTH:
                        found.add(_basic_token(resolve(spec["username"], environ, ""), password))
    return {value for value in found if len(value) >= MIN_SECRET_LENGTH}


class Redactor:
    """Replaces every whole occurrence of a secret with "***" in texts and (recursively) in outputs.

    An occurrence is whole when no letter or digit touches it on either side, or only an
    escape does (`%20`, `\\n`): "tok-12345678" is masked in "Bearer tok-12345678" and in
    "?t=tok-12345678&", not in "xtok-12345678". Occurrences that overlap or touch (two
    secrets run together) are one occurrence.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET_LENGTH:
                # As sent, JSON-escaped (an echoed body, either way of escaping) and percent-encoded (an echoed URL).
                variants.update({secret, json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(secret)[1:-1],
                                 quote(secret, safe="")})
        self._secrets = tuple(sorted(variants, key=lambda s: (-len(s), s)))

    @classmethod
    def for_endpoints(cls, endpoints: Mapping[str, Any], environ: Mapping[str, str]) -> Redactor:
        return cls(secret_values(endpoints, environ))

    def joined(self, secrets: Iterable[str]) -> Redactor:
        """This redactor and `secrets` too (the values a command step's `env` passes)."""
        joined = Redactor(secrets)
        joined._secrets = tuple(sorted({*self._secrets, *joined._secrets}, key=lambda s: (-len(s), s)))
        return joined

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, text: str) -> str:
        masked = self._whole_occurrences(text)
        if not masked:
            return text
        out, at = [], 0
        for start, end in masked:
            out.append(text[at:start] + MASK)
            at = end
        return "".join(out) + text[at:]

    def _whole_occurrences(self, text: str) -> list[tuple[int, int]]:
        """The spans to mask, in order: runs of occurrences (overlapping or touching) that start
        and end at a separator."""
        found = []
        for secret in self._secrets:
            start = text.find(secret)
            while start != -1:
                found.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        if not found:
            return []
        found.sort()
        masked: list[tuple[int, int]] = []
        run: tuple[int, int] | None = None  # the occurrences so far that start at a separator, joined
        for start, end in found:
            if run is not None and start <= run[1]:
                run = (run[0], max(run[1], end))
            elif _separated_before(text, start):
                run = (start, end)
            else:
                continue
            if _separated_after(text, end):
                if masked and run[0] <= masked[-1][1]:
                    masked[-1] = (masked[-1][0], max(masked[-1][1], end))
                else:
                    masked.append((run[0], end))
        return masked

    def excerpt(self, text: str, limit: int) -> str:
        """The start of `text`, redacted before it is cut so that no part of a secret survives."""
        text = self.text(text)
        return text if len(text) <= limit else text[:limit] + "..."

    def value(self, value: Any) -> Any:
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def outcome(self, outcome: Outcome) -> Outcome:
        if not self._secrets:
            return outcome
        return Outcome(self.value(outcome.outputs), outcome.error, self.text(outcome.message), outcome.retryable,
                       outcome.notes)


def _separated_before(text: str, start: int) -> bool:
    """No letter or digit runs into text[start:] from the left (an escape before it separates)."""
    return start == 0 or not text[start - 1].isalnum() or not text[start].isalnum() or \
        _ESCAPE_BEFORE.search(text, max(0, start - 6), start) is not None


def _separated_after(text: str, end: int) -> bool:
    return end == len(text) or not text[end].isalnum() or not text[end - 1].isalnum()


redactor_for = by_identity(Redactor.for_endpoints)  # one per run: the plan's endpoints, the run's environment
