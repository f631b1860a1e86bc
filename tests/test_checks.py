"""Schema and semantic checks, through `dsl.check_catalog` on small catalogs written to tmp_path."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import dsl
from dsl.diagnostics import Diagnostic, Severity
from dsl.durations import format_duration, parse_duration
from dsl.graph import find_cycles

Check = Callable[..., dsl.CompileResult]


@pytest.fixture
def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Check:
    """Write files into ./cat (cwd is tmp_path, so files show as cat/NAME) and check that catalog."""
    monkeypatch.chdir(tmp_path)

    def run(files: dict[str, str], root: str = "cat") -> dsl.CompileResult:
        for name, text in files.items():
            path = tmp_path / root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return dsl.check_catalog([root])

    return run


def position(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """(line, col), 1-based, of the nth occurrence of `needle` in `text`."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def errors(result: dsl.CompileResult) -> list[str]:
    return [d.code for d in result.diagnostics if d.severity is Severity.ERROR]


def warnings(result: dsl.CompileResult) -> list[str]:
    return [d.code for d in result.diagnostics if d.severity is Severity.WARNING]


def only(result: dsl.CompileResult, code: str) -> Diagnostic:
    found = [d for d in result.diagnostics if d.code == code]
    assert len(found) == 1, [(d.code, d.summary) for d in result.diagnostics]
    return found[0]


def at(diagnostic: Diagnostic) -> tuple[str, int, int]:
    assert diagnostic.span is not None
    return diagnostic.span.file, diagnostic.span.line, diagnostic.span.col


# A small catalog with no diagnostics at all; tests change one thing in it.
BASE = """\
lane billing "Billing"
lane inventory "Inventory"

endpoint wms "Warehouse" {
  url env("WMS_URL", "http://127.0.0.1:8081")
}

group delivery "Delivery" {
  step check "Credit check" {
    type  manual
    lane  billing
    queue credit_team
  }
  step reserve "Reserve" {
    type     callout
    lane     inventory
    after    check
    endpoint wms
    method   POST
    path     "/reservations"
  }
}

scenario laptop "Laptop" {
  when item.product == "LAPTOP"
  add  delivery
}
"""

BASE_YAML = """\
lanes:
  billing: {title: Billing}
groups:
  delivery:
    steps:
      check:
        type: manual
        lane: billing
        queue: credit_team
        instructions: "Check {{ order.account }}"
scenarios:
  laptop:
    when: item.product == "LAPTOP"
    add: [delivery]
"""


def test_base_catalogs_are_clean(check: Check) -> None:
    assert check({"a.dro": BASE}).diagnostics == []
    assert check({"a.dro.yaml": BASE_YAML}, root="yaml").diagnostics == []


# ---- references.py ---------------------------------------------------------------------


def test_unknown_lane(check: Check) -> None:
    text = edit(BASE, "lane  billing", "lane  biling")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO301"]
    problem = only(result, "DRO301")
    assert problem.summary == "unknown lane 'biling'"
    assert at(problem) == ("cat/a.dro", *position(text, "biling"))
    assert problem.hint == "did you mean 'billing'?"


def test_unknown_endpoint_in_step(check: Check) -> None:
    text = edit(BASE, "endpoint wms\n", "endpoint wsm\n")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO302"]
    problem = only(result, "DRO302")
    assert problem.summary == "unknown endpoint 'wsm'"
    assert at(problem) == ("cat/a.dro", *position(text, "wsm"))
    assert problem.hint == "did you mean 'wms'?"


def test_unknown_endpoint_in_rule_match(check: Check) -> None:
    text = BASE + "fallout_rule down { match { type: callout, endpoint: wmz } queue fallout }\n"
    result = check({"a.dro": text})
    assert errors(result) == ["DRO302"]
    problem = only(result, "DRO302")
    assert problem.summary == "unknown endpoint 'wmz'"
    assert at(problem) == ("cat/a.dro", *position(text, "wmz"))
    assert problem.hint == "did you mean 'wms'?"


def test_unknown_group_or_step_in_scenario(check: Check) -> None:
    text = edit(BASE, "add  delivery", "add  [delivery, delivry]")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO303"]
    problem = only(result, "DRO303")
    assert problem.summary == "unknown group or step 'delivry'"
    assert at(problem) == ("cat/a.dro", *position(text, "delivry"))
    assert problem.hint == "did you mean 'delivery'?"


def test_unknown_step_in_after(check: Check) -> None:
    text = edit(BASE, "after    check", "after    chek")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO304"]
    problem = only(result, "DRO304")
    assert problem.summary == "unknown step 'chek' in after"
    assert at(problem) == ("cat/a.dro", *position(text, "chek"))
    assert problem.hint == "did you mean 'check'?"


def test_unknown_step_in_after_yaml(check: Check) -> None:
    text = edit(BASE_YAML, "        queue: credit_team\n",
                "        queue: credit_team\n        after: [{step: reserv, within: plan}]\n")
    result = check({"a.dro.yaml": text})
    problem = only(result, "DRO304")
    assert problem.summary == "unknown step 'reserv' in after"
    assert at(problem) == ("cat/a.dro.yaml", *position(text, "{step: reserv"))


def test_step_listed_twice_in_after(check: Check) -> None:
    text = edit(BASE, "after    check", "after    [check, check within plan]")
    result = check({"a.dro": text})
    assert errors(result) == []
    problem = only(result, "DRO310")
    assert problem.severity is Severity.WARNING
    assert problem.summary == "step 'check' is listed twice in after"
    assert at(problem) == ("cat/a.dro", *position(text, "check within plan"))


def test_lane_never_used(check: Check) -> None:
    text = BASE + 'lane spare "Spare"\n'
    result = check({"a.dro": text})
    assert (errors(result), warnings(result)) == ([], ["DRO311"])
    problem = only(result, "DRO311")
    assert problem.summary == "lane 'spare' is never used"
    assert at(problem) == ("cat/a.dro", *position(text, "spare"))


def test_endpoint_never_used(check: Check) -> None:
    text = BASE + 'endpoint crm "CRM" { url "http://crm.example.com" }\n'
    result = check({"a.dro": text})
    assert (errors(result), warnings(result)) == ([], ["DRO312"])
    problem = only(result, "DRO312")
    assert problem.summary == "endpoint 'crm' is never used"
    assert at(problem) == ("cat/a.dro", *position(text, "crm "))


def test_group_never_added(check: Check) -> None:
    text = BASE + 'group extra "Extra" { step lonely "Lonely" { type milestone lane billing } }\n'
    result = check({"a.dro": text})
    assert (errors(result), warnings(result)) == ([], ["DRO313"])
    problem = only(result, "DRO313")
    assert problem.summary == "group 'extra' is never added"
    assert at(problem) == ("cat/a.dro", *position(text, "extra"))
    assert problem.hint == "add it to a scenario (`add [extra]`), or remove it"


def test_step_never_added(check: Check) -> None:
    text = BASE + (
        'group extra "Extra" {\n'
        '  step one "One" { type milestone lane billing }\n'
        '  step two "Two" { type milestone lane billing }\n'
        '}\n'
        'scenario partial "Partial" { when item.product == "X" add one }\n')
    result = check({"a.dro": text})
    assert (errors(result), warnings(result)) == ([], ["DRO314"])
    problem = only(result, "DRO314")
    assert problem.summary == "step 'two' is never added"
    assert at(problem) == ("cat/a.dro", *position(text, "two"))


def test_scenario_adds_nothing(check: Check) -> None:
    text = BASE + 'group empty "Empty" {}\nscenario nothing "Nothing" { when item.product == "X" add empty }\n'
    result = check({"a.dro": text})
    assert (errors(result), warnings(result)) == ([], ["DRO315"])
    problem = only(result, "DRO315")
    assert problem.summary == "scenario 'nothing' adds nothing"
    assert at(problem) == ("cat/a.dro", *position(text, "add empty"))


def test_reference_checks_keep_going(check: Check) -> None:
    text = edit(BASE, "lane  billing", "lane  biling")
    text = edit(text, "lane     inventory", "lane     inventry")
    text = edit(text, "after    check", "after    chek")
    result = check({"a.dro": text})
    assert sorted(errors(result)) == ["DRO301", "DRO301", "DRO304"]
    lanes = sorted(d.summary for d in result.diagnostics if d.code == "DRO301")
    assert lanes == ["unknown lane 'biling'", "unknown lane 'inventry'"]


# ---- graph.py --------------------------------------------------------------------------

CYCLE = """\
lane inventory "Inventory"

group delivery "Delivery" {
  step reserve "Reserve" {
    type  milestone
    lane  inventory
    after pack
  }
  step ship "Ship" {
    type  milestone
    lane  inventory
    after reserve
  }
  step pack "Pack" {
    type  milestone
    lane  inventory
    after ship
  }
}

scenario laptop "Laptop" {
  when item.product == "LAPTOP"
  add  delivery
}
"""


def test_dependency_cycle_is_named_in_order(check: Check) -> None:
    result = check({"a.dro": CYCLE})
    assert errors(result) == ["DRO306"]
    problem = only(result, "DRO306")
    # `pack after ship`, `ship after reserve`, `reserve after pack`; the cycle starts at the least id.
    assert problem.summary == "dependency cycle: pack -> ship -> reserve -> pack"
    line, col = position(CYCLE, "after ship")
    assert at(problem) == ("cat/a.dro", line, col + len("after "))
    assert problem.hint == ("remove one of these `after` dependencies (for example 'ship' from step 'pack')")


def test_self_dependency(check: Check) -> None:
    text = edit(BASE, "    lane  billing\n", "    lane  billing\n    after check\n")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO306"]
    problem = only(result, "DRO306")
    assert problem.summary == "dependency cycle: check -> check"
    line, col = position(text, "after check")
    assert at(problem) == ("cat/a.dro", line, col + len("after "))


def test_dependency_cycle_in_yaml(check: Check) -> None:
    text = """\
lanes: {l: {}}
groups:
  g:
    steps:
      b: {type: milestone, lane: l, after: [a]}
      a: {type: milestone, lane: l, after: [c, b]}
      c: {type: milestone, lane: l}
scenarios:
  s: {when: item.x == 1, add: [g]}
"""
    result = check({"a.dro.yaml": text})
    problem = only(result, "DRO306")
    assert problem.summary == "dependency cycle: a -> b -> a"
    assert at(problem) == ("cat/a.dro.yaml", *position(text, "b]}"))


def test_graph_checks_keep_going(check: Check) -> None:
    text = CYCLE + (
        'group other "Other" {\n'
        '  step x "X" { type milestone lane inventory after y }\n'
        '  step y "Y" { type milestone lane inventory after x }\n'
        '}\n'
        'scenario more "More" { when item.x == 1 add other }\n'
        'decompose "A" { into "B" }\n'
        'decompose "B" { into "A" }\n')
    result = check({"a.dro": text})
    assert sorted(d.summary for d in result.diagnostics if d.is_error) == [
        "decomposition cycle: A -> B -> A",
        "dependency cycle: pack -> ship -> reserve -> pack",
        "dependency cycle: x -> y -> x",
    ]


def test_decomposition_cycle(check: Check) -> None:
    text = 'decompose "A" {\n  into "B"\n}\ndecompose "B" {\n  into "C"\n  into "A" when item.x == 1\n}\n'
    result = check({"a.dro": text})
    assert errors(result) == ["DRO307"]
    problem = only(result, "DRO307")
    assert problem.summary == "decomposition cycle: A -> B -> A"
    assert at(problem) == ("cat/a.dro", *position(text, 'into "B"'))
    assert problem.hint == "remove `into \"B\"` from the rule for 'A', or break the chain elsewhere"


def test_find_cycles_orders_each_cycle_from_its_least_node() -> None:
    edges = {"c": ["a"], "a": ["b"], "b": ["c"], "d": ["d"], "e": ["a"], "f": []}
    assert find_cycles(edges) == [["a", "b", "c"], ["d"]]


def test_find_cycles_takes_a_shortest_cycle_through_the_least_node() -> None:
    # a -> b -> c -> a and a -> c -> a: one strongly connected component, one cycle reported.
    assert find_cycles({"a": ["b", "c"], "b": ["c"], "c": ["a"]}) == [["a", "c"]]


def test_find_cycles_without_cycles_and_with_unknown_targets() -> None:
    assert find_cycles({"a": ["b", "zzz"], "b": ["c"], "c": []}) == []
    assert find_cycles({}) == []


@pytest.mark.parametrize("closed", [False, True])
def test_find_cycles_on_a_100000_node_chain_does_not_recurse(closed: bool) -> None:
    n = 100_000
    names = [f"s{i:06d}" for i in range(n)]
    edges = {names[i]: [names[i + 1]] for i in range(n - 1)}
    edges[names[-1]] = [names[0]] if closed else []
    assert sys.getrecursionlimit() < n  # a recursive walk would fail here
    cycles = find_cycles(edges)
    if closed:
        assert len(cycles) == 1
        assert cycles[0] == names
    else:
        assert cycles == []


# ---- settings_check.py -----------------------------------------------------------------


def test_step_jeopardy_not_below_duration(check: Check) -> None:
    text = edit(BASE, "    queue credit_team\n", "    queue credit_team\n    duration 1h\n    jeopardy 1h\n")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO308"]
    problem = only(result, "DRO308")
    assert problem.summary == "jeopardy threshold 1h is not below duration 1h"
    line, col = position(text, "jeopardy 1h")
    assert at(problem) == ("cat/a.dro", line, col + len("jeopardy "))
    assert problem.hint == "make jeopardy shorter than 1h, e.g. 15m"  # a quarter of the duration


def test_compound_durations_are_compared_by_length(check: Check) -> None:
    text = edit(BASE, "    queue credit_team\n", "    queue credit_team\n    duration 1h30m\n    jeopardy 90m\n")
    problem = only(check({"a.dro": text}), "DRO308")
    assert problem.summary == "jeopardy threshold 90m is not below duration 1h30m"


def test_jeopardy_rule_threshold_not_below_duration(check: Check) -> None:
    text = BASE + "jeopardy_rule slow {\n  match { type: manual }\n  duration 2h\n  jeopardy 3h\n}\n"
    result = check({"a.dro": text})
    assert errors(result) == ["DRO308"]
    problem = only(result, "DRO308")
    assert problem.summary == "jeopardy threshold 3h is not below duration 2h"
    assert at(problem) == ("cat/a.dro", *position(text, "3h"))
    assert problem.hint == "make jeopardy shorter than 2h, e.g. 30m"


@pytest.mark.parametrize(("retry", "summary", "needle"), [
    ("{ policy: monotonous, retries: 3 }", "a monotonous retry needs 'interval'", "policy"),
    ("{ policy: staggered, intervals: [1m, 5m], retries: 3 }", "retries is 3 but there are 2 intervals", "3 }"),
    ("{ policy: exponential, retries: 2, initial: 1m, max: 30s }", "max 30s is below initial 1m", "30s"),
    ("{ policy: staggered, interval: 1m, intervals: [1m] }", "'interval' does not apply to a staggered retry",
     "interval:"),
])
def test_inconsistent_retry(check: Check, retry: str, summary: str, needle: str) -> None:
    text = edit(BASE, '    path     "/reservations"\n', f'    path     "/reservations"\n    retry    {retry}\n')
    result = check({"a.dro": text})
    assert errors(result) == ["DRO309"]
    problem = only(result, "DRO309")
    assert problem.summary == summary
    line, col = position(text, "retry    {")
    assert at(problem) == ("cat/a.dro", line, col + text.split("\n")[line - 1][col - 1:].index(needle))


def test_retry_summary_uses_an_before_vowels(check: Check) -> None:
    text = edit(BASE, '    path     "/reservations"\n',
                '    path     "/reservations"\n    retry    { policy: immediate, interval: 1m }\n')
    summaries = sorted(d.summary for d in check({"a.dro": text}).diagnostics if d.code == "DRO309")
    assert summaries == ["'interval' does not apply to an immediate retry", "an immediate retry needs 'retries'"]


def test_fallout_rule_retry_without_policy(check: Check) -> None:
    text = BASE + "fallout_rule down {\n  match   { type: callout }\n  queue   fallout\n  retries 2\n}\n"
    result = check({"a.dro": text})
    assert errors(result) == ["DRO309"]
    problem = only(result, "DRO309")
    assert problem.summary == "retry settings without a policy"
    assert at(problem) == ("cat/a.dro", *position(text, "retries 2"))


def test_rule_matches_no_step(check: Check) -> None:
    text = BASE + "jeopardy_rule pauses {\n  match { type: pause }\n  duration 2h\n}\n"
    result = check({"a.dro": text})
    assert (errors(result), warnings(result)) == ([], ["DRO316"])
    problem = only(result, "DRO316")
    assert problem.summary == "jeopardy rule 'pauses' matches no step"
    assert at(problem) == ("cat/a.dro", *position(text, "match { type: pause"))


def test_ambiguous_rules(check: Check) -> None:
    text = BASE + (
        "jeopardy_rule first_rule { match { type: manual } duration 2h }\n"
        "jeopardy_rule second_rule { match { type: manual } duration 3h }\n")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO317"]
    problem = only(result, "DRO317")
    assert problem.summary == "rules 'first_rule' and 'second_rule' both match step 'check'"
    assert at(problem) == ("cat/a.dro", *position(text, "match", nth=text.count("match")))
    line, col = position(text, "first_rule")
    assert f"cat/a.dro:{line}:{col}" in problem.detail


def test_more_specific_rule_is_not_ambiguous(check: Check) -> None:
    text = BASE + (
        "fallout_rule any_callout { match { type: callout } queue fallout }\n"
        "fallout_rule wms_callout { match { type: callout, endpoint: wms } queue wms_fallout }\n"
        "fallout_rule wms_503 { match { type: callout, endpoint: wms, error: \"http_503\" } queue wms_503 }\n")
    assert check({"a.dro": text}).diagnostics == []


def test_settings_checks_keep_going(check: Check) -> None:
    text = edit(BASE, "    queue credit_team\n", "    queue credit_team\n    duration 1h\n    jeopardy 2h\n")
    text = edit(text, '    path     "/reservations"\n',
                '    path     "/reservations"\n    duration 1h\n    jeopardy 1h\n'
                '    retry    { policy: monotonous, retries: 3 }\n')
    result = check({"a.dro": text})
    assert sorted(errors(result)) == ["DRO308", "DRO308", "DRO309"]


# ---- text_check.py ---------------------------------------------------------------------


def test_expression_syntax_error_in_yaml(check: Check) -> None:
    text = edit(BASE_YAML, 'when: item.product == "LAPTOP"', 'when: item.product = "LAPTOP"')
    result = check({"a.dro.yaml": text})
    assert errors(result) == ["DRO401"]
    problem = only(result, "DRO401")
    assert problem.summary == "unexpected '=' in expression"
    assert at(problem) == ("cat/a.dro.yaml", *position(text, '= "LAPTOP"'))


def test_unknown_root_in_dsl_when(check: Check) -> None:
    text = edit(BASE, "when item.product", "when itme.product")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO402"]
    problem = only(result, "DRO402")
    assert problem.summary == "unknown name 'itme' in expression"
    assert at(problem) == ("cat/a.dro", *position(text, "itme"))
    assert (problem.span.end_col - problem.span.col) == len("itme")
    assert problem.hint == "did you mean 'item'?"


@pytest.mark.parametrize("quote", ["", "'", '"'])
def test_unknown_root_in_yaml_when(check: Check, quote: str) -> None:
    expression = 'itme.product == \\"LAPTOP\\"' if quote == '"' else 'itme.product == "LAPTOP"'
    text = edit(BASE_YAML, 'when: item.product == "LAPTOP"', f"when: {quote}{expression}{quote}")
    result = check({"a.dro.yaml": text})
    problem = only(result, "DRO402")
    assert at(problem) == ("cat/a.dro.yaml", *position(text, "itme"))
    assert problem.hint == "did you mean 'item'?"


def test_unknown_root_in_yaml_block_scalar(check: Check) -> None:
    text = edit(BASE_YAML, 'when: item.product == "LAPTOP"', 'when: |\n      itme.product == "LAPTOP"')
    problem = only(check({"a.dro.yaml": text}), "DRO402")
    assert at(problem) == ("cat/a.dro.yaml", *position(text, "itme"))


def test_unquoted_text_in_into_attributes_is_a_path(check: Check) -> None:
    text = ("decompositions:\n  - product: BUNDLE\n    into:\n"
            "      - {product: PART, attributes: {color: red}}\n")
    result = check({"a.dro.yaml": text})
    problem = only(result, "DRO402")
    assert problem.summary == "unknown name 'red' in expression"
    assert at(problem) == ("cat/a.dro.yaml", *position(text, "red"))


def test_unknown_function_in_expression(check: Check) -> None:
    text = edit(BASE, 'when item.product == "LAPTOP"', "when exits(item.attributes.x)")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO403"]
    problem = only(result, "DRO403")
    assert problem.summary == "unknown function 'exits'"
    assert at(problem) == ("cat/a.dro", *position(text, "exits"))
    assert problem.hint == "did you mean 'exists'?"


def test_template_syntax_error(check: Check) -> None:
    text = edit(BASE_YAML, '"Check {{ order.account }}"', '"Check {{ order.account "')
    result = check({"a.dro.yaml": text})
    assert errors(result) == ["DRO404"]
    problem = only(result, "DRO404")
    assert problem.summary.startswith("template syntax error: ")
    # A one-line template: the whole value.
    assert at(problem) == ("cat/a.dro.yaml", *position(text, '"Check {{'))


@pytest.mark.parametrize(("form", "text", "value"), [
    ("a.dro.yaml", BASE_YAML, '"Check {{ ordr.account }}"'),
    ("a.dro", BASE, '"Check {{ ordr.account }}"'),
    ("a.dro", BASE, '"{\\"account\\": \\"{{ ordr.account }}\\"}"'),
])
def test_unknown_root_in_template(check: Check, form: str, text: str, value: str) -> None:
    if form == "a.dro":
        text = edit(text, "    queue credit_team\n", f"    queue credit_team\n    instructions {value}\n")
    else:
        text = edit(text, '"Check {{ order.account }}"', value)
    result = check({form: text})
    assert errors(result) == ["DRO405"]
    problem = only(result, "DRO405")
    assert problem.summary == "unknown name 'ordr' in template"
    if "\\" not in value:  # escapes shift the text; only the start of the string is exact then
        assert at(problem) == (f"cat/{form}", *position(text, "ordr"))
    assert problem.hint == "did you mean 'order'?"


def test_unknown_root_in_nested_template(check: Check) -> None:
    text = edit(BASE, '    path     "/reservations"\n',
                '    path     "/reservations"\n    body     { sku: "{{ itm.product }}", n: 1 }\n')
    problem = only(check({"a.dro": text}), "DRO405")
    assert problem.summary == "unknown name 'itm' in template"
    assert at(problem) == ("cat/a.dro", *position(text, "itm"))
    assert problem.hint == "did you mean 'item'?"


TRIPLE = '''\
    instructions """
      Check the account.
      Ask {{ ordr.account }} to confirm
      """
'''


def test_unknown_root_in_triple_quoted_template(check: Check) -> None:
    text = edit(BASE, "    queue credit_team\n", "    queue credit_team\n" + TRIPLE)
    problem = only(check({"a.dro": text}), "DRO405")
    assert at(problem) == ("cat/a.dro", *position(text, "ordr"))


def test_template_syntax_error_in_triple_quoted_string(check: Check) -> None:
    text = edit(BASE, "    queue credit_team\n",
                "    queue credit_team\n" + TRIPLE.replace("{{ ordr.account }}", "{{ order.account | }}"))
    problem = only(check({"a.dro": text}), "DRO404")
    assert problem.span.line == position(text, "{{ order.account |")[0]


def test_text_checks_keep_going(check: Check) -> None:
    text = edit(BASE, "when item.product", "when itme.product")
    text = edit(text, "    queue credit_team\n", "    queue credit_team\n    when exits(item.x)\n"
                '    instructions "{{ ordr.x }} {{ bundel.y }}"\n')
    result = check({"a.dro": text})
    assert sorted(errors(result)) == ["DRO402", "DRO403", "DRO405", "DRO405"]


# ---- schema_check.py -------------------------------------------------------------------


def test_unknown_attribute(check: Check) -> None:
    text = edit(BASE, "queue credit_team", "queu credit_team")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO201"]
    problem = only(result, "DRO201")
    assert problem.summary == "unknown attribute 'queu'"
    assert at(problem) == ("cat/a.dro", *position(text, "queu"))
    assert problem.hint == "did you mean 'queue'?"


def test_unknown_section(check: Check) -> None:
    text = BASE_YAML + "lanse: {}\n"
    result = check({"a.dro.yaml": text})
    assert errors(result) == ["DRO201"]
    problem = only(result, "DRO201")
    assert problem.summary == "unknown section 'lanse'"
    assert at(problem) == ("cat/a.dro.yaml", *position(text, "lanse"))
    assert problem.hint == "did you mean 'lanes'?"


def test_missing_required_attribute(check: Check) -> None:
    text = edit(BASE, '    path     "/reservations"\n', "")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO202"]
    problem = only(result, "DRO202")
    assert problem.summary == "a callout step needs 'path'"
    assert at(problem) == ("cat/a.dro", *position(text, "reserve"))
    assert problem.hint == "add `path ...`"


def test_auto_step_needs_flow_or_command(check: Check) -> None:
    text = edit(BASE, "type  manual", "type  auto")
    text = edit(text, "    queue credit_team\n", "")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO202"]
    problem = only(result, "DRO202")
    assert "'flow'" in problem.summary and "'command'" in problem.summary
    assert at(problem) == ("cat/a.dro", *position(text, "check"))


def test_wrong_type(check: Check) -> None:
    text = edit(BASE_YAML, "add: [delivery]", "add: delivery")
    result = check({"a.dro.yaml": text})
    assert errors(result) == ["DRO203"]
    problem = only(result, "DRO203")
    assert problem.summary == "add should be a list, not the text 'delivery'"
    assert at(problem) == ("cat/a.dro.yaml", *position(text, "delivery", nth=2))


def test_bad_duration(check: Check) -> None:
    text = edit(BASE, "    queue credit_team\n", "    queue credit_team\n    duration 10x\n")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO204"]
    problem = only(result, "DRO204")
    assert problem.summary == "bad duration '10x'"
    assert at(problem) == ("cat/a.dro", *position(text, "10x"))
    assert problem.hint and "30s" in problem.hint


def test_value_not_allowed(check: Check) -> None:
    text = edit(BASE, "    queue credit_team\n", "    queue credit_team\n    scope planet\n")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO205"]
    problem = only(result, "DRO205")
    assert problem.summary == "'planet' is not a valid scope"
    assert at(problem) == ("cat/a.dro", *position(text, "planet"))
    assert problem.hint == "did you mean 'plan'?"


def test_bad_id(check: Check) -> None:
    text = edit(BASE_YAML, "  billing: {title: Billing}\n", "  billing: {title: Billing}\n  Spare_Lane: {}\n")
    result = check({"a.dro.yaml": text})
    assert errors(result) == ["DRO206"]
    problem = only(result, "DRO206")
    assert problem.summary == "bad id 'Spare_Lane'"
    assert at(problem) == ("cat/a.dro.yaml", *position(text, "Spare_Lane"))


def test_attribute_not_for_this_step_type(check: Check) -> None:
    text = edit(BASE, "    queue credit_team\n", "    queue credit_team\n    endpoint wms\n")
    result = check({"a.dro": text})
    assert errors(result) == ["DRO207"]
    problem = only(result, "DRO207")
    assert problem.summary == "'endpoint' does not apply to a manual step"
    line, col = position(text, "    endpoint wms\n")
    assert at(problem) == ("cat/a.dro", line, col + 4)


def test_invalid_value(check: Check) -> None:
    text = edit(BASE, '    path     "/reservations"\n', '    path     "/reservations"\n    expect   [200, 700]\n')
    result = check({"a.dro": text})
    assert errors(result) == ["DRO208"]
    problem = only(result, "DRO208")
    assert problem.summary == "expect must be at most 599"
    assert at(problem) == ("cat/a.dro", *position(text, "700"))


def test_literal_credential(check: Check) -> None:
    text = edit(BASE, '  url env("WMS_URL", "http://127.0.0.1:8081")\n',
                '  url env("WMS_URL", "http://127.0.0.1:8081")\n'
                '  auth { basic: { username: "svc", password: "hunter2" } }\n')
    result = check({"a.dro": text})
    assert errors(result) == ["DRO209"]
    problem = only(result, "DRO209")
    assert at(problem) == ("cat/a.dro", *position(text, "password"))
    assert problem.hint and "env(" in problem.hint


def test_schema_checks_keep_going(check: Check) -> None:
    text = edit(BASE, "type  manual", "type  manul")
    text = edit(text, "queue credit_team", "queu credit_team")
    result = check({"a.dro": text, "b.dro.yaml": "lanes:\n  Bad: {}\n"})
    assert sorted(errors(result)) == ["DRO201", "DRO205", "DRO206"]


# ---- across checks -----------------------------------------------------------------------


def test_schema_invalid_step_causes_no_unknown_step_errors(check: Check) -> None:
    text = edit(BASE, "type  manual", "type  manul")
    text = edit(text, "add  delivery", "add  [delivery, check]")
    text += 'group more "More" { step later "Later" { type milestone lane billing after [check, reserve] } }\n'
    text += 'scenario other "Other" { when item.x == 1 add more }\n'
    result = check({"a.dro": text})
    assert errors(result) == ["DRO205"]
    assert only(result, "DRO205").summary == "'manul' is not a valid step type"
    assert only(result, "DRO205").hint == "did you mean 'manual'?"


def test_a_syntax_error_does_not_stop_other_files(check: Check) -> None:
    # The other file's own mistakes are reported; names it may not know are not guessed (test_lost_braces).
    result = check({"a.dro": edit(BASE, "type  manual", "type  manul"), "b.dro": "lane x = 1\n"})
    assert errors(result) == ["DRO104", "DRO205"]


def test_duplicate_lane_across_files_names_the_first(check: Check) -> None:
    second = "lanes:\n  billing: {title: Billing again}\n"
    result = check({"a.dro": BASE, "b.dro.yaml": second})
    assert errors(result) == ["DRO305"]
    problem = only(result, "DRO305")
    assert problem.summary == "duplicate lane 'billing'"
    assert at(problem) == ("cat/b.dro.yaml", *position(second, "billing"))
    line, col = position(BASE, "billing")
    assert f"already declared at cat/a.dro:{line}:{col}" in problem.detail


def test_duplicate_step_across_files_and_groups(check: Check) -> None:
    second = 'group other "Other" {\n  step reserve "Again" { type milestone lane billing }\n}\n' \
             'scenario more "More" { when item.x == 1 add other }\n'
    result = check({"a.dro": BASE, "b.dro": second})
    assert errors(result) == ["DRO305"]
    problem = only(result, "DRO305")
    assert problem.summary == "duplicate step 'reserve'"
    assert at(problem) == ("cat/b.dro", *position(second, "reserve"))
    line, col = position(BASE, "reserve")
    assert f"cat/a.dro:{line}:{col}" in problem.detail


def test_duplicate_decomposition_across_files(check: Check) -> None:
    first = 'decompose "KIT" { into "PART" }\n'
    second = "decompositions:\n  - product: KIT\n    into: [{product: OTHER}]\n"
    result = check({"a.dro": first, "b.dro.yaml": second})
    problem = only(result, "DRO305")
    assert problem.summary == "duplicate decomposition rule for product 'KIT'"
    assert problem.span.file == "cat/b.dro.yaml"
    assert problem.hint == "merge the two rules into one decompose block"


def test_duplicate_lane_within_one_dsl_file(check: Check) -> None:
    text = BASE + 'lane billing "Billing again"\n'
    result = check({"a.dro": text})
    assert errors(result) == ["DRO305"]
    problem = only(result, "DRO305")
    assert problem.summary == "lane 'billing' is declared twice"
    # The second declaration is the last line; its id follows `lane `.
    assert at(problem) == ("cat/a.dro", len(BASE.splitlines()) + 1, len("lane ") + 1)
    assert "(first at line 1)" in problem.detail


# ---- lowering (.dro blocks to YAML-shaped data) ----------------------------------------------


@pytest.mark.parametrize(("extra", "code", "summary", "needle", "hint"), [
    ('lanes spare "Spare"\n', "DRO201", "unknown declaration 'lanes'", "lanes", "did you mean 'lane'?"),
    ('step stray "Stray" { type milestone }\n', "DRO109", "a step belongs inside a group", "step stray",
     "move `step stray` into a `group` block"),
    ('endpoint crm "CRM" { url envv("CRM_URL") }\n', "DRO210", "unknown function 'envv'", "envv",
     "did you mean 'env'?"),
])
def test_lowering_problems(check: Check, extra: str, code: str, summary: str, needle: str, hint: str) -> None:
    text = BASE + extra
    result = check({"a.dro": text})
    problem = only(result, code)
    assert problem.summary == summary
    assert at(problem) == ("cat/a.dro", *position(text, needle))
    assert problem.hint == hint


def test_into_quantity_below_one_is_reported_in_both_forms(check: Check) -> None:
    yaml_form = "decompositions:\n  - product: KIT\n    into: [{product: PART, quantity: 0}]\n"
    dsl_form = 'decompose "KIT" {\n  into "PART" { quantity 0 }\n}\n'
    yaml_problem = only(check({"a.dro.yaml": yaml_form}, root="yaml"), "DRO203")
    assert yaml_problem.summary == "quantity is a whole number of at least 1 or an expression"
    dsl_problem = only(check({"a.dro": dsl_form}, root="dsl"), "DRO203")
    assert dsl_problem.summary == yaml_problem.summary


# ---- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("15m", 900), ("4h", 14400), ("2d", 172800), ("1h30m", 5400), ("1.5h", 5400),
    ("500ms", 0.5), ("1m30s", 90), ("0s", 0), ("1d2h3m4s", 93784),
])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert type(parse_duration(text)) is type(seconds)


@pytest.mark.parametrize("text", ["", "10", "h", "1 h", "1h 30m", "1w", "-5s", "1H", "s30"])
def test_parse_duration_rejects(text: str) -> None:
    assert parse_duration(text) is None


def test_parse_duration_of_a_non_string_is_none() -> None:
    assert parse_duration(30) is None  # type: ignore[arg-type]
    assert parse_duration(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (30, "30s"), (90, "1m30s"), (5400, "1h30m"), (86400, "1d"), (93784, "1d2h3m4s"),
    (0.5, "500ms"), (900.0, "15m"),
])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_a_file_that_is_a_list_is_a_schema_error_not_a_crash(check: Check) -> None:
    result = check({"a.dro.yaml": "- product: X\n- product: Y\n"})
    problem = only(result, "DRO203")
    assert problem.summary == "value should be a map, not a list"
