"""Status and log views: the status JSON of real runs fits its schema, and the text views read right."""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from goldens import CATALOGS

from dro_cli.engine import acts
from dro_cli.engine.machine import _APPLY
from dro_cli.journal.file import JOURNAL_FILE, PLAN_FILE, read
from dro_cli.journal.store import read_order
from dro_cli.output.views.log_text import describe_record, render_log
from dro_cli.output.views.status_text import render_order, render_orders, render_waiting
from dro_cli.runtime.api import RunOptions, act, discard_order, run_order
from dro_cli.runtime.handlers.base import Invocation, Outcome, failure, success
from dro_cli.runtime.status import order_status, order_summary
from dsl.schemas import fast_check, validator

CATALOG = CATALOGS / "laptop"
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
HOUR = 3600.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Crash(Exception):
    """A handler dying mid-step, as a killed runner would."""


@dataclass
class Lab:
    """Orders run for real in one state directory, on a clock the test moves, with handlers it swaps."""

    state: Path
    now: float = T0
    behaviour: dict[str, Callable[[Invocation], Outcome]] = field(default_factory=dict)
    statuses: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def handler(self, invocation: Invocation) -> Outcome:
        special = self.behaviour.get(invocation.step["step"])
        return special(invocation) if special else success({"id": invocation.idempotency_key})

    def options(self) -> RunOptions:
        return RunOptions(self.state, CATALOG, clock=lambda: self.now, parallel=2, handler=self.handler)

    def run(self, target: str) -> None:
        run_order(str(CATALOG / "orders" / f"{target}") if "." in target else target, self.options())

    def act(self, order: str, make: Callable[[Any], Any]) -> None:
        act(order, make, self.options())

    def snap(self, label: str, order: str, at: float | None = None) -> dict[str, Any]:
        status = order_status(read_order(self.state / "orders" / order), self.now if at is None else at)
        self.statuses.append((label, status))
        return status


def _fail(code: str, *, retryable: bool) -> Callable[[Invocation], Outcome]:
    return lambda invocation: failure(code, "down", retryable=retryable)


def _crash(invocation: Invocation) -> Outcome:
    raise Crash(invocation.step["id"])


def _happy(lab: Lab) -> None:
    """ORD-1001 from start to end: an operator, an event, SLA crossings, plan completed."""
    lab.run("ORD-1001.yaml")
    lab.snap("happy.credit_check", "ORD-1001")
    lab.snap("happy.jeopardy", "ORD-1001", T0 + 7 * HOUR)
    lab.snap("happy.late", "ORD-1001", T0 + 9 * HOUR)
    lab.act("ORD-1001", lambda e: acts.complete(e, "credit_check", operator="ann", reason=None, outputs={}))
    lab.act("ORD-1001", lambda e: acts.complete(e, "install", operator="bo", reason=None,
                                                outputs={"technician": "Bo Lind"}))
    lab.snap("happy.event", "ORD-1001")
    lab.act("ORD-1001", lambda e: acts.signal(e, "work_order.completed", operator="cy", data={"ticket": "WO-7"}))
    lab.snap("happy.completed", "ORD-1001")


def _fallout(lab: Lab) -> None:
    """ORD-1001 where reserve falls out, is retried, fails again (retry due) and is completed by hand."""
    lab.behaviour["reserve"] = _fail("http_503", retryable=False)
    lab.run("ORD-1001.yaml")
    lab.now = T0 + 9 * HOUR  # credit_check is done after its SLA: missed
    lab.act("ORD-1001", lambda e: acts.complete(e, "credit_check", operator="ann", reason=None, outputs={}))
    lab.snap("fallout.fallout", "ORD-1001")
    lab.behaviour["reserve"] = _fail("http_503", retryable=True)
    lab.act("ORD-1001", lambda e: acts.retry(e, "reserve", operator="dan", reason="wms is back"))
    lab.snap("fallout.retry_timer", "ORD-1001")
    lab.act("ORD-1001", lambda e: acts.complete(e, "reserve", operator="dan", reason="reserved by phone",
                                                outputs={"reservation_id": "R-1"}))
    lab.act("ORD-1001", lambda e: acts.complete(e, "install", operator="bo", reason=None, outputs={}))
    lab.act("ORD-1001", lambda e: acts.resume(e, "wait_work_order", operator="bo", reason="customer called"))
    lab.snap("fallout.completed", "ORD-1001")


def _paused(lab: Lab) -> None:
    """ORD-1002: a pause waiting for an event or its timer; the timer resumes it."""
    lab.run("ORD-1002.json")
    lab.snap("paused.event_and_timer", "ORD-1002")
    lab.now = T0 + 6 * 24 * HOUR
    lab.run("ORD-1002")
    lab.snap("paused.completed", "ORD-1002")


def _crashed(lab: Lab) -> None:
    """ORD-1001 whose runner dies in a callout: running (in doubt), sent again, then canceled."""
    lab.behaviour["reserve"] = _crash
    lab.run("ORD-1001.yaml")
    with pytest.raises(Crash):
        lab.act("ORD-1001", lambda e: acts.complete(e, "credit_check", operator="ann", reason=None, outputs={}))
    lab.snap("crashed.running", "ORD-1001")
    del lab.behaviour["reserve"]
    lab.run("ORD-1001")
    lab.act("ORD-1001", lambda e: acts.cancel(e, operator="eve", reason="customer withdrew"))
    lab.snap("crashed.canceled", "ORD-1001")


def _discarded(lab: Lab) -> None:
    """ORD-1001 planned with nothing sent yet, then discarded: its journal moves to discarded/."""
    lab.run("ORD-1001.yaml")
    discard_order("ORD-1001", operator="eve", reason="a test order", options=lab.options())


def _amended(lab: Lab) -> None:
    """ORD-1001 amended while it runs: one laptop less (revision 2), by an operator, with a reason."""
    from dro_cli.runtime.amend import amend

    lab.run("ORD-1001.yaml")
    revised = lab.state.parent / "ORD-1001-r2.yaml"
    revised.write_text((CATALOG / "orders" / "ORD-1001.yaml").read_text().replace("quantity: 2", "quantity: 1"))
    amend("ORD-1001", revised, lab.options(), operator="fay", reason="one laptop less")
    lab.snap("amended.revision", "ORD-1001")


@dataclass
class Runs:
    labs: dict[str, Lab]
    statuses: dict[str, dict[str, Any]]
    lanes: dict[str, Any]

    def records(self, lab: str, order: str = "ORD-1001") -> list[dict[str, Any]]:
        return read(self.labs[lab].state / "orders" / order / JOURNAL_FILE)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    labs = {}
    for name, scenario in (("happy", _happy), ("fallout", _fallout), ("paused", _paused), ("crashed", _crashed),
                           ("discarded", _discarded), ("amended", _amended)):
        labs[name] = Lab(tmp_path_factory.mktemp(name))
        scenario(labs[name])
    fresh = tmp_path_factory.mktemp("fresh") / "orders" / "ORD-1001"  # planned, nothing journaled yet
    fresh.mkdir(parents=True)
    (fresh / JOURNAL_FILE).write_bytes(b"")  # dro makes the journal before the plan (a plan alone is DRO520)
    shutil.copy(labs["happy"].state / "orders" / "ORD-1001" / PLAN_FILE, fresh / PLAN_FILE)
    statuses = {label: status for lab in labs.values() for label, status in lab.statuses}
    statuses["fresh"] = order_status(read_order(fresh), T0)
    lanes = read_order(labs["happy"].state / "orders" / "ORD-1001").plan["lanes"]
    return Runs(labs, statuses, lanes)


def _valid(document: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator("status").iter_errors(document)]
    assert errors == []
    assert fast_check("status")(document)


# ---- the JSON --------------------------------------------------------------------------------------------


def test_every_status_of_real_runs_fits_the_schema(runs: Runs) -> None:
    for status in runs.statuses.values():
        _valid(status)


def test_the_runs_cover_every_waiting_kind_plan_state_and_sla(runs: Runs) -> None:
    statuses = runs.statuses.values()
    kinds = {(w["kind"], w.get("for")) for s in statuses for w in s["waiting_on"]}
    assert kinds == {("operator", None), ("event", None), ("timer", "resume"), ("timer", "retry"),
                     ("fallout", None), ("running", None)}
    assert {s["state"] for s in statuses} == {"not_started", "in_progress", "completed", "canceled"}
    assert {step["sla"] for s in statuses for step in s["steps"]} == {
        None, "on_track", "jeopardy", "late", "met", "missed"}
    states = {step["state"] for s in statuses for step in s["steps"]}
    assert {"pending", "in_progress", "on_hold", "completed", "failed", "fatally_failed", "canceled"} <= states


def test_waiting_entries_are_as_waiting_py_makes_them(runs: Runs) -> None:
    s = runs.statuses
    assert s["happy.credit_check"]["waiting_on"] == [{"kind": "operator", "step": "credit_check",
                                                      "queue": "credit_team"}]
    assert s["happy.event"]["waiting_on"] == [{"kind": "event", "event": "work_order.completed",
                                               "steps": ["wait_work_order[L1]"]}]
    assert s["fallout.fallout"]["waiting_on"][0] == {"kind": "fallout", "step": "reserve[L1/LAPTOP-HW]",
                                                     "queue": "inventory_fallout", "error": "http_503"}
    assert s["fallout.retry_timer"]["waiting_on"][0] == {"kind": "timer", "at": "2027-01-15T17:00:30Z",
                                                         "step": "reserve[L1/LAPTOP-HW]", "for": "retry"}
    assert s["crashed.running"]["waiting_on"] == [{"kind": "running", "step": "reserve[L1/LAPTOP-HW]"}]
    assert s["crashed.canceled"]["canceled"] == {"act": "cancel", "at": "2027-01-15T08:00:00Z", "operator": "eve",
                                                 "reason": "customer withdrew"}
    assert s["fresh"]["waiting_on"] == [] and s["fresh"]["state"] == "not_started"


def test_the_list_of_orders_fits_the_schema(runs: Runs) -> None:
    summaries = [order_summary(read_order(lab.state / "orders" / order), T0)
                 for lab in runs.labs.values() for order in ("ORD-1001", "ORD-1002")
                 if (lab.state / "orders" / order).is_dir()]
    _valid({"schema_version": 1, "orders": summaries})
    _valid({"schema_version": 1, "orders": []})


@pytest.mark.parametrize("drift", [
    lambda s: s.update(extra=1),
    lambda s: s["steps"][0].update(colour="red"),
    lambda s: s["steps"][0].update(state="done"),
    lambda s: s["steps"][0].update(sla="fine"),
    lambda s: s["waiting_on"].append({"kind": "operator", "step": "x"}),
    lambda s: s["waiting_on"].append({"kind": "timer", "at": "tomorrow", "step": "x", "for": "retry"}),
    lambda s: s.pop("progress"),
    lambda s: s.update(orders=[]),
])
def test_the_schema_is_strict(runs: Runs, drift: Callable[[dict[str, Any]], None]) -> None:
    status = copy.deepcopy(runs.statuses["happy.credit_check"])
    drift(status)
    assert not validator("status").is_valid(status)
    assert not fast_check("status")(status)


# ---- the text views --------------------------------------------------------------------------------------


def test_render_order_shows_header_lanes_steps_and_what_it_waits_on(runs: Runs) -> None:
    text = render_order(runs.statuses["fallout.fallout"], runs.lanes, color=False)
    lines = text.splitlines()
    assert lines[0] == "ORD-1001  in_progress  1/8 steps  expected 2027-01-18T21:30:00Z"
    titles = [line for line in lines if line and not line.startswith(" ")][1:]
    assert titles[:3] == ["Billing  [billing]", "Inventory  [inventory]", "Software licensing  [licensing]"]
    assert "waiting on:" in titles
    row = next(line for line in lines if line.startswith("  reserve[L1/LAPTOP-HW]"))
    assert row == ("  reserve[L1/LAPTOP-HW]          fatally_failed  try 1   sla on_track  due 2027-01-15T21:00:00Z"
                   "  queue inventory_fallout  error http_503")
    row = next(line for line in lines if line.startswith("  credit_check"))
    assert "sla missed" in row and "completed by ann" in row
    assert "      dro retry ORD-1001 'reserve[L1/LAPTOP-HW]'  (or dro complete ORD-1001 'reserve[L1/LAPTOP-HW]' " \
           "--reason '...')" in lines
    late = render_order(runs.statuses["happy.late"], runs.lanes, color=False)
    assert "sla late      due 2027-01-15T16:00:00Z  queue credit_team" in late


def test_render_waiting_gives_the_command_for_each_kind(runs: Runs) -> None:
    def waiting(label: str) -> str:
        return render_waiting(runs.statuses[label], color=False)

    assert waiting("happy.credit_check") == (
        "waiting on:\n  an operator to complete credit_check (queue credit_team)\n"
        "      dro complete ORD-1001 credit_check\n")
    assert "      dro signal ORD-1001 work_order.completed  (or dro resume ORD-1001 'wait_work_order[L1]')" \
        in waiting("happy.event").splitlines()
    assert "      continues at 2027-01-15T17:00:30Z: dro run ORD-1001 (or dro run ORD-1001 --wait)" \
        in waiting("fallout.retry_timer").splitlines()
    paused = waiting("paused.event_and_timer")
    assert "dro signal ORD-1002 parcel.delivered" in paused
    assert "continues at 2027-01-20T08:00:00Z: dro run ORD-1002 (or dro run ORD-1002 --wait)" in paused
    assert "dro run ORD-1001" in waiting("crashed.running")
    assert waiting("happy.completed") == waiting("crashed.canceled") == waiting("fresh") == ""


def test_render_orders_aligns_one_line_per_order(runs: Runs) -> None:
    picks = ["happy.credit_check", "happy.event", "fallout.fallout", "fallout.retry_timer", "crashed.running",
             "happy.completed"]
    summaries = [{k: v for k, v in runs.statuses[p].items() if k != "steps"} for p in picks]
    summaries[1]["order"] = "ORD-20001"
    lines = render_orders(summaries, color=False).splitlines()
    assert lines[0].split() == ["ORDER", "STATE", "STEPS", "WAITING", "ON"]
    assert lines[1] == "ORD-1001   in_progress    0/8  operator: credit_check (credit_team)"
    assert lines[2] == "ORD-20001  in_progress    4/8  event: work_order.completed"
    assert lines[3] == "ORD-1001   in_progress    1/8  fallout: reserve[L1/LAPTOP-HW] (inventory_fallout)"
    assert lines[4] == "ORD-1001   in_progress    1/8  timer 2027-01-15T17:00:30Z"
    assert lines[5] == "ORD-1001   in_progress    1/8  running: reserve[L1/LAPTOP-HW]"
    assert lines[6] == "ORD-1001   completed      8/8"
    assert render_orders([], color=False) == ""


def test_colour_only_when_asked(runs: Runs) -> None:
    summaries = [{k: v for k, v in s.items() if k != "steps"} for s in runs.statuses.values()]
    for status in runs.statuses.values():
        plain = render_order(status, runs.lanes, color=False)
        coloured = render_order(status, runs.lanes, color=True)
        assert not ANSI.search(plain) and ANSI.search(coloured)
        assert ANSI.sub("", coloured) == plain
    assert not ANSI.search(render_orders(summaries, color=False))
    assert ANSI.sub("", render_orders(summaries, color=True)) == render_orders(summaries, color=False)
    fallout = render_order(runs.statuses["fallout.fallout"], runs.lanes, color=True)
    assert "\x1b[31m\x1b[1mfatally_failed" in fallout and "\x1b[32mcompleted" in fallout
    assert "\x1b[31msla late" in render_order(runs.statuses["happy.late"], runs.lanes, color=True)


# ---- the log ---------------------------------------------------------------------------------------------


def test_the_runs_journal_every_record_type_and_each_has_its_own_words(runs: Runs) -> None:
    records = [r for lab in runs.labs for order in ("ORD-1001", "ORD-1002")
               if (runs.labs[lab].state / "orders" / order).is_dir() for r in runs.records(lab, order)]
    records += [r for path in runs.labs["discarded"].state.glob("discarded/*/" + JOURNAL_FILE) for r in read(path)]
    assert {r["type"] for r in records} == set(_APPLY)
    for record in records:
        text, _ = describe_record(record["type"], record["payload"])
        assert not text.startswith(record["type"]), text


def test_render_log_reads_as_a_timeline(runs: Runs) -> None:
    happy = render_log(runs.records("happy"), color=False).splitlines()
    assert happy[0] == (f" 1  2027-01-15T08:00:00Z  plan created from {CATALOG.resolve() / 'orders' / 'ORD-1001.yaml'}"
                        f" (8 steps, catalog {CATALOG.resolve()})")
    assert " 2  2027-01-15T08:00:00Z  ready: credit_check" in happy
    assert " 3  2027-01-15T08:00:00Z  credit_check started (attempt 1, queue credit_team)" in happy
    assert " 4  2027-01-15T08:00:00Z  operator ann completed credit_check" in happy
    text = "\n".join(happy)
    assert "reserve[L1/LAPTOP-HW] completed, outputs: id=ORD-1001/reserve[L1/LAPTOP-HW]/1" in text
    assert "operator bo completed install[L1], outputs: technician=\"Bo Lind\"" in text
    assert "wait_work_order[L1] on hold for event work_order.completed" in text
    assert "operator cy signalled work_order.completed: wait_work_order[L1] resumed, data: ticket=WO-7" in text
    assert "ready: assign_license[L1/OS-LICENSE], install[L1]" in text
    assert happy[-1].endswith("  plan completed")

    fallout = render_log(runs.records("fallout"), color=False)
    assert ("reserve[L1/LAPTOP-HW] failed: http_503 down (attempt 1); fell out to queue inventory_fallout "
            "(not retryable)") in fallout
    assert "operator dan retried reserve[L1/LAPTOP-HW] (reason: wms is back)" in fallout
    assert "reserve[L1/LAPTOP-HW] failed: http_503 down (attempt 2); retry at 2027-01-15T17:00:30Z" in fallout
    assert "operator dan completed reserve[L1/LAPTOP-HW] (reason: reserved by phone), outputs: reservation_id=R-1" \
        in fallout
    assert "operator bo resumed wait_work_order[L1] (reason: customer called)" in fallout

    paused = render_log(runs.records("paused", "ORD-1002"), color=False)
    assert "parcel_delivered[A1] on hold for event parcel.delivered or until 2027-01-20T08:00:00Z" in paused
    assert "2027-01-21T08:00:00Z  parcel_delivered[A1] resumed by its timer" in paused

    crashed = render_log(runs.records("crashed"), color=False)
    assert "reserve[L1/LAPTOP-HW] sent again after a crash (attempt 1, same idempotency key)" in crashed
    assert "operator eve canceled the order (reason: customer withdrew)" in crashed


def test_render_log_colour_and_unknown_records(runs: Runs) -> None:
    records = runs.records("fallout")
    plain, coloured = render_log(records, color=False), render_log(records, color=True)
    assert not ANSI.search(plain) and ANSI.search(coloured) and ANSI.sub("", coloured) == plain
    odd = [{"seq": 12, "ts": "2027-01-15T08:00:00Z", "type": "step.teleported", "payload": {"step": "a", "to": [1]}},
           {"seq": 13, "ts": "2027-01-15T08:00:00Z", "type": "step.started", "payload": {"odd": True}}]
    assert render_log(odd, color=False) == ('12  2027-01-15T08:00:00Z  step.teleported {"step":"a","to":[1]}\n'
                                            '13  2027-01-15T08:00:00Z  step.started {"odd":true}\n')
    assert render_log([], color=True) == ""
    long = describe_record("step.completed", {"step": "a", "outputs": {"blob": "x" * 100, "n": 3, "d": {"k": 1}}})[0]
    assert long == f"a completed, outputs: blob={'x' * 59}…, n=3, d={{\"k\":1}}"
