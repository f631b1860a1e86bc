"""Load an order file: read it, parse YAML or JSON, check its schema and its items, build the Order."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode

from dro_cli.planning.order_model import Order, OrderItem
from dro_cli.planning.order_values import (
    ITEMS,
    capital,
    check_bundle_sizes,
    check_numbers,
    check_values,
    item_name,
    order_items,
)
from dro_cli.planning.tmf622 import OrderForm, is_product_order, translate, with_pointers
from dsl.diagnostics import Diagnostic, Span, did_you_mean, error, has_errors, sorted_diagnostics
from dsl.document import Document
from dsl.document import Path as DocPath
from dsl.graph import find_cycles
from dsl.limits import (
    MAX_DEPTH,
    read_integer,
    too_deep,
)
from dsl.schema_check import check_document
from dsl.sources import Sources, display_path, read_text
from dsl.yaml_loader import NodeLocator, load_yaml

try:  # the C parser, as the YAML loader uses
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

DOCS = "docs/orders.md"
_SUGGESTIONS = 10  # unknown parents that get a "did you mean"


@dataclass
class OrderResult:
    """An order file, loaded: the Order if the file has no errors, every diagnostic, the text read."""

    order: Order | None
    diagnostics: list[Diagnostic]
    sources: Sources = field(default_factory=Sources)
    document: Document | None = None

    @property
    def ok(self) -> bool:
        return self.order is not None

    def order_span(self) -> Span | None:
        """Where the order's id is written: what a diagnostic about the whole order points at."""
        return None if self.document is None else self.document.span(("order", "id"))

    def item_span(self, item_id: str, key: str | None = None) -> Span | None:
        """Where item `item_id` is written, or its `key` ("product", "quantity"...), for later diagnostics."""
        if self.document is None:
            return None
        for i, item in order_items(self.document.data):
            if item.get("id") == item_id:
                return self.document.span((*ITEMS, i) if key is None else (*ITEMS, i, key))
        return None


def load_order(path: Path, form: OrderForm | None = None) -> OrderResult:
    """The order in `path` (JSON if its name ends in .json, else YAML), with every problem it has.

    A TMF622 ProductOrder is read as docs/tmf622.md maps it (`form`: how, else from the environment).
    """
    shown = display_path(path)
    sources = Sources()
    if path.is_dir():
        return OrderResult(None, [error("DRO505", f"'{shown}' is a directory, not an order file",
                                        hint="name an order file, such as orders/ORD-1001.yaml")], sources)
    if not path.exists():
        return OrderResult(None, [error("DRO001", f"order file '{shown}' does not exist",
                                        hint="check the spelling of the path")], sources)
    text, problem = read_text(path, shown)
    if text is None:
        return OrderResult(None, [problem] if problem else [], sources)
    sources.texts[shown] = text
    form = form or OrderForm.current()
    source = None
    try:
        doc, diagnostics = _parse(shown, text, as_json=path.suffix.lower() == ".json")
        if doc is not None and (form.format == "tmf622" or (form.format == "auto" and is_product_order(doc.data))):
            doc, source, problems = translate(doc, form)
            # What a ProductOrder lacks, its own checks said in TMF's terms: not again in dro's.
            checked = [d for d in _check(doc) if d.code != "DRO202"]
            diagnostics += problems + with_pointers(doc, checked)
        elif doc is not None:
            diagnostics += _check(doc)
    except RecursionError:  # deep JSON that YAML could not scan for its depth first
        return OrderResult(None, [too_deep(Span.point(shown, 1, 1))], sources)
    order = _build(doc.data["order"], source) if doc is not None and not has_errors(diagnostics) else None
    return OrderResult(order, sorted_diagnostics(diagnostics), sources, doc)


def order_from_document(doc: Document) -> OrderResult:
    """An order given as data rather than as a file (a scenario test's inline order), checked the same way.

    `doc.data` is what an order file holds: `{"order": {...}}`.
    """
    diagnostics = _check(doc)
    order = None if has_errors(diagnostics) else _build(doc.data["order"])
    return OrderResult(order, sorted_diagnostics(diagnostics), Sources(), doc)


# ---- parsing ---------------------------------------------------------------------------


def _unusable(shown: str, summary: str, span: Span | None = None, detail: str | None = None) -> Diagnostic:
    return error("DRO505", summary, span or Span.point(shown, 1, 1), detail=detail,
                 hint=f"an order file holds one map with the key `order`: see {DOCS}")


# JSON writes characters beyond U+FFFF as two escapes, which YAML refuses. The JSON parser
# reads the values; YAML only locates them, so two escaped spaces of the same width will do.
_SURROGATE_PAIR = re.compile(r"(?<!\\)((?:\\\\)*)\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _parse(shown: str, text: str, *, as_json: bool) -> tuple[Document | None, list[Diagnostic]]:
    if as_json:
        text_for_yaml = _SURROGATE_PAIR.sub(r"\1\\u0020\\u0020", text)
        if not text.strip():
            return None, [_unusable(shown, "the order file is empty")]
    else:
        text_for_yaml = text
    deep = _too_deep(shown, text_for_yaml)
    if deep is not None:
        return None, [deep]
    if as_json:
        return _parse_json(shown, text, text_for_yaml)
    doc, problems = load_yaml(shown, text)
    problems = [_for_orders(d, as_json=False) for d in problems]
    if doc is None:
        return None, problems
    root = doc.locator.root if isinstance(doc.locator, NodeLocator) else None
    if root is None:
        return None, [*problems, _unusable(shown, "the order file is empty")]
    if not isinstance(root, MappingNode) and () not in doc.reported:
        return None, [*problems, _not_a_map(shown, doc.span(()), None if doc.data == {} else doc.data)]
    return doc, problems


def _parse_json(shown: str, text: str, text_for_yaml: str) -> tuple[Document | None, list[Diagnostic]]:
    try:
        data = json.loads(text, parse_int=read_integer)  # thousands of digits are not converted
    except json.JSONDecodeError as exc:
        return None, [error("DRO106", f"invalid JSON: {exc.msg}", Span.point(shown, exc.lineno, exc.colno),
                            detail="The file is read as JSON because its name ends in .json.",
                            hint="check for a missing ',' or '\"', or a ',' before a closing bracket")]
    located, problems = load_yaml(shown, text_for_yaml)
    problems = [_for_orders(d, as_json=True) for d in problems]
    if located is None:  # valid JSON that YAML cannot read: a lone surrogate escape, a control character
        return None, problems
    if not isinstance(data, dict):
        return None, [*problems, _not_a_map(shown, located.span(()), data)]
    return Document(shown, data, located.locator, reported=located.reported), problems


def _too_deep(shown: str, text: str) -> Diagnostic | None:
    """A diagnostic if the data nests deeper than MAX_DEPTH; YAML's events come without recursion."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    where = Span.point(shown, mark.line + 1, mark.column + 1) if mark is not None else None
                    return too_deep(where)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # some libyaml builds stop deep data themselves, first
            mark = getattr(exc, "problem_mark", None)
            where = Span.point(shown, mark.line + 1, mark.column + 1) if mark is not None else None
            return too_deep(where)
        # Anything else is reported, with its location, when the file is loaded.
    return None


def _not_a_map(shown: str, span: Span | None, value: Any) -> Diagnostic:
    kind = ("a list" if isinstance(value, list) else "nothing but null" if value is None
            else f"the value {json.dumps(value, ensure_ascii=False)[:40]}")
    return _unusable(shown, "an order file must be a map with the key 'order'", span,
                     detail=f"This file holds {kind}.")


_ORDER_HINTS = {
    "more than one YAML document in a file": "one order per file: put each order in a file of its own",
}


def _for_orders(diagnostic: Diagnostic, *, as_json: bool) -> Diagnostic:
    """The YAML loader's diagnostics, told for order files (its hints speak of catalogs)."""
    hint = _ORDER_HINTS.get(diagnostic.summary, diagnostic.hint)
    if hint and "catalog files" in hint:
        hint = hint.replace("catalog files", "order files")
    summary = diagnostic.summary
    if diagnostic.code == "DRO212":  # the loader's code for catalogs; orders have their own
        diagnostic = dataclasses.replace(diagnostic, code="DRO511")
    if as_json and diagnostic.code == "DRO106":
        summary = summary.replace("invalid YAML: ", "cannot read this JSON: ")
        hint = "write the text as UTF-8, or escape it as JSON does (\\uXXXX, surrogates in pairs)"
    return dataclasses.replace(diagnostic, summary=summary, hint=hint)


# ---- checks ----------------------------------------------------------------------------


def _check(doc: Document) -> list[Diagnostic]:
    numbers = list(check_numbers(doc))  # first: the schema then says nothing more of those values
    problems, bad = check_document(doc, "order", owner=_owner)
    return [*numbers, *problems, *check_items(doc), *check_values(doc, bad)]


def _owner(doc: Document, path: DocPath) -> str:
    """What holds `path`, for schema messages: an item (by its id), the order, or the file."""
    if len(path) >= 3 and path[:2] == ITEMS and isinstance(path[2], int):
        items = dict(order_items(doc.data))
        return item_name(path[2], items.get(path[2]))
    return "the order" if path[:1] == ("order",) else "the file"


def check_items(doc: Document) -> Iterator[Diagnostic]:
    """Duplicate item ids, unknown parents and parent cycles: every one, each where it is written."""
    items = order_items(doc.data)
    first: dict[str, int] = {}
    for i, item in items:
        item_id = item.get("id")
        if not isinstance(item_id, str):
            continue
        if item_id not in first:
            first[item_id] = i
            continue
        earlier = doc.span((*ITEMS, first[item_id], "id"))
        where = f" (line {earlier.line})" if earlier is not None else ""
        yield error("DRO501", f"duplicate item id '{item_id}'", doc.span((*ITEMS, i, "id")),
                    detail=f"Item {first[item_id] + 1}{where} already has the id '{item_id}'; "
                           "item ids are unique in an order, as fulfillment item ids are made from them.",
                    hint="give each item an id of its own")
    parents: dict[str, list[str]] = {}
    ids, unknown = list(first), 0
    for i, item in items:
        parent, item_id = item.get("parent"), item.get("id")
        if not isinstance(parent, str):
            continue
        if parent not in first:
            unknown += 1  # suggestions cost a comparison with every id: a few are enough
            yield _unknown_parent(doc, i, item, parent, ids, suggest=unknown <= _SUGGESTIONS)
        elif isinstance(item_id, str) and first[item_id] == i:  # a duplicate's parent is ambiguous
            parents[item_id] = [parent]
    cycles = find_cycles(parents)
    for cycle in cycles:
        yield _parent_cycle(doc, items, cycle)
    if not cycles:
        yield from check_bundle_sizes(doc, first, parents)


def _unknown_parent(doc: Document, index: int, item: dict[str, Any], parent: str, ids: list[str], *,
                    suggest: bool) -> Diagnostic:
    known = ", ".join(f"'{i}'" for i in ids[:8]) + (", ..." if len(ids) > 8 else "")
    hint = (did_you_mean(parent, ids) if suggest else None) or (f"the items of this order are {known}" if ids else None)
    return error("DRO502", f"unknown parent item '{parent}'", doc.span((*ITEMS, index, "parent")),
                 detail=f"{capital(item_name(index, item))} belongs to '{parent}', "
                        f"but the order has no item '{parent}'.",
                 hint=hint or "remove `parent` to make the item a bundle root")


def _parent_cycle(doc: Document, items: list[tuple[int, dict[str, Any]]], cycle: list[str]) -> Diagnostic:
    start = cycle[0]
    following = cycle[1] if len(cycle) > 1 else start
    index = next(i for i, item in items if item.get("id") == start and item.get("parent") == following)
    span = doc.span((*ITEMS, index, "parent"))
    if len(cycle) == 1:
        return error("DRO503", f"item '{start}' is its own parent", span,
                     detail="An item cannot belong to itself; an item without a parent is a bundle root.",
                     hint=f"remove `parent: {start}`, or name the item '{start}' belongs to")
    chain = " -> ".join([*cycle, start])
    return error("DRO503", f"parent cycle: {chain}", span,
                 detail="Each item's parent is the next one in this chain, which never reaches a bundle "
                        "root (an item without a parent).",
                 hint=f"remove `parent` from the item that is the bundle root (for example '{start}')")


# ---- the order -------------------------------------------------------------------------


def _build(data: dict[str, Any], source: Mapping[str, Any] | None = None) -> Order:
    """The Order of a checked document, defaults applied; `source`: the ProductOrder it was translated from."""
    items = tuple(
        OrderItem(id=item["id"], product=item["product"], quantity=int(item.get("quantity", 1)),
                  action=item.get("action", "add"), attributes=dict(item.get("attributes", {})),
                  parent=item.get("parent"))
        for item in data["items"])
    return Order(id=data["id"], account=data["account"], items=items, attributes=dict(data.get("attributes", {})),
                 requested_date=data.get("requested_date"), source=source)

