"""TMF622 ProductOrders (v4 and v5) as dro orders: the mapping of docs/tmf622.md, section 1.

A ProductOrder is translated into the document an order file holds (`{"order": {...}}`), with a
locator that sends every path of that document back to the TMF field it came from, so the order
checks that follow report line, column and JSON pointer in the file the user wrote. What dro does
not read is kept: the whole ProductOrder reaches templates as `order.source`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from dsl.diagnostics import Diagnostic, Span, TextOrigin, error
from dsl.document import Document, Locator
from dsl.document import Path as DocPath

DOCS = "docs/tmf622.md"
FORMATS = ("auto", "dro", "tmf622")
FORMAT_ENV = "DRO_ORDER_FORMAT"
PRODUCT_ENV = "DRO_TMF622_PRODUCT"
PRODUCT_FIELDS = ("productOffering.id", "productSpecification.id")  # or characteristic:NAME
CHARACTERISTIC = "characteristic:"
ACTIONS = {"add": "add", "modify": "change", "delete": "delete", "noChange": "no_change"}
# An item's relationship that makes a bundle: on the bundle's side, or on its member's.
BUNDLES = frozenset({"bundles", "contains", "hasPart"})
BUNDLED_IN = frozenset({"isBundledIn", "bundledIn", "isContainedIn", "isPartOf"})
# Fields of a ProductOrder that have a place of their own in a dro order, or are the provider's to set.
_MAPPED = frozenset({"id", "href", "externalId", "requestedCompletionDate", "state", "creationDate", "completionDate",
                     "expectedCompletionDate", "cancellationDate", "cancellationReason"})
_CASTS = {"integer": int, "number": float, "float": float, "boolean": bool, "string": str}


@dataclass(frozen=True)
class OrderForm:
    """How order files are read: `--order-format` and `--tmf-product`, else their environment variables."""

    format: str = "auto"
    product: str = PRODUCT_FIELDS[0]

    @classmethod
    def current(cls) -> OrderForm:
        """The form a command was given (`using`), else the one the environment sets."""
        return _given.get() or cls(os.environ.get(FORMAT_ENV) or "auto",
                                   os.environ.get(PRODUCT_ENV) or PRODUCT_FIELDS[0])

    def problem(self) -> str | None:
        """What is wrong with this form, told as the option that sets it, or None."""
        if self.format not in FORMATS:
            return f"--order-format (${FORMAT_ENV}) is one of {', '.join(FORMATS)}, not '{self.format}'"
        if self.product not in PRODUCT_FIELDS and not (self.product.startswith(CHARACTERISTIC)
                                                       and self.product[len(CHARACTERISTIC):]):
            return (f"--tmf-product (${PRODUCT_ENV}) is {', '.join(PRODUCT_FIELDS)} or characteristic:NAME, "
                    f"not '{self.product}'")
        return None


# Set by a command for what it does: every order file it reads, first or again later (an amendment
# reads the running revision's file too), is read the same way.
_given: ContextVar[OrderForm | None] = ContextVar("order_form", default=None)


@contextlib.contextmanager
def using(form: OrderForm) -> Iterator[None]:
    token = _given.set(form)
    try:
        yield
    finally:
        _given.reset(token)


def is_product_order(data: Any) -> bool:
    """Whether parsed order data is a TMF622 ProductOrder rather than a dro order file."""
    return (isinstance(data, dict) and "order" not in data
            and ("productOrderItem" in data or str(data.get("@type", "")).startswith("ProductOrder")))


def pointer(path: DocPath) -> str:
    """The JSON pointer (RFC 6901) of a path."""
    return "".join("/" + str(key).replace("~", "~0").replace("/", "~1") for key in path) or "/"


@dataclass
class _Translated:
    """A Locator for the translated document: dro's paths, answered by the TMF file's locator."""

    source: Locator
    paths: dict[DocPath, DocPath]
    pointers: dict[Span, str] = field(default_factory=dict)  # spans handed out, for the diagnostics' pointers

    def _tmf(self, path: DocPath) -> DocPath | None:
        for end in range(len(path), -1, -1):
            found = self.paths.get(path[:end])
            if found is not None:
                return found
        return None

    def _remember(self, tmf: DocPath, span: Span | None) -> Span | None:
        if span is not None:
            self.pointers.setdefault(span, pointer(tmf))
        return span

    def value_span(self, path: DocPath) -> Span | None:
        tmf = self._tmf(path)
        return None if tmf is None else self._remember(tmf, self.source.value_span(tmf))

    def key_span(self, path: DocPath) -> Span | None:
        tmf = self.paths.get(path)
        return None if tmf is None else self._remember(tmf, self.source.key_span(tmf))

    def text_origin(self, path: DocPath) -> TextOrigin | None:
        tmf = self.paths.get(path)
        return None if tmf is None else self.source.text_origin(tmf)


def with_pointers(doc: Document, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics of a translated document, each saying which TMF field (JSON pointer) it is about."""
    locator = doc.locator
    if not isinstance(locator, _Translated):
        return diagnostics
    out = []
    for d in diagnostics:
        at = locator.pointers.get(d.span) if d.span is not None else None
        if at is not None and "(TMF622 field " not in (d.detail or ""):
            d = dataclasses.replace(d, detail=f"{d.detail + ' ' if d.detail else ''}(TMF622 field {at})")
        out.append(d)
    return out


class _Builder:
    """Reads one ProductOrder into dro's order data, noting each value's TMF path and each problem."""

    def __init__(self, doc: Document, form: OrderForm) -> None:
        self.doc, self.form = doc, form
        self.paths: dict[DocPath, DocPath] = {(): (), ("order",): ()}
        self.problems: list[Diagnostic] = []

    def problem(self, code: str, summary: str, at: DocPath, *, detail: str, hint: str) -> None:
        self.problems.append(error(code, summary, self.doc.span(at), detail=f"{detail} (TMF622 field {pointer(at)})",
                                   hint=hint))

    def put(self, target: dict[str, Any], key: str, value: Any, dro: DocPath, tmf: DocPath) -> None:
        target[key] = value
        self.paths[dro] = tmf

    def order(self) -> dict[str, Any]:
        data = self.doc.data
        order: dict[str, Any] = {}
        self._order_id(data, order)
        self._account(data, order)
        if "requestedCompletionDate" in data:
            self.put(order, "requested_date", data["requestedCompletionDate"], ("order", "requested_date"),
                     ("requestedCompletionDate",))
        self._attributes(data, order)
        items = data.get("productOrderItem")
        if not isinstance(items, list) or not items:
            self.problem("DRO540", "the ProductOrder has no productOrderItem", ("productOrderItem",),
                         detail="A TMF622 ProductOrder lists what is ordered under `productOrderItem`; dro plans "
                                "each of them as an order line.",
                         hint='add "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": ...}}]')
        else:
            order["items"] = []
            self.paths[("order", "items")] = ("productOrderItem",)
            self._items(items, ("productOrderItem",), None, order["items"])
            self._relationships(order["items"])
        return {"order": order}

    def _attributes(self, data: Mapping[str, Any], order: dict[str, Any]) -> None:
        """The order's plain fields (category, priority, an extension's country...) and its external id."""
        attributes: dict[str, Any] = {}
        self.put(order, "attributes", attributes, ("order", "attributes"), ())
        for key, value in data.items():
            if key not in _MAPPED and not key.startswith("@") and isinstance(value, (str, int, float, bool)):
                self.put(attributes, key, value, ("order", "attributes", key), (key,))
        external = _external_id(data)
        if external is not None:
            self.put(attributes, "external_id", external[0], ("order", "attributes", "external_id"), external[1])

    def _order_id(self, data: Mapping[str, Any], order: dict[str, Any]) -> None:
        if "id" in data:
            self.put(order, "id", data["id"], ("order", "id"), ("id",))
            return
        external = _external_id(data)
        if external is not None:
            self.put(order, "id", external[0], ("order", "id"), external[1])
            return
        self.problem("DRO540", "the ProductOrder has neither an id nor an externalId", (),
                     detail="dro names an order by its id: the ProductOrder's `id`, else its first `externalId`.",
                     hint='add "id": "PO-1001" (or "externalId": [{"id": "PO-1001", "owner": "CRM"}])')

    def _account(self, data: Mapping[str, Any], order: dict[str, Any]) -> None:
        parties = data.get("relatedParty")
        for i, party in enumerate(parties if isinstance(parties, list) else ()):
            if not isinstance(party, dict) or str(party.get("role", "")).lower() != "customer":
                continue
            inner = party.get("partyOrPartyRole")  # v5 wraps the party; v4 is the party
            if isinstance(inner, dict) and "id" in inner:
                self.put(order, "account", inner["id"], ("order", "account"), ("relatedParty", i, "partyOrPartyRole",
                                                                                 "id"))
            elif "id" in party:
                self.put(order, "account", party["id"], ("order", "account"), ("relatedParty", i, "id"))
            else:
                continue
            return
        self.problem("DRO540", "the ProductOrder names no customer", ("relatedParty",) if parties else (),
                     detail="dro's order account is the `relatedParty` whose role is customer.",
                     hint='add "relatedParty": [{"role": "customer", "partyOrPartyRole": {"id": "CUST-1", '
                          '"@referredType": "Individual"}}] (v4: {"role": "customer", "id": "CUST-1"})')

    def _items(self, items: list[Any], at: DocPath, parent: str | None, out: list[dict[str, Any]]) -> None:
        for i, item in enumerate(items):
            tmf = (*at, i)
            if not isinstance(item, dict):
                self.problem("DRO540", "a productOrderItem is not an object", tmf,
                             detail="Each entry of `productOrderItem` is a ProductOrderItem object.",
                             hint='write it as {"id": "1", "action": "add", "productOffering": {"id": "..."}}')
                continue
            line: dict[str, Any] = {}
            dro: DocPath = ("order", "items", len(out))
            self.paths[dro] = tmf
            out.append(line)
            if "id" not in item:
                self.problem("DRO540", "a productOrderItem has no id", tmf,
                             detail="dro names an order line by its productOrderItem id; fulfillment items are "
                                    "named ID/PRODUCT after it.", hint='add "id": "1" (unique in the order)')
            for key, tmf_key in (("id", "id"), ("quantity", "quantity")):
                if tmf_key in item:
                    self.put(line, key, item[tmf_key], (*dro, key), (*tmf, tmf_key))
            self._action(item, tmf, line, dro)
            self._product(item, tmf, line, dro)
            attributes = self._characteristics(item, tmf, (*dro, "attributes"))
            if attributes:
                self.put(line, "attributes", attributes, (*dro, "attributes"),
                         (*tmf, "product", "productCharacteristic"))
            if parent is not None:
                self.put(line, "parent", parent, (*dro, "parent"), (*at[:-1], "id"))
            nested = item.get("productOrderItem")
            if isinstance(nested, list) and isinstance(item.get("id"), str):
                self._items(nested, (*tmf, "productOrderItem"), item["id"], out)

    def _action(self, item: Mapping[str, Any], tmf: DocPath, line: dict[str, Any], dro: DocPath) -> None:
        action = item.get("action", "add")
        if isinstance(action, str) and action in ACTIONS:
            self.put(line, "action", ACTIONS[action], (*dro, "action"), (*tmf, "action"))
            return
        self.problem("DRO541", f"unknown productOrderItem action {_shown(action)}", (*tmf, "action"),
                     detail="TMF622's item actions are add, modify, delete and noChange (dro: add, change, delete, "
                            "no_change).",
                     hint="write one of add, modify, delete, noChange")

    def _product(self, item: Mapping[str, Any], tmf: DocPath, line: dict[str, Any], dro: DocPath) -> None:
        product = _product_of(item)
        if self.form.product == "productOffering.id":
            where: DocPath = (*tmf, "productOffering", "id")
            value = (item.get("productOffering") or {}).get("id") if isinstance(item.get("productOffering"), dict) \
                else None
        elif self.form.product == "productSpecification.id":
            where = (*tmf, "product", "productSpecification", "id")
            spec = product.get("productSpecification")
            value = spec.get("id") if isinstance(spec, dict) else None
        else:
            name = self.form.product[len(CHARACTERISTIC):]
            found = next(((j, c) for j, c in enumerate(_characteristic_list(product))
                          if isinstance(c, dict) and c.get("name") == name), None)
            where = (*tmf, "product", "productCharacteristic", found[0], "value") if found else (*tmf, "product")
            value = found[1].get("value") if found else None
        if value is None:
            self.problem("DRO542", f"productOrderItem {_shown(item.get('id'))} names no product at "
                         f"{self.form.product}", where if self.doc.span(where) else tmf,
                         detail=f"dro reads each item's product from {self.form.product} (--tmf-product, "
                                f"${PRODUCT_ENV}); this item has none there.",
                         hint=f"give the item {_product_example(self.form.product)}, or choose where the product "
                              f"is named with --tmf-product {' | '.join(PRODUCT_FIELDS)} | characteristic:NAME")
            return
        self.put(line, "product", value, (*dro, "product"), where)

    def _characteristics(self, item: Mapping[str, Any], tmf: DocPath, dro: DocPath) -> dict[str, Any]:
        product = _product_of(item)
        attributes: dict[str, Any] = {}
        for j, c in enumerate(_characteristic_list(product)):
            if not isinstance(c, dict) or not isinstance(c.get("name"), str) or "value" not in c:
                continue
            at = (*tmf, "product", "productCharacteristic", j, "value")
            self.put(attributes, c["name"], self._typed(c, at), (*dro, c["name"]), at)
        return attributes

    def _typed(self, characteristic: Mapping[str, Any], at: DocPath) -> Any:
        """The value, as the type its characteristic declares (v5 `@type`, v4 `valueType`)."""
        value = characteristic["value"]
        kind = _declared_type(characteristic)
        cast = _CASTS.get(kind or "")
        if cast is None or not isinstance(value, str) or cast is str:
            return value
        try:
            if cast is bool:
                if value.lower() not in ("true", "false"):
                    raise ValueError(value)
                return value.lower() == "true"
            return cast(value)
        except ValueError:
            self.problem("DRO543", f"characteristic {_shown(characteristic.get('name'))} is declared {kind} "
                         f"but its value is {_shown(value)}", at,
                         detail="dro gives templates and expressions a characteristic's value in the type its "
                                "`@type` or `valueType` declares.",
                         hint=f"write the value as {kind}, or declare the type it has")
            return value

    def _relationships(self, lines: list[dict[str, Any]]) -> None:
        """Bundles told by `productOrderItemRelationship`: `bundles` on the root, `isBundledIn` on a member."""
        index = {line.get("id"): n for n, line in enumerate(lines) if isinstance(line.get("id"), str)}
        for n, line in enumerate(lines):
            tmf = self.paths[("order", "items", n)]
            item = _at(self.doc.data, tmf)
            relations = item.get("productOrderItemRelationship") if isinstance(item, dict) else None
            for j, rel in enumerate(relations if isinstance(relations, list) else ()):
                kind = rel.get("relationshipType") if isinstance(rel, dict) else None
                if not isinstance(kind, str) or kind not in BUNDLES | BUNDLED_IN:
                    continue  # reliesOn and the like: kept in order.source
                at = (*tmf, "productOrderItemRelationship", j, "id")
                other = rel.get("id")
                if not isinstance(other, str) or other not in index:
                    self.problem("DRO544", f"productOrderItemRelationship names unknown item {_shown(other)}", at,
                                 detail="A relationship's id is the id of another productOrderItem of the same "
                                        "order.", hint=f"the items are {', '.join(map(str, index)) or 'none'}")
                    continue
                member, root = (n, other) if kind in BUNDLED_IN else (index[other], line.get("id"))
                self.put(lines[member], "parent", root, ("order", "items", member, "parent"), at)


def translate(doc: Document, form: OrderForm) -> tuple[Document, Mapping[str, Any], list[Diagnostic]]:
    """The dro order document of a ProductOrder, the ProductOrder itself (`order.source`), and the problems
    only TMF622's form can have."""
    builder = _Builder(doc, form)
    data = builder.order()
    return Document(doc.file, data, _Translated(doc.locator, builder.paths)), doc.data, builder.problems


def _product_of(item: Mapping[str, Any]) -> Mapping[str, Any]:
    product = item.get("product")
    return product if isinstance(product, dict) else {}


def _at(data: Any, path: DocPath) -> Any:
    for key in path:
        data = data[key]
    return data


def _external_id(data: Mapping[str, Any]) -> tuple[str, DocPath] | None:
    """The ProductOrder's (first) external id and where it is written: v4 a string, v5 ExternalIdentifiers."""
    value = data.get("externalId")
    if isinstance(value, str):
        return value, ("externalId",)
    if isinstance(value, list) and value and isinstance(value[0], dict) and isinstance(value[0].get("id"), str):
        return value[0]["id"], ("externalId", 0, "id")
    return None


def _characteristic_list(product: Mapping[str, Any]) -> list[Any]:
    found = product.get("productCharacteristic")
    return found if isinstance(found, list) else []


def _declared_type(characteristic: Mapping[str, Any]) -> str | None:
    kind = characteristic.get("@type")
    if isinstance(kind, str) and kind.endswith("Characteristic") and "Array" not in kind:
        return kind.removesuffix("Characteristic").lower() or None
    declared = characteristic.get("valueType")
    return declared.lower() if isinstance(declared, str) else None


def _product_example(field_name: str) -> str:
    if field_name == "productOffering.id":
        return '"productOffering": {"id": "LAPTOP-BUNDLE"}'
    if field_name == "productSpecification.id":
        return '"product": {"productSpecification": {"id": "LAPTOP-BUNDLE"}}'
    return f'a characteristic {{"name": "{field_name[len(CHARACTERISTIC):]}", "value": "LAPTOP-BUNDLE"}}'


def _shown(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value) if value is not None else "(none)"
