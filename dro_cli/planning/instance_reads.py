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
    if isinstance(value, str):
        if is_template(value):
            yield value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            yield from template_texts(key)
            yield from template_texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from template_texts(inner)


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
