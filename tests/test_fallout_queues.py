"""`dro fallout`, `dro jeopardy`, `dro tick` and `dro retry` through the CLI, across several orders, on the
virtual clock (DRO_NOW): listings and their JSON schema, SLA crossings journaled once, bulk retries,
completing a step in fallout with outputs for its dependents, refusals that leave journals untouched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dro_cli.journal.lock import OrderLock
from dro_cli.main import cli
from dsl.schemas import validator

T0 = "2026-12-01T10:00:00Z"

CATALOG = """
lane ops  "Operations"
lane ship "Shipping"

group kit "Kit delivery" {
  step check "Check the order" {
    type manual
    lane ops
    scope plan
    queue desk
    duration 4h
    jeopardy 1h
  }
  step reserve "Reserve stock" {
    type  auto
    lane  ops
    scope plan
    after check
    flow  "flows:reserve"
    retry { policy: monotonous, retries: 1, interval: 10m }
    queue stock_fallout
  }
  step ship "Ship" {
    type   auto
    lane   ship
    scope  plan
    after  reserve
    flow   "flows:ship"
    inputs { reservation: "{{ outputs.reserve.reservation }}" }
  }
}

scenario kits "Kits" {
  when item.product == "KIT"
  add  kit
}
"""

FLOWS = '''
import os
from pathlib import Path

from dro_cli import NonRetryable


class StockDown(Exception):
    pass


def reserve(ctx):
    if Path(os.environ["STOCK_DOWN"] + ".kill").exists():
        os.kill(os.getpid(), 9)  # the runner dies mid-step, as a machine losing power would
    switch = Path(os.environ["STOCK_DOWN"])
    if switch.exists():
        if switch.read_text() == "gone":
            raise NonRetryable("the article is discontinued")
        raise StockDown("the stock system is down")
    return {"reservation": "R-" + ctx["order"]["id"]}


def ship(ctx):
    return {"shipped_with": ctx["inputs"]["reservation"]}
'''


class Lab:
    """A catalog, a state directory and a clock the test moves; `dro` runs in process."""

    def __init__(self, root: Path) -> None:
        self.catalog = root / "catalog"
        self.catalog.mkdir()
        (self.catalog / "kit.dro").write_text(CATALOG)
        (self.catalog / "flows.py").write_text(FLOWS)
        self.state = root / "state"
        self.switch = root / "stock_down"
        self.orders = root / "orders"
        self.orders.mkdir()
        self.now = T0

    def dro(self, *args: str) -> Result:
        env = {"NO_COLOR": "1", "DRO_STATE_DIR": str(self.state), "DRO_NOW": self.now, "DRO_OPERATOR": "ann",
               "DRO_CATALOG": str(self.catalog), "STOCK_DOWN": str(self.switch)}
        return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")

    def start(self, order_id: str, requested: str | None = None) -> Result:
        lines = [f"order:\n  id: {order_id}\n  account: ACME\n"]
        if requested:
            lines.append(f"  requested_date: {requested}\n")
        lines.append("  items:\n    - {id: K1, product: KIT}\n")
        path = self.orders / f"{order_id}.yaml"
        path.write_text("".join(lines))
        return self.dro("run", str(path))

    def stock(self, down: bool, gone: bool = False) -> None:
        """Make reserve fail (retryably, or for good when the article is gone) or succeed."""
        if down:
            self.switch.write_text("gone" if gone else "")
        else:
            self.switch.unlink(missing_ok=True)

    def json(self, *args: str) -> Any:
        result = self.dro(*args, "--format", "json")
        return json.loads(result.output)

    def journal(self, order_id: str) -> bytes:
        return (self.state / "orders" / order_id / "journal.jsonl").read_bytes()

    def records(self, order_id: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.journal(order_id).splitlines()]

    def types(self, order_id: str) -> list[str]:
        return [record["type"] for record in self.records(order_id)]


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)


def later(instant: str, minutes: int) -> str:
    return (datetime.fromisoformat(instant) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def into_fallout(lab: Lab, order_id: str, at: str = T0) -> None:
    """Start an order at `at`, check it, and let reserve fail twice (one retry, 10 minutes apart): in fallout."""
    lab.stock(down=True)
    lab.now = at
    assert lab.start(order_id).exit_code == 0
    assert lab.dro("complete", order_id, "check").exit_code == 0  # reserve fails: retry in 10 minutes
    lab.now = later(at, 10)
    assert lab.dro("run", order_id).exit_code == 1  # the retry fails too: stock_fallout


# ---- dro fallout ---------------------------------------------------------------------------------------------

def test_fallout_lists_steps_across_orders_oldest_first_and_filters_by_queue(lab: Lab) -> None:
    into_fallout(lab, "ORD-1", at="2026-12-01T11:00:00Z")
    into_fallout(lab, "ORD-2")
    lab.start("ORD-3")  # waits on an operator: not in fallout
    listing = lab.json("fallout")
    assert [e.message for e in validator("queues").iter_errors(listing)] == []
    message = "flow 'flows:reserve' raised StockDown: the stock system is down (flows.py:"
    assert all(row.pop("message").startswith(message) for row in listing["fallout"])
    assert listing["fallout"] == [
        {"order": order, "id": "reserve", "step": "reserve", "queue": "stock_fallout", "error": "StockDown",
         "attempts": 2, "since": since}
        for order, since in (("ORD-2", "2026-12-01T10:10:00Z"), ("ORD-1", "2026-12-01T11:10:00Z"))]
    assert lab.json("fallout", "--queue", "stock_fallout")["fallout"] == lab.json("fallout")["fallout"]
    assert lab.json("fallout", "--queue", "desk")["fallout"] == []
    text = lab.dro("fallout").output.splitlines()
    assert text[0].split() == ["ORDER", "STEP", "QUEUE", "ERROR", "TRIES", "SINCE"]
    assert text[1].split() == ["ORD-2", "reserve", "stock_fallout", "StockDown", "2", "2026-12-01T10:10:00Z"]
    assert text[2].startswith("       " + message)  # the error message, under the step
    assert text[5] == "2 steps in fallout (stock_fallout: 2)"
    assert lab.dro("fallout", "--queue", "desk").output == "no steps in fallout queue desk\n"


def test_a_stale_digest_is_not_trusted(lab: Lab) -> None:
    into_fallout(lab, "ORD-1")
    digest = lab.state / "orders" / "ORD-1" / "digest.json"
    old = digest.read_bytes()
    lab.stock(down=False)
    assert lab.dro("complete", "ORD-1", "reserve", "--reason", "by phone", "--output", "reservation=R-1").exit_code == 0
    digest.write_bytes(old)  # as if the writer died before leaving its digest
    assert lab.json("fallout")["fallout"] == []
    assert json.loads(digest.read_bytes())["fallout"] == []  # and the digest was made anew
    digest.write_text("{not json")
    assert lab.json("fallout")["fallout"] == []


def test_an_order_that_cannot_be_read_is_left_out_and_named(lab: Lab) -> None:
    into_fallout(lab, "ORD-1")
    into_fallout(lab, "ORD-2")
    journal = lab.state / "orders" / "ORD-1" / "journal.jsonl"
    damaged = journal.read_bytes().replace(b"step.ready", b"step.READY", 1)  # damage before good records
    assert damaged != journal.read_bytes()
    journal.write_bytes(damaged + b"\n")  # (the size changes too, so the digest no longer stands for it)
    result = CliRunner(env={"DRO_STATE_DIR": str(lab.state), "DRO_NOW": lab.now}).invoke(
        cli, ["fallout", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 1
    assert [row["order"] for row in json.loads(result.stdout)["fallout"]] == ["ORD-2"]
    assert "warning: order ORD-1 left out:" in result.stderr


# ---- dro retry -------------------------------------------------------------------------------------------------

def test_retry_starts_a_new_attempt_with_a_new_round_of_tries(lab: Lab) -> None:
    into_fallout(lab, "ORD-1")
    lab.now = "2026-12-01T11:00:00Z"
    result = lab.dro("retry", "ORD-1", "reserve", "--reason", "stock system restarted")
    assert result.exit_code == 0, result.output  # fails again, but its policy's retry is due in 10 minutes
    step = {s["id"]: s for s in lab.json("status", "ORD-1")["steps"]}["reserve"]
    assert (step["state"], step["attempts"], step["retry_at"]) == ("failed", 3, "2026-12-01T11:10:00Z")
    assert "operator ann retried reserve (reason: stock system restarted)" in lab.dro("log", "ORD-1").output
    lab.stock(down=False)
    lab.now = "2026-12-01T11:10:00Z"
    assert lab.dro("tick").exit_code == 0
    assert lab.json("status", "ORD-1")["state"] == "completed"


def test_a_retry_of_a_step_not_in_fallout_is_refused_and_writes_nothing(lab: Lab) -> None:
    lab.stock(down=True)
    lab.start("ORD-1")
    before = lab.journal("ORD-1")
    for args, message in [
        (("retry", "ORD-1", "check"), "step check is in_progress, not in fallout"),
        (("retry", "ORD-1", "reserve"), "step reserve is pending, not in fallout"),
        (("retry", "ORD-1", "reserv"), "did you mean 'reserve'?"),
        (("retry", "ORD-1"), "name the steps of ORD-1 to retry, or --all"),
        (("retry", "ORD-1", "--all"), "no step of order ORD-1 is in fallout"),
        (("retry",), "name the order and the steps to retry, or --all"),
        (("retry", "ORD-1", "reserve", "--all"), "give either steps or --all, not both"),
        (("retry", "ORD-1", "reserve", "--queue", "q"), "--queue selects the steps that --all retries"),
    ]:
        result = lab.dro(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert lab.journal("ORD-1") == before


def test_bulk_retry_of_a_queue_across_orders(lab: Lab) -> None:
    for order in ("ORD-1", "ORD-2", "ORD-3"):
        into_fallout(lab, order)
    lab.stock(down=False)
    lab.now = "2026-12-01T12:00:00Z"
    result = lab.dro("retry", "--queue", "stock_fallout", "--all", "--reason", "stock system back")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"ORD-{n}: completed, 3/3 steps finished" for n in (1, 2, 3)]
    assert lab.json("fallout")["fallout"] == []
    for order in ("ORD-1", "ORD-2", "ORD-3"):
        retry = next(r for r in lab.records(order) if r["type"] == "operator.retry")
        assert retry["payload"] == {"step": "reserve", "operator": "ann", "reason": "stock system back"}
        assert retry["ts"] == "2026-12-01T12:00:00Z"
    assert lab.dro("retry", "--queue", "stock_fallout", "--all").output == "no steps in fallout queue stock_fallout\n"


def test_a_retry_gets_a_new_round_of_tries_and_the_tick_that_spends_it_exits_1(lab: Lab) -> None:
    into_fallout(lab, "ORD-1")
    lab.now = "2026-12-01T12:00:00Z"
    result = lab.dro("retry", "--all")
    assert result.exit_code == 0, result.output  # failed again, with the policy's retry due at 12:10
    assert result.output == "ORD-1: in_progress, 1/3 steps finished\n"
    lab.now = "2026-12-01T12:10:00Z"
    tick = lab.dro("tick")
    assert tick.exit_code == 1  # the round's last try fell out during the tick
    assert "ORD-1  now in_progress, 1 step in fallout" in tick.output


def test_bulk_retry_says_which_orders_fell_out_again_and_exits_1(lab: Lab) -> None:
    into_fallout(lab, "ORD-1")
    into_fallout(lab, "ORD-2")
    lab.stock(down=True, gone=True)  # not retryable: straight back to the queue
    result = lab.dro("retry", "--queue", "stock_fallout", "--all")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"ORD-{n}: in_progress, 1/3 steps finished; in fallout again: reserve" for n in (1, 2)]
    assert [row["error"] for row in lab.json("fallout")["fallout"]] == ["NonRetryable", "NonRetryable"]


def test_completing_a_step_in_fallout_feeds_its_outputs_to_dependents(lab: Lab) -> None:
    into_fallout(lab, "ORD-1")
    refused = lab.dro("complete", "ORD-1", "reserve")
    assert refused.exit_code == 2 and "needs a reason" in refused.output
    result = lab.dro("complete", "ORD-1", "reserve", "--reason", "reserved by phone", "--output", "reservation=R-77")
    assert result.exit_code == 0, result.output
    steps = {s["id"]: s for s in lab.json("status", "ORD-1")["steps"]}
    assert steps["ship"]["outputs"] == {"shipped_with": "R-77"}
    assert steps["reserve"]["acts"][-1]["reason"] == "reserved by phone"
    assert "operator ann completed reserve (reason: reserved by phone), outputs: reservation=R-77" \
        in lab.dro("log", "ORD-1").output


# ---- dro jeopardy and SLA crossings -----------------------------------------------------------------------------

def test_jeopardy_lists_unfinished_steps_from_their_thresholds(lab: Lab) -> None:
    lab.start("ORD-1")  # check: ready at 10:00, due 14:00, in jeopardy from 13:00
    lab.now = "2026-12-01T10:30:00Z"
    lab.start("ORD-2")  # due 14:30, in jeopardy from 13:30
    lab.now = "2026-12-01T11:00:00Z"
    lab.start("ORD-3")
    lab.dro("complete", "ORD-3", "check")  # finished: never listed
    expected = {
        "2026-12-01T12:59:59Z": [],
        "2026-12-01T13:00:00Z": [("ORD-1", "jeopardy")],
        "2026-12-01T13:30:00Z": [("ORD-1", "jeopardy"), ("ORD-2", "jeopardy")],
        "2026-12-01T14:00:00Z": [("ORD-1", "late"), ("ORD-2", "jeopardy")],
    }
    for at, rows in expected.items():
        lab.now = at
        listing = lab.json("jeopardy")
        assert [e.message for e in validator("queues").iter_errors(listing)] == []
        assert [(row["order"], row["sla"]) for row in listing["jeopardy"]] == rows, at
    assert listing["jeopardy"][0] == {"order": "ORD-1", "id": "check", "step": "check", "lane": "ops",
                                      "sla": "late", "ready_at": T0, "due": "2026-12-01T14:00:00Z"}
    assert lab.dro("jeopardy").output.splitlines()[-1] == "2 steps at 2026-12-01T14:00:00Z: 1 late, 1 in jeopardy"


def test_tick_journals_each_crossing_once_and_continues_only_due_orders(lab: Lab) -> None:
    into_fallout(lab, "ORD-2")  # in fallout: nothing is due for it
    lab.now = T0
    lab.start("ORD-1")
    lab.now = "2026-12-01T13:00:00Z"
    untouched = lab.journal("ORD-2")
    result = lab.dro("tick")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "ORD-1  check is in jeopardy since 2026-12-01T13:00:00Z: due at 2026-12-01T14:00:00Z",
        "ORD-1  now in_progress",
        "tick at 2026-12-01T13:00:00Z: 2 orders scanned, 1 continued, 1 SLA crossing journaled",
    ]
    again = lab.dro("tick")
    assert again.output == "tick at 2026-12-01T13:00:00Z: 2 orders scanned, 0 continued, 0 SLA crossings journaled\n"
    lab.now = "2026-12-01T15:00:00Z"
    lab.dro("tick")
    assert lab.types("ORD-1").count("step.jeopardy") == 1 and lab.types("ORD-1").count("step.late") == 1
    late = next(r for r in lab.records("ORD-1") if r["type"] == "step.late")
    assert late["payload"] == {"step": "check", "sla": "late", "at": "2026-12-01T14:00:00Z",
                               "due": "2026-12-01T14:00:00Z"}
    assert late["ts"] == "2026-12-01T15:00:00Z"  # noticed by the tick, an hour after the crossing
    assert lab.journal("ORD-2") == untouched


def test_an_act_journals_the_crossings_it_comes_after(lab: Lab) -> None:
    lab.start("ORD-1")
    lab.now = "2026-12-01T16:00:00Z"  # nothing ran since 10:00: both thresholds passed unrecorded
    lab.dro("complete", "ORD-1", "check")
    assert lab.types("ORD-1")[3:6] == ["step.jeopardy", "step.late", "operator.complete"]
    check = {s["id"]: s for s in lab.json("status", "ORD-1")["steps"]}["check"]
    assert check["sla"] == "missed"


def test_tick_leaves_an_order_held_by_another_dro_alone(lab: Lab) -> None:
    lab.start("ORD-1")
    lab.now = "2026-12-01T13:00:00Z"
    before = lab.journal("ORD-1")
    with OrderLock(lab.state / "orders" / "ORD-1"):
        result = lab.dro("tick")
    assert result.exit_code == 0
    assert "1 busy (held by another dro: ORD-1)" in result.output
    assert lab.journal("ORD-1") == before
    assert "1 continued, 1 SLA crossing journaled" in lab.dro("tick").output


def test_tick_sends_again_the_steps_of_a_runner_that_died(lab: Lab) -> None:
    lab.start("ORD-1")
    kill = Path(str(lab.switch) + ".kill")
    kill.touch()
    env = {**os.environ, "NO_COLOR": "1", "DRO_STATE_DIR": str(lab.state), "DRO_NOW": lab.now, "DRO_OPERATOR": "ann",
           "STOCK_DOWN": str(lab.switch)}
    died = subprocess.run([sys.executable, "-m", "dro_cli.main", "complete", "ORD-1", "check"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert died.returncode == -signal.SIGKILL
    assert lab.types("ORD-1")[-1] == "step.started"  # reserve is in doubt
    kill.unlink()
    result = lab.dro("tick")
    assert result.exit_code == 0, result.output
    assert "ORD-1  reserve sent again after a crash (attempt 1, same idempotency key)" in result.output
    assert "ORD-1  now completed" in result.output


# ---- the plan's expected completion -----------------------------------------------------------------------------

def test_status_tells_the_expected_completion_against_the_requested_date(lab: Lab) -> None:
    lab.start("ORD-1", requested="2026-12-01T13:00:00Z")
    status = lab.json("status", "ORD-1")
    assert [e.message for e in validator("status").iter_errors(status)] == []
    # check takes up to 4h from 10:00; reserve and ship have no duration
    assert (status["expected_completion"], status["sla"]) == ("2026-12-01T14:00:00Z", "jeopardy")
    lab.start("ORD-2", requested="2026-12-02")  # a date alone: by the end of that day
    assert lab.json("status", "ORD-2")["sla"] == "on_track"
    lab.now = "2026-12-01T13:00:00Z"
    assert lab.json("status", "ORD-1")["sla"] == "late"
    lab.dro("complete", "ORD-2", "check")
    summary = {o["order"]: o for o in lab.json("status")["orders"]}
    assert (summary["ORD-2"]["state"], summary["ORD-2"]["sla"]) == ("completed", "met")
    assert summary["ORD-2"]["expected_completion"] == "2026-12-01T13:00:00Z"
    header = lab.dro("status", "ORD-1").output.splitlines()[0]
    assert header == ("ORD-1  in_progress  0/3 steps  expected 2026-12-01T14:00:00Z  "
                      "requested 2026-12-01T13:00:00Z (late)")

