"""Planning a revision of a running order: the revised order file checked against the running plan,
planned with the order's templates, and reconciled (planning/amendment.py). Every problem is a
located diagnostic; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dro_cli.planning.amendment import Reconciliation, Running, reconcile
from dro_cli.planning.api import plan_order
from dro_cli.planning.orders import OrderResult
from dsl.diagnostics import Diagnostic, error, has_errors
from dsl.sources import Sources


@dataclass
class Revision:
    reconciliation: Reconciliation | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: Sources = field(default_factory=Sources)
    usage_error: bool = True  # the revised order's fault (exit 2), not the catalog's


def revise(running: Running, order_id: str, loaded: OrderResult, templates: Mapping[str, Any],
           revision: int, reason: str | None = None) -> Revision:
    """The reconciliation of `running` with the revised order `loaded`, or why there is none."""
    result = Revision(None, list(loaded.diagnostics), loaded.sources)
    if loaded.order is None or has_errors(loaded.diagnostics):
        return result
    if loaded.order.id != order_id:
        result.diagnostics.append(error(
            "DRO530", f"the revised order is order {loaded.order.id}, not {order_id}", loaded.order_span(),
            detail=f"`dro amend {order_id}` takes the whole order {order_id} as it should now be; its id is "
                   "how dro knows which running order the file revises.",
            hint=f"give the revision of order {order_id}, or amend order {loaded.order.id} instead"))
        return result
    result.diagnostics += _changed_products(running.plan, loaded)
    if has_errors(result.diagnostics):
        return result
    planned = plan_order(loaded, templates)
    result.diagnostics = [*result.diagnostics, *(d for d in planned.diagnostics if d not in result.diagnostics)]
    if planned.plan is None:
        return result
    result.reconciliation = reconcile(running, planned.plan, templates, revision, reason)
    return result


def _changed_products(plan: Mapping[str, Any], loaded: OrderResult) -> list[Diagnostic]:
    """DRO531 for an order line whose id now names another product: a line keeps its product for life."""
    assert loaded.order is not None
    bundles: Mapping[str, Any] = plan["context"]["bundles"]  # the order's root lines, as they were
    items: Mapping[str, Any] = plan["context"]["items"]  # a line not decomposed is an item of its own id
    found = []
    for item in loaded.order.items:
        before = bundles.get(item.id) or items.get(item.id)
        if before is not None and before.get("product") != item.product:
            found.append(error(
                "DRO531", f"order line {item.id} was {before['product']}, and the revision makes it {item.product}",
                loaded.item_span(item.id, "product"),
                detail="An amendment matches lines by id: the same id with another product would undo one product "
                       "and fulfil another under the same line, which no system downstream would follow.",
                hint=f"keep {item.id} as {before['product']}, and add the new product as a line with an id of its own"
                     f" (remove {item.id} to cancel it)"))
    return found


def without_items(loaded: OrderResult, item_ids: Sequence[str]) -> OrderResult:
    """The order of `loaded` with the lines `item_ids` (and the lines under them) removed, for
    `dro cancel --items`."""
    import dataclasses

    assert loaded.order is not None
    removed = set(item_ids)
    changed = True
    while changed:
        changed = False
        for item in loaded.order.items:
            if item.parent in removed and item.id not in removed:
                removed.add(item.id)
                changed = True
    kept = tuple(item for item in loaded.order.items if item.id not in removed)
    return dataclasses.replace(loaded, order=dataclasses.replace(loaded.order, items=kept))


def nothing_left(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The plan of an order without any line: what cancelling the whole order reconciles with."""
    context = plan["context"]
    return {**plan, "steps": [], "context": {**context, "items": {}, "bundles": {}}}
