"""A fast yes/no check compiled from a JSON Schema, for the keywords dro's schemas use.

jsonschema explains every violation but walks the schema anew for each value; at
10,000 steps that dominates a compile. This compiles the schema once into closures
that only answer "valid?". Documents that fail are handed to jsonschema, which stays
the reference for what is wrong (tests check that both always agree).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that only annotate; they never change validity.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description", "default", "examples", "$comment"})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class UnsupportedSchema(ValueError):
    """The schema uses a keyword this compiler does not know: fail loudly, never pass silently."""


def compile_schema(schema: Mapping[str, Any]) -> Check:
    return _Compiler(schema).compile(schema)


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: deep, and true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_equal, a, b))
    return bool(a == b)


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda _: True
        if schema is False:
            return lambda _: False
        found = [self._keyword(schema, k) for k in schema if k not in _ANNOTATIONS and not k.startswith("x-")]
        checks = [c for c in found if c is not None]
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    def _ref(self, ref: str) -> Check:
        if ref not in self.refs:
            if not ref.startswith("#/"):
                raise UnsupportedSchema(f"only local $ref are supported, not {ref}")
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part]
            self.refs[ref] = lambda v: True  # placeholder while compiling, for recursive schemas
            compiled = self.compile(target)
            self.refs[ref] = compiled
        resolved = self.refs
        return lambda v: resolved[ref](v)

    def _keyword(self, schema: Mapping[str, Any], key: str) -> Check | None:
        value = schema[key]
        if key == "$ref":
            return self._ref(value)
        if key == "type":
            kinds = [_TYPES[t] for t in (value if isinstance(value, list) else [value])]
            return lambda v: any(kind(v) for kind in kinds)
        if key == "enum":
            return lambda v: any(_equal(v, option) for option in value)
        if key == "const":
            return lambda v: _equal(v, value)
        if key == "pattern":
            search = re.compile(value).search
            return lambda v: not isinstance(v, str) or search(v) is not None
        if key in ("minLength", "maxLength"):
            return _bound(str, len, value, key.startswith("min"))
        if key in ("minItems", "maxItems"):
            return _bound(list, len, value, key.startswith("min"))
        if key in ("minProperties", "maxProperties"):
            return _bound(dict, len, value, key.startswith("min"))
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            return _number_bound(key, value)
        if key == "uniqueItems":
            return (lambda v: not isinstance(v, list) or _unique(v)) if value else None
        if key == "required":
            return lambda v: not isinstance(v, dict) or all(name in v for name in value)
        if key == "properties":
            props = {name: self.compile(sub) for name, sub in value.items()}
            return lambda v: not isinstance(v, dict) or all(props[k](v[k]) for k in props.keys() & v.keys())
        if key == "additionalProperties":
            return self._additional(schema, value)
        if key == "propertyNames":
            names = self.compile(value)
            return lambda v: not isinstance(v, dict) or all(names(k) for k in v)
        if key == "items":
            item = self.compile(value)
            return lambda v: not isinstance(v, list) or all(item(i) for i in v)
        if key in ("allOf", "anyOf", "oneOf"):
            parts = [self.compile(sub) for sub in value]
            if key == "allOf":
                return lambda v: all(p(v) for p in parts)
            if key == "anyOf":
                return lambda v: any(p(v) for p in parts)
            return lambda v: sum(1 for p in parts if p(v)) == 1
        if key == "not":
            inner = self.compile(value)
            return lambda v: not inner(v)
        if key == "if":
            condition = self.compile(value)
            then = self.compile(schema.get("then", True))
            otherwise = self.compile(schema.get("else", True))
            return lambda v: then(v) if condition(v) else otherwise(v)
        if key in ("then", "else"):
            return None  # compiled with "if"
        raise UnsupportedSchema(f"keyword {key!r} is not supported by the fast checker")

    def _additional(self, schema: Mapping[str, Any], value: Any) -> Check:
        if "patternProperties" in schema:
            raise UnsupportedSchema("patternProperties is not supported by the fast checker")
        known = frozenset(schema.get("properties", {}))
        if value is False:
            return lambda v: not isinstance(v, dict) or v.keys() <= known
        extra = self.compile(value)
        return lambda v: not isinstance(v, dict) or all(extra(v[k]) for k in v.keys() - known)


def _bound(kind: type, size: Callable[[Any], int], limit: int, is_min: bool) -> Check:
    if is_min:
        return lambda v: not isinstance(v, kind) or size(v) >= limit
    return lambda v: not isinstance(v, kind) or size(v) <= limit


def _number_bound(key: str, limit: float) -> Check:
    compare: dict[str, Callable[[float], bool]] = {
        "minimum": lambda n: n >= limit, "maximum": lambda n: n <= limit,
        "exclusiveMinimum": lambda n: n > limit, "exclusiveMaximum": lambda n: n < limit}
    test = compare[key]
    return lambda v: not _TYPES["number"](v) or test(v)


def _unique(items: list[Any]) -> bool:
    return not any(_equal(a, b) for i, a in enumerate(items) for b in items[:i])
