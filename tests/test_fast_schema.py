"""The fast schema check answers exactly as jsonschema does, on dro's schemas and on each keyword."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from goldens import CATALOGS
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from dsl.fast_schema import UnsupportedSchema, compile_schema
from dsl.schemas import fast_check, validator


def agree(schema: dict[str, Any], value: Any) -> bool:
    fast = compile_schema(schema)(value)
    assert fast == Draft202012Validator(schema).is_valid(value), (schema, value)
    return fast


@pytest.mark.parametrize(("schema", "value", "valid"), [
    ({"type": "integer"}, True, False),
    ({"type": "integer"}, 2.0, True),
    ({"type": "number"}, False, False),
    ({"enum": [1]}, True, False),
    ({"const": False}, 0, False),
    ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [{"a": [1]}, {"a": [1]}], False),
    ({"properties": {"a": False}}, {"a": 1}, False),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"a": "x", "b": 1}, False),
    ({"additionalProperties": {"type": "string"}, "properties": {"a": {}}}, {"a": 1, "b": "x"}, True),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"Ab": 1}, False),
    ({"if": {"required": ["t"]}, "then": {"required": ["u"]}}, {"t": 1}, False),
    ({"if": {"required": ["t"]}, "then": {"required": ["u"]}}, {"v": 1}, True),
    ({"oneOf": [{"type": "string"}, {"minLength": 1}]}, "x", False),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, None, True),
    ({"not": {"type": "string"}}, "x", False),
    ({"exclusiveMinimum": 1}, 1, False),
    ({"minItems": 1, "maxItems": 2}, [1, 2, 3], False),
    ({"minProperties": 1}, {}, False),
    ({"pattern": "^a"}, 5, True),
    ({"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}, [1, "x"], False),
    (True, "anything", True),
])
def test_keywords(schema: dict[str, Any], value: Any, valid: bool) -> None:
    assert agree(schema, value) is valid


def test_unknown_keywords_are_refused() -> None:
    with pytest.raises(UnsupportedSchema):
        compile_schema({"patternProperties": {"^x": {}}, "additionalProperties": False})
    with pytest.raises(UnsupportedSchema):
        compile_schema({"dependentRequired": {"a": ["b"]}})


@pytest.mark.parametrize("name", ["catalog", "plan-template", "diagnostics", "order", "plan", "journal-event"])
def test_every_schema_compiles(name: str) -> None:
    assert callable(fast_check(name))


@pytest.mark.parametrize("path", sorted(CATALOGS.glob("*/*.dro.yaml")), ids=lambda p: p.name)
def test_example_files_are_valid_both_ways(path: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert fast_check("catalog")(data) and validator("catalog").is_valid(data)


_scalars = st.none() | st.booleans() | st.integers(-3, 700) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.sampled_from(["", "x", "a_b", "Bad-Id", "30s", "1h30m", "30x", "http://h", "m:f", "/p", "POST",
                       "manual", "callout", "auto", "pause", "milestone", "plan", "line_item", "monotonous"])
_keys = st.sampled_from(["lanes", "groups", "steps", "g", "s", "type", "lane", "after", "when", "retry",
                         "policy", "retries", "interval", "endpoint", "method", "path", "flow", "command",
                         "resume_on", "event", "title", "url", "env", "auth", "bearer", "into", "product",
                         "expect", "match", "scenarios", "add", "actions", "x"])
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(_keys, inner, max_size=4), max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=4))
def test_random_documents_get_the_same_answer(document: dict[str, Any]) -> None:
    fast = fast_check("catalog")(document)
    assert fast == validator("catalog").is_valid(document)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["manual", "callout", "auto", "pause", "milestone"]),
       st.dictionaries(_keys, _values, max_size=5))
def test_random_steps_get_the_same_answer(step_type: str, attributes: dict[str, Any]) -> None:
    document = {"groups": {"g": {"steps": {"s": {"type": step_type, **attributes}}}}}
    assert fast_check("catalog")(document) == validator("catalog").is_valid(document)
