"""The template context of a step's attempt (DESIGN 3.5): what handlers render with and flows read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dro_cli.engine.machine import Engine

KEYS = ("order", "item", "bundle", "plan", "step", "outputs")


class StepContexts:
    """Contexts for the attempts of one plan; the order and its items are gathered once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        context = engine.plan["context"]
        self._items: Mapping[str, Any] = context["items"]
        self._bundles: Mapping[str, Any] = context["bundles"]
        self._order = {**context["order"], "items": list(self._items.values())}

    def of(self, sid: str, attempt: int) -> StepContext:
        """`order` (with `items`, the fulfillment items), `item`, `bundle`, `plan`, `step` and the
        `outputs` of the step's dependencies."""
        step = self.engine.steps[sid]
        return StepContext(self.engine, sid, {
            "order": self._order,
            "item": self._items.get(step["item"]) if step["item"] else None,
            "bundle": self._bundles.get(step["bundle"]) if step["bundle"] else None,
            "plan": {"id": self.engine.order_id},
            "step": {"id": sid, "attempt": attempt},
        })


class StepContext(Mapping[str, Any]):
    """One attempt's context, its `outputs` gathered on first read: most no-op flows and commands render
    nothing. The dependencies are finished before the step starts, so their outputs no longer change
    and reading them later (on a handler's thread) gives what reading them at the start would."""

    __slots__ = ("_engine", "_sid", "_values")

    def __init__(self, engine: Engine, sid: str, values: dict[str, Any]) -> None:
        self._engine = engine
        self._sid = sid
        self._values = values

    def __getitem__(self, key: str) -> Any:
        values = self._values
        if key == "outputs" and key not in values:
            values[key] = self._engine.dependency_outputs(self._sid)  # two threads at once compute the same
        return values[key]

    def get(self, key: str, default: Any = None) -> Any:
        """As Mapping.get, without its detour through __getitem__ and KeyError (a flow's context reads three)."""
        values = self._values
        if key in values:
            return values[key]
        return self[key] if key in KEYS else default

    def __iter__(self) -> Iterator[str]:
        return iter(KEYS)

    def __len__(self) -> int:
        return len(KEYS)

    def __contains__(self, key: object) -> bool:
        return key in KEYS
