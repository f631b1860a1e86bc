"""The syntax tree of .dro files and of `when` expressions: frozen, every node spanned."""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Span, TextOrigin

# ---- values -------------------------------------------------------------------


@dataclass(frozen=True)
class Str:
    span: Span
    value: str
    origin: TextOrigin  # where `value` starts in the file, for spans found inside it


@dataclass(frozen=True)
class Num:
    span: Span
    value: int | float


@dataclass(frozen=True)
class Duration:
    span: Span
    text: str


@dataclass(frozen=True)
class Const:
    """true, false or null."""

    span: Span
    value: bool | None


@dataclass(frozen=True)
class Ident:
    span: Span
    name: str


@dataclass(frozen=True)
class ListValue:
    span: Span
    items: tuple[Value, ...]


@dataclass(frozen=True)
class Entry:
    key: str
    key_span: Span
    value: Value


@dataclass(frozen=True)
class MapValue:
    span: Span
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class CallValue:
    span: Span
    name: str
    name_span: Span
    args: tuple[Value, ...]


Value = Str | Num | Duration | Const | Ident | ListValue | MapValue | CallValue

# ---- expressions --------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    span: Span
    root: str
    segments: tuple[str | int, ...]


@dataclass(frozen=True)
class Literal:
    span: Span
    value: str | int | float | bool | None


@dataclass(frozen=True)
class ListExpr:
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
    span: Span
    op: str  # "and" | "or"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not:
    span: Span
    operand: Expr


@dataclass(frozen=True)
class Call:
    span: Span
    name: str
    args: tuple[Expr, ...]


Expr = Path | Literal | ListExpr | Compare | BoolOp | Not | Call

# ---- blocks -------------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    span: Span
    name: str
    name_span: Span
    value: Value


@dataclass(frozen=True)
class When:
    span: Span
    expr: Expr


@dataclass(frozen=True)
class Ref:
    span: Span
    step: str
    within: str | None
    within_span: Span | None


@dataclass(frozen=True)
class After:
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
    span: Span
    product: Str
    when: Expr | None
    settings: tuple[IntoSetting, ...]


@dataclass(frozen=True)
class ResumeOn:
    span: Span
    event: Str


@dataclass(frozen=True)
class Block:
    span: Span
    kind: str
    kind_span: Span
    id: Str | Ident
    title: Str | None
    body: tuple[BodyItem, ...]


BodyItem = Attribute | When | After | Into | ResumeOn | Block


@dataclass(frozen=True)
class File:
    path: str
    blocks: tuple[Block, ...]
