"""Plan an order: load it and the templates, instantiate, and collect every diagnostic on the way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dro_cli.planning.orders import OrderResult, load_order
from dro_cli.planning.planner import instantiate
from dro_cli.planning.templates_source import load_templates
from dsl.diagnostics import Diagnostic, error, has_errors, warning
from dsl.limits import MAX_PLAN_DEPENDENCIES, MAX_PLAN_STEPS
from dsl.sources import Sources


@dataclass
class PlanOutcome:
    plan: dict[str, Any] | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: Sources = field(default_factory=Sources)
    usage_error: bool = False  # a bad order or templates file, not a bad catalog
    templates: dict[str, Any] | None = None  # what it was planned with, to pin for amendments


def make_plan(order_path: Path, catalog: Path, loaded: OrderResult | None = None) -> PlanOutcome:
    """The plan of the order file at `order_path` (`loaded`: that file, when the caller has read it already)."""
    loaded = loaded or load_order(order_path)
    outcome = PlanOutcome(None, list(loaded.diagnostics), loaded.sources)
    if loaded.order is None or has_errors(loaded.diagnostics):
        outcome.usage_error = True
        return outcome
    templates = load_templates(catalog)
    outcome.diagnostics += templates.diagnostics
    outcome.sources.texts.update(templates.sources.texts)
    if templates.templates is None:
        outcome.usage_error = templates.usage_error
        return outcome
    outcome.templates = templates.templates
    return plan_order(loaded, templates.templates, outcome)


def plan_order(loaded: OrderResult, templates: Mapping[str, Any], outcome: PlanOutcome | None = None) -> PlanOutcome:
    """The plan of a loaded order, with the warnings `dro plan` gives (unmatched products, empty decompositions)."""
    outcome = outcome or PlanOutcome(None, list(loaded.diagnostics), loaded.sources)
    assert loaded.order is not None, "plan only an order that loaded"
    result = instantiate(templates, loaded.order)
    outcome.diagnostics += result.diagnostics
    too_large = plan_too_large(loaded, result.plan)
    if too_large is not None:
        outcome.diagnostics.append(too_large)
    if has_errors(outcome.diagnostics):
        outcome.usage_error = True  # the order's values make it unplannable
        return outcome
    for product, items in _by_product(result.unmatched).items():
        outcome.diagnostics.append(warning(
            "DRO504", f"no scenario matches product '{product}'", loaded.item_span(items[0].source, "product"),
            detail=f"Item(s) {', '.join(i.id for i in items)} get no steps.",
            hint="add a scenario for this product to the catalog, or check the product code"))
    for item in result.vanished:
        outcome.diagnostics.append(warning(
            "DRO508", f"item '{item.id}' decomposes into nothing", loaded.item_span(item.source, "product"),
            detail=f"Every `into` of the rule for {item.product} has a `when` that is false for this item.",
            hint="check the item's attributes, or the rule's conditions"))
    if not result.plan["steps"]:
        outcome.diagnostics.append(no_step(loaded))
    outcome.plan = result.plan
    return outcome


def no_step(loaded: OrderResult) -> Diagnostic:
    """DRO515: the order's plan has no step at all (a warning here; `dro run` refuses to run it)."""
    assert loaded.order is not None
    return warning(
        "DRO515", f"order {loaded.order.id} plans no step", loaded.order_span(),
        detail="No scenario of the catalog adds a step for any of its items, so running it would do nothing "
               "and call it completed.",
        hint="check that --catalog names the catalog this order is for; `dro run` refuses such an order "
             "unless --allow-empty says it is meant")


def plan_too_large(loaded: OrderResult, plan: Mapping[str, Any]) -> Diagnostic | None:
    """DRO512 for a plan too large to write, run or show (the planner itself is linear: it is not refused)."""
    steps = plan.get("steps", [])
    dependencies = sum(len(step["after"]) for step in steps)
    if len(steps) <= MAX_PLAN_STEPS and dependencies <= MAX_PLAN_DEPENDENCIES:
        return None
    assert loaded.order is not None
    return error("DRO512", f"the plan of order '{loaded.order.id}' is too large: {len(steps):,} step instances "
                 f"and {dependencies:,} dependencies", loaded.document.span(("order", "items"))
                 if loaded.document is not None else None,
                 detail=f"A plan holds at most {MAX_PLAN_STEPS:,} step instances and {MAX_PLAN_DEPENDENCIES:,} "
                        "dependencies. Steps of plan scope, or `after ... within plan`, depend on every instance "
                        "of a step, so plans grow faster than orders.",
                 hint="split the order into several orders")


def _by_product(items: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for item in items:
        grouped.setdefault(item.product, []).append(item)
    return grouped
