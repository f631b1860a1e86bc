"""Instantiate an orchestration plan: scenarios per item, step instances per scope, wired dependencies.

The plan is a pure, deterministic function of the templates and the order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from dro_cli.planning.decompose import FulfillmentItem, decompose
from dro_cli.planning.evaluation import holds
from dro_cli.planning.order_model import Order
from dro_cli.planning.scenarios import ScenarioIndex
from dro_cli.planning.settings import Resolver
from dsl.diagnostics import Diagnostic
from dsl.gc_pause import collector_paused

PLAN_SCHEMA_VERSION = 1
PLAN_KIND = "dro/plan"
# Template keys every instance carries as they are; the rest of a step is its type's configuration.
_INSTANCE_KEYS = ("title", "type", "lane", "scope", "run_as", "duration", "jeopardy", "retry", "queue")
_NOT_CONFIG = frozenset({*_INSTANCE_KEYS, "group", "description", "after", "when"})


class Instance(NamedTuple):
    """One step instance: a step of the templates, for the plan, a bundle or a line item.

    A named tuple: plans hold hundreds of thousands, hashed and compared often.
    """

    id: str  # step, step[BUNDLE] or step[ITEM]
    step: str
    scope: str
    item: str | None
    bundle: str | None


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
    items = decomposition.items
    instances, unmatched = _instances(templates, order, items)
    after = _wire(templates["steps"], instances)
    position = {step: i for i, step in enumerate(templates["order"])}
    ordered = sorted(instances, key=lambda i: (position[i.step], i.id))
    used = sorted({templates["steps"][i.step].get("endpoint") for i in instances} - {None})
    plan = {
        "schema_version": PLAN_SCHEMA_VERSION,
        "kind": PLAN_KIND,
        "order": order.id,
        "templates": templates["hash"],
        "lanes": templates["lanes"],
        "endpoints": {name: templates["endpoints"][name] for name in used},  # names of env variables, never values
        "context": {
            "order": order.as_context(),
            "bundles": {i.id: i.as_context() for i in order.items if i.parent is None},
            "items": {i.id: i.as_context() for i in items},
        },
        "steps": _steps_json(templates, ordered, after),
    }
    return PlanResult(plan, decomposition.problems, unmatched, decomposition.vanished)


def _instances(templates: Mapping[str, Any], order: Order,
               items: list[FulfillmentItem]) -> tuple[list[Instance], list[FulfillmentItem]]:
    index = ScenarioIndex(templates["scenarios"])
    steps = templates["steps"]
    order_context = order.as_context()
    bundles = {i.id: i.as_context() for i in order.items}
    found: dict[Instance, None] = {}  # insertion-ordered set
    unmatched: list[FulfillmentItem] = []
    for item in items:
        item_context = item.as_context()
        context = {"order": order_context, "item": item_context, "bundle": bundles[item.bundle]}
        scenarios = index.matching(item_context, context)
        if not scenarios:
            unmatched.append(item)
        for scenario in scenarios:
            for step_id in templates["scenarios"][scenario]["steps"]:
                step = steps[step_id]
                if holds(step["when"], context):
                    found.setdefault(_instance(step_id, step["scope"], item), None)
    return list(found), unmatched


def _instance(step_id: str, scope: str, item: FulfillmentItem) -> Instance:
    if scope == "line_item":
        return Instance(f"{step_id}[{item.id}]", step_id, scope, item.id, item.bundle)
    if scope == "bundle":
        return Instance(f"{step_id}[{item.bundle}]", step_id, scope, None, item.bundle)
    return Instance(step_id, step_id, scope, None, None)


def _wire(steps: Mapping[str, Any], instances: list[Instance]) -> dict[Instance, list[str]]:
    """The ids each instance runs after, sorted, by the nearest-level rule (DESIGN 4).

    Plan-wide dependencies make plans grow faster than orders (every instance of one
    step after every instance of another), so the sorted ids of each step, per item,
    per bundle and plan-wide, are made once and shared. An instance id starts with
    its step's id and step ids have no '[', so each step's ids sort as one block: an
    instance's list is those blocks put together in order.
    """
    everywhere: dict[str, list[str]] = {}
    by_item: dict[tuple[str, str], list[str]] = {}
    by_bundle: dict[tuple[str, str], list[str]] = {}
    for instance in instances:
        everywhere.setdefault(instance.step, []).append(instance.id)
        if instance.item is not None:
            by_item.setdefault((instance.step, instance.item), []).append(instance.id)
        if instance.bundle is not None:
            by_bundle.setdefault((instance.step, instance.bundle), []).append(instance.id)
    for table in (everywhere, by_item, by_bundle):
        for ids in table.values():
            ids.sort()
    none: list[str] = []
    after: dict[Instance, list[str]] = {}
    for instance in instances:
        blocks: dict[str, list[str]] = {}
        for dependency in steps[instance.step]["after"]:
            target, within = dependency["step"], dependency["within"]
            same_item = by_item.get((target, instance.item), none) if instance.item is not None else none
            same_bundle = by_bundle.get((target, instance.bundle), none) if instance.bundle is not None else none
            if within == "line_item":
                chosen = same_item
            elif within == "bundle":
                chosen = same_bundle
            elif within == "plan":
                chosen = everywhere.get(target, none)
            else:
                chosen = same_item or same_bundle or everywhere.get(target, none)
            # The same step twice (DRO310) may pick two levels: keep the wider, a superset.
            if len(chosen) > len(blocks.get(target, none)):
                blocks[target] = chosen
        if len(blocks) == 1:
            after[instance] = next(iter(blocks.values()))  # shared, never changed
        else:
            after[instance] = [i for block in sorted(blocks.values(), key=lambda b: b[0]) for i in block]
    return after


def _steps_json(templates: Mapping[str, Any], instances: list[Instance],
                after: Mapping[Instance, list[str]]) -> list[dict[str, Any]]:
    """Each instance as JSON, with the settings rules give it; what instances of one step share is built
    once per step."""
    steps = templates["steps"]
    resolver = Resolver(templates["jeopardy_rules"], templates["fallout_rules"])
    shared: dict[str, dict[str, Any]] = {}
    out = []
    for instance in instances:
        base = shared.get(instance.step)
        if base is None:
            step = steps[instance.step]
            base = shared[instance.step] = {
                **{key: step[key] for key in _INSTANCE_KEYS},
                **resolver.resolve(step),
                "config": {key: value for key, value in step.items() if key not in _NOT_CONFIG}}
        out.append({"id": instance.id, "step": instance.step, **base, "item": instance.item,
                    "bundle": instance.bundle, "after": after[instance]})
    return out
