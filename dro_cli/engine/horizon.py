"""How far a plan's times reach: every instant the engine derives from a step's settings must be one the
journal can write (ISO 8601 dates run from the year 1 to 9999).

A duration of 99999999999d would put a due date in the year 273 million: the engine
could not journal it, and every read of the order would trip on it. Checked before
the plan is journaled, such a plan is refused with the step and the setting named,
and no order is left behind that cannot be read. The check is a bound from the time
the plan starts: a step becomes ready no earlier than its dependencies' expected ends
(as engine/forecast.py reckons them), and each timer or SLA threshold lies one
setting after that.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dro_cli.engine.instants import representable
from dro_cli.engine.retry import RetryPolicy


@dataclass(frozen=True)
class OutOfRange:
    """A step setting that takes an instant out of the range the journal can write."""

    step: str  # the step instance id
    setting: str  # duration, jeopardy, resume_after, retry
    seconds: float  # the setting's value (for retry: its longest wait)
    chained: bool = False  # in range alone, out of range after the expected ends of the steps before it


def out_of_range(plan: Mapping[str, Any], now: float) -> list[OutOfRange]:
    """The settings of `plan`'s steps that would take an instant out of range, if it starts at `now`:
    one a step, and none for a step only because one before it is out of range."""
    problems = []
    ends: dict[str, float] = {}
    for step in plan["steps"]:
        start = max((ends.get(d, now) for d in step["after"]), default=now)
        settings = list(_settings(step))
        problem = next((OutOfRange(step["id"], setting, seconds, chained=representable(now + offset))
                        for setting, seconds, offset in settings
                        if not (representable(now + offset) and representable(start + offset))), None)
        waits = [(seconds, setting) for setting, seconds, _ in settings if setting in ("resume_after", "retry")]
        wait, longest = max(waits, default=(0.0, "duration"))
        duration = step.get("duration") or 0
        end = start + duration + wait
        if problem is None and not representable(end):
            problem = OutOfRange(step["id"], "duration", duration, chained=True) if duration >= wait \
                else OutOfRange(step["id"], longest, wait, chained=True)
        if problem is not None:
            problems.append(problem)
            end = start  # its dependents are not out of range because of it, too
        ends[step["id"]] = end
    return problems


def _settings(step: Mapping[str, Any]) -> Iterator[tuple[str, float, float]]:
    """(setting, its seconds, how far after the step becomes ready it puts an instant)."""
    duration = step.get("duration")
    if duration is not None:
        yield "duration", duration, duration
        jeopardy = step.get("jeopardy")
        if jeopardy:
            yield "jeopardy", jeopardy, duration - jeopardy
    wait = (step.get("config") or {}).get("resume_after")
    if wait is not None:
        yield "resume_after", wait, wait
    longest = 0.0
    for settings in (step, *(step.get("fallout") or ())):
        policy = RetryPolicy.from_plan(settings.get("retry"))
        if policy is not None:
            longest = max(longest, policy.longest_delay())
    if longest:
        yield "retry", longest, longest
