"""Pause the cyclic garbage collector while a large batch of data is built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Catalogs and plans are hundreds of thousands of small acyclic objects that all stay
    alive until the batch ends; the collector would scan them again and again for cycles
    there are none of, which costs more than the work itself. Reference counting still
    frees everything; the collector runs again afterwards as it was.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
