"""Compare two sets of plan templates: declarations added, removed and changed, field by field.

`sources` (where each declaration is written) and `hash` change when files are merely
moved or reformatted, and `order` follows from the steps, so none of them is compared;
nor is the order of the steps a group or scenario lists, which is the plan order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dro_cli.diff.plans import Change, field_changes

# The sections of the templates that are compared, each with the kind of declaration it holds,
# in the order differences are listed.
SECTIONS = (
    ("lanes", "lane"),
    ("endpoints", "endpoint"),
    ("decompositions", "decomposition"),
    ("groups", "group"),
    ("steps", "step"),
    ("scenarios", "scenario"),
    ("jeopardy_rules", "jeopardy_rule"),
    ("fallout_rules", "fallout_rule"),
)
KINDS = tuple(kind for _, kind in SECTIONS)


@dataclass(frozen=True)
class Entry:
    """A declaration in one revision only: `step reserve`, `decomposition LAPTOP-BUNDLE`."""

    kind: str
    id: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id}


@dataclass(frozen=True)
class EntryChange:
    kind: str
    id: str
    changes: tuple[Change, ...]

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "changes": [c.as_json() for c in self.changes]}


@dataclass(frozen=True)
class TemplateDiff:
    added: tuple[Entry, ...] = ()
    removed: tuple[Entry, ...] = ()
    changed: tuple[EntryChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_json(self) -> dict[str, Any]:
        return {
            "summary": {"add": len(self.added), "remove": len(self.removed), "change": len(self.changed)},
            "added": [e.as_json() for e in self.added],
            "removed": [e.as_json() for e in self.removed],
            "changed": [e.as_json() for e in self.changed],
        }


def diff_templates(old_templates: Mapping[str, Any], new_templates: Mapping[str, Any]) -> TemplateDiff:
    """What changes from `old_templates` to `new_templates`, declarations matched by kind and id."""
    added: list[Entry] = []
    removed: list[Entry] = []
    changed: list[EntryChange] = []
    for section, kind in SECTIONS:
        old = declarations(old_templates, section)
        new = declarations(new_templates, section)
        added += (Entry(kind, name) for name in sorted(new.keys() - old.keys()))
        removed += (Entry(kind, name) for name in sorted(old.keys() - new.keys()))
        for name in sorted(old.keys() & new.keys()):
            fields = sorted(old[name].keys() | new[name].keys())
            changes = field_changes(old[name], new[name], fields)
            if changes:
                changed.append(EntryChange(kind, name, changes))
    return TemplateDiff(tuple(added), tuple(removed), tuple(changed))


def declarations(templates: Mapping[str, Any], section: str) -> dict[str, Mapping[str, Any]]:
    """A section of the templates as {id: fields}: rules are lists with ids, decompositions lists of `into`."""
    value = templates.get(section) or {}
    if section.endswith("_rules"):
        return {rule["id"]: {k: v for k, v in rule.items() if k != "id"} for rule in value}
    if section == "decompositions":
        return {product: {"into": into} for product, into in value.items()}
    if section in ("groups", "scenarios"):  # their `steps` are listed in plan order, which follows the graph
        return {name: {**fields, "steps": sorted(fields.get("steps") or ())} for name, fields in value.items()}
    return dict(value)
