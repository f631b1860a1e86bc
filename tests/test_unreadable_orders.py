"""One order that cannot be read does not break the others: every scan across orders (`dro status`,
`fallout`, `jeopardy`, `tick`, `retry --all`, `serve`'s dashboard) lists the others as usual, names the
order it left out on stderr and in its JSON, and exits 1; a command on that order says what failed.
And `dro run` refuses a plan whose times would reach past the year 9999 before anything is written,
rather than leaving an order that no command can read again."""

from __future__ import annotations

import http.client
import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import replan
from test_fallout_queues import Lab, into_fallout

from dro_cli.engine.horizon import OutOfRange, out_of_range
from dro_cli.engine.instants import parse_instant
from dro_cli.engine.retry import RetryPolicy
from dro_cli.main import cli
from dro_cli.output.serve import dashboard, make_server
from dsl.schemas import validator

BROKEN = {  # order -> (what is done to its plan.json, the exception reading it meets)
    "ORD-3": ("dependencies that are a number, not a list", "TypeError"),
    "ORD-4": ("a duration no float can hold", "OverflowError"),
    "ORD-5": ("a dependency on a step that is not in the plan", "KeyError"),
}


def _break(lab: Lab, order_id: str) -> None:
    """Edit the order's plan.json as BROKEN says, its journal re-chained to it (see helpers.replan)."""
    folder = lab.state / "orders" / order_id
    plan = json.loads((folder / "plan.json").read_text())
    check = next(step for step in plan["steps"] if step["id"] == "check")
    if order_id == "ORD-3":
        check["after"] = 5
    elif order_id == "ORD-4":
        check["duration"] = 10 ** 400
    else:
        check["after"] = ["nope"]
    replan(folder, plan)


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    """ORD-1 in fallout, ORD-2 waiting on its check (in jeopardy from 13:00), ORD-3..5 broken; now 13:30."""
    lab = Lab(tmp_path)
    into_fallout(lab, "ORD-1")
    lab.now = "2026-12-01T10:00:00Z"
    for order_id in ("ORD-2", *BROKEN):
        assert lab.start(order_id).exit_code == 0
    for order_id in BROKEN:
        _break(lab, order_id)
    lab.now = "2026-12-01T13:30:00Z"
    return lab


def _left_out(stderr: str, verb: str = "left out") -> dict[str, str]:
    """The orders a scan named on stderr, with why."""
    found = {}
    for line in stderr.splitlines():
        assert line.startswith("warning: order "), line
        order_id, _, why = line.removeprefix("warning: order ").partition(f" {verb}: ")
        found[order_id] = why
    return found


def _assert_named(found: dict[str, str]) -> None:
    assert sorted(found) == sorted(BROKEN)
    for order_id, (_, exception) in BROKEN.items():
        assert found[order_id].startswith(f"order {order_id} cannot be read: {exception}: "), found[order_id]


def test_status_lists_the_orders_it_can_read_and_names_the_others(lab: Lab) -> None:
    result = lab.dro("status")
    assert result.exit_code == 1
    assert [line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()] == ["ORD-1", "ORD-2"]
    _assert_named(_left_out(result.stderr))
    listing = lab.dro("status", "--format", "json")
    assert listing.exit_code == 1
    data = json.loads(listing.stdout)
    assert [e.message for e in validator("status").iter_errors(data)] == []
    assert [o["order"] for o in data["orders"]] == ["ORD-1", "ORD-2"]
    _assert_named({entry["order"]: entry["error"] for entry in data["unreadable"]})


@pytest.mark.parametrize(("command", "key", "listed"), [("fallout", "fallout", ["ORD-1"]),
                                                        ("jeopardy", "jeopardy", ["ORD-2"])])
def test_fallout_and_jeopardy_list_the_others_and_name_the_unreadable(lab: Lab, command: str, key: str,
                                                                      listed: list[str]) -> None:
    result = lab.dro(command, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [e.message for e in validator("queues").iter_errors(data)] == []
    assert [row["order"] for row in data[key]] == listed
    _assert_named({entry["order"]: entry["error"] for entry in data["unreadable"]})
    _assert_named(_left_out(result.stderr))
    text = lab.dro(command)
    assert text.exit_code == 1 and listed[0] in text.stdout
    _assert_named(_left_out(text.stderr))


def test_tick_continues_the_others(lab: Lab) -> None:
    result = lab.dro("tick")
    assert result.exit_code == 1
    assert "ORD-2  check is in jeopardy since 2026-12-01T13:00:00Z" in result.stdout
    assert f"{len(BROKEN)} could not be continued" in result.stdout
    _assert_named(_left_out(result.stderr, "not continued"))
    assert "step.jeopardy" in lab.types("ORD-2")  # journaled: the tick did its work on ORD-2


def test_retry_all_retries_the_others(lab: Lab) -> None:
    lab.stock(down=False)
    result = lab.dro("retry", "--all", "--reason", "stock is back")
    assert result.exit_code == 1  # an order could not be read
    assert "ORD-1: completed" in result.stdout
    _assert_named(_left_out(result.stderr))


@pytest.fixture
def server(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("DRO_NOW", lab.now)
    running = make_server(lab.state, "127.0.0.1", 0)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running.server_address[1]
    running.shutdown()
    running.server_close()


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_the_dashboard_shows_the_others_and_names_the_unreadable(lab: Lab, server: int) -> None:
    rows = dashboard(lab.state, parse_instant(lab.now))
    assert [row["order"] for row in rows["orders"]] == ["ORD-1", "ORD-2"]
    _assert_named({entry["order"]: entry["error"] for entry in rows["unreadable"]})
    status, body = _get(server, "/api/orders")
    assert status == 200 and json.loads(body) == rows
    assert _get(server, "/orders/ORD-2")[0] == 200
    for order_id, (_, exception) in BROKEN.items():
        status, body = _get(server, f"/orders/{order_id}")
        assert status == 500 and body.startswith(f"error: order {order_id} cannot be read: {exception}"), body


@pytest.mark.parametrize("args", [("status", "{order}"), ("status", "{order}", "--format", "json"),
                                  ("view", "{order}"), ("log", "{order}"), ("run", "{order}"),
                                  ("complete", "{order}", "check")])
@pytest.mark.parametrize("order_id", list(BROKEN))
def test_a_command_on_the_order_says_what_failed(lab: Lab, args: tuple[str, ...], order_id: str) -> None:
    before = lab.journal(order_id)
    result = lab.dro(*(arg.format(order=order_id) for arg in args))
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    if args[0] == "log":  # the journal itself reads: the log shows
        assert result.exit_code == 0
        return
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: order {order_id} cannot be read: {BROKEN[order_id][1]}: ")
    assert f"`dro verify {order_id}` checks the journal" in result.stderr
    assert lab.journal(order_id) == before


def test_an_act_on_an_order_whose_status_cannot_be_made_is_journaled_and_says_so(lab: Lab) -> None:
    """The journal folds but the plan trips the status (a requested date changed by hand into no date):
    the act is journaled and the plan goes on; only the status at the end cannot be shown."""
    lab.now = "2026-12-01T10:00:00Z"
    assert lab.start("ORD-7").exit_code == 0
    plan_file = lab.state / "orders" / "ORD-7" / "plan.json"
    plan = json.loads(plan_file.read_text())
    plan["context"]["order"]["requested_date"] = "soon"
    replan(plan_file.parent, plan)
    result = lab.dro("complete", "ORD-7", "check")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the status of order ORD-7 cannot be shown: ValueError: ")
    assert "what this command did is journaled (`dro log ORD-7`)" in result.stderr
    assert "operator.complete" in lab.types("ORD-7")


def test_dro_debug_lets_the_exception_through(lab: Lab) -> None:
    env = {"DRO_STATE_DIR": str(lab.state), "DRO_NOW": lab.now, "DRO_DEBUG": "1"}
    with pytest.raises(OverflowError, match="int too large to convert to float"):
        CliRunner(env=env).invoke(cli, ["status", "ORD-4"], catch_exceptions=False)


# ---- dro run: no order that cannot be read again -------------------------------------------------------------

def test_a_run_whose_times_reach_past_the_year_9999_is_refused_and_writes_nothing(lab: Lab) -> None:
    lab.now = "9999-12-31T22:00:00Z"  # check's SLA (4h) would be due in the year 10000
    result = lab.start("ORD-9")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: order ORD-9 cannot run: step check's SLA duration (4h) takes its dates out of the range dro "
        "can write (the years 1 to 9999)\n"
        "  = help: shorten it in the catalog (`dro plan ORDER_FILE --catalog DIR` shows each step's settings); "
        "nothing was written\n")
    assert not (lab.state / "orders" / "ORD-9").exists()


def test_a_huge_duration_in_the_catalog_leaves_no_order_behind(lab: Lab) -> None:
    """The case of the audit: `duration 99999999999d` made `dro run` die after the plan and a record were
    written, and every scan failed from then on. (Validation may refuse the catalog first: either way,
    exit 1, the duration named, nothing written.)"""
    (lab.catalog / "kit.dro").write_text((lab.catalog / "kit.dro").read_text().replace("duration 4h",
                                                                                        "duration 99999999999d"))
    lab.now = "2026-12-01T10:00:00Z"
    result = lab.start("ORD-9")
    assert result.exit_code == 1
    assert "99999999999d" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert not (lab.state / "orders" / "ORD-9").exists()
    assert lab.dro("status").exit_code == 1  # the broken orders of the fixture; ORD-9 is not among them
    assert "ORD-9" not in lab.dro("status").stderr


def test_an_engine_failure_mid_run_stops_with_the_order_named_and_the_journal_intact(lab: Lab) -> None:
    """A hand-edited plan.json the engine trips on after an act: the act is journaled, the round that
    failed is not, the journal verifies, and the order can still be read."""
    lab.now = "2026-12-01T10:00:00Z"
    assert lab.start("ORD-8").exit_code == 0  # waits on check; reserve is next, and the stock is down
    plan_file = lab.state / "orders" / "ORD-8" / "plan.json"
    plan = json.loads(plan_file.read_text())
    reserve = next(step for step in plan["steps"] if step["id"] == "reserve")
    reserve["retry"]["policy"] = "whenever"  # no such policy: the engine trips on it when reserve fails
    replan(plan_file.parent, plan)
    before = lab.types("ORD-8")
    result = lab.dro("complete", "ORD-8", "check")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: order ORD-8 stopped: dro could not work out what follows: "
                                    "ValueError: unknown retry policy 'whenever'")
    assert "the journal is intact, with every record up to the failure" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert lab.types("ORD-8") == [*before, "operator.complete", "step.ready", "step.started"]  # not its failure
    assert lab.dro("verify", "ORD-8").stdout.startswith("ORD-8: journal intact")
    status = lab.json("status", "ORD-8")  # readable: reserve is in doubt, to be sent again by the next run
    assert {s["id"]: s["state"] for s in status["steps"]}["reserve"] == "in_progress"


# ---- the engine's side ---------------------------------------------------------------------------------------

NOW = parse_instant("2026-12-01T10:00:00Z")
YEAR = 365.25 * 86400


def _plan(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"steps": [{"after": [], **step} for step in steps]}


def test_out_of_range_names_each_setting_that_takes_a_date_past_9999() -> None:
    huge = 99999999999 * 86400
    plan = _plan({"id": "a", "duration": huge, "jeopardy": 3600},
                 {"id": "b", "duration": 3600, "jeopardy": huge},
                 {"id": "c", "config": {"resume_after": huge}},
                 {"id": "d", "retry": {"policy": "exponential", "retries": 5000, "initial": 1, "factor": 2}},
                 {"id": "e", "retry": {"policy": "exponential", "retries": 5000, "initial": 1, "factor": 2,
                                       "max": 3600}},
                 {"id": "f", "fallout": [{"error": "x", "retry": {"policy": "monotonous", "retries": 1,
                                                                  "interval": huge}}]},
                 {"id": "g", "duration": 3600, "after": ["a"]})
    assert out_of_range(plan, NOW) == [OutOfRange("a", "duration", huge), OutOfRange("b", "jeopardy", huge),
                                       OutOfRange("c", "resume_after", huge), OutOfRange("d", "retry", math.inf),
                                       OutOfRange("f", "retry", huge)]  # g is not, for a's sake


def test_out_of_range_adds_up_the_steps_before_a_step() -> None:
    plan = _plan({"id": "a", "duration": 3000 * YEAR}, {"id": "b", "duration": 3000 * YEAR, "after": ["a"]},
                 {"id": "c", "duration": 3000 * YEAR, "after": ["b"]}, {"id": "d", "after": ["c"]})
    assert out_of_range(plan, NOW) == [OutOfRange("c", "duration", 3000 * YEAR, chained=True)]
    assert out_of_range(plan, parse_instant("0100-01-01T00:00:00Z")) == []


def test_an_exponential_retry_past_any_float_is_held_by_its_maximum() -> None:
    policy = RetryPolicy("exponential", 5000, initial=1.0, factor=2.0, maximum=3600.0)
    assert policy.delay_after(2000) == 3600.0 and policy.longest_delay() == 3600.0
    assert RetryPolicy("exponential", 5000, initial=1.0, factor=2.0).delay_after(2000) == math.inf
