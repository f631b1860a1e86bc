"""Compare two plans of one order: step instances added, removed and changed, field by field.

Pure functions over plans as `dro plan --format json` prints them. Everything is sorted,
so that the same two plans always give the same difference, and `diff_plans(b, a)` is
the mirror image of `diff_plans(a, b)`: added and removed swap, old and new swap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# What an instance is compared on, in the order changes are listed; `fallout`, `config`
# and `after` follow, compared part by part.
INSTANCE_FIELDS = ("title", "type", "lane", "scope", "run_as", "duration", "jeopardy", "retry", "queue")
# What a fulfillment item is compared on (its id names it).
ITEM_FIELDS = ("product", "quantity", "attributes", "action", "bundle", "source")


@dataclass(frozen=True)
class Change:
    """One field that differs: `duration`, `config.path`, `fallout.http_503.retry` (the retry of a failure with
    error http_503), `fallout.http_503` (such an override added or removed); None where it is absent."""

    field: str
    old: Any
    new: Any

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class InstanceRef:
    """A step instance that is in one plan only."""

    id: str
    step: str
    type: str
    lane: str | None
    scope: str
    item: str | None
    bundle: str | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "step": self.step, "type": self.type, "lane": self.lane, "scope": self.scope,
                "item": self.item, "bundle": self.bundle}


@dataclass(frozen=True)
class InstanceChange:
    """A step instance in both plans whose settings or dependencies differ."""

    id: str
    step: str
    changes: tuple[Change, ...] = ()
    after_added: tuple[str, ...] = ()  # dependencies only the new plan has
    after_removed: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """Changed fields, each dependency added or removed counting as one."""
        return len(self.changes) + len(self.after_added) + len(self.after_removed)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "step": self.step, "changes": [c.as_json() for c in self.changes],
                "after": {"added": list(self.after_added), "removed": list(self.after_removed)}}


@dataclass(frozen=True)
class ItemRef:
    """A fulfillment item that is in one plan only (a decomposition rule changed)."""

    id: str
    product: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "product": self.product}


@dataclass(frozen=True)
class ItemChange:
    id: str
    changes: tuple[Change, ...]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "changes": [c.as_json() for c in self.changes]}


@dataclass(frozen=True)
class PlanDiff:
    """How the plan of one order differs between two catalog revisions."""

    order: str
    added: tuple[InstanceRef, ...] = ()
    removed: tuple[InstanceRef, ...] = ()
    changed: tuple[InstanceChange, ...] = ()
    items_added: tuple[ItemRef, ...] = ()
    items_removed: tuple[ItemRef, ...] = ()
    items_changed: tuple[ItemChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed
                    or self.items_added or self.items_removed or self.items_changed)

    def as_json(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "summary": {"add": len(self.added), "remove": len(self.removed), "change": len(self.changed)},
            "added": [i.as_json() for i in self.added],
            "removed": [i.as_json() for i in self.removed],
            "changed": [i.as_json() for i in self.changed],
            "items": {"added": [i.as_json() for i in self.items_added],
                      "removed": [i.as_json() for i in self.items_removed],
                      "changed": [i.as_json() for i in self.items_changed]},
        }


def diff_plans(old_plan: Mapping[str, Any], new_plan: Mapping[str, Any]) -> PlanDiff:
    """What changes from `old_plan` to `new_plan`, two plans of the same order; instances match by id."""
    old_steps = {step["id"]: step for step in old_plan["steps"]}
    new_steps = {step["id"]: step for step in new_plan["steps"]}
    changed = []
    for instance_id in sorted(old_steps.keys() & new_steps.keys()):
        change = _instance_change(old_steps[instance_id], new_steps[instance_id])
        if change is not None:
            changed.append(change)
    old_items, new_items = old_plan["context"]["items"], new_plan["context"]["items"]
    items_changed = []
    for item_id in sorted(old_items.keys() & new_items.keys()):
        changes = field_changes(old_items[item_id], new_items[item_id], ITEM_FIELDS)
        if changes:
            items_changed.append(ItemChange(item_id, changes))
    return PlanDiff(
        order=str(new_plan["order"]),
        added=tuple(_ref(new_steps[i]) for i in sorted(new_steps.keys() - old_steps.keys())),
        removed=tuple(_ref(old_steps[i]) for i in sorted(old_steps.keys() - new_steps.keys())),
        changed=tuple(changed),
        items_added=tuple(ItemRef(i, new_items[i]["product"]) for i in sorted(new_items.keys() - old_items.keys())),
        items_removed=tuple(ItemRef(i, old_items[i]["product"]) for i in sorted(old_items.keys() - new_items.keys())),
        items_changed=tuple(items_changed),
    )


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any], fields: Iterable[str],
                  prefix: str = "") -> tuple[Change, ...]:
    """A Change for each of `fields` whose value differs (a missing field is None)."""
    return tuple(Change(prefix + name, old.get(name), new.get(name))
                 for name in fields if old.get(name) != new.get(name))


def _instance_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> InstanceChange | None:
    changes = [*field_changes(old, new, INSTANCE_FIELDS)]
    old_fallout = {o["error"]: _without_error(o) for o in old.get("fallout") or ()}
    new_fallout = {o["error"]: _without_error(o) for o in new.get("fallout") or ()}
    for code in sorted(old_fallout.keys() | new_fallout.keys()):
        before, after = old_fallout.get(code), new_fallout.get(code)
        if before is not None and after is not None:
            changes += field_changes(before, after, ("retry", "queue"), f"fallout.{code}.")
        elif before != after:
            changes.append(Change(f"fallout.{code}", before, after))
    old_config, new_config = old.get("config") or {}, new.get("config") or {}
    changes += field_changes(old_config, new_config, sorted(old_config.keys() | new_config.keys()), "config.")
    old_after, new_after = set(old["after"]), set(new["after"])
    if not changes and old_after == new_after:
        return None
    return InstanceChange(old["id"], new["step"], tuple(changes),
                          tuple(sorted(new_after - old_after)), tuple(sorted(old_after - new_after)))


def _without_error(override: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in override.items() if key != "error"}


def _ref(step: Mapping[str, Any]) -> InstanceRef:
    return InstanceRef(step["id"], step["step"], step["type"], step["lane"], step["scope"],
                       step.get("item"), step.get("bundle"))
