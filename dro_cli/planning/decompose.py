"""Decomposition: an order's commercial items become the technical items that get fulfilled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dro_cli.planning.compact import item_context
from dro_cli.planning.evaluation import holds, value_of
from dro_cli.planning.order_model import Order
from dsl.diagnostics import Diagnostic, error
from dsl.limits import MAX_QUANTITY


@dataclass(frozen=True)
class FulfillmentItem:
    """An item that scenarios see: an order item as is, or one decomposed from it."""

    id: str  # the order item's id, or its path of products: "L1/LAPTOP-HW"
    product: str
    quantity: int
    action: str
    attributes: Mapping[str, Any]  # a dict: the order item's (never changed), or made for it by its rule
    bundle: str  # the id of the bundle's root order item
    source: str  # the id of the order item it comes from

    def as_context(self) -> dict[str, Any]:
        """The item as expressions and the plan see it. Its attributes dict is shared with the context, not
        copied: a large plan has hundreds of thousands, and nothing changes them."""
        return item_context(self.id, self.product, self.quantity, self.action, self.attributes, self.bundle,
                            self.source)


Rules = Mapping[str, Sequence[Mapping[str, Any]]]


@dataclass
class Decomposition:
    items: list[FulfillmentItem]
    problems: list[Diagnostic]
    vanished: list[FulfillmentItem]  # items whose rule made nothing of them: every `into` was false


def decompose(order: Order, rules: Rules) -> Decomposition:
    """Every fulfillment item of `order`, in order. Items whose product has no rule pass through.

    Rules chain (a technical product may decompose further); the compiler has refused cycles.
    """
    by_id = {item.id: item for item in order.items}
    roots = order.bundle_roots()
    result = Decomposition([], [], [])
    order_context = order.as_context()
    contexts: dict[str, dict[str, Any]] = {}  # per bundle
    for item in order.items:
        bundle = roots[item.id]
        attributes = item.attributes if type(item.attributes) is dict else dict(item.attributes)
        start = FulfillmentItem(item.id, item.product, item.quantity, item.action, attributes, bundle, item.id)
        context = contexts.get(bundle)
        if context is None:
            context = contexts[bundle] = {"order": order_context, "bundle": by_id[bundle].as_context()}
        _expand(start, rules, context, result)
    return result


def _expand(item: FulfillmentItem, rules: Rules, context: dict[str, Any], result: Decomposition) -> None:
    targets = rules.get(item.product)
    if not targets:
        result.items.append(item)
        return
    scope = {**context, "item": item.as_context()}
    taken: set[str] = set()
    for target in targets:
        if not holds(target["when"], scope):
            continue
        quantity = _quantity(target, item, scope, result.problems)
        if quantity is None:
            continue
        attributes = dict(item.attributes)
        for name, text in (target["attributes"] or {}).items():
            attributes[name] = value_of(text, scope)
        child_id = _unique(f"{item.id}/{target['product']}", taken)
        child = FulfillmentItem(child_id, target["product"], quantity, item.action, attributes, item.bundle,
                                item.source)
        _expand(child, rules, context, result)
    if not taken:
        result.vanished.append(item)


def _quantity(target: Mapping[str, Any], item: FulfillmentItem, scope: Mapping[str, Any],
              problems: list[Diagnostic]) -> int | None:
    if target["quantity"] is None:
        return item.quantity
    quantity = value_of(target["quantity"], scope)
    if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or not 1 <= quantity <= MAX_QUANTITY \
            or quantity != int(quantity):
        problems.append(error(
            "DRO506", f"bad decomposed quantity {quantity!r} for '{item.id}/{target['product']}'",
            detail=f"The rule's quantity is `{target['quantity']}`; a quantity is a whole number from 1 to "
                   f"{MAX_QUANTITY:,}.",
            hint="fix the order item's attributes, or the rule's quantity expression"))
        return None
    return int(quantity)


def _unique(candidate: str, taken: set[str]) -> str:
    """`candidate`, or `candidate.2`, `.3`... when a rule names the same product twice."""
    name, n = candidate, 1
    while name in taken:
        n += 1
        name = f"{candidate}.{n}"
    taken.add(name)
    return name
