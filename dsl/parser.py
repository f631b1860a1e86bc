"""Parse .dro text and expression strings into the syntax tree of dsl.ast."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from dsl import ast, parse_loops
from dsl.diagnostics import Diagnostic, Span, TextOrigin, error
from dsl.limits import (
    MAX_DEPTH,
    MAX_TEXT_LENGTH,
    number_out_of_range,
    number_problem,
    read_integer,
    text_too_long,
    too_deep,
)
from dsl.strings import decode
from dsl.tokens import Token

if TYPE_CHECKING:
    from lark import Lark


def parse_file(path: str, text: str) -> tuple[ast.File | None, list[Diagnostic]]:
    """Parse one .dro file. A syntax error stops this file (other files go on)."""
    with _parsing(path, None) as builder:
        try:
            blocks: list[ast.Block] = _parse(text, "start")
        except _lark_errors().UnexpectedInput as exc:  # evaluated only when something is raised
            failure = exc
        else:
            if builder.too_deep:  # lowering, checking and formatting walk the tree by recursion
                return None, builder.diagnostics
            return ast.File(path, tuple(blocks)), builder.diagnostics
    from dsl.syntax_errors import describe_syntax_error

    return None, [describe_syntax_error(failure, path, text, reparse=_fails_at)]


def _fails_at(text: str) -> tuple[int, int] | None:
    """Where parsing `text` fails (braces.END at the end of the file), or None: for trying repairs."""
    from lark.exceptions import UnexpectedInput, UnexpectedToken

    from dsl.braces import END  # like lark: needed only to describe a syntax error

    with _parsing("", None):
        try:
            _parser().parse(text, start="start")
        except UnexpectedToken as exc:
            return END if exc.token.type == "$END" else (exc.token.line or 1, exc.token.column or 1)
        except UnexpectedInput as exc:
            return (getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1)
        return None


def parse_expression(text: str, origin: TextOrigin) -> tuple[ast.Expr | None, list[Diagnostic]]:
    """Parse an expression string found at `origin` (a YAML scalar, say).

    Spans inside the expression are placed relative to where the string starts.
    """
    with _parsing(origin.start.file, origin) as builder:
        try:
            expr: ast.Expr = _parse(text, "expression")
        except (_lark_errors().UnexpectedCharacters, _lark_errors().UnexpectedToken) as exc:
            from dsl.syntax_errors import describe_expression_error

            return None, [describe_expression_error(exc, text, origin)]
        except _lark_errors().UnexpectedInput as exc:  # pragma: no cover - lark's other input errors
            return None, [error("DRO401", f"invalid expression: {exc}", origin.at(0, 0))]
        if builder.too_deep:
            return None, builder.diagnostics
        return expr, builder.diagnostics


_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _builder() -> _Builder:
    return _Builder()


def _parser() -> Lark:
    return parse_loops.lark_parser(_builder())


def _parse(text: str, start: str) -> Any:
    return parse_loops.parse(_builder(), text, start)


def _lark_errors() -> ModuleType:
    return parse_loops.lark_errors()


@contextlib.contextmanager
def _parsing(file: str, origin: TextOrigin | None) -> Iterator[_Builder]:
    """The builder, set up for one parse (one at a time: it holds that parse's state)."""
    with _lock:
        builder = _builder()
        builder.reset(file, origin)
        yield builder


def _number(text: str) -> int | float:
    return float(text) if "." in text else read_integer(text)


Item = Any  # a Token, an AST node, a tuple of them, or None
_Node = TypeVar("_Node", bound=ast.Value | ast.Expr | ast.Block)


class _Body(tuple[ast.BodyItem, ...]):
    """The items of a `{ ... }` body, and where its closing brace ends."""

    end: tuple[int, int]


class _Builder:
    """Build dsl.ast nodes as lark reduces each rule; one method per grammar rule.

    Spans come from the rule's own tokens and child nodes (the grammar names the
    keywords and brackets so that rules keep them).
    """

    def __init__(self) -> None:  # lark calls its methods by rule name, a Tree for rules it has none for
        self.reset("", None)

    def reset(self, file: str, origin: TextOrigin | None) -> None:
        self.file = file
        self.origin = origin
        self.diagnostics: list[Diagnostic] = []
        # How deep each list, map, call, expression and nested block nests, by id(node): leaves are 0.
        self.depths: dict[int, int] = {}
        self.too_deep = False

    # -- positions --

    def _span(self, first: Item, last: Item) -> Span:
        if self.origin is None:  # the common case, kept short: it runs for every node
            return _tuple_new(Span, (self.file, *_start(first), *_end(last)))
        line, col = self._place(_start(first), first)
        end_line, end_col = self._place(_end(last), last)
        return Span(self.file, line, col, end_line, end_col)

    def _place(self, position: tuple[int, int], item: Item) -> tuple[int, int]:
        """A position in the file: tokens count from the parsed text, which may start at `origin`."""
        if self.origin is None or not _from_token(item):
            return position
        placed = self.origin.at(position[0] - 1, position[1] - 1)
        return placed.line, placed.col

    def _tok(self, tok: Token) -> Span:
        if self.origin is None:
            return _tuple_new(Span, (self.file, tok.line, tok.column, tok.end_line, tok.end_column))
        return self._span(tok, tok)

    def _str(self, tok: Token) -> ast.Str:
        raw: str = tok.value
        if self.origin is None and raw[1:2] != '"' and "\\" not in raw and len(raw) <= MAX_TEXT_LENGTH:
            # What decode and the general case below make of a "string" without escapes: most of them.
            file, line, col = self.file, tok.line, tok.column
            start = _tuple_new(Span, (file, line, col + 1, line, col + 2))  # type: ignore[operator]
            return ast.Str(_tuple_new(Span, (file, line, col, tok.end_line, tok.end_column)), raw[1:-1],
                           _tuple_new(TextOrigin, (start, 0)))
        value, problem, (down, col, indent) = decode(str(tok))
        span = self._tok(tok)
        start = span.shifted(col, 1) if down == 0 else Span(span.file, span.line + down, col + 1, span.line + down,
                                                              col + 2)
        origin = TextOrigin(start, indent)
        if problem:
            self.diagnostics.append(error(
                "DRO105", problem, span,
                hint='escapes are \\" \\\\ \\n \\t \\r \\/ and \\uXXXX'))
        if len(value) > MAX_TEXT_LENGTH:
            self.diagnostics.append(text_too_long(span.shifted(0, 1), len(value)))
            value = ""
        return ast.Str(span, value, origin)

    def _nest(self, node: _Node, children: Iterable[Any]) -> _Node:
        """`node`, its depth noted; the first node past MAX_DEPTH is reported (once: the tree is refused)."""
        depths = self.depths
        depth = 1 + max((depths.get(id(c), 0) for c in children), default=0)
        depths[id(node)] = depth
        if depth > MAX_DEPTH and not self.too_deep:
            self.too_deep = True
            self.diagnostics.append(too_deep(node.span))
        return node

    def _num(self, tok: Token) -> int | float:
        value = _number(str(tok))
        problem = number_problem(value)
        if problem is not None:
            self.diagnostics.append(number_out_of_range(str(tok), problem, self._tok(tok)))
            return 0
        return value

    def _key(self, tok: Token) -> str:
        return self._str(tok).value if tok.type == "STRING" else tok.value

    # -- blocks --

    def start(self, blocks: list[ast.Block]) -> list[ast.Block]:
        return blocks

    def top_block(self, children: list[Item]) -> ast.Block:
        kind, block_id, *rest = children
        title = next((c for c in rest if isinstance(c, ast.Str)), None)
        body = next((c for c in rest if isinstance(c, _Body)), _Body())
        ident: ast.Str | ast.Ident = (
            self._str(block_id) if block_id.type == "STRING" else ast.Ident(self._tok(block_id), str(block_id)))
        return ast.Block(self._span(kind, body if body else title or block_id), str(kind), self._tok(kind),
                         ident, title, tuple(body))

    def nested_block(self, children: list[Item]) -> ast.Block:
        kind, block_id, *rest = children
        title = next((c for c in rest if isinstance(c, ast.Str)), None)
        body = next((c for c in rest if isinstance(c, _Body)), _Body())
        block = ast.Block(self._span(kind, body if body else title or block_id), str(kind), self._tok(kind),
                          ast.Ident(self._tok(block_id), str(block_id)), title, tuple(body))
        return self._nest(block, [item for item in body if isinstance(item, ast.Block)])

    def title(self, children: list[Token]) -> ast.Str:
        return self._str(children[0])

    def body(self, children: list[Item]) -> _Body:
        body = _Body(children[1:-1])
        body.end = _end(children[-1])
        return body

    def attribute(self, children: list[Item]) -> ast.Attribute:
        name, value = children
        if self.origin is None:  # a value is always a node: its span ends the attribute
            end = value.span
            return ast.Attribute(_tuple_new(Span, (self.file, name.line, name.column, end.end_line, end.end_col)),
                                 name.value, self._tok(name), value)
        return ast.Attribute(self._span(name, value), str(name), self._tok(name), value)

    def when(self, children: list[Item]) -> ast.When:
        return ast.When(self._span(children[0], children[1]), children[1])

    def after(self, children: list[Item]) -> ast.After:
        refs = tuple(c for c in children[1:] if isinstance(c, ast.Ref))
        return ast.After(self._span(children[0], children[-1]), refs)

    def ref(self, children: list[Token]) -> ast.Ref:
        step, within = [*children, None][:2]
        return ast.Ref(self._span(step, within or step), str(step), str(within) if within else None,
                       self._tok(within) if within else None)

    def into(self, children: list[Item]) -> ast.Into:
        keyword, product, *rest = children
        when = next((c for c in rest if not isinstance(c, (Token, tuple))), None)
        settings = next((c for c in rest if isinstance(c, tuple)), ())
        return ast.Into(self._span(keyword, children[-1]), self._str(product), when, settings)

    def into_body(self, children: list[Item]) -> _Body:
        body = _Body(children[:-1])
        body.end = _end(children[-1])
        return body

    def into_expr(self, children: list[Item]) -> ast.IntoSetting:
        name, expr = children
        return ast.IntoSetting(self._span(name, expr), str(name), self._tok(name), expr)

    def into_map(self, children: list[Item]) -> ast.IntoSetting:
        name, *flat, closing = children
        pairs = tuple((self._key(k), self._tok(k), e) for k, e in zip(flat[::2], flat[1::2], strict=True))
        return ast.IntoSetting(self._span(name, closing), str(name), self._tok(name), pairs)

    def resume_on(self, children: list[Token]) -> ast.ResumeOn:
        return ast.ResumeOn(self._span(children[0], children[1]), self._str(children[1]))

    # -- values --

    def string(self, children: list[Token]) -> ast.Str:
        return self._str(children[0])

    def number(self, children: list[Token]) -> ast.Num:
        return ast.Num(self._tok(children[0]), self._num(children[0]))

    def duration(self, children: list[Token]) -> ast.Duration:
        return ast.Duration(self._tok(children[0]), str(children[0]))

    def const(self, children: list[Token]) -> ast.Const:
        return ast.Const(self._tok(children[0]), _CONSTANTS[children[0].type])

    def ident(self, children: list[Token]) -> ast.Ident:
        return ast.Ident(self._tok(children[0]), children[0].value)

    def list_value(self, children: list[Item]) -> ast.ListValue:
        items = tuple(c for c in children[1:-1] if c is not None)
        return self._nest(ast.ListValue(self._span(children[0], children[-1]), items), items)

    def map_value(self, children: list[Item]) -> ast.MapValue:
        entries = tuple(children[1:-1])
        return self._nest(ast.MapValue(self._span(children[0], children[-1]), entries), [e.value for e in entries])

    def pair(self, children: list[Item]) -> ast.Entry:
        key, value = children
        return ast.Entry(self._key(key), self._tok(key), value)

    def call(self, children: list[Item]) -> ast.CallValue:
        name, *args, closing = children
        values = tuple(a for a in args if a is not None)
        return self._nest(ast.CallValue(self._span(name, closing), str(name), self._tok(name), values), values)

    # -- expressions --

    def or_(self, children: list[Item]) -> ast.BoolOp:
        return self._nest(ast.BoolOp(self._span(children[0], children[1]), "or", children[0], children[1]), children)

    def and_(self, children: list[Item]) -> ast.BoolOp:
        return self._nest(ast.BoolOp(self._span(children[0], children[1]), "and", children[0], children[1]),
                          children)

    def not_(self, children: list[Item]) -> ast.Not:
        return self._nest(ast.Not(self._span(children[0], children[1]), children[1]), children[1:])

    def compare(self, children: list[Item]) -> ast.Compare:
        left, op, right = children
        return self._nest(ast.Compare(self._span(left, right), str(op), left, right), (left, right))

    def in_(self, children: list[Item]) -> ast.Compare:
        return self._nest(ast.Compare(self._span(children[0], children[-1]), "in", children[0], children[-1]),
                          children)

    def not_in(self, children: list[Item]) -> ast.Compare:
        return self._nest(ast.Compare(self._span(children[0], children[-1]), "not in", children[0], children[-1]),
                          children)

    def e_string(self, children: list[Token]) -> ast.Literal:
        s = self._str(children[0])
        return ast.Literal(s.span, s.value)

    def e_number(self, children: list[Token]) -> ast.Literal:
        return ast.Literal(self._tok(children[0]), self._num(children[0]))

    def e_const(self, children: list[Token]) -> ast.Literal:
        return ast.Literal(self._tok(children[0]), _CONSTANTS[children[0].type])

    def e_list(self, children: list[Item]) -> ast.ListExpr:
        items = tuple(c for c in children[1:-1] if c is not None)
        return self._nest(ast.ListExpr(self._span(children[0], children[-1]), items), items)

    def e_call(self, children: list[Item]) -> ast.Call:
        name, *args, closing = children
        values = tuple(a for a in args if a is not None)
        return self._nest(ast.Call(self._span(name, closing), str(name), values), values)

    def path(self, children: list[Item]) -> ast.Path:
        root, *segments = children
        last = segments[-1][1] if segments else root
        return ast.Path(self._span(root, last), str(root), tuple(s[0] for s in segments))

    def attr_segment(self, children: list[Token]) -> tuple[str, Token]:
        return str(children[0]), children[0]

    def index_segment(self, children: list[Token]) -> tuple[str | int, Token]:
        tok, closing = children
        if tok.type == "STRING":
            return self._str(tok).value, closing
        return int(self._num(tok)), closing


_CONSTANTS: dict[str, bool | None] = {"TRUE": True, "FALSE": False, "NULL": None}


def _from_token(item: Item) -> bool:
    """Whether a position of `item` comes straight from a token (not from a built node's span).

    A _Body only ever ends a span, and its end is its closing brace.
    """
    return isinstance(item, (Token, _Body))


_tuple_new = tuple.__new__  # Span(...) and TextOrigin(...) without their __new__ written in Python


def _start(item: Item) -> tuple[int, int]:
    if isinstance(item, Token):
        return item.line or 1, item.column or 1
    span: Span = item.span
    return span.line, span.col


def _end(item: Item) -> tuple[int, int]:
    if isinstance(item, Token):
        return item.end_line or item.line or 1, item.end_column or (item.column or 1) + 1
    if isinstance(item, _Body):
        return item.end
    span: Span = item.span
    return span.end_line, span.end_col
