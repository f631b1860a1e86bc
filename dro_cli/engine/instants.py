"""Instants as the journal writes them: ISO 8601 text to seconds since the epoch, and back.

Pure conversions: reading the clock is the host's business (`dro_cli.runtime.clock`).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from dro_cli.errors import EXIT_USAGE, DroError

# The instants ISO text can write (a day's margin at the start, where local time would fall before
# the year 1). Durations are bounded (dsl/limits.py), but sums of them (an expected completion along a
# long chain of steps) and exponential retries are not: later instants are written as the last one,
# which says "never, in practice" without breaking.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC).timestamp()  # 0001-01-02T00:00:00Z
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()  # 9999-12-31T23:59:59Z


@functools.lru_cache(maxsize=4096)  # journals repeat their timestamps, one per batch
def parse_instant(text: str, *, source: str = "timestamp") -> float:
    """An ISO 8601 instant (`2026-12-01T10:00:00Z`; no zone means UTC) as seconds since the epoch."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DroError(f"{source} is not an ISO 8601 instant: {text!r}", exit_code=EXIT_USAGE,
                       hint="write it like 2026-12-01T10:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@functools.lru_cache(maxsize=4096)  # a batch of records, and the steps it touched, share one instant
def iso(instant: float) -> str:
    """Seconds since the epoch as the journal writes instants: UTC, `Z`, milliseconds only when needed.

    Instants beyond what the calendar holds (and NaN) are written as its first or last second.
    """
    clamped = LATEST if not instant <= LATEST else max(instant, EARLIEST)
    moment = datetime.fromtimestamp(round(clamped, 3), UTC).replace(tzinfo=None)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text + "Z"


def representable(instant: float) -> bool:
    """Whether `iso` can write `instant` (False for a time past the year 9999, before the year 1, or NaN)."""
    return EARLIEST <= instant <= LATEST


def iso_or_none(instant: float | None) -> str | None:
    return None if instant is None else iso(instant)
