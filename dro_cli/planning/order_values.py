"""Check an order's values: its requested date, its numbers, and the limits of dsl/limits.py on its size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from dsl.diagnostics import Diagnostic, error
from dsl.document import Document
from dsl.document import Path as DocPath
from dsl.limits import (
    MAX_BUNDLE_ITEMS,
    MAX_ID_LENGTH,
    MAX_ITEMS,
    MAX_QUANTITY,
    MAX_YEAR,
    MIN_YEAR,
    number_out_of_range,
    number_problem,
)

ITEMS: DocPath = ("order", "items")


def order_items(data: Any) -> list[tuple[int, dict[str, Any]]]:
    """The items of the order that are maps, with their index."""
    order = data.get("order") if isinstance(data, dict) else None
    items = order.get("items") if isinstance(order, dict) else None
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]


def item_name(index: int, item: Any) -> str:
    item_id = item.get("id") if isinstance(item, dict) else None
    return f"item '{item_id}'" if isinstance(item_id, str) and item_id else f"item {index + 1}"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,]\d+)?)?"
                   r"(?:[Zz]|[+-](\d\d):?(\d\d)?)?)?")


def _date_problem(text: str) -> str | None:
    """What is wrong with a text the schema took for a date: no such day (or time), or out of range."""
    found = _DATE.fullmatch(text)
    if found is None:
        return None  # the schema reports the form
    year, month, day, hour, minute, second, zone_hours, zone_minutes = (int(g or 0) for g in found.groups())
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return "unreal"
    if zone_hours >= 24 or zone_minutes >= 60:
        return "unreal"
    return "out of range" if not MIN_YEAR <= year <= MAX_YEAR else None


def check_values(doc: Document, bad: set[DocPath]) -> Iterator[Diagnostic]:
    order = doc.data.get("order")
    if not isinstance(order, dict):
        return
    date = order.get("requested_date")
    at: DocPath = ("order", "requested_date")
    problem = _date_problem(date) if isinstance(date, str) and at not in bad else None
    if problem == "unreal":
        yield error("DRO208", f"'{date}' is not a real date", doc.span(at),
                    detail="The requested date of the order names no day of the calendar (or no time of day).",
                    hint="write a date as 2026-12-07, or a date and time as 2026-12-07T09:00:00Z")
    elif problem is not None:
        yield error("DRO208", f"'{date}' is out of range: a requested date is in the years {MIN_YEAR} to {MAX_YEAR}",
                    doc.span(at), detail="Dates further out are beyond what due dates and forecasts can be "
                                         "computed for; no customer asks for them.",
                    hint="check the year of the requested date")
    yield from _check_sizes(doc, order, bad)


def check_numbers(doc: Document) -> Iterator[Diagnostic]:
    """Every number of the order that a plan cannot hold; each path reported is added to `doc.reported`."""
    order = doc.data.get("order") if isinstance(doc.data, dict) else None
    items = order.get("items") if isinstance(order, dict) else None
    for path, problem in _out_of_range(order, ("order",)):
        if path in doc.reported:
            continue
        doc.reported.add(path)
        index = path[2] if path[1:2] == ("items",) and len(path) > 2 else None
        owner = item_name(index, items[index]) if isinstance(index, int) and isinstance(items, list) else "the order"
        name = next((k for k in reversed(path) if isinstance(k, str)), "value")
        yield number_out_of_range(name, problem, doc.span(path), "DRO511", owner)


def _check_sizes(doc: Document, order: dict[str, Any], bad: set[DocPath]) -> Iterator[Diagnostic]:
    """The limits of dsl/limits.py on an order: its items, their quantities, the length of ids."""
    items = order.get("items")
    if isinstance(items, list) and len(items) > MAX_ITEMS:
        yield error("DRO510", f"the order has {len(items):,} items, more than {MAX_ITEMS:,}",
                    doc.span((*ITEMS, MAX_ITEMS)),
                    detail=f"An order holds at most {MAX_ITEMS:,} line items: each gets step instances of its "
                           "own, and a plan that large cannot be run or shown.",
                    hint="split it into several orders, or use an item's quantity for many of one product")
    ids: list[tuple[DocPath, Any]] = [(("order", "id"), order.get("id"))]
    for i, item in order_items(doc.data):
        ids.append(((*ITEMS, i, "id"), item.get("id")))
        quantity = item.get("quantity")
        at: DocPath = (*ITEMS, i, "quantity")
        if isinstance(quantity, (int, float)) and not isinstance(quantity, bool) and quantity > MAX_QUANTITY \
                and at not in bad and at not in doc.reported:
            shown = f"{quantity:,}" if isinstance(quantity, int) else f"{quantity:g}"
            yield error("DRO509", f"quantity {shown} is larger than {MAX_QUANTITY:,}", doc.span(at),
                        detail=f"In {item_name(i, item)}: a quantity is at most {MAX_QUANTITY:,}.",
                        hint="check the quantity, or split the item into several")
    for at, value in ids:
        if isinstance(value, str) and len(value) > MAX_ID_LENGTH and at not in bad and at not in doc.reported:
            what = "an order id" if len(at) == 2 else "an item id"
            yield error("DRO206", f"{what} of {len(value):,} characters is longer than {MAX_ID_LENGTH}",
                        doc.span(at), detail=f"{capital(what)} names directories and step instances, so it "
                                            f"has at most {MAX_ID_LENGTH} characters.",
                        hint="use a shorter id, such as ORD-1001 or L1")


def _out_of_range(data: Any, at: DocPath) -> Iterator[tuple[DocPath, str]]:
    """Every number below `data` that a plan cannot hold: NaN, infinities (JSON's 1e999, YAML's .inf), huge."""
    stack: list[tuple[DocPath, Any]] = [(at, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, (int, float)):
            problem = number_problem(value)
            if problem is not None:
                yield path, problem
        elif isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in enumerate(value))


def check_bundle_sizes(doc: Document, first: dict[str, int], parents: dict[str, list[str]]) -> Iterator[Diagnostic]:
    """DRO510 for a bundle of more than MAX_BUNDLE_ITEMS items: its steps' dependencies grow with their square.

    `first` is each item id's index, `parents` each item's parent (known, and without cycles).
    """
    roots: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for item_id in first:
        path, current = [], item_id
        while current not in roots and current in parents:
            path.append(current)
            current = parents[current][0]
        root = roots.get(current, current)
        for member in (*path, current):
            roots[member] = root
        sizes[root] = sizes.get(root, 0) + 1
    for root, size in sizes.items():
        if size > MAX_BUNDLE_ITEMS:
            yield error("DRO510", f"bundle '{root}' has {size:,} items, more than {MAX_BUNDLE_ITEMS:,}",
                        doc.span((*ITEMS, first[root], "id")),
                        detail=f"A bundle (an item without a parent and every item below it) holds at most "
                               f"{MAX_BUNDLE_ITEMS:,} items: steps within a bundle depend on each other's "
                               "instances, so its plan grows with the square of its items.",
                        hint="split the items into several bundles (items without a parent start one)")

