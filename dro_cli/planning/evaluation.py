"""Evaluate the expressions of compiled templates: each distinct text parsed once."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from dsl import ast
from dsl.diagnostics import Span, TextOrigin
from dsl.expressions import Compiled, compile_expression
from dsl.parser import parse_expression

_ORIGIN = TextOrigin(Span("<templates>", 1, 1, 1, 2))


class ExpressionError(ValueError):
    """An expression in a templates file that does not parse (a hand-edited file, say)."""


@functools.lru_cache(maxsize=65536)
def expression(text: str) -> ast.Expr:
    parsed, problems = parse_expression(text, _ORIGIN)
    if parsed is None or problems:
        raise ExpressionError(f"cannot read the expression {text!r}")
    return parsed


@functools.lru_cache(maxsize=65536)
def compiled(text: str) -> Compiled:
    return compile_expression(expression(text))


def holds(text: str | None, context: Mapping[str, Any]) -> bool:
    """Whether a `when` holds; no expression always holds."""
    return text is None or bool(compiled(text)(context))


def value_of(text: str, context: Mapping[str, Any]) -> Any:
    return compiled(text)(context)
