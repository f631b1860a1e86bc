"""Validators for the TMF622 v5 specification's schemas (tests/data/tmf622/spec), as OpenAPI means them.

OpenAPI picks a `oneOf` branch by its `discriminator` (`@type`); JSON Schema has no such keyword and
tries every branch, so a `PartyRef` also passes as a `PartyRoleRef` and the `oneOf` fails. Each
discriminated `oneOf` is rewritten as what the discriminator says: the branch its mapping names for
the value's `@type`, and one of the branches when there is none.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC = Path(__file__).resolve().parent / "data" / "tmf622" / "spec" / "TMF622-ProductOrdering-v5.0.0.oas.yaml"


def _discriminated(node: Any) -> Any:
    if isinstance(node, list):
        return [_discriminated(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _discriminated(v) for k, v in node.items()}
    mapping = (node.get("discriminator") or {}).get("mapping")
    if "oneOf" in node and mapping:
        branches = node.pop("oneOf")
        node["allOf"] = [*node.get("allOf", []), *(
            {"if": {"properties": {"@type": {"const": kind}}, "required": ["@type"]}, "then": {"$ref": ref}}
            for kind, ref in mapping.items()),
            {"if": {"not": {"properties": {"@type": {"enum": sorted(mapping)}}, "required": ["@type"]}},
             "then": {"anyOf": branches}}]
    return node


@functools.cache
def _registry() -> Registry:
    spec = _discriminated(yaml.safe_load(SPEC.read_text(encoding="utf-8")))
    return Registry().with_resource("tmf622", Resource.from_contents(spec, default_specification=DRAFT202012))


def errors(schema: str, document: Any) -> list[str]:
    """Where and why `document` is not a valid `schema` (a name under components/schemas), or []."""
    validator = Draft202012Validator({"$ref": f"tmf622#/components/schemas/{schema}"}, registry=_registry())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator.iter_errors(document)]
