"""Formatting, stage 1: the parts of a .dro file that get lines of their own, and their comments.

A *unit* is what the canonical layout prints on a line (or lines) of its own: a block,
an item of a body, an element of a multi-line list, map or `after` list. A *container*
holds units between brackets (or is the file). Each comment is attached to a unit (above
it, or at the end of its last line) or to a container (after its opening bracket, or
before its closing one), so that the printer can put it back in a place that keeps it
with what it talks about.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lark import Token, Tree

ParseTree = Tree[Token]

# Body items whose rule name is their unit kind.
BLOCKS = frozenset({"top_block", "nested_block"})
VALUE_CONTAINERS = frozenset({"list_value", "map_value"})


@dataclass
class Note:
    """A comment on a line of its own."""

    text: str
    blank_before: bool


@dataclass
class Unit:
    """Something printed on a line (or lines) of its own; `kind` names how (see format_print)."""

    kind: str
    node: ParseTree
    start: int
    value_end: int  # where its last token ends
    end: int  # the same, or where the comma after it ends
    key: Token | None = None  # the key of an entry of an `into` map (those entries are not trees)
    containers: list[Container] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    trailing: str | None = None
    blank_before: bool = False


@dataclass
class Container:
    """Units between brackets, or the file (no brackets)."""

    units: list[Unit]
    open: Token | None = None
    close: Token | None = None
    header: str | None = None  # a comment after the opening bracket
    closing: list[Note] = field(default_factory=list)  # comments before the closing bracket


@dataclass
class Layout:
    file: Container
    containers: dict[int, Container]  # by id() of the tree that holds the brackets


def build_layout(tree: ParseTree, tokens: Sequence[Token], comments: Sequence[Token]) -> Layout:
    """The units and containers of a parsed file, with every comment attached to one of them."""
    builder = _Builder(_Source(tokens, comments))
    file = Container([builder.unit(child.data, child) for child in _trees(tree)])
    attacher = _Attacher(builder.source)
    for comment in comments:
        attacher.place(file, comment)
    return Layout(file, builder.containers)


def _trees(node: ParseTree) -> list[ParseTree]:
    return [c for c in node.children if isinstance(c, Tree)]


def _pos(value: int | None) -> int:
    return value or 0


class _Source:
    """Where tokens and comments are, to tell own-line comments and blank lines."""

    def __init__(self, tokens: Sequence[Token], comments: Sequence[Token]) -> None:
        self.tokens = sorted(tokens, key=lambda t: _pos(t.start_pos))
        self.starts = [_pos(t.start_pos) for t in self.tokens]
        self.comments = list(comments)
        self.comment_starts = [_pos(c.start_pos) for c in self.comments]

    def token_before(self, position: int) -> Token | None:
        index = bisect.bisect_left(self.starts, position)
        return self.tokens[index - 1] if index else None

    def blank_before(self, position: int, line: int) -> bool:
        """Whether an empty line separates what starts at `position` from the token or comment before it."""
        ends = []
        token = self.token_before(position)
        if token is not None:
            ends.append(_pos(token.end_line))
        index = bisect.bisect_left(self.comment_starts, position)
        if index:
            ends.append(_pos(self.comments[index - 1].line))
        return bool(ends) and line - max(ends) >= 2


class _Builder:
    """Units and containers from the parse tree (kept tokens: brackets, commas, keywords)."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.containers: dict[int, Container] = {}

    def unit(self, kind: str, node: ParseTree, key: Token | None = None, comma: Token | None = None) -> Unit:
        start = _pos(key.start_pos) if key is not None else node.meta.start_pos
        line = _pos(key.line) if key is not None else node.meta.line
        end = _pos(comma.end_pos) if comma is not None else node.meta.end_pos
        unit = Unit(kind, node, start, node.meta.end_pos, end, key,
                    blank_before=self.source.blank_before(start, line))
        unit.containers = self._held(unit)
        return unit

    def _held(self, unit: Unit) -> list[Container]:
        """The containers directly inside a unit (lists and maps inside a call stay on one line)."""
        node = unit.node
        if unit.kind in BLOCKS or unit.kind == "into":
            body = next((c for c in _trees(node) if c.data in ("body", "into_body")), None)
            return [self._sequence(body, lambda child: child.data)] if body is not None else []
        if unit.kind == "attribute":
            return self._values(node.children[1])
        if unit.kind == "after" and len(node.children) > 2:
            return [self._sequence(node, lambda _: "ref")]
        if unit.kind == "into_map":
            return [self._into_map(node)]
        if unit.kind == "element":
            return self._values(node)
        if unit.kind == "entry":
            return self._values(node.children[2])
        return []

    def _values(self, value: ParseTree | Token) -> list[Container]:
        if isinstance(value, Tree) and value.data in VALUE_CONTAINERS:
            kind = "element" if value.data == "list_value" else "entry"
            return [self._sequence(value, lambda _: kind)]
        return []

    def _sequence(self, node: ParseTree, kind_of: Callable[[ParseTree], str]) -> Container:
        """The tree children between the first opening and the last closing bracket, commas included."""
        children = node.children
        first = next(i for i, c in enumerate(children) if isinstance(c, Token) and c.type in ("LSQB", "LBRACE"))
        units = []
        for i, child in enumerate(children):
            if isinstance(child, Tree):
                after = children[i + 1] if i + 1 < len(children) else None
                comma = after if isinstance(after, Token) and after.type == "COMMA" else None
                units.append(self.unit(kind_of(child), child, comma=comma))
        return self._register(node, Container(units, _token(children[first]), _token(children[-1])))

    def _into_map(self, node: ParseTree) -> Container:
        """`NAME { key: expression ... }`: the entries are flat children, not trees."""
        children = node.children
        units = []
        i = 2
        while i + 2 < len(children):
            key, value = _token(children[i]), children[i + 2]
            after = children[i + 3]
            comma = after if isinstance(after, Token) and after.type == "COMMA" else None
            assert isinstance(value, Tree), "an expression is always a tree"
            units.append(self.unit("into_entry", value, key=key, comma=comma))
            i += 4 if comma is not None else 3
        return self._register(node, Container(units, _token(children[1]), _token(children[-1])))

    def _register(self, node: ParseTree, container: Container) -> Container:
        self.containers[id(node)] = container
        return container


def _token(child: ParseTree | Token) -> Token:
    assert isinstance(child, Token), "brackets and keys are tokens"
    return child


class _Attacher:
    """Put each comment where the printer will keep it."""

    def __init__(self, source: _Source) -> None:
        self.source = source

    def place(self, container: Container, comment: Token) -> None:
        position = _pos(comment.start_pos)
        for index, unit in enumerate(container.units):
            if position < unit.start:
                self._in_gap(container, index, comment)
                return
            if position < unit.end:
                inner = next((c for c in unit.containers if _inside(c, position)), None)
                if inner is not None:
                    self.place(inner, comment)
                else:
                    self._in_unit(unit, comment)
                return
        self._in_gap(container, len(container.units), comment)

    def _note(self, comment: Token) -> Note:
        return Note(_text(comment), self.source.blank_before(_pos(comment.start_pos), _pos(comment.line)))

    def _own_line(self, comment: Token) -> bool:
        token = self.source.token_before(_pos(comment.start_pos))
        return token is None or _pos(token.end_line) < _pos(comment.line)

    def _in_gap(self, container: Container, index: int, comment: Token) -> None:
        """Between units (or brackets): above the next unit, after the previous one, or after `{`/`[`."""
        units = container.units
        if not self._own_line(comment):
            if index > 0 and units[index - 1].trailing is None:
                units[index - 1].trailing = _text(comment)
                return
            if index == 0 and container.open is not None and container.header is None:
                container.header = _text(comment)
                return
        (units[index].notes if index < len(units) else container.closing).append(self._note(comment))

    def _in_unit(self, unit: Unit, comment: Token) -> None:
        """Inside a unit: at the end of its line if it follows its last token (or comma), else above it."""
        token = self.source.token_before(_pos(comment.start_pos))
        ends_it = token is not None and _pos(token.end_pos) in (unit.value_end, unit.end)
        if unit.trailing is None and ends_it and not self._own_line(comment):
            unit.trailing = _text(comment)
        else:  # moved above the unit, taking the blank line before it along
            unit.notes.append(Note(_text(comment), unit.blank_before))
            unit.blank_before = False


def _inside(container: Container, position: int) -> bool:
    assert container.open is not None and container.close is not None
    return _pos(container.open.start_pos) < position < _pos(container.close.start_pos)


def _text(comment: Token) -> str:
    return str(comment).rstrip()
