"""Durations: `30s`, `15m`, `4h`, `2d`, `1h30m`, as seconds."""

from __future__ import annotations

import functools
import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+\Z")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int | float | None:
    """Seconds in `text` (whole seconds as int), or None if it is not a duration."""
    return _seconds(text) if isinstance(text, str) else None


@functools.lru_cache(maxsize=4096)  # catalogs repeat a few durations thousands of times
def _seconds(text: str) -> int | float | None:
    if not _WHOLE.match(text):
        return None
    total = sum(float(n) * _SECONDS[unit] for n, unit in _PART.findall(text))
    total = round(total, 3)
    return int(total) if total == int(total) else total


def format_duration(seconds: float) -> str:
    """The shortest duration text for `seconds`, e.g. 5400 -> "1h30m"."""
    if seconds != int(seconds):
        return f"{round(seconds * 1000)}ms"
    rest, parts = int(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts) or "0s"
