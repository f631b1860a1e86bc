"""`dro test` scripts in-flight changes: `amend: FILE` and `cancel: [LINES]` on the virtual clock, checked
with `expect: {amended: ...}`, `refused:` and the states of superseded instances (docs/testing.md)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dro_cli.main import cli

DATA = Path(__file__).parent / "data" / "amend"

# Beside tests/data/amend/catalog.dro (manual steps): a callout whose compensation reads `undone`.
LINE = """
endpoint net "Network" {
  url env("NET_URL", "http://127.0.0.1:9")
}

group line "Line" {
  step provision "Provision the line" {
    type       callout
    lane       logistics
    scope      line_item
    endpoint   net
    method     POST
    path       "/lines/{{ item.id }}"
    body       { speed: "{{ item.attributes.speed }}" }
    expect     [201]
    capture    { line: "id" }
    compensate deprovision
  }
}

group deprovision "Deprovision" {
  step unprovision "Take the line down" {
    type     callout
    lane     logistics
    scope    line_item
    endpoint net
    method   DELETE
    path     "/lines/{{ undone.outputs.line }}"
    expect   [204]
  }
}

scenario fib "Fiber" {
  when item.product == "FIB"
  add  [line]
}
"""

ORDER: dict[str, Any] = {"order": {"id": "A-1", "account": "C-1", "items": [
    {"id": "R1", "product": "DEV", "quantity": 1, "attributes": {"model": "X", "speed": 100}},
    {"id": "T1", "product": "DEV", "quantity": 2, "attributes": {"model": "TV", "speed": 0}},
    {"id": "M1", "product": "MOB", "quantity": 1, "attributes": {"msisdn": "123", "tariff": "S"}},
    {"id": "F1", "product": "FIB", "quantity": 1, "attributes": {"speed": 100}},
]}}


def revised(catalog: Path, name: str, **changes: dict[str, Any]) -> None:
    """An order file: ORDER with some lines' attributes changed (None removes the line)."""
    data = json.loads(json.dumps(ORDER))
    items = data["order"]["items"]
    for line, attributes in changes.items():
        found = next(i for i in items if i["id"] == line)
        if attributes is None:
            items.remove(found)
        else:
            found["attributes"].update(attributes)
    (catalog / name).write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    shutil.copy(DATA / "catalog.dro", tmp_path / "catalog.dro")
    (tmp_path / "line.dro").write_text(LINE, encoding="utf-8")
    revised(tmp_path, "A-1.json")
    revised(tmp_path, "faster.json", R1={"speed": 200}, F1={"speed": 200})
    revised(tmp_path, "no-tv.json", T1=None)
    revised(tmp_path, "other-number.json", M1={"msisdn": "456"})
    revised(tmp_path, "other-tariff.json", M1={"tariff": "L"})
    revised(tmp_path, "no-mobile.json", M1=None)
    revised(tmp_path, "devices.json", M1=None, F1=None)
    return tmp_path


def run_cases(catalog: Path, cases: str) -> Result:
    text = "start: 2026-12-01T09:00:00Z\ncases:\n" + textwrap.indent(textwrap.dedent(cases).lstrip("\n"), "  ")
    (catalog / "a.test.yaml").write_text(text, encoding="utf-8")
    return CliRunner(env={"NO_COLOR": "1"}).invoke(cli, ["test", str(catalog / "a.test.yaml")],
                                                   catch_exceptions=False, prog_name="dro")


def case(*more: str, configured: bool = True, order: str = "A-1.json", steps: tuple[str, ...] | list[str] = ()) -> str:
    """One case on A-1.json: ship[R1] is shipped with parcel P-1 first and configure[M1] (freeze_plan) done
    unless not `configured`; provision[F1] is answered."""
    first = ["{complete: 'ship[R1]', outputs: {parcel: P-1}}", *(["{complete: configure}"] if configured else [])]
    run = "\n".join(f"    - {step}" for step in (*first, *more, *steps))
    answers = "provision: {status: 201, body: {id: LN-1}}"
    return f"- name: change\n  order: {order}\n  answers: {{{answers}}}\n  run:\n{run}\n"


# What amending to faster.json (R1 and F1 at speed 200) reconciles, ship[R1] done and activate[R1] waiting.
FASTER = {
    "amended": "['activate[R1]', 'provision[F1]']",
    "compensations": "['reprofile[r2:activate[R1]]', 'unprovision[r2:provision[F1]]']",
    "canceled": "[]",
    "discarded": "[]",
    "added": "[]",
    "revision": "2",
}


def test_an_amendment_mid_run_is_reconciled_and_the_run_goes_on_with_the_revision(catalog: Path) -> None:
    checks = ", ".join(f"{key}: {value}" for key, value in FASTER.items())
    result = run_cases(catalog, case(
        "{amend: faster.json, reason: faster please}",
        f"{{expect: {{amended: {{{checks}}}}}}}",
        # the compensation renders with `undone` (the line that ran), the new instance with the new speed
        "{expect: {requests: {unprovision: {method: DELETE, path: /lines/LN-1}}}}",
        "{expect: {states: {'unprovision[r2:provision[F1]]': in_progress, 'provision[F1]': pending}}}",
        "{answer: unprovision, status: 204}",
        # the new instance runs once the line is down, rendered with the revision's item
        "{expect: {states: {'provision[F1]': completed, 'unprovision[r2:provision[F1]]': completed}, "
        "requests: {'provision[F1]': {body: {speed: '200'}}}}}",
        "{expect: {states: {'reprofile[r2:activate[R1]]': pending}}}",  # on_amend: after the amended step
        "{complete: 'activate[R1]'}",
        "{expect: {states: {'reprofile[r2:activate[R1]]': in_progress}}}",
    ))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("key", sorted(FASTER))
def test_each_wrong_reconciliation_fact_fails(catalog: Path, key: str) -> None:
    wrong = {"revision": "3", "amended": "['activate[R1]']", "compensations": "[reprofile]",
             "canceled": "['ship[R1]']", "discarded": "[activate]", "added": "['provision[F1]']"}[key]
    result = run_cases(catalog, case("{amend: faster.json}", f"{{expect: {{amended: {{{key}: {wrong}}}}}}}"))
    assert result.exit_code == 1, result.output
    subject = "compensation instances" if key == "compensations" else f"{key} instances"
    subject = "revision of the last amendment" if key == "revision" else f"{subject} of revision 2"
    assert f"E   {subject}" in result.output
    assert "run step 4: expect" in result.output


def test_kept_instances_are_listed_exactly(catalog: Path) -> None:
    kept = "[ship, 'activate[T1]', configure, port]"  # ship: both ship[R1] and ship[T1]
    ok = run_cases(catalog, case("{amend: faster.json}", f"{{expect: {{amended: {{kept: {kept}}}}}}}"))
    assert ok.exit_code == 0, ok.output
    short = run_cases(catalog, case("{amend: faster.json}", "{expect: {amended: {kept: [ship, port]}}}"))
    assert short.exit_code == 1 and "E   kept instances of revision 2" in short.output
    assert "unexpected: configure[M1], activate[T1]" in short.output


def test_a_superseded_instance_has_the_state_it_ended_in(catalog: Path) -> None:
    ok = run_cases(catalog, case("{amend: no-tv.json, reason: no TV}",
                                 "{expect: {states: {'ship[T1]': canceled, 'activate[T1]': discarded}, "
                                 "amended: {canceled: ['ship[T1]'], discarded: ['activate[T1]'], compensations: []}}}"))
    assert ok.exit_code == 0, ok.output
    wrong = run_cases(catalog, case("{amend: no-tv.json}", "{expect: {states: {'activate[T1]': canceled}}}"))
    assert wrong.exit_code == 1
    assert "E   state of activate[T1]\nE     - canceled\nE     + discarded" in wrong.output
    assert "(an amendment superseded it)" in wrong.output


def test_lines_are_cancelled_with_their_compensation(catalog: Path) -> None:
    result = run_cases(catalog, case(
        "{cancel: [R1], reason: the customer changed their mind}",
        "{expect: {amended: {canceled: ['ship[R1]', 'activate[R1]'], discarded: [], "
        "compensations: [collect, restock]}, states: {'collect[r2:ship[R1]]': in_progress, 'activate[T1]': pending}}}",
        "{complete: collect}",
        "{complete: restock}",
        "{expect: {states: {'restock[r2:ship[R1]]': completed}}}",
    ))
    assert result.exit_code == 0, result.output
    unknown = run_cases(catalog, case("{cancel: [R2], reason: typo}"))
    assert unknown.exit_code == 1
    assert "E   order A-1 has no line 'R2'" in unknown.output and "its lines: R1, T1, M1, F1" in unknown.output


def test_cancelling_the_whole_order_compensates_then_ends_canceled(catalog: Path) -> None:
    # without M1: its port (point_of_no_return) and configure (freeze_plan) would refuse a cancel
    result = run_cases(catalog, case(configured=False, order="no-mobile.json", steps=[
        "{cancel: all, reason: moved away}",
        "{answer: unprovision, status: 204}",
        "{expect: {plan: in_progress, amended: {compensations: [collect, restock, unprovision]}}}",
        "{complete: collect}",
        "{complete: restock}",
        "{expect: {plan: canceled}}",
    ]))
    assert result.exit_code == 0, result.output
    wrong = run_cases(catalog, case(configured=False, order="no-mobile.json",
                                    steps=["{cancel: moved away}", "{expect: {plan: canceled}}"]))
    assert wrong.exit_code == 1 and "E   state of the plan\nE     - canceled\nE     + in_progress" in wrong.output


def test_a_cancel_with_nothing_to_compensate_cancels_at_once(catalog: Path) -> None:
    result = run_cases(catalog, """
        - name: nothing started
          order: devices.json
          run:
            - cancel: not needed
            - expect: {plan: canceled}
        """)
    assert result.exit_code == 0, result.output


def port_started(*steps: str) -> str:
    return case("{expect: {states: {port: in_progress}}}", *steps)


def test_a_change_past_a_point_of_no_return_is_refused_as_expected(catalog: Path) -> None:
    ok = run_cases(catalog, port_started("{amend: other-number.json}",
                                         "{expect: {refused: DRO532, states: {port: in_progress}}}",
                                         "{amend: faster.json}", "{expect: {refused: null}}"))
    assert ok.exit_code == 0, ok.output
    unexpected = run_cases(catalog, port_started("{amend: other-number.json}",
                                                 "{expect: {states: {port: in_progress}}}"))
    assert unexpected.exit_code == 1
    assert "run step 4: amend" in unexpected.output
    assert "E   order A-1 cannot be amended as asked" in unexpected.output and "error[DRO532]" in unexpected.output
    other_code = run_cases(catalog, port_started("{amend: other-number.json}", "{expect: {refused: DRO534}}"))
    assert other_code.exit_code == 1
    assert "E   refusal of the step before\nE     - DRO534\nE     + DRO532" in other_code.output
    not_refused = run_cases(catalog, port_started("{amend: faster.json}", "{expect: {refused: DRO532}}"))
    assert not_refused.exit_code == 1 and "(the step before was done, not refused)" in not_refused.output


def test_a_frozen_plan_refuses_with_dro534(catalog: Path) -> None:
    ok = run_cases(catalog, case("{amend: other-tariff.json}", "{expect: {refused: DRO534}}",
                                 "{complete: configure}", "{amend: faster.json}",
                                 "{expect: {amended: {amended: ['activate[R1]', 'provision[F1]']}}}",
                                 configured=False))
    assert ok.exit_code == 0, ok.output


def test_no_amendment_yet_and_unusable_revisions(catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    none = run_cases(catalog, case("{expect: {amended: {canceled: []}}}"))
    assert none.exit_code == 1 and "no amendment or cancel was made" in none.output
    data = json.loads((catalog / "A-1.json").read_text(encoding="utf-8"))
    data["order"]["id"] = "A-2"
    (catalog / "a-2.json").write_text(json.dumps(data), encoding="utf-8")
    other = run_cases(catalog, case("{amend: a-2.json}"))
    assert other.exit_code == 1 and "error[DRO530]" in other.output
    assert run_cases(catalog, case("{amend: a-2.json}", "{expect: {refused: DRO530}}")).exit_code == 0
    away = tmp_path_factory.mktemp("away") / "A-1.json"
    shutil.copy(catalog / "A-1.json", away)
    outside = run_cases(catalog, case(f"{{amend: '{away}'}}"))
    assert outside.exit_code == 1 and "is outside the test's directory and catalog" in outside.output


@pytest.mark.parametrize("step", [
    "{cancel: [R1]}",  # a cancel of lines needs its reason
    "{cancel: all}",
    "{cancel: [], reason: none}",
    "{cancel: why, reason: twice}",
    "{amend: faster.json, wait: 5}",
    "{expect: {refused: 532}}",
    "{expect: {amended: {gone: []}}}",
])
def test_malformed_amend_and_cancel_steps_are_bad_input(catalog: Path, step: str) -> None:
    result = run_cases(catalog, case(step))
    assert result.exit_code == 2, result.output
