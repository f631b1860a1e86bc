"""Endpoint URLs and credentials from the environment, and the redactor that keeps secrets out of the journal."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from dro_cli.runtime.handlers.base import Outcome
from dro_cli.runtime.handlers.shared import by_identity

MASK = "***"


class MissingEnv(Exception):
    """An `env("NAME")` reference without a default whose variable is not set."""

    def __init__(self, name: str, where: str) -> None:
        super().__init__(f"environment variable {name} is not set ({where})")
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
    """The headers an endpoint's `auth` adds: bearer, basic or a named header. Raises MissingEnv."""
    if not auth:
        return {}
    where = f"endpoint {endpoint}, auth"
    if "bearer" in auth:
        return {"Authorization": "Bearer " + resolve(auth["bearer"], environ, where)}
    if "basic" in auth:
        basic = auth["basic"]
        user = resolve(basic["username"], environ, where)
        password = resolve(basic["password"], environ, where)
        return {"Authorization": "Basic " + _basic_token(user, password)}
    if "header" in auth:
        header = auth["header"]
        return {str(header["name"]): resolve(header["value"], environ, where)}
    raise ValueError(f"endpoint {endpoint}: unknown auth form {sorted(auth)}")


def _basic_token(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def secret_values(endpoints: Mapping[str, Any], environ: Mapping[str, str]) -> set[str]:
    """Every credential of every endpoint that resolves, in the forms it may travel in.

    Literal strings (a basic username written in the catalog) are not secrets; values
    from the environment and the basic token built from them are. Unset variables are
    skipped: the handler that needs one reports it.
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
                    value = environ.get(ref["env"]) or ref.get("default")
                    if isinstance(value, str) and value:
                        found.add(value)
            if form == "basic":
                with contextlib.suppress(MissingEnv, KeyError, TypeError):
                    found.add(_basic_token(resolve(spec["username"], environ, ""),
                                           resolve(spec["password"], environ, "")))
    return found


class Redactor:
    """Replaces every secret value with "***" in texts and (recursively) in outputs."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if secret:
                # As sent, JSON-escaped (an echoed body) and percent-encoded (an echoed URL).
                variants.update({secret, json.dumps(secret, ensure_ascii=False)[1:-1], quote(secret, safe="")})
        # Longest first, so that a secret holding another is replaced whole.
        self._secrets = tuple(sorted(variants, key=lambda s: (-len(s), s)))

    @classmethod
    def for_endpoints(cls, endpoints: Mapping[str, Any], environ: Mapping[str, str]) -> Redactor:
        return cls(secret_values(endpoints, environ))

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

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
        return Outcome(self.value(outcome.outputs), outcome.error, self.text(outcome.message), outcome.retryable)


redactor_for = by_identity(Redactor.for_endpoints)  # one per run: the plan's endpoints, the run's environment
