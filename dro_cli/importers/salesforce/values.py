"""Salesforce picklist values and units in dro's terms."""

from __future__ import annotations

import json

STEP_TYPES = {"AutoTask": "auto", "Callout": "callout", "ManualTask": "manual", "Milestone": "milestone",
              "Pause": "pause", "StagedAssetize": "auto"}
SCOPES = {"Plan": "plan", "Bundle": "bundle", "LineItem": "line_item", "CrossPlan": "plan", "Custom": "plan"}
DEPENDENCY_SCOPES = {"": None, "LineItem": None, "Bundle": "bundle", "Plan": "plan"}
ACTIONS = {"Add": "add", "Change": "change", "Modify": "change", "Amend": "change", "Delete": "delete",
           "Cancel": "delete", "NoChange": "no_change"}
RETRY_POLICIES = {"Immediate": "immediate", "Monotonous": "monotonous", "Staggered": "staggered"}
UNITS = {"seconds": ("s", 1), "minutes": ("m", 1), "hours": ("h", 1), "days": ("d", 1), "weeks": ("d", 7)}


def quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def duration(amount: str, unit: str) -> str | None:
    """`4`, `Hours` -> `4h`; None when either is not a number or a unit dro knows."""
    spec = UNITS.get(unit.strip().lower()) or UNITS.get(unit.strip().lower() + "s")
    try:
        number = float(amount)
    except ValueError:
        return None
    if spec is None or number < 0:
        return None
    value = number * spec[1]
    return f"{int(value) if value == int(value) else value}{spec[0]}"


def interval(text: str) -> str | None:
    """A retry interval: seconds (`30`) or a dro duration (`30s`, `5m`)."""
    text = text.strip()
    if text.isdigit():
        return f"{text}s"
    if text[:-1].isdigit() and text[-1:] in ("s", "m", "h", "d"):
        return text
    return None
