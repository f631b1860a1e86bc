"""dro_cli.journal.indented_json writes what json.dumps(indent=2, sort_keys=True, ensure_ascii=False) writes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dro_cli.journal.indented_json import dumps

VALUES: list[Any] = [
    {}, [], "", 0, -1, 10 ** 40, 1.5, -0.0, 1e300, 5e-324, float("inf"), float("-inf"), True, False, None,
    "é \" \\ \n \t \u2028 \x00 😀",
    {"b": 1, "a": [1, {"c": []}, {}], "z": {"y": {"x": None}}, "s": "t", "é": (1, "2")},
    [[[]], [{}], [1, [2, [3]]]],
    {"schema_version": 1, "orders": [{"order": "ORD-1", "progress": {"finished": 1, "total": 3},
                                      "waiting_on": [{"kind": "timer", "at": "2026-12-01T10:00:00Z"}]}]},
]


@pytest.mark.parametrize("value", VALUES, ids=[f"v{i}" for i in range(len(VALUES))])
def test_the_same_text_as_json_dumps(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def test_nan_and_other_types_as_json_dumps_says() -> None:
    assert dumps({"n": float("nan")}) == '{\n  "n": NaN\n}'
    assert dumps({1: "int key"}) == json.dumps({1: "int key"}, indent=2, sort_keys=True, ensure_ascii=False)
    with pytest.raises(TypeError):
        dumps({"set": {1}})


def test_objects_of_one_shape_at_every_depth_and_in_any_key_order() -> None:
    """The shapes kept between calls (keys, indent) must not leak one object's text into another's."""
    row = {"b": 1, "a": "x"}
    values = [row, {"a": "x", "b": 1}, [row, [row, {"k": row}]], {"a": row, "b": [row]},
              {f"k{i}": i for i in range(100)}, [{f"only{i}": i} for i in range(5000)]]  # past what is kept
    for value in values * 2:
        assert dumps(value) == json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
