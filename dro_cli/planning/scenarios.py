"""Match fulfillment items to scenarios, fast: scenarios indexed by the product their `when` names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dro_cli.planning.evaluation import expression, holds
from dsl import ast


def product_guard(text: str) -> frozenset[str] | None:
    """The products a `when` can only hold for, when it says so: `item.product == "X"` or
    `item.product in ["X", "Y"]`, alone or as one side of an `and`. None when it does not."""
    return _guard(expression(text))


def _guard(expr: ast.Expr) -> frozenset[str] | None:
    if isinstance(expr, ast.BoolOp) and expr.op == "and":
        left, right = _guard(expr.left), _guard(expr.right)
        if left is not None and right is not None:
            return left & right
        return left if left is not None else right
    if not isinstance(expr, ast.Compare) or not _is_item_product(expr.left):
        return None
    if expr.op == "==" and isinstance(expr.right, ast.Literal) and isinstance(expr.right.value, str):
        return frozenset({expr.right.value})
    if expr.op == "in" and isinstance(expr.right, ast.ListExpr):
        products = [i.value for i in expr.right.items if isinstance(i, ast.Literal) and isinstance(i.value, str)]
        if len(products) == len(expr.right.items):
            return frozenset(products)
    return None


def _is_item_product(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Path) and expr.root == "item" and expr.segments == ("product",)


class ScenarioIndex:
    """The scenarios of a set of templates, so that each item is tested only against those that may match."""

    def __init__(self, scenarios: Mapping[str, Mapping[str, Any]]) -> None:
        self.scenarios = scenarios
        self.by_product: dict[str, list[str]] = {}
        self.unguarded: list[str] = []
        self._candidates: dict[str, list[tuple[str, Any, str | None]]] = {}  # per product: id, actions, when
        for scenario_id in sorted(scenarios):
            guard = product_guard(scenarios[scenario_id]["when"])
            if guard is None:
                self.unguarded.append(scenario_id)
            for product in sorted(guard or ()):
                self.by_product.setdefault(product, []).append(scenario_id)

    def matching(self, item: Mapping[str, Any], context: Mapping[str, Any]) -> list[str]:
        """The ids of the scenarios whose `actions` and `when` accept `item`, sorted."""
        candidates = self._candidates.get(item["product"])
        if candidates is None:
            candidates = self._candidates[item["product"]] = [
                (s, self.scenarios[s]["actions"], self.scenarios[s]["when"])
                for s in sorted({*self.by_product.get(item["product"], ()), *self.unguarded})]
        action = item["action"]
        return [s for s, actions, when in candidates if action in actions and holds(when, context)]
