"""`when` expressions: parsing, canonical text, evaluation and compile-time checks."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

import pytest

from dsl import ast
from dsl.diagnostics import Span, TextOrigin
from dsl.expressions import check, compile_expression, evaluate, unparse
from dsl.parser import parse_expression

# An origin at 1:1 keeps spans where the text puts them.
ORIGIN = Span("expr", 1, 1, 1, 2)


def parse(text: str, origin: Span = ORIGIN) -> ast.Expr:
    expr, diagnostics = parse_expression(text, TextOrigin(origin))
    assert diagnostics == []
    assert expr is not None
    return expr


def shape(node: Any) -> Any:
    """A node without its spans, to compare trees."""
    if is_dataclass(node):
        return (type(node).__name__, *(shape(getattr(node, f.name)) for f in fields(node) if f.name != "span"))
    if isinstance(node, tuple):
        return tuple(shape(n) for n in node)
    return node


def source_of(text: str, span: Span) -> str:
    assert span.line == span.end_line == 1
    return text[span.col - 1:span.end_col - 1]


# ---- parse and unparse ----------------------------------------------------------------


def test_precedence_not_binds_tighter_than_and_than_or() -> None:
    expr = parse("not a == 1 or b == 2 and c == 3")
    assert isinstance(expr, ast.BoolOp) and expr.op == "or"
    assert isinstance(expr.left, ast.Not)
    assert isinstance(expr.left.operand, ast.Compare) and expr.left.operand.op == "=="
    assert isinstance(expr.right, ast.BoolOp) and expr.right.op == "and"
    assert [unparse(e) for e in (expr.left, expr.right.left, expr.right.right)] == ["not a == 1", "b == 2", "c == 3"]
    assert unparse(expr) == "not a == 1 or b == 2 and c == 3"


def test_and_and_or_are_left_associative() -> None:
    expr = parse("a == 1 or b == 2 or c == 3")
    assert isinstance(expr, ast.BoolOp) and isinstance(expr.left, ast.BoolOp)
    assert unparse(expr.right) == "c == 3"


@pytest.mark.parametrize(("text", "canonical"), [
    ("item.x==1", "item.x == 1"),
    ("  item.x   !=   1  ", "item.x != 1"),
    ("((item.x == 1))", "item.x == 1"),
    ("(item.x) == (1)", "item.x == 1"),
    ('item.attributes["color"] == "red"', 'item.attributes.color == "red"'),
    ('item.attributes["color-code"] == "red"', 'item.attributes["color-code"] == "red"'),
    ('item.attributes["in"] == 1', 'item.attributes["in"] == 1'),
    ("item.tags[0] == 1", "item.tags[0] == 1"),
    ("(a == 1 or b == 2) or c == 3", "a == 1 or b == 2 or c == 3"),
    ("a == 1 or (b == 2 or c == 3)", "a == 1 or (b == 2 or c == 3)"),
    ("(a == 1 and b == 2) or c == 3", "a == 1 and b == 2 or c == 3"),
    ("a == 1 and (b == 2 or c == 3)", "a == 1 and (b == 2 or c == 3)"),
    ("(a == 1 or b == 2) and c == 3", "(a == 1 or b == 2) and c == 3"),
    ("not (a == 1 and b == 2)", "not (a == 1 and b == 2)"),
    ("not (a == 1)", "not a == 1"),
    ("not not a", "not not a"),
    ("(a == 1) == true", "(a == 1) == true"),
    ("item.x in [1,2 ,3,]", "item.x in [1, 2, 3]"),
    ('item.x not in ["a"]', 'item.x not in ["a"]'),
    ('not item.x in ["a"]', 'not item.x in ["a"]'),
    ("exists( item.a )", "exists(item.a)"),
    ("item.q >= 1.50", "item.q >= 1.5"),
    ("item.q > -2", "item.q > -2"),
    ('item.s == "say \\"hi\\""', 'item.s == "say \\"hi\\""'),
    ('item.s == "caf\\u00e9"', 'item.s == "café"'),
    ("item.x == null and item.y != false", "item.x == null and item.y != false"),
])
def test_canonical_text(text: str, canonical: str) -> None:
    assert unparse(parse(text)) == canonical


ROUND_TRIPS = [
    "not a == 1 or b == 2 and c == 3",
    '(item.product == "X" or item.product == "Y") and not exists(item.attributes.legacy)',
    'item.attributes["color-code"] in ["red", "dark blue"]',
    "order.lines[2].quantity <= 10",
    'bundle.attributes.tier not in ["gold", "platinum"] or order.account == null',
    "item.x == 1.25",
    'item.s == "tab\\there\\nnewline \\\\ slash"',
    "not (not (item.a == 1 or item.b == 2))",
    "item.weight < 0.00001",
    "item.x == 100000000000000000000.5",
    'item.s == "\\u0008"',
]


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_round_trip(text: str) -> None:
    once = unparse(parse(text))
    again = parse(once)
    assert unparse(again) == once
    assert shape(again) == shape(parse(text))


# ---- evaluate ---------------------------------------------------------------------------

CONTEXT = {
    "order": {"account": "ACME", "lines": [{"quantity": 3}]},
    "item": {
        "product": "LAPTOP-HW",
        "quantity": 2,
        "flag": True,
        "attributes": {"color": "red", "color-code": "R1", "nothing": None, "tags": ["a", "b"],
                       "name": "hello", "size": {"w": 10}},
    },
    "bundle": {"attributes": {"onsite_setup": True}},
}


def run(text: str, context: dict[str, Any] = CONTEXT) -> Any:
    """The value `evaluate` gives, checked against the compiled expression's, which must be the same."""
    value = evaluate(parse(text), context)
    compiled = compile_expression(parse(text))(context)
    assert (type(compiled), compiled) == (type(value), value)
    return value


@pytest.mark.parametrize(("text", "value"), [
    ('item.product == "LAPTOP-HW"', True),
    ("item.attributes.size.w == 10", True),
    ('item.attributes["color-code"] == "R1"', True),
    ('item.attributes["color"] == "red"', True),
    ('order.lines[0].quantity == 3', True),
    ('item.attributes.tags[-1] == "b"', True),
    ("bundle.attributes.onsite_setup == true", True),
    ("item.quantity == 2.0", True),
    ("item.quantity != 2", False),
])
def test_paths_over_nested_data(text: str, value: bool) -> None:
    assert run(text) is value


@pytest.mark.parametrize("path", [
    "item.attributes.missing", "item.nope.deeper", "item.product.x", "order.lines[5]",
    "order.lines.first", "item.attributes.tags.first", "item.attributes.nothing",
])
def test_missing_path_is_null(path: str) -> None:
    assert run(path) is None
    assert run(f"{path} == null") is True
    assert run(f"{path} != null") is False


def test_missing_root_is_null() -> None:
    assert run("bundle.attributes.x == null", {"item": {}}) is True


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
@pytest.mark.parametrize(("left", "right"), [
    ("item.attributes.missing", "1"), ("1", "item.attributes.missing"), ("null", "null"),
    ("item.attributes.missing", "item.attributes.nothing"),
])
def test_ordering_with_null_is_false(op: str, left: str, right: str) -> None:
    assert run(f"{left} {op} {right}") is False


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
@pytest.mark.parametrize(("left", "right"), [('"10"', "5"), ("5", '"10"'), ("true", "0"), ("1", "true"),
                                              ("[1]", "1")])
def test_ordering_across_types_is_false(op: str, left: str, right: str) -> None:
    assert run(f"{left} {op} {right}") is False


@pytest.mark.parametrize(("text", "value"), [
    ("item.quantity < 3", True), ("item.quantity <= 2", True), ("item.quantity > 2", False),
    ("item.quantity >= 2.0", True), ('"abc" < "abd"', True), ("1.5 > 1", True),
])
def test_ordering_of_like_values(text: str, value: bool) -> None:
    assert run(text) is value


@pytest.mark.parametrize("text", ['item.quantity == "2"', 'item.product == 1', "item.attributes.tags == \"a\""])
def test_equality_across_types_is_false(text: str) -> None:
    assert run(text) is False


def test_boolean_is_not_equal_to_number() -> None:
    assert run("item.flag == 1") is False
    assert run("item.flag in [1, 2]") is False


@pytest.mark.parametrize(("text", "value"), [
    ('"a" in item.attributes.tags', True),
    ('"z" in item.attributes.tags', False),
    ('"z" not in item.attributes.tags', True),
    ('"ell" in item.attributes.name', True),
    ('"xyz" not in item.attributes.name', True),
    ('item.attributes.color in ["red", "blue"]', True),
    ('item.attributes.color not in ["red", "blue"]', False),
    ("1 in item.attributes.name", False),
    ('"a" in item.attributes.missing', False),
    ('"a" not in item.attributes.missing', True),
    ("item.attributes.missing in [null]", True),
])
def test_in_and_not_in(text: str, value: bool) -> None:
    assert run(text) is value


@pytest.mark.parametrize(("text", "value"), [
    ("exists(item.attributes.color)", True),
    ("exists(item.attributes.size.w)", True),
    ("exists(item.attributes.missing)", False),
    ("exists(item.attributes.nothing)", False),
    ("exists(item.nope.deeper)", False),
    ("not exists(item.attributes.missing)", True),
])
def test_exists(text: str, value: bool) -> None:
    assert run(text) is value


@pytest.mark.parametrize(("text", "value"), [
    ('item.product == "LAPTOP-HW" and item.quantity == 2', True),
    ('item.product == "LAPTOP-HW" and item.quantity == 3', False),
    ('item.product == "X" or item.quantity == 2', True),
    ('item.product == "X" or item.quantity == 3', False),
    ('not item.product == "X"', True),
    ("not item.attributes.missing", True),
    ("not item.flag", False),
])
def test_boolean_operators(text: str, value: bool) -> None:
    assert run(text) is value


@pytest.mark.parametrize(("a", "b", "c", "value"), [
    (1, 2, 3, True), (1, 2, 4, False), (0, 2, 4, True), (1, 0, 3, False),
])
def test_precedence_when_evaluating(a: int, b: int, c: int, value: bool) -> None:
    # (not a == 1) or (b == 2 and c == 3)
    assert run("not a == 1 or b == 2 and c == 3", {"a": a, "b": b, "c": c}) is value


def test_and_does_not_evaluate_its_right_side_when_left_is_false() -> None:
    # `bad()` cannot be evaluated; short-circuiting never reaches it.
    expr = parse("item.product == \"X\" and bad(item.x)")
    assert evaluate(expr, CONTEXT) is False
    with pytest.raises(ValueError, match="cannot evaluate"):
        evaluate(parse("bad(item.x)"), CONTEXT)


def test_compiled_expressions_short_circuit_and_refuse_what_evaluate_refuses() -> None:
    assert compile_expression(parse("item.product == \"X\" and bad(item.x)"))(CONTEXT) is False
    assert compile_expression(parse("item.quantity == 2 or bad(item.x)"))(CONTEXT) is True
    with pytest.raises(ValueError, match="cannot evaluate"):
        compile_expression(parse("bad(item.x)"))(CONTEXT)


def test_list_literal_evaluates_to_a_list() -> None:
    assert run("[1, item.quantity, null]") == [1, 2, None]


# ---- check ------------------------------------------------------------------------------


def test_known_roots_and_functions_pass() -> None:
    text = 'exists(order.account) and item.x in [1, 2] or not bundle.attributes["a-b"] == null'
    assert check(parse(text)) == []


@pytest.mark.parametrize(("text", "root", "hint"), [
    ('itme.product == "X"', "itme", "did you mean 'item'?"),
    ("orders.account == 1", "orders", "did you mean 'order'?"),
    ("item.x == 1 and bundel.y == 2", "bundel", "did you mean 'bundle'?"),
    ("customer.tier == 1", "customer", "start the path with bundle or item or order"),
])
def test_unknown_root(text: str, root: str, hint: str) -> None:
    (problem,) = check(parse(text))
    assert problem.code == "DRO402"
    assert problem.summary == f"unknown name '{root}' in expression"
    assert problem.hint == hint
    # The span covers the root name only.
    assert source_of(text, problem.span) == root


def test_unknown_roots_are_all_reported() -> None:
    problems = check(parse("a.x == 1 or b.y == 2 and exists(c.z)"))
    assert [(p.code, p.summary) for p in problems] == [
        ("DRO402", "unknown name 'a' in expression"),
        ("DRO402", "unknown name 'b' in expression"),
        ("DRO402", "unknown name 'c' in expression"),
    ]


def test_check_with_other_roots() -> None:
    expr = parse("plan.id == 1")
    assert [p.code for p in check(expr)] == ["DRO402"]
    assert check(expr, frozenset({"plan"})) == []


@pytest.mark.parametrize(("text", "summary", "hint"), [
    ("exits(item.a)", "unknown function 'exits'", "did you mean 'exists'?"),
    ("len(item.a) == 1", "unknown function 'len'", "the only function is exists(path)"),
])
def test_unknown_function(text: str, summary: str, hint: str) -> None:
    (problem,) = check(parse(text))
    assert (problem.code, problem.summary, problem.hint) == ("DRO403", summary, hint)
    assert source_of(text, problem.span) == text.split(" ==")[0]


@pytest.mark.parametrize("text", ["exists()", "exists(item.a, item.b)", 'exists("item.a")', "exists(1)",
                                  "exists(item.a == 1)"])
def test_exists_takes_one_path(text: str) -> None:
    (problem,) = check(parse(text))
    assert problem.code == "DRO403"
    assert problem.summary == "exists() takes one path"
    assert source_of(text, problem.span) == text


# ---- spans inside a string from elsewhere (a YAML scalar) ----------------------------------


def test_spans_are_offset_from_the_origin() -> None:
    origin = Span("cat.dro.yaml", 7, 11, 7, 30)
    text = 'item.product == "X"'
    expr = parse(text, origin)
    assert isinstance(expr, ast.Compare)
    assert expr.span == Span("cat.dro.yaml", 7, 11, 7, 11 + len(text))
    assert expr.left.span == Span("cat.dro.yaml", 7, 11, 7, 11 + len("item.product"))
    assert expr.right.span.col == 11 + text.index('"X"')


def test_check_reports_at_the_origin() -> None:
    origin = Span("cat.dro.yaml", 3, 15, 3, 40)
    text = 'item.x == 1 and itme.y == 2'
    (problem,) = check(parse(text, origin))
    assert problem.span == Span("cat.dro.yaml", 3, 15 + text.index("itme"), 3, 15 + text.index("itme") + 4)


def test_spans_on_later_lines_count_from_the_line_start() -> None:
    origin = Span("cat.dro.yaml", 3, 15, 3, 40)
    expr = parse("item.x == 1 and\n  item.y == 2", origin)
    assert isinstance(expr, ast.BoolOp)
    assert (expr.right.span.line, expr.right.span.col) == (4, 3)


@pytest.mark.parametrize(("text", "summary", "col_in_text"), [
    ('item.product = "X"', "unexpected '=' in expression", 13),
    ("item.quantity * 2", "unexpected '*' in expression", 14),
    ("item.x == ", "expression ends too early", 9),
    ("item.x == 1 and", "expression ends too early", 15),
])
def test_expression_syntax_error_at_the_origin(text: str, summary: str, col_in_text: int) -> None:
    origin = TextOrigin(Span("cat.dro.yaml", 5, 12, 5, 40))
    expr, diagnostics = parse_expression(text, origin)
    assert expr is None
    (problem,) = diagnostics
    assert (problem.code, problem.summary) == ("DRO401", summary)
    assert (problem.span.line, problem.span.col) == (5, 12 + col_in_text)
    assert problem.hint
