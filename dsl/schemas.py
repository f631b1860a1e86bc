"""Read the JSON Schemas that ship in the `schemas` package."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsl.fast_schema import Check, compile_schema

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema by its short name, e.g. "catalog" for schemas/catalog.schema.json."""
    import schemas  # a plain package beside dsl: read as files (importlib.resources costs 15 ms to import)

    text = Path(schemas.__file__).with_name(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """A validator of schema `name`; one that refers to another schema (`status.schema.json#/$defs/...`)
    gets it too, found by the `$id` every shipped schema has.

    jsonschema loads here, on the first document `fast_check` rejects: it takes longer to
    import than a clean `dro validate FILE` takes to run."""
    from jsonschema import Draft202012Validator

    schema = load_schema(name)
    others = _referred(name)
    if not others:
        return Draft202012Validator(schema)
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (load_schema(other)["$id"], Resource.from_contents(load_schema(other))) for other in sorted(others))
    return Draft202012Validator(schema, registry=registry)


def _referred(name: str) -> set[str]:
    """The other shipped schemas that schema `name` refers to, directly or through each other."""
    found: set[str] = set()
    pending = [name]
    while pending:
        for other in _refs(load_schema(pending.pop())):
            if other != name and other not in found:
                found.add(other)
                pending.append(other)
    return found


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        ref = value.get("$ref")
        own = {ref.partition(_SUFFIX)[0]} if isinstance(ref, str) and _SUFFIX + "#" in ref else set()
        return own.union(*(_refs(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value))
    return set()


_SUFFIX = ".schema.json"


@functools.cache
def fast_check(name: str) -> Check:
    """A yes/no check of a schema, much faster than `validator(name)`, which explains failures."""
    return compile_schema(load_schema(name))
