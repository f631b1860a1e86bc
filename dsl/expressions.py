"""`when` expressions: canonical text, compile-time checks, and our own evaluator (never eval)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from dsl import ast
from dsl.diagnostics import Diagnostic, did_you_mean, error

WHEN_ROOTS = frozenset({"order", "item", "bundle"})
FUNCTIONS = {"exists": 1}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
# Binding strength, loosest first; operands bind tightest.
_OR, _AND, _NOT, _COMPARE, _OPERAND = range(5)


def unparse(expr: ast.Expr) -> str:
    """The canonical text of an expression: one space around operators, minimal parentheses."""
    return _unparse(expr, _OR)


def _unparse(expr: ast.Expr, context: int) -> str:
    if isinstance(expr, ast.BoolOp):
        level = _OR if expr.op == "or" else _AND
        text = f"{_unparse(expr.left, level)} {expr.op} {_unparse(expr.right, level + 1)}"
    elif isinstance(expr, ast.Not):
        level = _NOT
        text = f"not {_unparse(expr.operand, _NOT)}"
    elif isinstance(expr, ast.Compare):
        level = _COMPARE
        text = f"{_unparse(expr.left, _OPERAND)} {expr.op} {_unparse(expr.right, _OPERAND)}"
    else:
        return _operand(expr)
    return f"({text})" if level < context else text


def _operand(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Path):
        return expr.root + "".join(_segment(s) for s in expr.segments)
    if isinstance(expr, ast.Literal):
        return _literal(expr.value)
    if isinstance(expr, ast.ListExpr):
        return "[" + ", ".join(_unparse(i, _OPERAND) for i in expr.items) + "]"
    if isinstance(expr, ast.Call):
        return f"{expr.name}(" + ", ".join(_unparse(a, _OR) for a in expr.args) + ")"
    return f"({_unparse(expr, _OR)})"


def _segment(segment: str | int) -> str:
    if isinstance(segment, int):
        return f"[{segment}]"
    if _IDENT.match(segment) and segment not in _KEYWORDS:
        return f".{segment}"
    return f"[{quote(segment)}]"


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, float):
        return _decimal(value)
    return repr(value)


def _decimal(value: float) -> str:
    """A float in plain decimals (the grammar has no exponents): 1e-05 -> 0.00001."""
    import decimal  # for the rare float with an exponent

    text = format(decimal.Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


_QUOTED = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote(text: str) -> str:
    """A string literal the grammar reads back as `text`."""
    return '"' + "".join(_QUOTED.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 32 else c) for c in text) + '"'


def walk(expr: ast.Expr) -> Iterator[ast.Expr]:
    yield expr
    if isinstance(expr, (ast.BoolOp, ast.Compare)):
        yield from walk(expr.left)
        yield from walk(expr.right)
    elif isinstance(expr, ast.Not):
        yield from walk(expr.operand)
    elif isinstance(expr, ast.ListExpr):
        for item in expr.items:
            yield from walk(item)
    elif isinstance(expr, ast.Call):
        for arg in expr.args:
            yield from walk(arg)


def check(expr: ast.Expr, roots: frozenset[str] = WHEN_ROOTS) -> list[Diagnostic]:
    """Unknown roots and unknown or misused functions."""
    problems: list[Diagnostic] = []
    for node in walk(expr):
        if isinstance(node, ast.Path) and node.root not in roots:
            width = len(node.root)
            span = node.span.shifted(0, width) if node.span.line == node.span.end_line else node.span
            problems.append(error(
                "DRO402", f"unknown name '{node.root}' in expression", span,
                detail="Expressions read " + ", ".join(sorted(roots)) + ".",
                hint=did_you_mean(node.root, roots) or "start the path with " + " or ".join(sorted(roots))))
        elif isinstance(node, ast.Call):
            arity = FUNCTIONS.get(node.name)
            if arity is None:
                problems.append(error(
                    "DRO403", f"unknown function '{node.name}'", node.span,
                    hint=did_you_mean(node.name, FUNCTIONS) or "the only function is exists(path)"))
            elif len(node.args) != arity or not all(isinstance(a, ast.Path) for a in node.args):
                problems.append(error(
                    "DRO403", f"{node.name}() takes one path", node.span,
                    hint="write exists(item.attributes.color)"))
    return problems


# ---- evaluation -----------------------------------------------------------------

_MISSING = object()


def evaluate(expr: ast.Expr, context: Mapping[str, Any]) -> Any:
    """The value of `expr` over `context` (order, item, bundle). A missing path is None."""
    if isinstance(expr, ast.Literal):
        return expr.value
    if isinstance(expr, ast.Path):
        value = _resolve(expr, context)
        return None if value is _MISSING else value
    if isinstance(expr, ast.BoolOp):
        left = bool(evaluate(expr.left, context))
        if expr.op == "and":
            return left and bool(evaluate(expr.right, context))
        return left or bool(evaluate(expr.right, context))
    if isinstance(expr, ast.Not):
        return not evaluate(expr.operand, context)
    if isinstance(expr, ast.Compare):
        return _compare(expr.op, evaluate(expr.left, context), evaluate(expr.right, context))
    if isinstance(expr, ast.ListExpr):
        return [evaluate(i, context) for i in expr.items]
    if isinstance(expr, ast.Call) and expr.name == "exists" and isinstance(expr.args[0], ast.Path):
        return _resolve(expr.args[0], context) not in (_MISSING, None)
    raise ValueError(f"cannot evaluate {unparse(expr)}")  # checked at compile time


Compiled = Callable[[Mapping[str, Any]], Any]


def compile_expression(expr: ast.Expr) -> Compiled:
    """`evaluate(expr, ·)` as a function of the context: the tree walked once, not at every call.

    Planning evaluates a few hundred distinct expressions hundreds of thousands of times; each node
    becomes a closure that does what `evaluate` does for it, with the same results."""
    if isinstance(expr, ast.Literal):
        value = expr.value
        return lambda context: value
    if isinstance(expr, ast.Path):
        return _compile_path(expr)
    if isinstance(expr, ast.BoolOp):
        left, right = compile_expression(expr.left), compile_expression(expr.right)
        if expr.op == "and":
            return lambda context: bool(left(context)) and bool(right(context))
        return lambda context: bool(left(context)) or bool(right(context))
    if isinstance(expr, ast.Not):
        operand = compile_expression(expr.operand)
        return lambda context: not operand(context)
    if isinstance(expr, ast.Compare):
        return _compile_compare(expr)
    if isinstance(expr, ast.ListExpr):
        items = tuple(compile_expression(i) for i in expr.items)
        return lambda context: [item(context) for item in items]
    if isinstance(expr, ast.Call) and expr.name == "exists" and isinstance(expr.args[0], ast.Path):
        path = _compile_path(expr.args[0])
        return lambda context: path(context) is not None
    return lambda context: evaluate(expr, context)  # raises as evaluate does


def _compile_path(path: ast.Path) -> Compiled:
    """A path's value, None when missing. Keys only (no list index): a missing key and a null are alike."""
    if not all(isinstance(segment, str) for segment in path.segments):
        return lambda context: _value_or_none(_resolve(path, context))
    root, segments = path.root, path.segments

    def value(context: Mapping[str, Any]) -> Any:
        found: Any = context.get(root)
        for segment in segments:
            if type(found) is dict or isinstance(found, Mapping):
                found = found.get(segment)
            else:
                return None
        return found
    return value


def _value_or_none(value: Any) -> Any:
    return None if value is _MISSING else value


def _compile_compare(expr: ast.Compare) -> Compiled:
    op, left, right = expr.op, compile_expression(expr.left), compile_expression(expr.right)
    if op == "==":
        return lambda context: _equal(left(context), right(context))
    if op == "!=":
        return lambda context: not _equal(left(context), right(context))
    if op in ("in", "not in") and isinstance(expr.right, ast.ListExpr):
        members = [i.value for i in expr.right.items if isinstance(i, ast.Literal)]
        if len(members) == len(expr.right.items):  # a list of literals: `in` only reads it, so made once
            found = op == "in"
            return lambda context: _contains(members, left(context)) is found
    return lambda context: _compare(op, left(context), right(context))


def _resolve(path: ast.Path, context: Mapping[str, Any]) -> Any:
    value: Any = context.get(path.root, _MISSING)
    for segment in path.segments:
        if (type(value) is dict or isinstance(value, Mapping)) and not isinstance(segment, int):
            value = value.get(segment, _MISSING)
        elif isinstance(value, (list, tuple)) and isinstance(segment, int) and -len(value) <= segment < len(value):
            value = value[segment]
        else:
            return _MISSING
    return value


def _equal(left: Any, right: Any) -> bool:
    """Equality as in JSON: true is not 1 (Python says it is)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, (list, tuple)):
        return any(_equal(item, member) for member in container)
    if isinstance(container, Mapping):
        return isinstance(item, str) and item in container
    return False


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("in", "not in"):
        found = _contains(right, left)
        return found if op == "in" else not found
    # Ordering: false with null or values of different kinds.
    if left is None or right is None or _kind(left) != _kind(right):
        return False
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__
