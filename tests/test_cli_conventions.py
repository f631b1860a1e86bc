"""What users of other command-line tools expect of dro: `--format json` on every command that changes state
(schemas/result.schema.json), `-V`, `--color` and FORCE_COLOR, `-q`, shell completion from the state directory,
and `dro status --watch`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dro_cli.main import COMMANDS, cli
from dsl.schemas import validator

T0 = "2026-12-01T10:00:00Z"
ESC = "\x1b["

CATALOG = """
lane ops "Operations"

group kit "Kit" {
  step check "Check the order" {
    type  manual
    lane  ops
    scope plan
    queue desk
  }
  step wait_stock "Wait for stock" {
    type      pause
    lane      ops
    scope     plan
    after     check
    resume_on event "stock.arrived"
  }
  step reserve "Reserve stock" {
    type  auto
    lane  ops
    scope plan
    after wait_stock
    flow  "conventions_flows:reserve"
    queue stock_fallout
  }
}

scenario kits "Kits" {
  when item.product == "KIT"
  add  kit
}
"""

FLOWS = '''
import os

from dro_cli import NonRetryable


def reserve(ctx):
    if os.environ.get("STOCK_GONE"):
        raise NonRetryable("the article is discontinued")
    return {"reservation": "R-" + ctx["order"]["id"]}
'''


class Shop:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.catalog = root / "catalog"
        self.catalog.mkdir()
        (self.catalog / "kit.dro").write_text(CATALOG)
        (self.catalog / "conventions_flows.py").write_text(FLOWS)  # unique: flow modules stay imported
        self.state = root / "state"
        self.env = {"NO_COLOR": "", "FORCE_COLOR": "", "DRO_STATE_DIR": str(self.state), "DRO_NOW": T0,
                    "DRO_OPERATOR": "ann", "DRO_CATALOG": str(self.catalog), "STOCK_GONE": ""}

    def order(self, order_id: str) -> Path:
        path = self.root / f"{order_id}.yaml"
        path.write_text(f"order:\n  id: {order_id}\n  account: ACME\n  items:\n    - {{id: K1, product: KIT}}\n")
        return path

    def dro(self, *args: str, **env: str) -> Result:
        return CliRunner(env={**self.env, **env}).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")

    def process_env(self, **env: str) -> dict[str, str]:
        return {**os.environ, **self.env, **env}


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(tmp_path)


def result_of(done: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(done.stdout)
    assert [e.message for e in validator("result").iter_errors(document)] == []
    return document


# ---- --format json on the commands that change state ---------------------------------------------------


def test_run_and_every_act_say_in_json_what_they_did(shop: Shop) -> None:
    ran = result_of(shop.dro("run", str(shop.order("ORD-1")), "--format", "json"))
    assert ran["command"] == "run" and ran["not_done"] == [] and ran["at"] == T0
    (order,) = ran["orders"]
    assert order["created"] is True and order["recovered"] is None
    assert order["journaled"] == {"plan.created": 1, "step.ready": 1, "step.started": 1}
    assert order["status"]["state"] == "in_progress"
    assert order["status"]["waiting_on"] == [{"kind": "operator", "step": "check", "queue": "desk"}]

    completed = shop.dro("complete", "ORD-1", "check", "--format", "json")
    assert completed.exit_code == 0
    (order,) = result_of(completed)["orders"]
    assert order["created"] is False
    assert order["journaled"] == {"operator.complete": 1, "step.held": 1, "step.ready": 1}
    assert order["status"]["waiting_on"][0]["kind"] == "event"

    gone = shop.dro("signal", "ORD-1", "stock.arrived", "--format", "json", STOCK_GONE="1")
    assert gone.exit_code == 1  # a step in fallout, as in text
    (order,) = result_of(gone)["orders"]
    assert order["journaled"]["step.failed"] == 1
    assert order["status"]["waiting_on"][0]["kind"] == "fallout"

    retried = result_of(shop.dro("retry", "ORD-1", "reserve", "--format", "json"))
    assert retried["command"] == "retry"
    assert retried["orders"][0]["status"]["state"] == "completed"


def test_resume_cancel_retry_all_and_tick_in_json(shop: Shop) -> None:
    for order_id in ("ORD-1", "ORD-2", "ORD-3"):
        shop.dro("run", str(shop.order(order_id)))
        shop.dro("complete", order_id, "check")
    resumed = result_of(shop.dro("resume", "ORD-1", "wait_stock", "--reason", "found", "--format", "json"))
    assert resumed["orders"][0]["journaled"]["operator.resume"] == 1
    canceled = result_of(shop.dro("cancel", "ORD-3", "--reason", "by the customer", "--format", "json"))
    assert canceled["orders"][0]["status"]["state"] == "canceled"
    assert canceled["orders"][0]["status"]["canceled"]["reason"] == "by the customer"

    shop.dro("signal", "ORD-2", "stock.arrived", STOCK_GONE="1")
    across = shop.dro("retry", "--all", "--queue", "stock_fallout", "--format", "json", STOCK_GONE="1")
    assert across.exit_code == 1
    document = result_of(across)
    assert [o["status"]["order"] for o in document["orders"]] == ["ORD-2"]
    assert document["orders"][0]["status"]["waiting_on"][0]["kind"] == "fallout"

    ticked = shop.dro("tick", "--format", "json")
    assert ticked.exit_code == 0
    tick = result_of(ticked)
    assert tick["command"] == "tick" and tick["scanned"] == 3 and tick["orders"] == [] and tick["not_done"] == []


def test_json_output_carries_the_planners_warnings_and_no_progress_lines(shop: Shop) -> None:
    path = shop.root / "ORD-9.yaml"
    path.write_text("order:\n  id: ORD-9\n  account: ACME\n  items:\n    - {id: K1, product: KIT}\n"
                    "    - {id: X1, product: UNKNOWN-THING}\n")
    done = shop.dro("run", str(path), "--format", "json")
    document = result_of(done)
    assert [w["code"] for w in document["warnings"]] == ["DRO504"]
    assert done.stderr == ""  # the warnings are in the document, not printed beside it


# ---- -V, --color, FORCE_COLOR, -q ----------------------------------------------------------------------


def test_dash_capital_v_prints_the_version(shop: Shop) -> None:
    done = shop.dro("-V")
    assert done.exit_code == 0 and done.stdout.startswith("dro, version ")


def test_every_command_takes_color_and_quiet(shop: Shop) -> None:
    for name in COMMANDS:
        done = shop.dro(name, "--help")
        assert "--color [auto|always|never]" in done.stdout and "-q, --quiet" in done.stdout, name


@pytest.mark.parametrize(("args", "env", "coloured"), [
    ((), {}, False),                                   # not a terminal: no colour
    (("--color", "always"), {}, True),
    (("--color", "always"), {"NO_COLOR": "1"}, True),  # the option wins over the variables
    ((), {"FORCE_COLOR": "1"}, True),
    ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, True),  # FORCE_COLOR wins over NO_COLOR
    ((), {"FORCE_COLOR": "0"}, False),
    (("--color", "never"), {"FORCE_COLOR": "1"}, False),
])
def test_color_follows_the_option_then_force_color_then_no_color(shop: Shop, args: tuple[str, ...],
                                                                 env: dict[str, str], coloured: bool) -> None:
    shop.dro("run", str(shop.order("ORD-1")))
    status = shop.dro(*args, "status", "ORD-1", **env)
    assert (ESC in status.stdout) is coloured
    bad = shop.root / "bad.dro"
    bad.write_text('lane ops "Ops"\nlane ops "Again"\n')
    validated = shop.dro("validate", str(bad), *args, **env)  # after the command's name too
    assert validated.exit_code == 1 and (ESC in validated.stdout) is coloured


def test_color_reaches_a_real_pipe(shop: Shop) -> None:
    shop.dro("run", str(shop.order("ORD-1")))
    piped = subprocess.run([sys.executable, "-m", "dro_cli.main", "status", "ORD-1"], capture_output=True,
                           text=True, env=shop.process_env(FORCE_COLOR="1"), timeout=60, check=True)
    assert ESC in piped.stdout
    plain = subprocess.run([sys.executable, "-m", "dro_cli.main", "status", "ORD-1"], capture_output=True,
                           text=True, env=shop.process_env(), timeout=60, check=True)
    assert ESC not in plain.stdout


def test_quiet_says_nothing_but_what_went_wrong(shop: Shop) -> None:
    ran = shop.dro("-q", "run", str(shop.order("ORD-1")))
    assert (ran.exit_code, ran.stdout, ran.stderr) == (0, "", "")
    shop.dro("complete", "ORD-1", "check", "-q")
    fell = shop.dro("signal", "ORD-1", "stock.arrived", "--quiet", STOCK_GONE="1")
    assert (fell.exit_code, fell.stdout) == (1, "")  # the exit code tells
    refused = shop.dro("complete", "ORD-1", "check", "-q")
    assert refused.exit_code == 2 and "error:" in refused.stderr
    assert shop.dro("-q", "tick").stdout == ""
    assert shop.dro("verify", "ORD-1", "-q").stdout == ""
    good = shop.catalog / "kit.dro"
    assert shop.dro("validate", str(good)).stdout.startswith("All checks passed")
    assert shop.dro("validate", str(good), "-q").stdout == ""
    # the data asked for is not a message: quiet does not hide it
    assert "ORD-1" in shop.dro("-q", "status").stdout


def test_quiet_tests_and_formatting_show_only_failures_and_findings(shop: Shop) -> None:
    (shop.catalog / "kit.test.yaml").write_text(
        "catalog: .\ncases:\n  - name: plans\n    order: {id: T-1, account: A, items: [{id: K1, product: KIT}]}\n"
        "    expect: {present: [check]}\n  - name: wrong\n"
        "    order: {id: T-2, account: A, items: [{id: K1, product: KIT}]}\n    expect: {absent: [check]}\n")
    loud, hushed = shop.dro("test", str(shop.catalog)), shop.dro("test", str(shop.catalog), "-q")
    assert loud.exit_code == hushed.exit_code == 1
    assert "kit.test.yaml .F" in loud.stdout and "kit.test.yaml .F" not in hushed.stdout
    assert "FAILURES" in hushed.stdout and "1 failed, 1 passed" in hushed.stdout
    messy = shop.catalog / "kit.dro"
    messy.write_text(messy.read_text().replace("  step check", "      step check"))
    assert shop.dro("fmt", str(messy), "--check", "-q").stdout.strip() == str(messy)  # the finding stays
    written = shop.dro("fmt", str(messy), "-q")
    assert (written.exit_code, written.stdout, written.stderr) == (0, "", "")


def test_quiet_and_color_do_not_carry_over_to_the_next_command_line(shop: Shop) -> None:
    shop.dro("-q", "--color", "always", "run", str(shop.order("ORD-1")))
    after = shop.dro("status", "ORD-1")
    assert after.stdout and ESC not in after.stdout


# ---- shell completion ----------------------------------------------------------------------------------


def complete(shop: Shop, words: str, **env: str) -> list[str]:
    """What bash completion offers for the last of `words`, through click's real protocol."""
    parts = words.split(" ")
    environ = shop.process_env(_DRO_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1),
                               **env)
    done = subprocess.run([sys.executable, "-m", "dro_cli.main"], capture_output=True, text=True, env=environ,
                          timeout=60, check=False)
    assert done.stderr == ""
    return [line for line in done.stdout.splitlines() if line]


def test_completion_offers_orders_steps_events_and_queues(shop: Shop) -> None:
    for order_id in ("ORD-1", "ORD-2", "X-9"):
        shop.dro("run", str(shop.order(order_id)))
    assert complete(shop, "dro status ORD") == ["plain,ORD-1", "plain,ORD-2"]
    assert complete(shop, "dro complete ORD-1 ch") == ["plain,check"]
    shop.dro("complete", "ORD-1", "check")
    assert complete(shop, "dro signal ORD-1 st") == ["plain,stock.arrived"]
    assert complete(shop, "dro resume ORD-1 wait") == ["plain,wait_stock"]
    shop.dro("signal", "ORD-1", "stock.arrived", STOCK_GONE="1")
    assert complete(shop, "dro fallout --queue st") == ["plain,stock_fallout"]
    assert complete(shop, "dro retry --all --queue ") == ["plain,stock_fallout"]
    assert complete(shop, "dro retry ORD-1 res") == ["plain,reserve"]
    assert complete(shop, "dro run X") == ["plain,X-9", "file,X"]  # an order, or an order file
    assert complete(shop, "dro discard X") == ["plain,X-9"]
    assert complete(shop, "dro status --state-dir /nowhere ") == []  # nothing there: nothing offered
    elsewhere = {"DRO_STATE_DIR": "/nowhere"}
    assert complete(shop, f"dro status --state-dir {shop.state} ORD", **elsewhere) == ["plain,ORD-1", "plain,ORD-2"]


# ---- dro status --watch --------------------------------------------------------------------------------


def watch(shop: Shop, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "dro_cli.main", "status", *args, "--watch", "--interval", "0.05"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=shop.process_env())


def read_until(process: subprocess.Popen[str], needle: str, seconds: float = 30) -> str:
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    assert needle in seen, seen
    return seen


def test_watch_shows_the_status_again_when_it_changes_and_ctrl_c_ends_it(shop: Shop) -> None:
    shop.dro("run", str(shop.order("ORD-1")))
    process = watch(shop, "ORD-1")
    try:
        first = read_until(process, "check")
        assert "in_progress" in first
        shop.dro("complete", "ORD-1", "check")
        read_until(process, "on_hold")
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0 and err == ""


def test_watch_in_json_prints_one_document_a_line_per_change(shop: Shop) -> None:
    shop.dro("run", str(shop.order("ORD-1")))
    process = watch(shop, "--format", "json")
    try:
        first = read_until(process, '"ORD-1"')
        shop.dro("complete", "ORD-1", "check")
        time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    lines = [line for line in (first + out).splitlines() if line]
    documents = [json.loads(line) for line in lines]
    for document in documents:
        assert [e.message for e in validator("status").iter_errors(document)] == []
    progress = [d["orders"][0]["progress"]["finished"] for d in documents]
    assert progress and progress[-1] == 1 and progress == sorted(set(progress))  # printed once per change
