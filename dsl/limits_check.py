"""Check a catalog's values against the limits of dsl/limits.py: durations, retry counts and factors, quantities.

The schema has checked their form; these bounds keep what the engine computes from them
(due dates, retry delays, decomposed quantities) within what it can represent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dsl.catalog import Catalog, Decl
from dsl.diagnostics import Diagnostic, error
from dsl.durations import parse_duration
from dsl.limits import MAX_DURATION_TEXT, MAX_FACTOR, MAX_QUANTITY, MAX_RETRIES, duration_too_long

# Attributes that hold a duration, on steps, endpoints, rules and retry settings.
_DURATIONS = frozenset({"duration", "jeopardy", "timeout", "resume_after", "interval", "initial", "max"})
# Numbers with a bound of their own (the loaders bound every number to what JSON keeps exact).
_BOUNDS = {"retries": MAX_RETRIES, "factor": MAX_FACTOR}


def check_limits(catalog: Catalog) -> Iterator[Diagnostic]:
    for table in (catalog.steps, catalog.endpoints, catalog.jeopardy_rules, catalog.fallout_rules):
        for decl in catalog.valid(table):
            yield from _values(decl, decl.data, ())
            retry = decl.data.get("retry")
            if isinstance(retry, dict):
                yield from _values(decl, retry, ("retry",))
    for rule in catalog.valid(catalog.decompositions):
        for i, target in enumerate(rule.data.get("into", ())):
            quantity = target.get("quantity") if isinstance(target, dict) else None
            if _above(quantity, MAX_QUANTITY):
                yield _too_large(rule, ("into", i, "quantity"), "quantity", MAX_QUANTITY)


def _values(decl: Decl, data: Mapping[str, Any], at: tuple[str, ...]) -> Iterator[Diagnostic]:
    for key in data.keys() & _DURATIONS:  # set operations in C: this runs for every step
        text = data[key]
        if isinstance(text, str) and duration_too_long(parse_duration(text)):
            yield _too_long(decl, (*at, key), text)
    if "intervals" in data:
        for i, text in enumerate(data["intervals"] or ()):
            if isinstance(text, str) and duration_too_long(parse_duration(text)):
                yield _too_long(decl, (*at, "intervals", i), text)
    for key in data.keys() & _BOUNDS.keys():
        if _above(data[key], _BOUNDS[key]):
            yield _too_large(decl, (*at, key), key, _BOUNDS[key])


def _above(value: Any, limit: int) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > limit


def _too_long(decl: Decl, keys: tuple[str | int, ...], text: str) -> Diagnostic:
    name = next(str(k) for k in reversed(keys) if isinstance(k, str)).replace("_", " ")
    return error("DRO211", f"{name} {text} is longer than {MAX_DURATION_TEXT}", decl.span(*keys),
                 detail=f"Durations are at most {MAX_DURATION_TEXT} (ten years): due dates, timers and retry "
                        "delays made from them must stay within the calendar dro can write.",
                 hint=f"write a duration of at most {MAX_DURATION_TEXT}")


def _too_large(decl: Decl, keys: tuple[str | int, ...], name: str, limit: int) -> Diagnostic:
    return error("DRO212", f"{name} must be at most {limit:,}", decl.span(*keys),
                 detail=f"In {decl.kind.replace('_', ' ')} '{decl.id}': a larger {name} is most likely a "
                        "mistake, and the plans and delays made from it would be too large to keep.",
                 hint=f"write a {name} of at most {limit:,}")
