"""Instantiate an orchestration plan: scenarios per item, step instances per scope, wired dependencies.

The plan is a pure, deterministic function of the templates and the order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dro_cli.planning.decompose import FulfillmentItem, decompose
from dro_cli.planning.order_model import Order
from dro_cli.planning.prepared import BUNDLE, NEAREST_BUNDLE, NEAREST_ITEM, PLAN, Prepared, prepared
from dsl.diagnostics import Diagnostic
from dsl.gc_pause import collector_paused

PLAN_SCHEMA_VERSION = 1
PLAN_KIND = "dro/plan"


@dataclass
class PlanResult:
    plan: dict[str, Any]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    unmatched: list[FulfillmentItem] = field(default_factory=list)  # items no scenario took
    vanished: list[FulfillmentItem] = field(default_factory=list)  # items decomposed into nothing


def instantiate(templates: Mapping[str, Any], order: Order) -> PlanResult:
    with collector_paused():
        return _instantiate(templates, order)


def _instantiate(templates: Mapping[str, Any], order: Order) -> PlanResult:
    decomposition = decompose(order, templates["decompositions"])
    contexts: dict[str, dict[str, Any]] = {}
    bundles = {i.id: i.as_context() for i in order.items if i.parent is None}
    rows, unmatched = _instances(prepared(templates), order, decomposition.items, bundles, contexts)
    decomposition.items.clear()  # the contexts hold what the plan needs of them
    _wire(rows)
    used = sorted({templates["steps"][step].get("endpoint") for step in rows.by_step} - {None})
    plan = {
        "schema_version": PLAN_SCHEMA_VERSION,
        "kind": PLAN_KIND,
        "order": order.id,
        "templates": templates["hash"],
        "lanes": templates["lanes"],
        "endpoints": {name: templates["endpoints"][name] for name in used},  # names of env variables, never values
        "context": {
            "order": order.as_context(),
            "bundles": bundles,
            "items": contexts,
        },
        "steps": rows.in_plan_order(templates["order"]),
    }
    return PlanResult(plan, decomposition.problems, unmatched, decomposition.vanished)


class _Rows:
    """The step instances of a plan as they are found: by id (an instance found twice is one), by step
    and by bundle (the wiring works bundle by bundle)."""

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_step: dict[str, list[dict[str, Any]]] = {}
        self.by_bundle: dict[str | None, list[dict[str, Any]]] = {}

    def sorted_by_step(self) -> dict[str, list[dict[str, Any]]]:
        """Each step's instances, sorted by id (in place)."""
        for found in self.by_step.values():
            found.sort(key=_by_id)
        return self.by_step

    def in_plan_order(self, order: list[str]) -> list[dict[str, Any]]:
        """The steps in the templates' order, each step's instances by id (sorted_by_step, first)."""
        out: list[dict[str, Any]] = []
        for step_id in order:
            found = self.by_step.get(step_id)
            if found:
                out += found
        return out


def _by_id(row: Mapping[str, Any]) -> str:
    return row["id"]  # type: ignore[no-any-return]


def _instances(prepared_templates: Prepared, order: Order, items: list[FulfillmentItem],
               bundles: Mapping[str, Mapping[str, Any]],
               contexts: dict[str, dict[str, Any]]) -> tuple[_Rows, list[FulfillmentItem]]:
    """The step instances of the items' scenarios; each item's context goes to `contexts`. `bundles`: the
    context of each bundle, by its root item's id."""
    index = prepared_templates.index
    scenario_steps = prepared_templates.scenario_steps
    order_context = order.as_context()
    rows = _Rows(prepared_templates)
    by_id, by_step, by_bundle = rows.by_id, rows.by_step, rows.by_bundle
    unmatched: list[FulfillmentItem] = []
    for item in items:
        item_id, bundle = item.id, item.bundle
        item_context = contexts[item_id] = item.as_context()
        context = {"order": order_context, "item": item_context, "bundle": bundles[bundle]}
        scenarios = index.matching(item_context, context)
        if not scenarios:
            unmatched.append(item)
        for scenario in scenarios:
            for step_id, when, scope, prototype in scenario_steps(scenario):
                if when is not None and not when(context):
                    continue
                if scope == "line_item":
                    instance_id, of_item, of_bundle = f"{step_id}[{item_id}]", item_id, bundle
                elif scope == "bundle":
                    instance_id, of_item, of_bundle = f"{step_id}[{bundle}]", None, bundle
                else:
                    instance_id, of_item, of_bundle = step_id, None, None
                if instance_id in by_id:
                    continue  # another scenario of the item, or another item of the bundle, found it
                row = prototype.copy()  # the step's instance, with this one's id, item and bundle
                row["id"] = instance_id
                row["item"] = of_item
                row["bundle"] = of_bundle
                by_id[instance_id] = row
                by_step.setdefault(step_id, []).append(row)
                by_bundle.setdefault(of_bundle, []).append(row)
    return rows, unmatched


def _wire(rows: _Rows) -> None:
    """Each instance's `after`: the ids it runs after, sorted, by the nearest-level rule (DESIGN 4).

    Plan-wide dependencies make plans grow faster than orders (every instance of one
    step after every instance of another), so the sorted ids of each step, per item,
    per bundle and plan-wide, are made once and shared. An instance id starts with
    its step's id and step ids have no '[', so each step's ids sort as one block: an
    instance's list is those blocks put together in order. The ids per bundle are
    made one bundle at a time, and those per item looked up by id (a line item has
    one instance of a step), so that nothing the size of the plan is built for them.
    """
    none: list[str] = []
    wiring = {step: rows.prepared.wiring(step) for step in rows.by_step}
    everywhere = {step: [row["id"] for row in found] for step, found in rows.sorted_by_step().items()}
    rows.by_id.clear()  # found is found: each bundle's own instances are looked up in the bundle
    for bundle, members in rows.by_bundle.items():
        in_bundle: dict[str, list[str]] = {}
        line_items: dict[str, str] = {}  # the bundle's line-item instances' ids
        for row in members:
            instance_id = row["id"]
            found = in_bundle.get(row["step"])
            if found is None:
                in_bundle[row["step"]] = [instance_id]
            else:
                found.append(instance_id)
            if row["item"] is not None:
                line_items[instance_id] = instance_id
        for ids in in_bundle.values():
            if len(ids) > 1:
                ids.sort()
        if bundle is None:
            in_bundle = {}  # plan-wide instances have no bundle to look in
        # Blocks and joined lists are shared within the bundle: a line item's block is made once, and
        # lists joined from the same blocks once, by the blocks' identities (all alive until the bundle
        # is done, so no identity is reused meanwhile).
        of_item: dict[str, list[str]] = {}
        joined_once: dict[tuple[int, ...], list[str]] = {}
        for row in members:
            wanted, unique = wiring[row["step"]]
            if not wanted:
                row["after"] = none  # shared, never changed
                continue
            item = row["item"]
            chosen_blocks: list[list[str]] = []
            blocks: dict[str, list[str]] = {}
            for target, mode in wanted:
                if mode is PLAN:
                    chosen = everywhere.get(target, none)
                elif mode is NEAREST_BUNDLE:
                    chosen = in_bundle.get(target) or everywhere.get(target, none)
                elif mode is BUNDLE:
                    chosen = in_bundle.get(target, none)
                else:  # ITEM or NEAREST_ITEM: the item's own instance first
                    chosen = none if item is None else _same_item(line_items, of_item, target, item, none)
                    if not chosen and mode is NEAREST_ITEM:
                        chosen = in_bundle.get(target) or everywhere.get(target, none)
                if unique:
                    if chosen:
                        chosen_blocks.append(chosen)
                # The same step twice (DRO310) may pick two levels: keep the wider, a superset.
                elif len(chosen) > len(blocks.get(target, none)):
                    blocks[target] = chosen
            if not unique:
                chosen_blocks = list(blocks.values())
            if not chosen_blocks:
                row["after"] = none  # shared, never changed
            elif len(chosen_blocks) == 1:
                row["after"] = chosen_blocks[0]  # shared, never changed
            else:
                chosen_blocks.sort(key=_first)
                key = tuple(map(id, chosen_blocks))
                joined = joined_once.get(key)
                if joined is None:
                    joined = joined_once[key] = _joined(chosen_blocks)
                row["after"] = joined  # shared, never changed
    rows.by_bundle.clear()  # what is left of the plan's size is the plan


def _joined(blocks: list[list[str]]) -> list[str]:
    """The blocks one after another, sized exactly: such lists hold most of a large plan's edges."""
    joined = blocks[0] + blocks[1]
    for block in blocks[2:]:
        joined += block
    return joined


def _first(block: list[str]) -> str:
    return block[0]


def _same_item(line_items: Mapping[str, str], of_item: dict[str, list[str]], target: str, item: str | None,
               none: list[str]) -> list[str]:
    """The instance of step `target` for line item `item`, if there is one, as a block (made once)."""
    if item is None:
        return none
    instance_id = f"{target}[{item}]"
    block = of_item.get(instance_id)
    if block is None:
        found = line_items.get(instance_id)
        block = of_item[instance_id] = none if found is None else [found]  # the id the plan has
    return block
