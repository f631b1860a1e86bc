"""`dro test`: scenario test files, their plan facts, simulated runs on a virtual clock, reports and exit codes."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from goldens import CATALOGS

from dro_cli.main import cli

CATALOG = """
lane ops  "Operations"
lane ship "Shipping"

endpoint wms "Warehouse" {
  url env("WMS_URL", "http://127.0.0.1:9")
}

group kit "Kit delivery" {
  step check "Check the order" {
    type     manual
    lane     ops
    queue    desk
    duration 4h
    jeopardy 1h
  }
  step reserve "Reserve stock" {
    type     callout
    lane     ops
    scope    line_item
    after    check
    endpoint wms
    method   POST
    path     "/reservations/{{ item.id }}"
    body     { sku: "{{ item.product }}", account: "{{ order.account }}" }
    expect   [201]
    capture  { reservation: "id" }
    retry    { policy: staggered, intervals: [10s, 1m] }
  }
  step ship "Ship" {
    type   auto
    lane   ship
    after  reserve
    flow   "flows:ship"
    inputs { reservation: "{{ outputs.reserve.reservation }}" }
  }
  step delivered "Delivered" {
    type         pause
    lane         ship
    after        ship
    resume_on    event "parcel.delivered"
    resume_after 3d
  }
}

scenario kits "Kits" {
  when item.product == "KIT"
  add  kit
}

fallout_rule wms_gone {
  match { type: callout, endpoint: wms, error: "http_410" }
  queue stock_desk
}
"""

ORDER = """
order:
  id: ORD-1
  account: ACME
  items:
    - {id: K1, product: KIT}
    - {id: K2, product: KIT, quantity: 2}
"""

T0 = "start: 2026-12-01T09:00:00Z\n"


def dro(*args: str, cwd: Path | None = None) -> Result:
    return CliRunner(env={"NO_COLOR": "1"}).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    (tmp_path / "kit.dro").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "ORD-1.yaml").write_text(ORDER, encoding="utf-8")
    return tmp_path


def run_cases(catalog: Path, cases: str, *args: str) -> Result:
    (catalog / "kit.test.yaml").write_text(T0 + "cases:\n" + textwrap.indent(textwrap.dedent(cases).lstrip("\n"), "  "),
                                           encoding="utf-8")
    return dro("test", str(catalog / "kit.test.yaml"), *args)


HAPPY = """
- name: happy
  order: orders/ORD-1.yaml
  answers:
    reserve: {status: 201, body: {id: R-9}}
    ship: {outputs: {parcel: P-1}}
  run:
"""


# ---- plan facts ----------------------------------------------------------------------------------


def test_plan_facts_that_hold_pass(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: facts
          order: orders/ORD-1.yaml
          expect:
            present: [check, "reserve[K1]", reserve]
            absent: [install, "reserve[K3]"]
            count: {reserve: 2, check: 1}
            total: 5
            steps:
              reserve: {lane: ops, type: callout, scope: line_item, after: [check],
                        retry: {policy: staggered, intervals: [10s, 1m]}, duration: null}
              "reserve[K2]": {item: K2, bundle: K2}
              check: {duration: 4h, jeopardy: 1h, queue: desk, after: []}
              ship: {after: ["reserve[K1]", "reserve[K2]"]}
        """)
    assert result.exit_code == 0, result.output
    assert "1 passed" in result.output


@pytest.mark.parametrize(("facts", "subject", "expected", "actual"), [
    ("present: [chek]", "presence of chek", "a step of the plan", "did you mean 'check'?"),
    ("absent: [check]", "absence of check", "no instance", "[check]"),
    ("count: {reserve: 3}", "instances of reserve", "3", "2"),
    ("total: 4", "step instances in the plan", "4", "5"),
    ("steps: {check: {lane: ship}}", "lane of check", "ship", "ops"),
    ("steps: {check: {duration: 5h}}", "duration of check", "5h", "4h"),
    ("steps: {check: {jeopardy: null}}", "jeopardy of check", "null", "1h"),
    ("steps: {reserve: {retry: null}}", "retry of reserve[K1]", "null", "policy: staggered"),
    ("steps: {ship: {after: [reserve, check]}}", "dependencies of ship", "[check, reserve]", "missing: check"),
    ("steps: {ship: {after: [\"reserve[K1]\"]}}", "dependencies of ship", "[reserve[K1]]",
     "unexpected: reserve[K2]"),
    ("steps: {nope: {lane: ops}}", "facts of nope", "a step of the plan", "no such step"),
])
def test_each_plan_fact_that_does_not_hold_fails_with_a_readable_difference(
        catalog: Path, facts: str, subject: str, expected: str, actual: str) -> None:
    result = run_cases(catalog, f"""
        - name: facts
          order: orders/ORD-1.yaml
          expect: {{{facts}}}
        """)
    assert result.exit_code == 1, result.output
    assert "1 failed" in result.output
    assert "kit.test.yaml:5:" in result.output and ": plan facts" in result.output  # where the fact is written
    assert f"E   {subject}" in result.output
    assert f"E     - {expected}" in result.output
    assert actual in result.output


def test_an_inline_order_is_checked_like_an_order_file_and_located_in_the_test_file(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: inline
          order:
            id: ORD-2
            account: ACME
            items:
              - {id: K1, product: KIT}
              - {id: K1, product: KIT}
        """)
    assert result.exit_code == 1
    assert "error[DRO501]: duplicate item id 'K1'" in result.output
    assert "kit.test.yaml:9:" in result.output and "1 error" in result.output


def test_an_order_path_may_not_leave_the_test_and_catalog_directories(catalog: Path, tmp_path: Path) -> None:
    inner = catalog / "sub"
    inner.mkdir()
    (inner / "kit.dro").write_text(CATALOG, encoding="utf-8")
    (inner / "kit.test.yaml").write_text("cases:\n  - {name: away, order: ../orders/ORD-1.yaml}\n", encoding="utf-8")
    result = dro("test", str(inner))
    assert result.exit_code == 1
    assert "error[DRO601]: order file '../orders/ORD-1.yaml' is outside the test's directory and catalog" \
        in result.output


# ---- simulated runs ------------------------------------------------------------------------------


def test_a_scripted_run_completes_with_outputs_feeding_the_next_step(catalog: Path) -> None:
    result = run_cases(catalog, HAPPY + """
            - expect: {plan: in_progress, states: {check: in_progress, reserve: pending}, waiting_on: [operator]}
            - complete: check
            - expect:
                states: {reserve: completed, ship: completed, delivered: on_hold}
                outputs: {"reserve[K2]": {reservation: R-9}, ship: {parcel: P-1}}
                requests:
                  "reserve[K2]": {method: POST, path: /reservations/K2, body: {sku: KIT}}
                waiting_on: [event, timer]
            - signal: parcel.delivered
            - expect: {plan: completed}
        """)
    assert result.exit_code == 0, result.output


def test_retries_fire_at_their_instants_and_then_fall_out_to_the_rules_queue(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: retries
          order: orders/ORD-1.yaml
          answers:
            "reserve[K1]": {status: 503, body: busy}
            "reserve[K2]": [{status: 503}, {status: 410}]
          run:
            - complete: check
            - expect: {states: {reserve: failed}, attempts: {reserve: 1}, errors: {reserve: http_503}}
            - advance: 9s
            - expect: {attempts: {reserve: 1}}
            - advance: 1s
            - expect:
                attempts: {"reserve[K1]": 2, "reserve[K2]": 2}
                states: {"reserve[K1]": failed, "reserve[K2]": fatally_failed}
                fallout: {"reserve[K2]": stock_desk}
            - advance: 1m
            - expect:
                attempts: {"reserve[K1]": 3}
                fallout: {"reserve[K1]": fallout, "reserve[K2]": stock_desk}
                errors: {"reserve[K2]": http_410}
        """)
    assert result.exit_code == 0, result.output


def test_a_failing_run_expectation_names_the_step_and_explains_the_state(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: expects completion
          order: orders/ORD-1.yaml
          answers:
            reserve: {status: 404, body: {error: no such sku}}
          run:
            - complete: check
            - expect: {states: {"reserve[K1]": completed}}
            - expect: {plan: completed}
        """)
    assert result.exit_code == 1
    out = result.output
    assert "kit.test.yaml:9:" in out and ": run step 2: expect" in out
    assert "E   state of reserve[K1]\nE     - completed\nE     + fatally_failed" in out
    assert "http_404: POST /reservations/K1: HTTP 404 Not Found" in out  # not retried: a 4xx
    assert "run step 3" not in out  # the case stops at its first failing step


def test_sla_crossings_on_the_virtual_clock(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: sla
          order: orders/ORD-1.yaml
          run:
            - advance: 2h59m59s
            - expect: {sla: {check: on_track}}
            - advance: 1s
            - expect: {sla: {check: jeopardy}}
            - until: 2026-12-01T13:00:00Z
            - expect: {sla: {check: late}}
            - complete: check
            - expect: {sla: {check: missed}, states: {check: completed}}
        """)
    assert result.exit_code == 0, result.output


def test_a_pause_timer_fires_after_days_of_virtual_time(catalog: Path) -> None:
    result = run_cases(catalog, HAPPY + """
            - complete: check
            - advance: 71h
            - expect: {states: {delivered: on_hold}}
            - advance: 1h
            - expect: {plan: completed, states: {delivered: completed}}
        """)
    assert result.exit_code == 0, result.output


def test_a_step_without_a_scripted_answer_keeps_running_until_answered(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: by hand
          order: orders/ORD-1.yaml
          run:
            - complete: check
            - expect: {states: {reserve: in_progress}, waiting_on: [running]}
            - answer: "reserve[K1]"
              status: 201
              body: {id: R-1}
            - answer: "reserve[K2]"
              error: timeout
            - expect: {states: {"reserve[K1]": completed, "reserve[K2]": failed}, errors: {"reserve[K2]": timeout}}
            - expect: {outputs: {"reserve[K1]": {reservation: R-2}}}
        """)
    assert result.exit_code == 1
    assert "E   outputs of reserve[K1]\nE     - reservation: R-2\nE     + reservation: R-1" in result.output


@pytest.mark.parametrize(("step", "message"), [
    ("complete: reserve", "step 'reserve' has 2 instances in order ORD-1"),
    ("complete: ship", "step ship is pending, not waiting for an operator"),
    ("signal: parcel.lost", "no step of order ORD-1 waits for event 'parcel.lost'"),
    ("retry: check", "step check is in_progress, not in fallout"),
    ("{answer: check, status: 200}", "step check is a manual step; only callout and auto steps get answers"),
    ("{answer: ship, outputs: {}}", "step ship is pending, not running"),
])
def test_an_act_dro_would_refuse_fails_the_case_with_the_refusal(catalog: Path, step: str, message: str) -> None:
    result = run_cases(catalog, f"""
        - name: refused
          order: orders/ORD-1.yaml
          run:
            - {step}
        """)
    assert result.exit_code == 1, result.output
    assert "run step 1" in result.output and f"E   {message}" in result.output
    assert "= help:" in result.output


def test_a_template_error_fails_the_attempt_as_a_real_run_would(catalog: Path) -> None:
    (catalog / "kit.dro").write_text(CATALOG.replace('"/reservations/{{ item.id }}"',
                                                     '"/reservations/{{ outputs.check.missing }}"'), encoding="utf-8")
    result = run_cases(catalog, """
        - name: template
          order: orders/ORD-1.yaml
          answers: {reserve: {status: 201, body: {id: R}}}
          run:
            - complete: check
            - expect: {errors: {reserve: template_error}, fallout: {reserve: fallout}, attempts: {reserve: 1}}
        """)
    assert result.exit_code == 0, result.output


def test_answers_for_steps_the_plan_lacks_are_reported(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: typo
          order: orders/ORD-1.yaml
          answers: {reserv: {status: 201}}
          run:
            - complete: check
        """)
    assert result.exit_code == 1
    assert "answers name a step the plan does not have: reserv" in result.output


def test_a_callout_answered_with_outputs_is_a_script_error(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: wrong kind
          order: orders/ORD-1.yaml
          answers: {reserve: {outputs: {reservation: R}}}
          run:
            - complete: check
        """)
    assert result.exit_code == 1
    assert "is a callout: answer it with a `status`" in result.output


def test_a_wrong_answer_for_a_step_that_starts_with_the_plan_fails_the_case(tmp_path: Path) -> None:
    (tmp_path / "call.dro").write_text(
        'lane ops\nendpoint e { url env("E_URL", "http://127.0.0.1:9") }\n'
        'group g { step call "Call" { type callout lane ops endpoint e method GET path "/x" } }\n'
        'scenario s { when item.product == "KIT" add g }\n', encoding="utf-8")
    (tmp_path / "call.test.yaml").write_text(
        "cases:\n  - name: early\n    order: {id: O, account: A, items: [{id: K1, product: KIT}]}\n"
        "    answers: {call: {outputs: {}}}\n", encoding="utf-8")
    result = dro("test", str(tmp_path))
    assert result.exit_code == 1
    assert "call.test.yaml:4:14: the start of the run" in result.output
    assert "E   step call is a callout: answer it with a `status`" in result.output


# ---- files, reports and exit codes ---------------------------------------------------------------


def test_a_malformed_test_file_is_bad_input_with_locations(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: bad
          order: orders/ORD-1.yaml
          run:
            - complet: check
            - advance: soon
            - {complete: check, signal: x}
          answers: {reserve: {status: 201, error: timeout}}
        """)
    assert result.exit_code == 2
    out = result.output
    assert "error[DRO202]: a script step needs one action" in out and "did you mean 'complete'?" in out
    assert "kit.test.yaml:6:9" in out
    assert "'soon' is not a valid advance" in out
    assert "a script step gives 2 actions: complete, signal" in out
    assert "an answer gives 2 outcomes: status, error" in out


def test_a_test_file_that_is_not_a_map_of_cases_or_repeats_a_name_is_refused(catalog: Path) -> None:
    (catalog / "list.test.yaml").write_text("- name: a\n", encoding="utf-8")
    result = dro("test", str(catalog / "list.test.yaml"))
    assert result.exit_code == 2 and "error[DRO601]: a test file must be a map with the key 'cases'" in result.output
    result = run_cases(catalog, "- {name: same, order: orders/ORD-1.yaml}\n- {name: same, order: orders/ORD-1.yaml}\n")
    assert result.exit_code == 2
    assert "error[DRO601]: two cases are named 'same'" in result.output and "kit.test.yaml:4:" in result.output


def test_no_test_files_and_missing_paths_are_usage_errors(tmp_path: Path) -> None:
    result = dro("test", str(tmp_path))
    assert result.exit_code == 2 and "error[DRO602]: no test files" in result.output
    result = dro("test", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "error[DRO001]" in result.output


def test_a_catalog_that_does_not_compile_errors_every_case(catalog: Path) -> None:
    (catalog / "kit.dro").write_text(CATALOG.replace("lane     ops\n    queue", "lane     opz\n    queue"),
                                     encoding="utf-8")
    result = run_cases(catalog, "- {name: one, order: orders/ORD-1.yaml}\n- {name: two, order: orders/ORD-1.yaml}\n")
    assert result.exit_code == 1
    assert "2 errors" in result.output and "unknown lane 'opz'" in result.output


def test_junit_report(catalog: Path, tmp_path: Path) -> None:
    result = run_cases(catalog, """
        - name: passes
          order: orders/ORD-1.yaml
          expect: {present: [check]}
        - name: fails <&>
          order: orders/ORD-1.yaml
          expect: {total: 1}
        """, "--format", "junit", "-o", str(tmp_path / "report.xml"))
    assert result.exit_code == 1
    root = ET.parse(tmp_path / "report.xml").getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["passes", "fails <&>"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and "step instances in the plan" in (failure.get("message") or "")
    assert "- 1" in (failure.text or "") and "+ 5" in (failure.text or "")
    assert cases[1].get("line") == "6"


def test_keyword_and_verbose(catalog: Path) -> None:
    result = run_cases(catalog, """
        - {name: alpha, order: orders/ORD-1.yaml, expect: {total: 5}}
        - {name: beta, order: orders/ORD-1.yaml, expect: {total: 0}}
        """, "-k", "alph", "-v")
    assert result.exit_code == 0
    assert "kit.test.yaml::alpha PASSED" in result.output and "beta" not in result.output


def _two_test_files(catalog: Path) -> None:
    (catalog / "a.test.yaml").write_text(
        "cases:\n  - {name: alpha, order: orders/ORD-1.yaml, expect: {total: 5}}\n"
        "  - {name: beta, order: orders/ORD-1.yaml, expect: {total: 5}}\n", encoding="utf-8")
    (catalog / "b.test.yaml").write_text(
        "cases:\n  - {name: gamma, order: orders/ORD-1.yaml, expect: {total: 5}}\n", encoding="utf-8")


def test_a_keyword_leaves_out_the_files_it_selects_nothing_from(catalog: Path) -> None:
    _two_test_files(catalog)
    result = dro("test", str(catalog), "-k", "alph")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line for line in lines if ".test.yaml" in line] == [f"{catalog / 'a.test.yaml'} ."]
    assert " 1 passed, 2 deselected in " in lines[-1] and " E" not in result.output


@pytest.mark.parametrize("fmt", ["text", "junit"])
def test_a_keyword_that_selects_nothing_exits_5_as_pytest_does(catalog: Path, fmt: str) -> None:
    _two_test_files(catalog)
    result = dro("test", str(catalog), "-k", "nomatch", "--format", fmt)
    assert result.exit_code == 5, result.output
    if fmt == "text":
        assert result.output.splitlines() == [result.output.splitlines()[-1]]  # no file line, no E
        assert " 3 deselected in " in result.output
    else:
        assert 'tests="0"' in result.output


def test_a_broken_test_file_is_reported_whatever_the_keyword(catalog: Path) -> None:
    _two_test_files(catalog)
    (catalog / "c.test.yaml").write_text("cases: [", encoding="utf-8")
    result = dro("test", str(catalog), "-k", "nomatch")
    assert result.exit_code == 2
    assert f"{catalog / 'c.test.yaml'} E" in result.output and " 1 error, 3 deselected in " in result.output


def test_directories_are_searched_for_test_files(catalog: Path) -> None:
    (catalog / "more").mkdir()
    (catalog / "more" / "b.test.yml").write_text(
        "catalog: ..\ncases:\n  - {name: b, order: ../orders/ORD-1.yaml, expect: {total: 5}}\n", encoding="utf-8")
    (catalog / ".hidden").mkdir()
    (catalog / ".hidden" / "c.test.yaml").write_text("nonsense: [", encoding="utf-8")
    (catalog / "a.test.yaml").write_text("cases:\n  - {name: a, order: orders/ORD-1.yaml}\n", encoding="utf-8")
    result = dro("test", str(catalog))
    assert result.exit_code == 0, result.output
    assert "2 passed" in result.output


def test_the_sample_catalogs_ship_tests_that_pass() -> None:
    found = sorted(CATALOGS.glob("*/*.test.yaml"))
    assert {p.parent.name for p in found} >= {"laptop", "fiber"}
    result = dro("test", str(CATALOGS))
    assert result.exit_code == 0, result.output
    assert " passed" in result.output and "failed" not in result.output
