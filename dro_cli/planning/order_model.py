"""Orders as the runtime sees them: the order, its items, and how items form bundles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACTIONS = ("add", "change", "delete", "no_change")


@dataclass(frozen=True)
class OrderItem:
    id: str
    product: str
    quantity: int = 1
    action: str = "add"
    attributes: Mapping[str, Any] = field(default_factory=dict)
    parent: str | None = None

    def as_context(self) -> dict[str, Any]:
        """The item as expressions and templates read it (`item.product`, `item.attributes.x`)."""
        return {"id": self.id, "product": self.product, "quantity": self.quantity, "action": self.action,
                "attributes": dict(self.attributes), "parent": self.parent}


@dataclass(frozen=True)
class Order:
    id: str
    account: str
    items: tuple[OrderItem, ...]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    requested_date: str | None = None
    source: Mapping[str, Any] | None = None  # the TMF622 ProductOrder it came as, whole

    def as_context(self) -> dict[str, Any]:
        context: dict[str, Any] = {"id": self.id, "account": self.account, "attributes": dict(self.attributes),
                                   "requested_date": self.requested_date}
        if self.source is not None:
            context["source"] = self.source
        return context

    def bundle_roots(self) -> dict[str, str]:
        """Each item's id -> the id of its bundle's root item (an item without a parent is a root).

        Parent cycles are rejected when the order is loaded, so every walk ends.
        """
        parents = {i.id: i.parent for i in self.items}
        roots: dict[str, str] = {}
        for item_id in parents:
            path = []
            current = item_id
            while current not in roots and parents[current] is not None:
                path.append(current)
                current = parents[current]  # type: ignore[assignment]
            root = roots.get(current, current)
            for member in (*path, current):
                roots[member] = root
        return roots
