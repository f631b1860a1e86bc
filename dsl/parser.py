"""Parse .dro text and expression strings into the syntax tree of dsl.ast."""

from __future__ import annotations

import textwrap
from typing import Any

from lark import Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.tree import Meta

from dsl import ast
from dsl.diagnostics import Diagnostic, Span, error
from dsl.grammar import load_grammar
from dsl.syntax_errors import describe_syntax_error


def parse_file(path: str, text: str) -> tuple[ast.File | None, list[Diagnostic]]:
    """Parse one .dro file. A syntax error stops this file (other files go on)."""
    builder = _Builder(path)
    try:
        tree = load_grammar().parse(text, start="start")
    except UnexpectedInput as exc:
        return None, [describe_syntax_error(exc, path, text)]
    blocks = builder.transform(tree)
    return ast.File(path, tuple(blocks)), builder.diagnostics


def parse_expression(text: str, origin: Span) -> tuple[ast.Expr | None, list[Diagnostic]]:
    """Parse an expression string found at `origin` (a YAML scalar, say).

    Spans inside the expression are placed relative to where the string starts.
    """
    builder = _Builder(origin.file, origin)
    try:
        tree = load_grammar().parse(text, start="expression")
    except (UnexpectedCharacters, UnexpectedToken) as exc:
        return None, [_expression_error(exc, text, origin)]
    except UnexpectedInput as exc:  # pragma: no cover - lark's other input errors
        return None, [error("DRO401", f"invalid expression: {exc}", origin)]
    return builder.transform(tree), builder.diagnostics


def _expression_error(exc: UnexpectedCharacters | UnexpectedToken, text: str,
                      origin: Span) -> Diagnostic:
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        where = origin.shifted(0, len(text.rstrip()), 1)
        summary = "expression ends too early"
        hint = "complete the comparison, e.g. `item.attributes.color == \"red\"`"
    else:
        line, col = exc.line - 1, exc.column - 1
        found = exc.token if isinstance(exc, UnexpectedToken) else text[exc.pos_in_stream or 0]
        where = origin.shifted(line, col, len(str(found)))
        summary = f"unexpected '{found}' in expression"
        hint = ("expressions use paths (item.attributes.x), literals, == != < <= > >= in, "
                "and, or, not, parentheses and exists(path)")
    return error("DRO401", summary, where, hint=hint)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "/": "/"}


def decode_string(token: Token) -> tuple[str, str | None]:
    """The value of a STRING token, and an error message for a bad escape."""
    raw = str(token)
    body = raw[3:-3] if raw.startswith('"""') else raw[1:-1]
    if "\\" not in body:
        value = body
    else:
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt == "u" and _is_hex(body[i + 2:i + 6]):
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
            else:
                return body, f"invalid escape '\\{nxt}' in string"
        value = "".join(out)
    if raw.startswith('"""'):
        value = textwrap.dedent(value.removeprefix("\n"))
    return value, None


def _is_hex(text: str) -> bool:
    return len(text) == 4 and all(c in "0123456789abcdefABCDEF" for c in text)


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


@v_args(inline=True)
class _Builder(Transformer[Token, Any]):
    """Build dsl.ast nodes from lark's tree; one method per grammar rule."""

    def __init__(self, path: str, origin: Span | None = None) -> None:
        super().__init__()
        self.file = path
        self.origin = origin
        self.diagnostics: list[Diagnostic] = []

    # -- positions --

    def _tok(self, tok: Token) -> Span:
        return self._span(tok.line, tok.column, tok.end_line, tok.end_column)

    def _meta(self, meta: Meta) -> Span:
        return self._span(meta.line, meta.column, meta.end_line, meta.end_column)

    def _span(self, line: int | None, col: int | None, end_line: int | None,
              end_col: int | None) -> Span:
        line, col = line or 1, col or 1
        end_line, end_col = end_line or line, end_col or col + 1
        if self.origin is None:
            return Span(self.file, line, col, end_line, end_col)
        start = self.origin.shifted(line - 1, col - 1, 1)
        end = self.origin.shifted(end_line - 1, end_col - 1, 1)
        return Span(self.file, start.line, start.col, end.line, end.col)

    def _str(self, tok: Token) -> ast.Str:
        value, problem = decode_string(tok)
        span = self._tok(tok)
        if problem:
            self.diagnostics.append(error(
                "DRO105", problem, span,
                hint='escapes are \\" \\\\ \\n \\t \\r \\/ and \\uXXXX'))
        return ast.Str(span, value)

    # -- blocks --

    def start(self, *blocks: ast.Block) -> list[ast.Block]:
        return list(blocks)

    @v_args(meta=True, inline=False)
    def top_block(self, meta: Meta, children: list[Any]) -> ast.Block:
        kind, block_id, *rest = children
        title = next((c for c in rest if isinstance(c, ast.Str)), None)
        body = next((c for c in rest if isinstance(c, tuple)), ())
        ident: ast.Str | ast.Ident = (
            self._str(block_id) if block_id.type == "STRING"
            else ast.Ident(self._tok(block_id), str(block_id)))
        return ast.Block(self._meta(meta), str(kind), self._tok(kind), ident, title, body)

    @v_args(meta=True, inline=False)
    def nested_block(self, meta: Meta, children: list[Any]) -> ast.Block:
        kind, block_id, *rest = children
        title = next((c for c in rest if isinstance(c, ast.Str)), None)
        body = next((c for c in rest if isinstance(c, tuple)), ())
        return ast.Block(self._meta(meta), str(kind), self._tok(kind),
                         ast.Ident(self._tok(block_id), str(block_id)), title, body)

    def title(self, tok: Token) -> ast.Str:
        return self._str(tok)

    def body(self, *items: ast.BodyItem) -> tuple[ast.BodyItem, ...]:
        return items

    @v_args(meta=True, inline=False)
    def attribute(self, meta: Meta, children: list[Any]) -> ast.Attribute:
        name, value = children
        return ast.Attribute(self._meta(meta), str(name), self._tok(name), value)

    @v_args(meta=True, inline=False)
    def when(self, meta: Meta, children: list[Any]) -> ast.When:
        return ast.When(self._meta(meta), children[0])

    @v_args(meta=True, inline=False)
    def after(self, meta: Meta, children: list[Any]) -> ast.After:
        return ast.After(self._meta(meta), tuple(c for c in children if c is not None))

    @v_args(meta=True, inline=False)
    def ref(self, meta: Meta, children: list[Any]) -> ast.Ref:
        step, within = ([*children, None])[:2]
        return ast.Ref(self._meta(meta), str(step), str(within) if within else None,
                       self._tok(within) if within else None)

    @v_args(meta=True, inline=False)
    def into(self, meta: Meta, children: list[Any]) -> ast.Into:
        product, *rest = children
        when = next((c for c in rest if not isinstance(c, tuple)), None)
        settings = next((c for c in rest if isinstance(c, tuple)), ())
        return ast.Into(self._meta(meta), self._str(product), when, settings)

    def into_body(self, *settings: ast.IntoSetting) -> tuple[ast.IntoSetting, ...]:
        return settings

    @v_args(meta=True, inline=False)
    def into_expr(self, meta: Meta, children: list[Any]) -> ast.IntoSetting:
        name, expr = children
        return ast.IntoSetting(self._meta(meta), str(name), self._tok(name), expr)

    @v_args(meta=True, inline=False)
    def into_map(self, meta: Meta, children: list[Any]) -> ast.IntoSetting:
        name, *flat = children
        pairs = tuple((self._key(k), self._tok(k), e) for k, e in zip(flat[::2], flat[1::2], strict=False))
        return ast.IntoSetting(self._meta(meta), str(name), self._tok(name), pairs)

    @v_args(meta=True, inline=False)
    def resume_on(self, meta: Meta, children: list[Any]) -> ast.ResumeOn:
        return ast.ResumeOn(self._meta(meta), self._str(children[0]))

    # -- values --

    def _key(self, tok: Token) -> str:
        return self._str(tok).value if tok.type == "STRING" else str(tok)

    def string(self, tok: Token) -> ast.Str:
        return self._str(tok)

    def number(self, tok: Token) -> ast.Num:
        return ast.Num(self._tok(tok), _number(str(tok)))

    def duration(self, tok: Token) -> ast.Duration:
        return ast.Duration(self._tok(tok), str(tok))

    @v_args(meta=True, inline=False)
    def true(self, meta: Meta, _: list[Any]) -> ast.Const:
        return ast.Const(self._meta(meta), True)

    @v_args(meta=True, inline=False)
    def false(self, meta: Meta, _: list[Any]) -> ast.Const:
        return ast.Const(self._meta(meta), False)

    @v_args(meta=True, inline=False)
    def null(self, meta: Meta, _: list[Any]) -> ast.Const:
        return ast.Const(self._meta(meta), None)

    def ident(self, tok: Token) -> ast.Ident:
        return ast.Ident(self._tok(tok), str(tok))

    @v_args(meta=True, inline=False)
    def list_value(self, meta: Meta, items: list[Any]) -> ast.ListValue:
        return ast.ListValue(self._meta(meta), tuple(i for i in items if i is not None))

    @v_args(meta=True, inline=False)
    def map_value(self, meta: Meta, entries: list[ast.Entry]) -> ast.MapValue:
        return ast.MapValue(self._meta(meta), tuple(entries))

    def pair(self, key: Token, value: ast.Value) -> ast.Entry:
        return ast.Entry(self._key(key), self._tok(key), value)

    @v_args(meta=True, inline=False)
    def call(self, meta: Meta, children: list[Any]) -> ast.CallValue:
        name, *args = children
        return ast.CallValue(self._meta(meta), str(name), self._tok(name),
                             tuple(a for a in args if a is not None))

    # -- expressions --

    @v_args(meta=True, inline=False)
    def or_(self, meta: Meta, children: list[Any]) -> ast.BoolOp:
        return ast.BoolOp(self._meta(meta), "or", children[0], children[1])

    @v_args(meta=True, inline=False)
    def and_(self, meta: Meta, children: list[Any]) -> ast.BoolOp:
        return ast.BoolOp(self._meta(meta), "and", children[0], children[1])

    @v_args(meta=True, inline=False)
    def not_(self, meta: Meta, children: list[Any]) -> ast.Not:
        return ast.Not(self._meta(meta), children[0])

    @v_args(meta=True, inline=False)
    def compare(self, meta: Meta, children: list[Any]) -> ast.Compare:
        left, op, right = children
        return ast.Compare(self._meta(meta), str(op), left, right)

    @v_args(meta=True, inline=False)
    def in_(self, meta: Meta, children: list[Any]) -> ast.Compare:
        return ast.Compare(self._meta(meta), "in", children[0], children[1])

    @v_args(meta=True, inline=False)
    def not_in(self, meta: Meta, children: list[Any]) -> ast.Compare:
        return ast.Compare(self._meta(meta), "not in", children[0], children[1])

    def e_string(self, tok: Token) -> ast.Literal:
        s = self._str(tok)
        return ast.Literal(s.span, s.value)

    def e_number(self, tok: Token) -> ast.Literal:
        return ast.Literal(self._tok(tok), _number(str(tok)))

    @v_args(meta=True, inline=False)
    def e_true(self, meta: Meta, _: list[Any]) -> ast.Literal:
        return ast.Literal(self._meta(meta), True)

    @v_args(meta=True, inline=False)
    def e_false(self, meta: Meta, _: list[Any]) -> ast.Literal:
        return ast.Literal(self._meta(meta), False)

    @v_args(meta=True, inline=False)
    def e_null(self, meta: Meta, _: list[Any]) -> ast.Literal:
        return ast.Literal(self._meta(meta), None)

    @v_args(meta=True, inline=False)
    def e_list(self, meta: Meta, items: list[Any]) -> ast.ListExpr:
        return ast.ListExpr(self._meta(meta), tuple(i for i in items if i is not None))

    @v_args(meta=True, inline=False)
    def e_call(self, meta: Meta, children: list[Any]) -> ast.Call:
        name, *args = children
        return ast.Call(self._meta(meta), str(name), tuple(a for a in args if a is not None))

    @v_args(meta=True, inline=False)
    def path(self, meta: Meta, children: list[Any]) -> ast.Path:
        root, *segments = children
        return ast.Path(self._meta(meta), str(root), tuple(segments))

    def attr_segment(self, name: Token) -> str:
        return str(name)

    def index_segment(self, tok: Token) -> str | int:
        if tok.type == "STRING":
            return self._str(tok).value
        number = _number(str(tok))
        return int(number)
