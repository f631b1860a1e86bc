"""Read the JSON Schemas that ship in the `schemas` package."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from dsl.fast_schema import Check, compile_schema


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema by its short name, e.g. "catalog" for schemas/catalog.schema.json."""
    text = resources.files("schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


@functools.cache
def fast_check(name: str) -> Check:
    """A yes/no check of a schema, much faster than `validator(name)`, which explains failures."""
    return compile_schema(load_schema(name))
