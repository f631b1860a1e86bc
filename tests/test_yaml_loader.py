"""The YAML loader: plain data, spans that keep their line numbers, and what YAML may not hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import source_of

from dsl import check_catalog
from dsl.diagnostics import Diagnostic, Span
from dsl.document import Document
from dsl.yaml_loader import load_yaml


def load(text: str, path: str = "cat.dro.yaml") -> tuple[Document | None, list[Diagnostic]]:
    return load_yaml(path, text)


def load_ok(text: str) -> Document:
    doc, diagnostics = load(text)
    assert diagnostics == []
    assert doc is not None
    return doc




def position(text: str, needle: str) -> tuple[int, int]:
    """(line, col) of the first occurrence of `needle`, 1-based."""
    index = text.index(needle)
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


# ---- data ---------------------------------------------------------------------------------

CATALOG = """\
# a comment
lanes:
  inventory: {title: Inventory}
  field:
    title: Field service
groups:
  delivery:
    steps:
      reserve:
        type: callout
        after: [check, {step: pack, within: plan}]
        expect: [200, 201]
        retry: {policy: monotonous, retries: 3, interval: 30s}
"""


def test_data_is_plain_json_shaped() -> None:
    doc = load_ok(CATALOG)
    assert doc.file == "cat.dro.yaml"
    assert doc.data == {
        "lanes": {"inventory": {"title": "Inventory"}, "field": {"title": "Field service"}},
        "groups": {"delivery": {"steps": {"reserve": {
            "type": "callout",
            "after": ["check", {"step": "pack", "within": "plan"}],
            "expect": [200, 201],
            "retry": {"policy": "monotonous", "retries": 3, "interval": "30s"},
        }}}},
    }


@pytest.mark.parametrize(("scalar", "value"), [
    ("42", 42), ("-3", -3), ("1.5", 1.5), ("true", True), ("false", False), ("yes", True), ("no", False),
    ("null", None), ("~", None), ("", None), ('"42"', "42"), ("'true'", "true"), ("30s", "30s"),
    ("2024-01-31", "2024-01-31"), ("!!str 123", "123"), ("http://x:8080/a", "http://x:8080/a"),
])
def test_scalars(scalar: str, value: object) -> None:
    doc = load_ok(f"x: {scalar}\n")
    assert doc.data == {"x": value}
    assert type(doc.data["x"]) is type(value)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
def test_empty_file_is_an_empty_mapping(text: str) -> None:
    doc, diagnostics = load(text)
    assert diagnostics == []
    assert doc is not None
    assert doc.data == {}


def test_anchors_and_aliases_are_plain_values() -> None:
    doc = load_ok("lanes:\n  a: &lane {title: Same}\n  b: *lane\n")
    assert doc.data == {"lanes": {"a": {"title": "Same"}, "b": {"title": "Same"}}}


# ---- spans --------------------------------------------------------------------------------


def test_value_and_key_spans() -> None:
    doc = load_ok(CATALOG)
    reserve = ("groups", "delivery", "steps", "reserve")
    assert source_of(CATALOG, doc.span(("lanes", "inventory"))) == "{title: Inventory}"
    assert source_of(CATALOG, doc.key_span(("lanes", "inventory"))) == "inventory"
    assert source_of(CATALOG, doc.span((*reserve, "type"))) == "callout"
    assert source_of(CATALOG, doc.key_span((*reserve, "type"))) == "type"
    assert doc.key_span((*reserve, "type")).line == CATALOG.split("\n").index("        type: callout") + 1
    assert source_of(CATALOG, doc.span((*reserve, "after", 1))) == "{step: pack, within: plan}"
    assert source_of(CATALOG, doc.span((*reserve, "after", 1, "within"))) == "plan"
    assert source_of(CATALOG, doc.span((*reserve, "expect", 0))) == "200"
    assert doc.span(("lanes", "field", "title")) == Span("cat.dro.yaml", 5, 12, 5, 25)
    assert source_of(CATALOG, doc.span(("lanes", "field", "title"))) == "Field service"


def test_span_of_a_block_mapping_starts_at_its_first_key() -> None:
    doc = load_ok(CATALOG)
    span = doc.span(("lanes", "field"))
    assert (span.line, span.col) == position(CATALOG, "title: Field")


def test_missing_path_falls_back_to_the_nearest_ancestor() -> None:
    doc = load_ok(CATALOG)
    reserve = ("groups", "delivery", "steps", "reserve")
    assert doc.span((*reserve, "no_such_key")) == doc.span(reserve)
    assert doc.span((*reserve, "expect", 9)) == doc.span((*reserve, "expect"))
    # A key span falls back to the value when there is no key (a list item).
    assert doc.key_span((*reserve, "expect", 1)) == doc.span((*reserve, "expect", 1))


TEXTS = """\
plain: item.x == 1
double: "item.x == 1"
single: 'item.x == 1'
literal: |
  item.x == 1
folded: >-
    item.x == 1
"""


@pytest.mark.parametrize("key", [
    "plain", "double", "single", "literal", "folded",
])
def test_text_origin_is_where_the_text_starts(key: str) -> None:
    doc = load_ok(TEXTS)
    assert doc.data[key].rstrip("\n") == "item.x == 1"
    origin = doc.text_origin((key,))
    assert origin is not None
    line = TEXTS.split("\n")[origin.start.line - 1]
    assert line[origin.start.col - 1:].startswith("item.x == 1")


def test_text_origin_of_a_quoted_scalar_skips_the_quote() -> None:
    doc = load_ok(TEXTS)
    value = doc.span(("double",))
    origin = doc.text_origin(("double",))
    assert (origin.start.line, origin.start.col) == (value.line, value.col + 1)
    assert doc.text_origin(("plain",)).start == doc.span(("plain",))


def test_text_origin_of_a_block_scalar_is_on_the_next_line() -> None:
    doc = load_ok(TEXTS)
    indicator = doc.span(("literal",))
    assert source_of(TEXTS, Span("f", indicator.line, indicator.col, indicator.line, indicator.col + 1)) == "|"
    assert doc.text_origin(("literal",)).start.line == indicator.line + 1


def test_text_origin_of_a_mapping_falls_back_to_its_span() -> None:
    doc = load_ok(CATALOG)
    path = ("lanes", "inventory")
    assert doc.locator.text_origin(path) is None
    assert doc.text_origin(path).start == doc.span(path)


# ---- duplicates ---------------------------------------------------------------------------


def test_duplicate_key() -> None:
    text = "lanes:\n  a:\n    title: A\n    title: B\n"
    doc, diagnostics = load(text)
    (problem,) = diagnostics
    assert problem.code == "DRO107"
    assert problem.summary == "duplicate key 'title'"
    assert problem.span.line == 4 and source_of(text, problem.span) == "title"
    assert "already set at line 3" in problem.detail
    assert doc is not None
    assert doc.data == {"lanes": {"a": {"title": "A"}}}  # the first one is kept


@pytest.mark.parametrize(("text", "key", "line"), [
    ("lanes:\n  a: {}\n  a: {title: X}\n", "a", 3),
    ("groups:\n  g:\n    steps:\n      s: {type: manual}\n      s: {type: auto}\n", "s", 5),
    ("scenarios:\n  x: {when: a, add: [g]}\n  x: {when: b, add: [g]}\n", "x", 3),
])
def test_duplicate_declaration_id(text: str, key: str, line: int) -> None:
    _doc, diagnostics = load(text)
    (problem,) = diagnostics
    assert problem.code == "DRO305"
    assert problem.summary == f"duplicate id '{key}'"
    assert problem.span.line == line
    assert source_of(text, problem.span) == key


def test_duplicate_keys_below_a_declaration_are_not_ids() -> None:
    text = "groups:\n  g:\n    steps:\n      s:\n        type: manual\n        type: auto\n"
    _doc, diagnostics = load(text)
    assert [d.code for d in diagnostics] == ["DRO107"]


def test_duplicate_id_reported_through_the_catalog(tmp_path: Path) -> None:
    (tmp_path / "c.dro.yaml").write_text("lanes:\n  a: {}\n  a: {title: X}\n", encoding="utf-8")
    result = check_catalog([tmp_path])
    assert [d.code for d in result.diagnostics if d.is_error] == ["DRO305"]


# ---- what YAML may not hold ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "tag", "at"), [
    ("lanes:\n  a: !include other.yaml\n", "!include", "!include"),
    ("x: !!binary aGVsbG8=\n", "tag:yaml.org,2002:binary", "!!binary"),
    ("x: !!set {a, b}\n", "tag:yaml.org,2002:set", "!!set"),
    ("x: !custom\n  a: 1\n", "!custom", "!custom"),
])
def test_custom_tags(text: str, tag: str, at: str) -> None:
    doc, diagnostics = load(text)
    (problem,) = diagnostics
    assert problem.code == "DRO108"
    assert problem.summary == f"unsupported YAML tag '{tag}'"
    assert (problem.span.line, problem.span.col) == position(text, at)
    assert doc is not None  # the rest of the file is still read


def test_merge_keys() -> None:
    text = "base: &b {title: X}\nlanes:\n  a:\n    <<: *b\n    description: kept\n"
    doc, diagnostics = load(text)
    (problem,) = diagnostics
    assert problem.code == "DRO108"
    assert "merge keys" in problem.summary
    assert (problem.span.line, problem.span.col) == position(text, "<<")
    assert doc is not None
    assert doc.data["lanes"] == {"a": {"description": "kept"}}


def test_complex_keys() -> None:
    text = "? [a, b]\n: 1\nc: 2\n"
    doc, diagnostics = load(text)
    assert [d.code for d in diagnostics] == ["DRO108"]
    assert diagnostics[0].summary == "a YAML key must be plain text"
    assert doc is not None and doc.data == {"c": 2}


@pytest.mark.parametrize(("text", "line"), [
    ("lanes: {}\n---\ngroups: {}\n", 3),
    ("---\nlanes: {}\n---\n\n# second\ngroups: {}\n", 6),
])
def test_multiple_documents(text: str, line: int) -> None:
    doc, diagnostics = load(text)
    assert doc is None
    (problem,) = diagnostics
    assert problem.code == "DRO108"
    assert problem.summary == "more than one YAML document in a file"
    assert problem.span.line == line


def test_one_explicit_document_is_fine() -> None:
    doc = load_ok("---\nlanes: {a: {}}\n...\n")
    assert doc.data == {"lanes": {"a": {}}}


# ---- syntax errors ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "line", "col"), [
    # `b: c` after `a:` on one line: the second ':' is the problem.
    ("lanes:\n  a: b: c\n", 2, 7),
    # an unclosed flow mapping is found on the next line
    ("lanes:\n  a: {title: X\n  b: {}\n", 3, None),
    # a key indented less than its siblings
    ("lanes:\n    a: {}\n  b: {}\n", 3, 3),
    ('x: "unterminated\n', 2, None),
])
def test_syntax_errors(text: str, line: int, col: int | None) -> None:
    doc, diagnostics = load(text)
    assert doc is None
    (problem,) = diagnostics
    assert problem.code == "DRO106"
    assert problem.summary.startswith("invalid YAML: ")
    assert problem.span is not None and problem.span.line == line
    if col is not None:
        assert problem.span.col == col
    assert problem.hint == "check the indentation and the ':' after each key on the lines above"


def test_tab_indentation_hint() -> None:
    text = "lanes:\n\ta: {}\n"
    doc, diagnostics = load(text)
    assert doc is None
    (problem,) = diagnostics
    assert problem.code == "DRO106"
    assert (problem.span.line, problem.span.col) == (2, 1)
    assert problem.hint == "indent with spaces, not tabs"
