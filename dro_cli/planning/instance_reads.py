"""What a step instance reads of its order: the values an amendment compares to tell a changed step.

A fulfillment item inherits its bundle's attributes, so comparing whole items would call every
step of a bundle changed when one attribute changes. An instance is changed only when its own
definition differs or a value its templates read does: `item.attributes.speed_mbps`, not `item`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from dsl.templates import environment, is_template

_ROOTS = ("order", "item", "bundle")
Path = tuple[str, ...]  # ("item", "attributes", "speed_mbps"); ("item",) reads the whole item


def template_texts(value: Any) -> Iterator[str]:
    """Every template in a step's configuration, at any depth."""
    stack = [value]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is str:
            if "{" in value and is_template(value):
                yield value
        elif kind is dict or (kind is not list and isinstance(value, Mapping)):  # dicts first: the ABC is slow
            for key, inner in value.items():
                stack.append(inner)
                stack.append(key)
        elif kind is list:
            stack.extend(value)


@functools.lru_cache(maxsize=4096)
def paths_read(text: str) -> frozenset[Path]:
    """The order values one template reads, as the longest constant path from `order`, `item` or `bundle`
    (a name a loop assigns is not the step's), and the steps whose outputs it reads as ("outputs", step)."""
    from jinja2 import TemplateSyntaxError, nodes

    try:
        tree = environment().parse(text)
    except TemplateSyntaxError:
        return frozenset({(root,) for root in _ROOTS})  # validate reports it; read as everything
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"}
    found: set[Path] = set()
    inner: set[int] = set()  # nodes that are part of a longer path already taken
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        if id(node) in inner:
            continue
        path: list[str] = []
        current: Any = node
        while isinstance(current, (nodes.Getattr, nodes.Getitem)):
            key = current.attr if isinstance(current, nodes.Getattr) else (
                current.arg.value if isinstance(current.arg, nodes.Const) else None)
            if key is None:
                path.clear()  # a computed key: from here on, the whole value is read
            else:
                path.insert(0, str(key))
            inner.add(id(current.node))
            current = current.node
        if isinstance(current, nodes.Name) and current.name not in assigned and (
                current.name in _ROOTS or current.name == "outputs"):
            found.add((current.name, *path))
    return frozenset(found)


def reads(instance: Mapping[str, Any]) -> frozenset[Path]:
    """Everything the instance's templates read of the order (and of other steps' outputs)."""
    found: set[Path] = set()
    for text in template_texts(instance.get("config")):
        found |= paths_read(text)
    for key in ("run_as",):
        value = instance.get(key)
        if isinstance(value, str) and is_template(value):
            found |= paths_read(value)
    return frozenset(found)


_MISSING = object()


class Reads:
    """What `reads(instance)` reads of the order (not of outputs) and, for a line item, its quantity and
    product: kept per configuration, since the instances of one template step in a plan share theirs."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, Any, bool], tuple[Any, list[Path]]] = {}

    def __call__(self, instance: Mapping[str, Any]) -> list[Path]:
        config, run_as = instance.get("config"), instance.get("run_as")
        key = (id(config), run_as if isinstance(run_as, str) else None, bool(instance.get("item")))
        known = self._known.get(key)
        if known is None or known[0] is not config:  # the config kept beside its id, so the id is not reused
            paths = set(reads(instance))
            if instance.get("item"):
                paths |= {("item", "quantity"), ("item", "product")}  # the line's, read or not
            known = self._known[key] = (config, sorted(path for path in paths if path[0] != "outputs"))
        return known[1]


class Views:
    """The `order`, `item` and `bundle` of the instances of two plans, and which of them differ, found once:
    a path under an item, bundle or order that did not change cannot have changed."""

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = Context(old), Context(new)
        self.items = _differing(self.old.items, self.new.items)
        self.bundles = _differing(self.old.bundles, self.new.bundles)
        self.order = old["context"]["order"] != new["context"]["order"]

    def change(self, old: Mapping[str, Any], new: Mapping[str, Any], paths: list[Path]) -> str:
        """The first value at `paths` that differs between the two instances, said; "" if none does."""
        old_context = new_context = None
        items, bundles = self.items, self.bundles  # the instance's item and bundle looked up once, not per path
        item_changed = bool(items) and (old.get("item") in items or new.get("item") in items)
        bundle_changed = bool(bundles) and (old.get("bundle") in bundles or new.get("bundle") in bundles)
        for path in paths:
            root = path[0]
            if root == "item":
                if not item_changed:
                    continue
            elif root == "bundle":
                if not bundle_changed:
                    continue
            elif root == "order" and not self.order and (not items or (len(path) > 1 and path[1] != "items")):
                continue
            if old_context is None or new_context is None:
                old_context, new_context = self.old.of(old), self.new.of(new)
            before, after = value_at(old_context, path), value_at(new_context, path)
            if before != after:
                return f"{'.'.join(path)} changed from {shown(before)} to {shown(after)}"
        return ""


class Context:
    """The `order`, `item` and `bundle` an instance of a plan reads, as the runtime gives them."""

    def __init__(self, plan: Mapping[str, Any]) -> None:
        context = plan["context"]
        self.items: Mapping[str, Any] = context["items"]
        self.bundles: Mapping[str, Any] = context["bundles"]
        self.order = {**context["order"], "items": list(self.items.values())}

    def of(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        return {"order": self.order,
                "item": self.items.get(instance["item"]) if instance.get("item") else None,
                "bundle": self.bundles.get(instance["bundle"]) if instance.get("bundle") else None}


def _differing(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    return {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


def value_at(context: Mapping[str, Any], path: Path) -> Any:
    """The value at `path` of a step's context (`order`, `item`, `bundle`), or a marker for none."""
    value: Any = context
    for key in path:
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        else:
            return _MISSING
    return value


def shown(value: Any) -> str:
    return "(none)" if value is _MISSING else repr(value)
