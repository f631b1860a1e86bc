"""The clock every command reads: the real one, or the instant DRO_NOW names (DESIGN 7)."""

from __future__ import annotations

import os
import time

from dro_cli.engine.instants import parse_instant


def now(environ: dict[str, str] | None = None) -> float:
    """Now, as seconds since the epoch: DRO_NOW if set, else the system clock."""
    text = (os.environ if environ is None else environ).get("DRO_NOW", "").strip()
    return parse_instant(text, source="DRO_NOW") if text else time.time()
