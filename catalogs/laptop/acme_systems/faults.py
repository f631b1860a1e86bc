"""Faults on purpose: a path that answers an error status for a while, or answers late."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from acme_systems.api import ApiError, Json


@dataclass
class Fault:
    """What goes wrong on a path: wait `delay` seconds, then answer `status` to the next `count` requests
    (every request when `count` is None). A fault on `/entitlements` also covers `/entitlements/ID`."""

    status: int | None = None
    count: int | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"fault status must be 400 to 599, not {self.status}")
        if self.count is not None and self.count < 0:
            raise ValueError(f"fault count must be 0 or more, not {self.count}")
        if not 0 <= self.delay < math.inf:
            raise ValueError(f"fault delay must be 0 or more seconds, not {self.delay}")

    @classmethod
    def from_json(cls, data: object) -> Fault:
        if not isinstance(data, dict) or set(data) - {"status", "count", "delay"}:
            raise ValueError('a fault is an object with "status", "count" and/or "delay"')
        status, count, delay = data.get("status"), data.get("count"), data.get("delay", 0)
        if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (status, count)):
            raise ValueError("fault status and count must be integers")
        if isinstance(delay, bool) or not isinstance(delay, (int, float)):
            raise ValueError("fault delay must be a number of seconds")
        return cls(status, count, float(delay))

    def to_json(self) -> Json:
        return {"status": self.status, "count": self.count, "delay": self.delay}


def parse_faults(fail: Iterable[str] = (), delay: Iterable[str] = ()) -> dict[str, Fault]:
    """Faults from the command line's `PATH=STATUS[:COUNT]` and `PATH=SECONDS` forms."""
    faults: dict[str, Fault] = {}
    for spec in fail:
        path, value = _split_spec(spec, "PATH=STATUS[:COUNT]")
        status, _, count = value.partition(":")
        try:
            fault = faults.get(path, Fault())
            faults[path] = Fault(int(status), int(count) if count else None, fault.delay)
        except ValueError as exc:
            raise ValueError(f"bad --fail {spec!r}: {exc}") from None
    for spec in delay:
        path, value = _split_spec(spec, "PATH=SECONDS")
        try:
            fault = faults.get(path, Fault())
            faults[path] = Fault(fault.status, fault.count, float(value))
        except ValueError as exc:
            raise ValueError(f"bad --delay {spec!r}: {exc}") from None
    return faults


def faults_from_json(data: Json) -> dict[str, Fault]:
    """The body of `POST /_faults`: {"/reservations": {"status": 503, "count": 2}, "/picks": {"delay": 1.5}}."""
    faults: dict[str, Fault] = {}
    for path, fault in data.items():
        try:
            if not path.startswith("/"):
                raise ValueError("a fault's path starts with '/'")
            faults[path] = Fault.from_json(fault)
        except ValueError as exc:
            raise ApiError(400, f"bad fault for {path!r}: {exc}") from None
    return faults


def _split_spec(spec: str, form: str) -> tuple[str, str]:
    path, sep, value = spec.partition("=")
    if not sep or not path.startswith("/") or not value:
        raise ValueError(f"bad fault {spec!r}: expected {form}, e.g. /reservations=503:2")
    return path, value
