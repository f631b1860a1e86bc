"""Retry policies (DESIGN 5): when the next try of a failed step is due, if there is one, and which policy
and fallout queue a failure gets."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` counts the tries after the first: `retries: 2` means at most three tries."""

    policy: str  # immediate | monotonous | staggered | exponential
    retries: int
    interval: float = 0.0
    intervals: tuple[float, ...] = ()
    initial: float = 0.0
    factor: float = 2.0
    maximum: float | None = None

    def __post_init__(self) -> None:
        if self.policy not in _DELAYS:
            raise ValueError(f"unknown retry policy {self.policy!r}")
        if self.retries < 0:
            raise ValueError("retries must be at least 0")

    @classmethod
    def from_plan(cls, data: Mapping[str, Any] | None) -> RetryPolicy | None:
        """The policy as the plan stores it (durations in seconds); None means no retry."""
        if not data:
            return None
        intervals = tuple(float(v) for v in data.get("intervals") or ())
        retries = len(intervals) if data["policy"] == "staggered" else int(data.get("retries", 0))
        return cls(data["policy"], retries, float(data.get("interval") or 0), intervals,
                   float(data.get("initial") or 0), float(data.get("factor") or 2),
                   None if data.get("max") is None else float(data["max"]))

    def delay_after(self, attempt: int) -> float | None:
        """Seconds from the failure of try `attempt` (1 = the first) to the next try; None: no tries left."""
        if attempt > self.retries:
            return None
        delay: float = _DELAYS[self.policy](self, attempt)
        return delay

    def longest_delay(self) -> float:
        """The longest wait between two tries (0 without retries): what a plan's times must have room for."""
        if self.retries == 0:
            return 0.0
        if self.policy == "staggered":
            return max(self.intervals)
        delay = _DELAYS[self.policy]
        longest: float = max(delay(self, 1), delay(self, self.retries))
        return longest


def _exponential(policy: RetryPolicy, attempt: int) -> float:
    try:
        delay = policy.initial * policy.factor ** (attempt - 1)
    except OverflowError:  # factor ** attempt beyond any float: the maximum, if there is one, still holds
        delay = math.inf
    return delay if policy.maximum is None else min(delay, policy.maximum)


_DELAYS = {
    "immediate": lambda policy, attempt: 0.0,
    "monotonous": lambda policy, attempt: policy.interval,
    "staggered": lambda policy, attempt: policy.intervals[attempt - 1],
    "exponential": _exponential,
}


def for_error(step: Mapping[str, Any], code: str) -> Mapping[str, Any]:
    """The `retry` and `queue` a plan step's failure with error `code` gets: the step's own, unless a
    fallout rule for that code overrides them (planning.settings resolves the overrides)."""
    return next((override for override in step.get("fallout") or () if override["error"] == code), step)


def override_queues(step: Mapping[str, Any], default: str) -> set[str]:
    """The queue each error code's failure of `step` goes to, as `for_error` picks it (the code's first
    override), for every code the step's overrides name at once."""
    first: dict[str, Mapping[str, Any]] = {}
    for override in step.get("fallout") or ():
        first.setdefault(override["error"], override)
    return {override.get("queue") or default for override in first.values()}
