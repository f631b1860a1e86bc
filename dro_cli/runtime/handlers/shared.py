"""Work done once per run rather than once per step: results cached by the identity of their inputs."""

from __future__ import annotations

import functools
import operator
import threading
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")
_LIMIT = 1024


def by_identity(function: Callable[..., R]) -> Callable[..., R]:
    """Cache `function` per identity of its arguments: for the values every step of a run shares (the
    plan's order, items and endpoints, the run's environment), which nothing mutates. The cache holds
    the arguments, so an id is never reused for another object while its entry lives."""
    cache: dict[tuple[int, ...], tuple[tuple[Any, ...], R]] = {}
    lock = threading.Lock()

    @functools.wraps(function)
    def cached(*args: Any) -> R:
        key = tuple(map(id, args))
        hit = cache.get(key)
        if hit is not None and all(map(operator.is_, hit[0], args)):  # same ids, same length
            return hit[1]
        result = function(*args)
        with lock:
            if len(cache) >= _LIMIT:
                cache.clear()
            cache[key] = (args, result)
        return result

    return cached
