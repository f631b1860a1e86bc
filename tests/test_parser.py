"""The .dro grammar and parser: every construct of DESIGN.md 3.1, spans, and syntax errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import source_of

from dsl import ast
from dsl.diagnostics import Severity
from dsl.parser import parse_file

DESIGN_EXAMPLE = Path(__file__).parent / "cases" / "valid" / "design_example.dro"


# ---- helpers ----------------------------------------------------------------------


def parse_ok(text: str, path: str = "test.dro") -> ast.File:
    tree, diagnostics = parse_file(path, text)
    assert diagnostics == []
    assert tree is not None
    return tree




def only_block(text: str) -> ast.Block:
    tree = parse_ok(text)
    assert len(tree.blocks) == 1
    return tree.blocks[0]


def attribute(block: ast.Block, name: str) -> ast.Attribute:
    found = [i for i in block.body if isinstance(i, ast.Attribute) and i.name == name]
    assert len(found) == 1, f"{name} in {block.kind} {block.id}"
    return found[0]


def attribute_value(text: str, name: str = "x") -> ast.Value:
    """The value of attribute `name` in `lane l { name VALUE }`."""
    return attribute(only_block(f"lane l {{ {name} {text} }}"), name).value


def ident(block: ast.Block) -> str:
    return block.id.value if isinstance(block.id, ast.Str) else block.id.name


def of_type(items: tuple[Any, ...], kind: type) -> list[Any]:
    return [i for i in items if isinstance(i, kind)]


@pytest.fixture(scope="module")
def design_text() -> str:
    return DESIGN_EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def design(design_text: str) -> ast.File:
    return parse_ok(design_text, "design_example.dro")


def block(tree: ast.File, kind: str, name: str) -> ast.Block:
    found = [b for b in tree.blocks if b.kind == kind and ident(b) == name]
    assert len(found) == 1
    return found[0]


def step(tree: ast.File, name: str) -> ast.Block:
    group = block(tree, "group", "laptop_delivery")
    found = [b for b in of_type(group.body, ast.Block) if ident(b) == name]
    assert len(found) == 1
    return found[0]


# ---- the DESIGN.md 3.1 example -------------------------------------------------------


def test_design_example_top_level_blocks(design: ast.File) -> None:
    shape = [(b.kind, ident(b), b.title.value if b.title else None) for b in design.blocks]
    assert shape == [
        ("lane", "inventory", "Inventory"),
        ("lane", "shipping", "Shipping"),
        ("lane", "billing", "Billing"),
        ("lane", "field", "Field service"),
        ("endpoint", "wms", "Warehouse management"),
        ("decompose", "LAPTOP-BUNDLE", None),
        ("group", "laptop_delivery", "Laptop delivery"),
        ("scenario", "laptop", "Laptop bundle"),
        ("jeopardy_rule", "callouts", None),
        ("fallout_rule", "wms_down", None),
    ]


def test_design_example_id_kinds(design: ast.File) -> None:
    # `decompose` takes a product code string; every other block an identifier.
    for b in design.blocks:
        expected = ast.Str if b.kind == "decompose" else ast.Ident
        assert isinstance(b.id, expected), b.kind


def test_one_line_blocks_have_no_body(design: ast.File) -> None:
    lanes = [b for b in design.blocks if b.kind == "lane"]
    assert len(lanes) == 4
    assert all(b.body == () for b in lanes)


def test_group_holds_its_steps_in_order(design: ast.File) -> None:
    group = block(design, "group", "laptop_delivery")
    steps = of_type(group.body, ast.Block)
    assert len(steps) == len(group.body)
    assert [(s.kind, ident(s), s.title.value) for s in steps] == [
        ("step", "credit_check", "Credit check"),
        ("step", "reserve", "Reserve the laptop"),
        ("step", "install", "On-site installation"),
        ("step", "wait_work_order", "Wait for the work order"),
        ("step", "start_billing", "Start billing"),
        ("step", "delivered", "Order delivered"),
    ]


def test_step_attributes_keep_their_order(design: ast.File) -> None:
    reserve = step(design, "reserve")
    names = [i.name if isinstance(i, ast.Attribute) else type(i).__name__ for i in reserve.body]
    assert names == ["type", "lane", "scope", "After", "run_as", "endpoint", "method", "path",
                     "body", "expect", "capture", "duration", "jeopardy", "retry"]


def test_after_list_with_within(design: ast.File) -> None:
    (after,) = of_type(step(design, "start_billing").body, ast.After)
    assert [(r.step, r.within) for r in after.refs] == [("reserve", "plan"), ("wait_work_order", None)]
    assert after.refs[1].within_span is None


def test_after_single_ref_and_plain_list(design: ast.File) -> None:
    (single,) = of_type(step(design, "reserve").body, ast.After)
    assert [(r.step, r.within) for r in single.refs] == [("credit_check", None)]
    (listed,) = of_type(step(design, "delivered").body, ast.After)
    assert [(r.step, r.within) for r in listed.refs] == [("reserve", None), ("start_billing", None)]


def test_decompose_into_with_and_without_when(design: ast.File) -> None:
    rule = block(design, "decompose", "LAPTOP-BUNDLE")
    intos = of_type(rule.body, ast.Into)
    assert len(intos) == len(rule.body) == 3
    assert [i.product.value for i in intos] == ["LAPTOP-HW", "OS-LICENSE", "ONSITE-SETUP"]
    assert intos[0].when is None and intos[1].when is None
    when = intos[2].when
    assert isinstance(when, ast.Compare) and when.op == "=="
    assert when.left == ast.Path(when.left.span, "item", ("attributes", "onsite_setup"))
    assert isinstance(when.right, ast.Literal) and when.right.value is True
    assert all(i.settings == () for i in intos)


def test_step_when_is_an_expression(design: ast.File) -> None:
    (when,) = of_type(step(design, "install").body, ast.When)
    assert isinstance(when.expr, ast.Compare)
    assert isinstance(when.expr.left, ast.Path)
    assert (when.expr.left.root, when.expr.left.segments) == ("bundle", ("attributes", "onsite_setup"))


def test_scenario_when_and_add(design: ast.File) -> None:
    scenario = block(design, "scenario", "laptop")
    (when,) = of_type(scenario.body, ast.When)
    assert isinstance(when.expr, ast.Compare)
    assert isinstance(when.expr.right, ast.Literal) and when.expr.right.value == "LAPTOP-HW"
    add = attribute(scenario, "add").value
    assert isinstance(add, ast.Ident) and add.name == "laptop_delivery"


def test_resume_on_event(design: ast.File) -> None:
    (resume,) = of_type(step(design, "wait_work_order").body, ast.ResumeOn)
    assert resume.event.value == "work_order.completed"


def test_env_call(design: ast.File) -> None:
    url = attribute(block(design, "endpoint", "wms"), "url").value
    assert isinstance(url, ast.CallValue) and url.name == "env"
    assert [type(a) for a in url.args] == [ast.Str, ast.Str]
    assert [a.value for a in url.args] == ["WMS_URL", "http://127.0.0.1:8081"]  # type: ignore[union-attr]


def test_maps_of_the_example(design: ast.File) -> None:
    reserve = step(design, "reserve")
    body = attribute(reserve, "body").value
    assert isinstance(body, ast.MapValue)
    assert [(e.key, e.value.value) for e in body.entries] == [  # type: ignore[union-attr]
        ("sku", "{{ item.product }}"), ("quantity", "{{ item.quantity }}")]
    retry = attribute(reserve, "retry").value
    assert isinstance(retry, ast.MapValue)
    kinds = {e.key: type(e.value) for e in retry.entries}
    assert kinds == {"policy": ast.Ident, "retries": ast.Num, "interval": ast.Duration}
    match = attribute(block(design, "fallout_rule", "wms_down"), "match").value
    assert isinstance(match, ast.MapValue)
    assert [e.key for e in match.entries] == ["type", "endpoint", "error"]
    assert isinstance(match.entries[2].value, ast.Str) and match.entries[2].value.value == "http_503"


def test_lists_and_durations_of_the_example(design: ast.File) -> None:
    expect = attribute(step(design, "reserve"), "expect").value
    assert isinstance(expect, ast.ListValue)
    assert [(type(i), i.value) for i in expect.items] == [(ast.Num, 200), (ast.Num, 201)]  # type: ignore[union-attr]
    intervals = attribute(block(design, "fallout_rule", "wms_down"), "intervals").value
    assert isinstance(intervals, ast.ListValue)
    assert [i.text for i in intervals.items] == ["10s", "1m", "5m"]  # type: ignore[union-attr]
    timeout = attribute(block(design, "endpoint", "wms"), "timeout").value
    assert timeout == ast.Duration(timeout.span, "10s")


def test_strings_holding_templates_stay_text(design: ast.File) -> None:
    instructions = attribute(step(design, "credit_check"), "instructions").value
    assert isinstance(instructions, ast.Str)
    assert instructions.value == "Run a credit check for account {{ order.account }}"


# ---- values ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["30s", "15m", "4h", "2d", "1h30m", "500ms", "1.5h"])
def test_durations(text: str) -> None:
    # A duration keeps its text; dsl.durations reads it later.
    value = attribute_value(text)
    assert isinstance(value, ast.Duration)
    assert value.text == text


@pytest.mark.parametrize(("text", "number"), [("3", 3), ("-3", -3), ("2.5", 2.5), ("0", 0)])
def test_numbers(text: str, number: float) -> None:
    value = attribute_value(text)
    assert isinstance(value, ast.Num)
    assert value.value == number
    assert type(value.value) is type(number)


@pytest.mark.parametrize(("text", "const"), [("true", True), ("false", False), ("null", None)])
def test_constants(text: str, const: bool | None) -> None:
    value = attribute_value(text)
    assert isinstance(value, ast.Const)
    assert value.value is const


def test_identifier_value() -> None:
    value = attribute_value("monotonous")
    assert value == ast.Ident(value.span, "monotonous")


@pytest.mark.parametrize("text", [
    "{ a: 1, b: x, c: \"s\" }",
    "{ a: 1 b: x c: \"s\" }",
    "{ a: 1, b: x c: \"s\", }",
    "{\n  a: 1\n  b: x\n  c: \"s\"\n}",
])
def test_map_commas_are_optional(text: str) -> None:
    value = attribute_value(text)
    assert isinstance(value, ast.MapValue)
    assert [e.key for e in value.entries] == ["a", "b", "c"]
    assert [type(e.value) for e in value.entries] == [ast.Num, ast.Ident, ast.Str]


def test_map_keys_may_be_strings_and_values_nest() -> None:
    value = attribute_value('{ "content-type": "json", nested: { inner: [1, { deep: true }] } }')
    assert isinstance(value, ast.MapValue)
    assert [e.key for e in value.entries] == ["content-type", "nested"]
    nested = value.entries[1].value
    assert isinstance(nested, ast.MapValue)
    inner = nested.entries[0].value
    assert isinstance(inner, ast.ListValue)
    assert isinstance(inner.items[1], ast.MapValue)
    assert inner.items[1].entries[0].key == "deep"


@pytest.mark.parametrize(("text", "count"), [("[]", 0), ("{}", 0), ("[a]", 1), ("[a, b,]", 2), ("[\n a,\n b\n]", 2)])
def test_empty_and_trailing_comma_collections(text: str, count: int) -> None:
    value = attribute_value(text)
    items = value.items if isinstance(value, ast.ListValue) else value.entries  # type: ignore[union-attr]
    assert len(items) == count


def test_call_with_one_argument() -> None:
    value = attribute_value('env("ONLY")')
    assert isinstance(value, ast.CallValue)
    assert [a.value for a in value.args] == ["ONLY"]  # type: ignore[union-attr]


# ---- strings --------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "value"), [
    (r'"plain"', "plain"),
    (r'""', ""),
    (r'"say \"hi\""', 'say "hi"'),
    (r'"back\\slash"', "back\\slash"),
    (r'"line\nbreak"', "line\nbreak"),
    (r'"tab\there"', "tab\there"),
    (r'"cr\rhere"', "cr\rhere"),
    (r'"a\/b"', "a/b"),
    (r'"caf\u00e9"', "café"),
    (r'"# not a comment"', "# not a comment"),
    (r'"{ not a brace"', "{ not a brace"),
])
def test_string_escapes(source: str, value: str) -> None:
    parsed = attribute_value(source)
    assert isinstance(parsed, ast.Str)
    assert parsed.value == value


def test_triple_quoted_string_is_dedented() -> None:
    text = (
        'lane l {\n'
        '  note """\n'
        '    First line\n'
        '      indented "quoted" line\n'
        '    Last line\n'
        '    """\n'
        '}\n'
    )
    value = attribute(only_block(text), "note").value
    assert isinstance(value, ast.Str)
    # The newline after the opening quotes is dropped and the common indent removed.
    assert value.value == 'First line\n  indented "quoted" line\nLast line\n'


def test_triple_quoted_string_on_one_line_and_with_escapes() -> None:
    value = attribute_value('"""one "two" \\n three"""')
    assert isinstance(value, ast.Str)
    assert value.value == 'one "two" \n three'


def test_invalid_escape_is_a_diagnostic_not_a_failure() -> None:
    text = 'lane l {\n  note "S:\\queue"\n}\n'
    tree, diagnostics = parse_file("f.dro", text)
    assert tree is not None  # the file still parses
    assert [d.code for d in diagnostics] == ["DRO105"]
    assert diagnostics[0].summary == "invalid escape '\\q' in string"
    assert source_of(text, diagnostics[0].span) == '"S:\\queue"'


# ---- comments and layout --------------------------------------------------------------


def test_comments_are_ignored_everywhere() -> None:
    text = (
        "# a file comment\n"
        "lane a \"A\" # after a block\n"
        "group g \"G\" { # after a brace\n"
        "  # a line of its own\n"
        "  step s \"S\" {\n"
        "    type manual # after a value\n"
        "    body { k: 1 # inside a map\n"
        "           j: 2 }\n"
        "    expect [200, # inside a list\n"
        "            201]\n"
        "  }\n"
        "} # the end\n"
    )
    tree = parse_ok(text)
    assert [(b.kind, ident(b)) for b in tree.blocks] == [("lane", "a"), ("group", "g")]
    (s,) = tree.blocks[1].body
    assert isinstance(s, ast.Block)
    body = attribute(s, "body").value
    assert isinstance(body, ast.MapValue) and [e.key for e in body.entries] == ["k", "j"]
    expect = attribute(s, "expect").value
    assert isinstance(expect, ast.ListValue) and len(expect.items) == 2


def test_newlines_do_not_matter() -> None:
    spread = 'group g "G" {\n  step s "S" {\n    type manual\n    lane l\n  }\n}\n'
    packed = 'group g "G" { step s "S" { type manual lane l } }'
    def shape(tree: ast.File) -> list[Any]:
        (s,) = tree.blocks[0].body
        return [(i.name, i.value.name) for i in s.body]  # type: ignore[union-attr]
    assert shape(parse_ok(spread)) == shape(parse_ok(packed)) == [("type", "manual"), ("lane", "l")]


def test_nested_block_needs_title_or_braces() -> None:
    # `step s { ... }` is a block; `type manual` inside stays an attribute.
    g = only_block("group g { step s { type manual } step t \"T\" }")
    steps = of_type(g.body, ast.Block)
    assert [ident(s) for s in steps] == ["s", "t"]
    assert steps[0].title is None
    assert steps[1].title is not None and steps[1].title.value == "T"
    assert steps[1].body == ()
    assert isinstance(steps[0].body[0], ast.Attribute)


def test_after_single_ref_with_within_and_empty_list() -> None:
    g = only_block("group g { step a { after x within bundle } step b { after [] } }")
    a, b = of_type(g.body, ast.Block)
    (after_a,) = of_type(a.body, ast.After)
    assert [(r.step, r.within) for r in after_a.refs] == [("x", "bundle")]
    (after_b,) = of_type(b.body, ast.After)
    assert after_b.refs == ()


def test_into_with_settings() -> None:
    rule = only_block(
        'decompose "BUNDLE" {\n'
        '  into "SIM" when item.attributes.sims > 0 {\n'
        '    quantity   item.attributes.sims\n'
        '    attributes { tariff: item.attributes.tariff, "port-in": exists(item.attributes.msisdn) }\n'
        '  }\n'
        '}\n')
    (into,) = rule.body
    assert isinstance(into, ast.Into)
    assert isinstance(into.when, ast.Compare) and into.when.op == ">"
    quantity, attributes = into.settings
    assert quantity.name == "quantity" and isinstance(quantity.value, ast.Path)
    assert attributes.name == "attributes"
    assert isinstance(attributes.value, tuple)
    assert [key for key, _span, _expr in attributes.value] == ["tariff", "port-in"]
    assert isinstance(attributes.value[1][2], ast.Call)


# ---- spans ----------------------------------------------------------------------------


def walk(node: Any) -> Iterator[Any]:
    """Every node of a parsed file, depth first."""
    yield node
    if isinstance(node, ast.File):
        children: list[Any] = list(node.blocks)
    elif isinstance(node, ast.Block):
        children = [node.id, *([node.title] if node.title else []), *node.body]
    elif isinstance(node, ast.Attribute):
        children = [node.value]
    elif isinstance(node, ast.When):
        children = [node.expr]
    elif isinstance(node, ast.After):
        children = list(node.refs)
    elif isinstance(node, ast.Into):
        children = [node.product, *([node.when] if node.when else []), *node.settings]
    elif isinstance(node, ast.IntoSetting):
        children = [e for _, _, e in node.value] if isinstance(node.value, tuple) else [node.value]
    elif isinstance(node, ast.ResumeOn):
        children = [node.event]
    elif isinstance(node, ast.ListValue):
        children = list(node.items)
    elif isinstance(node, ast.MapValue):
        children = [e.value for e in node.entries]
    elif isinstance(node, ast.CallValue):
        children = list(node.args)
    elif isinstance(node, (ast.Compare, ast.BoolOp)):
        children = [node.left, node.right]
    elif isinstance(node, ast.Not):
        children = [node.operand]
    elif isinstance(node, (ast.Call,)):
        children = list(node.args)
    elif isinstance(node, ast.ListExpr):
        children = list(node.items)
    else:
        children = []
    for child in children:
        yield from walk(child)


def check_span(text: str, node: Any) -> None:
    """The source under a node's span reads as that node."""
    covered = source_of(text, node.span)
    if isinstance(node, ast.Ident):
        assert covered == node.name
    elif isinstance(node, ast.Str):
        assert covered.startswith('"') and covered.endswith('"')
        if "\\" not in covered and not covered.startswith('"""'):
            assert covered[1:-1] == node.value
    elif isinstance(node, ast.Num):
        assert float(covered) == node.value
    elif isinstance(node, ast.Duration):
        assert covered == node.text
    elif isinstance(node, ast.Const):
        assert covered == {True: "true", False: "false", None: "null"}[node.value]
    elif isinstance(node, ast.Block):
        assert covered.startswith(node.kind)
        assert source_of(text, node.kind_span) == node.kind
        assert covered.endswith("}") == bool(node.body)
    elif isinstance(node, ast.Attribute):
        assert covered.startswith(node.name)
        assert source_of(text, node.name_span) == node.name
        assert covered.endswith(source_of(text, node.value.span))
    elif isinstance(node, ast.When):
        assert covered.startswith("when ")
    elif isinstance(node, ast.After):
        assert covered.startswith("after ")
    elif isinstance(node, ast.Ref):
        assert covered.startswith(node.step)
        if node.within is not None:
            assert node.within_span is not None and source_of(text, node.within_span) == node.within
            assert covered.endswith(node.within)
    elif isinstance(node, ast.Into):
        assert covered.startswith("into ")
    elif isinstance(node, ast.ResumeOn):
        assert covered.startswith("resume_on event ")
    elif isinstance(node, (ast.ListValue, ast.ListExpr)):
        assert covered.startswith("[") and covered.endswith("]")
    elif isinstance(node, ast.MapValue):
        assert covered.startswith("{") and covered.endswith("}")
    elif isinstance(node, ast.CallValue):
        assert covered.startswith(node.name + "(") and covered.endswith(")")
        assert source_of(text, node.name_span) == node.name
    elif isinstance(node, ast.Path):
        assert covered.startswith(node.root)
    elif isinstance(node, ast.Compare):
        assert f" {node.op} " in covered
    elif isinstance(node, ast.Literal):
        assert covered in ("true", "false", "null") or covered.startswith('"') or float(covered) == node.value


def test_every_node_of_the_design_example_spans_its_text(design: ast.File, design_text: str) -> None:
    nodes = [n for n in walk(design) if not isinstance(n, ast.File)]
    assert len(nodes) > 150
    for node in nodes:
        assert node.span.file == "design_example.dro"
        assert node.span.line <= node.span.end_line
        check_span(design_text, node)


def test_a_few_spans_by_position(design: ast.File, design_text: str) -> None:
    lines = design_text.split("\n")
    group = block(design, "group", "laptop_delivery")
    assert group.span.line == lines.index('group laptop_delivery "Laptop delivery" {') + 1
    assert group.span.col == 1
    assert source_of(design_text, group.title.span) == '"Laptop delivery"'  # type: ignore[union-attr]
    assert lines[group.span.end_line - 1] == "}"

    (after,) = of_type(step(design, "start_billing").body, ast.After)
    ref = after.refs[0]
    line = lines.index("    after [reserve within plan, wait_work_order]") + 1
    assert (ref.span.line, ref.span.col) == (line, lines[line - 1].index("reserve") + 1)
    assert source_of(design_text, ref.span) == "reserve within plan"

    rule = block(design, "decompose", "LAPTOP-BUNDLE")
    when = rule.body[2].when  # type: ignore[union-attr]
    assert source_of(design_text, when.span) == "item.attributes.onsite_setup == true"
    assert source_of(design_text, when.left.span) == "item.attributes.onsite_setup"

    (resume,) = of_type(step(design, "wait_work_order").body, ast.ResumeOn)
    assert source_of(design_text, resume.event.span) == '"work_order.completed"'
    assert source_of(design_text, resume.span) == 'resume_on event "work_order.completed"'

    lane = design.blocks[0]
    assert source_of(design_text, lane.span) == 'lane inventory "Inventory"'


def test_multi_line_string_span() -> None:
    text = 'lane l {\n  note """\n    a\n    b\n    """\n}\n'
    value = attribute(only_block(text), "note").value
    assert (value.span.line, value.span.end_line) == (2, 5)
    assert source_of(text, value.span) == '"""\n    a\n    b\n    """'


# ---- syntax errors --------------------------------------------------------------------

# (source, code, line, text at the column on that line)
SYNTAX_ERRORS = [
    pytest.param('lane billing "Billing"\ngroup g {\n  step s "S" {\n    lane = billing\n  }\n}\n',
                 "DRO104", 4, "=", id="equals-sign"),
    pytest.param('group g {\n  step s "S" {\n    lane: billing\n  }\n}\n',
                 "DRO101", 3, ":", id="yaml-colon"),
    pytest.param('lane a "A";\n', "DRO104", 1, ";", id="semicolon"),
    pytest.param('lane a @ "A"\n', "DRO104", 1, "@", id="at-sign"),
    pytest.param('lane a "Inventory\nlane b "B"\n', "DRO103", 1, '"Inventory', id="unterminated-string"),
    pytest.param('group g "G" {\n  step a "A" { type manual }\n', "DRO102", 1, "{", id="unclosed-group"),
    # step a lacks its '}'; the group's '}' is indented like the group, not like the step,
    # so the step's brace is the one named.
    pytest.param('group g "G" {\n  step a "A" {\n    type manual\n\n  step b "B" {\n    type manual\n  }\n}\n',
                 "DRO102", 2, '{\n', id="unclosed-inner-block"),
    pytest.param('lane a "{ not a brace"\ngroup g {\n', "DRO102", 2, "{", id="brace-in-string-ignored"),
    pytest.param('# {\nlane a "A"\ngroup g {\n', "DRO102", 3, "{", id="brace-in-comment-ignored"),
    pytest.param('lane', "DRO101", 1, "", id="end-of-file"),
    pytest.param('group g {\n  step s "S" {\n    lane }\n}\n', "DRO101", 3, "}", id="attribute-without-value"),
    pytest.param('group {\n}\n', "DRO101", 1, "{", id="block-without-id"),
    pytest.param('lane l { x [1, 2 }\n', "DRO101", 1, "}", id="unclosed-list"),
    pytest.param('lane l { x { a 1 } }\n', "DRO101", 1, "1", id="map-without-colon"),
    pytest.param('scenario s {\n  when item.product = "X"\n}\n', "DRO104", 2, "=", id="single-equals-in-when"),
    pytest.param('lane a "A\\qB"\n', "DRO105", 1, '"A', id="invalid-escape"),
    pytest.param('lane a "\\u12"\n', "DRO105", 1, '"\\u12"', id="short-unicode-escape"),
]


@pytest.mark.parametrize(("source", "code", "line", "at"), SYNTAX_ERRORS)
def test_syntax_errors(source: str, code: str, line: int, at: str) -> None:
    _tree, diagnostics = parse_file("bad.dro", source)
    assert [d.code for d in diagnostics] == [code]
    (problem,) = diagnostics
    assert problem.severity is Severity.ERROR
    assert problem.span is not None and problem.span.file == "bad.dro"
    assert problem.span.line == line
    line_text = source.split("\n")[line - 1]
    if at:
        assert (line_text + "\n")[problem.span.col - 1:].startswith(at)
    else:  # the end of the file: just after the last character
        assert problem.span.col == len(line_text) + 1
    assert problem.hint or problem.detail
    assert "Token(" not in problem.summary + (problem.detail or "")


def test_syntax_error_stops_only_that_file() -> None:
    tree, diagnostics = parse_file("bad.dro", 'lane a "A"\nlane = b\n')
    assert tree is None
    assert len(diagnostics) == 1


def test_unterminated_triple_quoted_string_points_at_its_start() -> None:
    text = 'lane a {\n  note """\n    never closed\n}\n'
    _tree, diagnostics = parse_file("bad.dro", text)
    assert [d.code for d in diagnostics] == ["DRO103"]
    assert (diagnostics[0].span.line, diagnostics[0].span.col) == (2, text.split("\n")[1].index('"') + 1)


def test_unexpected_invisible_character_is_quoted_once() -> None:
    _tree, diagnostics = parse_file("bad.dro", 'lane a\u00a0"A"\n')
    assert [d.code for d in diagnostics] == ["DRO104"]
    assert "''" not in diagnostics[0].summary
    assert "\\xa0" in diagnostics[0].summary


def test_every_truncation_of_the_example_is_handled(design_text: str) -> None:
    """Cutting the example anywhere gives a tree or a syntax diagnostic, never an exception."""
    for cut in range(0, len(design_text), 7):
        tree, diagnostics = parse_file("cut.dro", design_text[:cut])
        if tree is None:
            assert len(diagnostics) == 1
            assert diagnostics[0].code in {"DRO101", "DRO102", "DRO103", "DRO104", "DRO105"}
            assert diagnostics[0].span is not None
            assert 1 <= diagnostics[0].span.line <= design_text[:cut].count("\n") + 1
