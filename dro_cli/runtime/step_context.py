"""The template context of a step's attempt (DESIGN 3.5): what handlers render with and flows read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dro_cli.engine.machine import Engine


class StepContexts:
    """Contexts for the attempts of one plan; the order and its items are gathered once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        context = engine.plan["context"]
        self._items: Mapping[str, Any] = context["items"]
        self._bundles: Mapping[str, Any] = context["bundles"]
        self._order = {**context["order"], "items": list(self._items.values())}

    def of(self, sid: str, attempt: int) -> dict[str, Any]:
        """`order` (with `items`, the fulfillment items), `item`, `bundle`, `plan`, `step` and the
        `outputs` of the step's dependencies."""
        step = self.engine.steps[sid]
        return {
            "order": self._order,
            "item": self._items.get(step["item"]) if step["item"] else None,
            "bundle": self._bundles.get(step["bundle"]) if step["bundle"] else None,
            "plan": {"id": self.engine.order_id},
            "step": {"id": sid, "attempt": attempt},
            "outputs": self.engine.dependency_outputs(sid),
        }
