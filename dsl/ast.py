"""The syntax tree of .dro files and of `when` expressions: frozen, every node spanned."""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Span, TextOrigin

# Every node has a docstring: dataclass would otherwise make one with inspect.signature, at every start-up.

# ---- values -------------------------------------------------------------------


@dataclass(frozen=True)
class Str:
    """A string literal, decoded."""

    span: Span
    value: str
    origin: TextOrigin  # where `value` starts in the file, for spans found inside it


@dataclass(frozen=True)
class Num:
    """A number literal."""

    span: Span
    value: int | float


@dataclass(frozen=True)
class Duration:
    """A duration literal, as written: `30s`, `2h`."""

    span: Span
    text: str


@dataclass(frozen=True)
class Const:
    """true, false or null."""

    span: Span
    value: bool | None


@dataclass(frozen=True)
class Ident:
    """A bare name used as a value."""

    span: Span
    name: str


@dataclass(frozen=True)
class ListValue:
    """`[a, b, ...]`."""

    span: Span
    items: tuple[Value, ...]


@dataclass(frozen=True)
class Entry:
    """One `key: value` of a map."""

    key: str
    key_span: Span
    value: Value


@dataclass(frozen=True)
class MapValue:
    """`{ key: value, ... }`."""

    span: Span
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class CallValue:
    """`name(args...)`, a value such as `every(5m)`."""

    span: Span
    name: str
    name_span: Span
    args: tuple[Value, ...]


Value = Str | Num | Duration | Const | Ident | ListValue | MapValue | CallValue

# ---- expressions --------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    """`root.segment[index]...` in an expression."""

    span: Span
    root: str
    segments: tuple[str | int, ...]


@dataclass(frozen=True)
class Literal:
    """A string, number, boolean or null in an expression."""

    span: Span
    value: str | int | float | bool | None


@dataclass(frozen=True)
class ListExpr:
    """`[a, b, ...]` in an expression."""

    span: Span
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Compare:
    """`left OP right` where OP is ==, !=, <, <=, >, >=, in or not in."""

    span: Span
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class BoolOp:
    """`left and right`, `left or right`."""

    span: Span
    op: str  # "and" | "or"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    """`not operand`."""

    span: Span
    operand: Expr


@dataclass(frozen=True)
class Call:
    """`name(args...)` in an expression."""

    span: Span
    name: str
    args: tuple[Expr, ...]


Expr = Path | Literal | ListExpr | Compare | BoolOp | Not | Call

# ---- blocks -------------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    """`name value` in a body."""

    span: Span
    name: str
    name_span: Span
    value: Value


@dataclass(frozen=True)
class When:
    """`when EXPR`."""

    span: Span
    expr: Expr


@dataclass(frozen=True)
class Ref:
    """A step an `after` names, maybe `within` a scope."""

    span: Span
    step: str
    within: str | None
    within_span: Span | None


@dataclass(frozen=True)
class After:
    """`after ref` or `after [refs...]`."""

    span: Span
    refs: tuple[Ref, ...]


@dataclass(frozen=True)
class IntoSetting:
    """`quantity EXPR` or `attributes { key: EXPR }` inside an `into` body."""

    span: Span
    name: str
    name_span: Span
    value: Expr | tuple[tuple[str, Span, Expr], ...]


@dataclass(frozen=True)
class Into:
    """`into "product" [when EXPR] [{ settings }]` in a decomposition."""

    span: Span
    product: Str
    when: Expr | None
    settings: tuple[IntoSetting, ...]


@dataclass(frozen=True)
class ResumeOn:
    """`resume_on event "name"`."""

    span: Span
    event: Str


@dataclass(frozen=True)
class Block:
    """`KIND ID ["Title"] [{ body }]`, at the top or nested."""

    span: Span
    kind: str
    kind_span: Span
    id: Str | Ident
    title: Str | None
    body: tuple[BodyItem, ...]


BodyItem = Attribute | When | After | Into | ResumeOn | Block


@dataclass(frozen=True)
class File:
    """A parsed .dro file."""

    path: str
    blocks: tuple[Block, ...]
