"""Formatting, stage 2: print the units of a layout in the canonical layout.

Values keep their source text; lists and maps go on one line when they fit in WIDTH
columns and hold no comment, else one element per line. Consecutive one-line items of a
body are aligned on their values. Every decision depends only on the syntax tree and the
comments, never on how the source broke lines, so that formatting is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable

from lark import Token, Tree

from dsl.format_layout import BLOCKS, Container, Layout, ParseTree, Unit

WIDTH = 100
INDENT = "  "
COMMENT_GAP = "  "  # between code and a comment at the end of its line, as in PEP 8

_SCALARS = frozenset({"string", "number", "duration", "const", "ident"})
_BINARY = frozenset({"or_", "and_", "compare", "in_", "not_in"})


def _trees(node: ParseTree) -> list[ParseTree]:
    return [c for c in node.children if isinstance(c, Tree)]


def _joined(node: ParseTree, render: Callable[[ParseTree], str]) -> str:
    return ", ".join(render(c) for c in _trees(node))


# ---- expressions and values on one line ----------------------------------------------


def expression(node: ParseTree) -> str:
    """An expression on one line: spaces around operators, none inside brackets."""
    data = node.data
    if data in _BINARY:
        return " ".join(expression(c) if isinstance(c, Tree) else str(c) for c in node.children)
    if data == "not_":
        return f"not {expression(_trees(node)[0])}"
    if data == "operand":  # parentheses the user wrote
        return f"({expression(_trees(node)[0])})"
    if data == "e_list":
        return f"[{_joined(node, expression)}]"
    if data == "e_call":
        return f"{node.children[0]}({_joined(node, expression)})"
    # literals and paths: their tokens, as written (`a.b["c"]`)
    return "".join(str(c) if isinstance(c, Token) else expression(c) for c in node.children)


def flat_value(node: ParseTree) -> str:
    """A value on one line (what a list or map looks like when it fits)."""
    data = node.data
    if data in _SCALARS:
        return str(node.children[0])
    if data == "list_value":
        return f"[{_joined(node, flat_value)}]"
    if data == "map_value":
        pairs = _trees(node)
        return f"{{ {', '.join(_flat_pair(p) for p in pairs)} }}" if pairs else "{}"
    if data == "call":
        return f"{node.children[0]}({_joined(node, flat_value)})"
    raise AssertionError(f"not a value: {data}")  # pragma: no cover


def _flat_pair(pair: ParseTree) -> str:
    return f"{pair.children[0]}: {flat_value(_trees(pair)[0])}"


def _ref(node: ParseTree) -> str:
    return " ".join(str(c) for c in node.children)


# ---- units -----------------------------------------------------------------------------


class Printer:
    """Print one layout; renderings are cached, as alignment may render a unit more than once."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._rendered: dict[tuple[int, int, int, bool], str] = {}
        self._commented: dict[int, bool] = {}

    def file(self) -> str:
        """The whole file, ending with one newline ('' when it holds nothing)."""
        lines = self.units(self.layout.file, 0)
        return "\n".join(lines) + "\n" if lines else ""

    def units(self, container: Container, depth: int) -> list[str]:
        """The lines of a container's units: notes, blank lines, aligned values, trailing comments."""
        texts = self._aligned(container.units, depth)
        out: list[str] = []
        after_block = False
        for unit, text in zip(container.units, texts, strict=True):
            block = unit.kind in BLOCKS and "\n" in text
            spaced = bool(out) and (block or after_block)  # a block with a body stands apart
            for note in unit.notes:
                _blank_line(out, note.blank_before or spaced)
                out.append(INDENT * depth + note.text)
                spaced = False
            _blank_line(out, unit.blank_before or spaced)
            out.append(text + (COMMENT_GAP + unit.trailing if unit.trailing else ""))
            after_block = block
        for note in container.closing:
            _blank_line(out, note.blank_before)
            out.append(INDENT * depth + note.text)
        return out

    def _aligned(self, units: list[Unit], depth: int) -> list[str]:
        """Each unit's text, runs of one-line units aligned.

        Alignment can make a line too long, so that a list in it goes multi-line and leaves
        its run, which changes the run's width: repeat until no unit changes. Units only ever
        join the multi-line set, so this ends, and its result depends on the tree alone.
        """
        keys = [self.key(u) for u in units]
        kinds = [self._align_class(u) for u in units]
        multi = {i for i, u in enumerate(units) if "\n" in self.render(u, depth, len(keys[i]), False)}
        while True:
            pads = _pads(units, keys, kinds, multi)
            texts = [self.render(u, depth, pads[i], i in multi) for i, u in enumerate(units)]
            grown = {i for i, text in enumerate(texts) if "\n" in text} - multi
            if not grown:
                return texts
            multi |= grown

    def render(self, unit: Unit, depth: int, pad: int, force: bool) -> str:
        """A unit with its key padded to `pad` columns; `force` splits its list or map."""
        cache_key = (id(unit), depth, pad, force)
        if cache_key not in self._rendered:
            key = self.key(unit)
            prefix = INDENT * depth + (key + " " * (pad - len(key) + 1) if key else "")
            rest = _RESTS[unit.kind](self, unit, depth, len(prefix), force)
            self._rendered[cache_key] = prefix + rest if rest else prefix.rstrip()
        return self._rendered[cache_key]

    def key(self, unit: Unit) -> str:
        """What a unit's value is aligned after: a name or keyword ('' for list elements)."""
        node = unit.node
        if unit.kind in BLOCKS:
            return f"{node.children[0]} {node.children[1]}"
        if unit.kind in ("element", "ref"):
            return ""
        if unit.kind == "entry":
            return f"{node.children[0]}:"
        if unit.kind == "into_entry":
            return f"{unit.key}:"
        return str(node.children[0])  # the attribute's name or the phrase's keyword

    def _align_class(self, unit: Unit) -> str | None:
        """Units align with neighbours of the same class; blocks only with titled blocks of their kind."""
        if unit.kind in BLOCKS:
            titled = any(isinstance(c, Tree) and c.data == "title" for c in unit.node.children)
            return f"block {unit.node.children[0]}" if titled else None
        return None if unit.kind in ("element", "ref") else "item"

    # -- containers --

    def commented(self, container: Container) -> bool:
        """Whether a comment sits in the container or in a list or map inside it."""
        found = self._commented.get(id(container))
        if found is None:
            found = bool(container.header or container.closing) or any(
                u.notes or u.trailing or any(self.commented(c) for c in u.containers) for u in container.units)
            self._commented[id(container)] = found
        return found

    def bracketed(self, node: ParseTree, depth: int, column: int, tail: int, force: bool,
                  flat: str | None) -> str:
        """A list, map or body: `flat` when it fits at `column` (with `tail` characters after it)."""
        container = self.layout.containers[id(node)]
        empty = not container.units and not self.commented(container)
        fits = flat is not None and "\n" not in flat and column + len(flat) + tail <= WIDTH
        if flat is not None and (empty or (fits and not force and not self.commented(container))):
            return flat
        assert container.open is not None and container.close is not None
        head = str(container.open) + (COMMENT_GAP + container.header if container.header else "")
        return "\n".join([head, *self.units(container, depth + 1), INDENT * depth + str(container.close)])

    def value(self, node: ParseTree, depth: int, column: int, tail: int, force: bool) -> str:
        if id(node) in self.layout.containers:
            return self.bracketed(node, depth, column, tail, force, flat_value(node))
        return flat_value(node)

    def body(self, node: ParseTree | None, depth: int) -> str:
        """A block's or an into's body; '' when empty (the braces are dropped)."""
        if node is None:
            return ""
        container = self.layout.containers[id(node)]
        if not container.units and not self.commented(container):
            return ""
        return self.bracketed(node, depth, 0, 0, True, None)


def _blank_line(out: list[str], wanted: bool) -> None:
    if wanted and out:
        out.append("")


def _pads(units: list[Unit], keys: list[str], kinds: list[str | None], multi: set[int]) -> list[int]:
    """Key widths: within a run of one-line units of one class, the longest key of the run."""
    pads = [len(k) for k in keys]
    run: list[int] = []

    def close() -> None:
        width = max((len(keys[j]) for j in run), default=0)
        for j in run:
            pads[j] = width

    for i, unit in enumerate(units):
        alignable = kinds[i] is not None and i not in multi
        joins = (alignable and run and run[-1] == i - 1 and kinds[run[-1]] == kinds[i]
                 and not unit.notes and not unit.blank_before)
        if not joins:
            close()
            run = []
        if alignable:
            run.append(i)
    close()
    return pads


# ---- what follows a unit's key, by unit kind ----------------------------------------------

_Rest = Callable[[Printer, Unit, int, int, bool], str]


def _attribute(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    return p.value(_trees(unit.node)[0], depth, column, 0, force)


def _phrase(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    """`when EXPR`, `into_expr`: the expression."""
    return expression(_trees(unit.node)[0])


def _after(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    refs = _trees(unit.node)
    if len(unit.node.children) == 2:  # `after x`, no brackets
        return _ref(refs[0])
    flat = "[" + ", ".join(_ref(r) for r in refs) + "]"
    return p.bracketed(unit.node, depth, column, 0, force, flat)


def _into(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    parts = [str(unit.node.children[1])]
    trees = _trees(unit.node)
    body = trees.pop() if trees and trees[-1].data == "into_body" else None
    if trees:
        parts += ["when", expression(trees[0])]
    return " ".join(part for part in [*parts, p.body(body, depth)] if part)


def _into_map(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    container = p.layout.containers[id(unit.node)]
    entries = [f"{u.key}: {expression(u.node)}" for u in container.units]
    flat = "{ " + ", ".join(entries) + " }" if entries else "{}"
    return p.bracketed(unit.node, depth, column, 0, force, flat)


def _resume_on(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    return " ".join(str(c) for c in unit.node.children[1:])


def _block(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    trees = _trees(unit.node)
    title = next((str(t.children[0]) for t in trees if t.data == "title"), "")
    body = p.body(next((t for t in trees if t.data == "body"), None), depth)
    if not body and not title and unit.kind == "nested_block":
        body = "{}"  # inside a body, a block needs a title or braces
    return " ".join(part for part in (title, body) if part)


def _element(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    return p.value(unit.node, depth, column, 1, force) + ","


def _ref_element(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    return _ref(unit.node) + ","


def _entry(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    return p.value(_trees(unit.node)[0], depth, column, 0, force)


def _into_entry(p: Printer, unit: Unit, depth: int, column: int, force: bool) -> str:
    return expression(unit.node)


_RESTS: dict[str, _Rest] = {
    "top_block": _block,
    "nested_block": _block,
    "attribute": _attribute,
    "when": _phrase,
    "after": _after,
    "into": _into,
    "resume_on": _resume_on,
    "into_expr": _phrase,
    "into_map": _into_map,
    "element": _element,
    "ref": _ref_element,
    "entry": _entry,
    "into_entry": _into_entry,
}
