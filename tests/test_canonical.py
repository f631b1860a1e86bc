"""The journal's canonical JSON: the encoder made once encodes as `json.dumps` with the same options."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dro_cli.journal.records import _C_ENCODE, canonical

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30)


def dumps(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def test_this_python_has_the_encoder_made_once() -> None:
    assert _C_ENCODE is not None


@given(st.dictionaries(st.text(), JSON))
def test_a_payload_encodes_as_json_dumps_does(value: dict[str, Any]) -> None:
    assert canonical(value) == dumps(value)


@pytest.mark.parametrize(("value", "error", "message"), [
    ({"x": float("nan")}, ValueError, "Out of range float"),
    ({"x": object()}, TypeError, "not JSON serializable"),
    ({1: "a", "b": 2}, TypeError, "not supported between"),
])
def test_what_does_not_encode_raises_as_before(value: dict[Any, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        canonical(value)
    with pytest.raises(error, match=message):
        dumps(value)


def test_a_circular_payload_is_a_value_error() -> None:
    value: dict[str, Any] = {}
    value["self"] = [value]
    with pytest.raises(ValueError, match="Circular reference"):
        canonical(value)
