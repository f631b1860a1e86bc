"""The clock every command reads: the real one, or the instant DRO_NOW names (DESIGN 7)."""

from __future__ import annotations

import functools
import os
import time
from datetime import UTC, datetime

from dro_cli.errors import EXIT_USAGE, DroError


def now(environ: dict[str, str] | None = None) -> float:
    """Now, as seconds since the epoch: DRO_NOW if set, else the system clock."""
    text = (os.environ if environ is None else environ).get("DRO_NOW", "").strip()
    return parse_instant(text, source="DRO_NOW") if text else time.time()


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
    """Seconds since the epoch as the journal writes instants: UTC, `Z`, milliseconds only when needed."""
    moment = datetime.fromtimestamp(round(instant, 3), UTC).replace(tzinfo=None)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text + "Z"


def iso_or_none(instant: float | None) -> str | None:
    return None if instant is None else iso(instant)
