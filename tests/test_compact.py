"""The plan's compact dicts: real dicts, keys in plan.json's order, smaller than ordinary dicts."""

from __future__ import annotations

import json
import platform
import sys

import pytest

from dro_cli.planning.compact import STEP_KEYS, StepDict, item_context

BASE = {"title": "Ship", "type": "callout", "lane": "logistics", "scope": "line_item", "run_as": None,
        "duration": 3600, "jeopardy": 600, "retry": {"policy": "immediate", "retries": 1}, "queue": "q",
        "fallout": [], "config": {"endpoint": "wms"}}


def test_a_step_dict_is_a_dict_with_the_plans_keys_in_order() -> None:
    step = StepDict("ship[L1]", "ship", BASE, "L1", "B1", ["pick[L1]"]).__dict__
    assert type(step) is dict
    assert tuple(step) == STEP_KEYS
    plain = {"id": "ship[L1]", "step": "ship", **BASE, "item": "L1", "bundle": "B1", "after": ["pick[L1]"]}
    assert step == plain
    assert json.dumps(step) == json.dumps(plain)
    assert step["config"] is BASE["config"]  # shared with every instance of the step, not copied
    step["after"] = []
    assert tuple(step) == STEP_KEYS and step["after"] == []


def test_an_item_context_is_a_dict_with_the_items_keys_in_order() -> None:
    attributes = {"color": "red"}
    context = item_context("L1/HW", "HW", 2, "add", attributes, "L1", "L1")
    assert type(context) is dict
    assert context == {"id": "L1/HW", "product": "HW", "quantity": 2, "action": "add", "attributes": attributes,
                       "bundle": "L1", "source": "L1"}
    assert list(context) == ["id", "product", "quantity", "action", "attributes", "bundle", "source"]


@pytest.mark.skipif(platform.python_implementation() != "CPython", reason="key sharing is CPython's (PEP 412)")
def test_step_dicts_share_their_key_table() -> None:
    steps = [StepDict(f"ship[L{i}]", "ship", BASE, f"L{i}", "B1", []).__dict__ for i in range(3)]
    assert sys.getsizeof(steps[2]) < sys.getsizeof(dict(steps[2]))
