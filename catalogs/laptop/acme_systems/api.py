"""What every simulated system shares: the request a route gets, the error it refuses with, fields and ids."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]
Answer = tuple[int, Json]  # (HTTP status, JSON body)


class ApiError(Exception):
    """A request the simulator refuses: becomes a JSON error response."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Call:
    """A request that reached its route: the JSON body, what ids derive from (path and idempotency key), and
    the ID of `/entitlements/ID`."""

    body: Json
    seed: str
    target: str = ""


def ref(prefix: str, *parts: str) -> str:
    return f"{prefix}-{digest(*parts)[:10].upper()}"


def digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def text(body: Json, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, f"field {name!r} must be a non-empty string")
    return value


def count(body: Json, name: str) -> int:
    """A positive count; templates render numbers as strings, so "2" is 2."""
    value = body.get(name)
    try:
        number = int(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else 0
    except ValueError:
        number = 0
    if number < 1:
        raise ApiError(422, f"field {name!r} must be a positive integer")
    return number


def json_object(raw: bytes) -> Json:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body
