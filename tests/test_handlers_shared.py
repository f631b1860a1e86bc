"""Per-run caching by identity: the same object gives the cached result, an equal but other object does not."""

from __future__ import annotations

from typing import Any

from dro_cli.runtime.handlers.shared import by_identity


def test_results_are_cached_per_identity_of_the_arguments() -> None:
    calls: list[Any] = []

    @by_identity
    def frozen(value: dict[str, Any]) -> tuple[Any, ...]:
        calls.append(value)
        return tuple(value.items())

    order = {"id": "ORD-1"}
    assert frozen(order) is frozen(order)
    twin = {"id": "ORD-1"}
    assert frozen(twin) == frozen(order) and len(calls) == 2  # equal is not the same: computed again
