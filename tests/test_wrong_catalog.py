"""A wrong catalog, and the way out: `dro run` refuses an order that plans no step (DRO515), says so when
`--catalog` differs from the catalog an order was planned with, and `dro discard` removes an order that has
not acted yet, archiving its files. Through the CLI, with the laptop catalog's simulated systems."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from goldens import CATALOGS

from dro_cli.journal.records import scan_bytes
from dro_cli.main import cli

LAPTOP, FIBER = CATALOGS / "laptop", CATALOGS / "fiber"
LAPTOP_ORDER = LAPTOP / "orders" / "ORD-1001.yaml"
FIBER_ORDER = FIBER / "orders" / "ORD-2001-new-bundle.yaml"
TOKEN = "test-token"


@pytest.fixture(scope="module")
def simulator() -> Any:
    from test_run_cli import _simulator_class

    with _simulator_class()(token=TOKEN) as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, simulator: Any) -> dict[str, str]:
    return {"NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "DRO_NOW": "2026-12-01T10:00:00Z",
            "DRO_OPERATOR": "ann", "WMS_URL": simulator.url, "LICENSE_SERVER_URL": simulator.url,
            "LICENSE_SERVER_TOKEN": TOKEN, "DRO_CATALOG": ""}


def dro(env: dict[str, str], *args: str) -> Result:
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")


def state(env: dict[str, str]) -> Path:
    return Path(env["DRO_STATE_DIR"])


def journal(env: dict[str, str], order: str = "ORD-1001") -> bytes:
    return (state(env) / "orders" / order / "journal.jsonl").read_bytes()


# ---- an order that plans no step -----------------------------------------------------------------------------

def test_an_order_that_plans_no_step_is_refused_and_nothing_is_written(env: dict[str, str]) -> None:
    result = dro(env, "run", str(FIBER_ORDER), "--catalog", str(LAPTOP))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "warning[DRO504]: no scenario matches product 'FIBER-TV-MOBILE'" in result.stderr  # the planner's why
    assert "error[DRO515]: order ORD-2001 plans no step: not run" in result.stderr
    assert f"help: is {LAPTOP} the catalog for this order? Run it with the right --catalog; --allow-empty " \
           "runs an order that has no step" in result.stderr
    assert not state(env).exists()
    right = dro(env, "run", str(FIBER_ORDER), "--catalog", str(FIBER))  # nothing pinned the wrong catalog
    assert "order ORD-2001: in_progress, 0/19 steps finished" in right.stdout


def test_allow_empty_runs_an_order_that_plans_no_step(env: dict[str, str]) -> None:
    result = dro(env, "run", str(FIBER_ORDER), "--catalog", str(LAPTOP), "--allow-empty")
    assert result.exit_code == 0
    assert result.stdout == "order ORD-2001: completed, 0/0 steps finished\n"
    assert "DRO504" in result.stderr and "DRO515" not in result.stderr


def test_dro_plan_warns_of_an_order_that_plans_no_step(env: dict[str, str]) -> None:
    result = dro(env, "plan", str(FIBER_ORDER), "--catalog", str(LAPTOP))
    assert result.exit_code == 0
    assert "warning[DRO515]: order ORD-2001 plans no step" in result.stderr
    assert "DRO515" not in dro(env, "plan", str(FIBER_ORDER), "--catalog", str(FIBER)).stderr


# ---- --catalog against the catalog an order was planned with ------------------------------------------------

def test_running_an_order_file_again_with_another_catalog_is_refused(env: dict[str, str]) -> None:
    assert dro(env, "run", str(LAPTOP_ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    before = journal(env)
    result = dro(env, "run", str(LAPTOP_ORDER), "--catalog", str(FIBER))
    assert result.exit_code == 2 and result.stdout == ""
    assert f"error: order ORD-1001 was planned with the catalog {LAPTOP}, not {FIBER}" in result.stderr
    assert "dro discard ORD-1001 --reason" in result.stderr
    assert journal(env) == before
    same = dro(env, "run", str(LAPTOP_ORDER), "--catalog", str(LAPTOP / "." / "orders" / ".."))  # the same, spelt
    assert same.exit_code == 0 and same.stderr == ""


def test_continuing_an_order_with_another_catalog_says_where_its_flows_come_from(env: dict[str, str]) -> None:
    assert dro(env, "run", str(LAPTOP_ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    result = dro(env, "run", "ORD-1001", "--catalog", str(FIBER))
    assert result.exit_code == 0
    assert f"warning: order ORD-1001 was planned with the catalog {LAPTOP}; its flows import from {FIBER} " \
           "(--catalog) in this run" in result.stderr
    assert dro(env, "run", "ORD-1001").stderr == ""  # its own catalog: nothing to say


# ---- dro discard --------------------------------------------------------------------------------------------

def test_discard_archives_an_order_that_has_not_acted_and_its_file_starts_afresh(env: dict[str, str]) -> None:
    assert dro(env, "run", str(FIBER_ORDER), "--catalog", str(LAPTOP), "--allow-empty").exit_code == 0
    assert dro(env, "run", str(LAPTOP_ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    assert dro(env, "complete", "ORD-1001", "credit_check", "--output", "x=1").exit_code == 0  # reserve runs
    before = journal(env, "ORD-2001")
    result = dro(env, "discard", "ORD-2001", "--reason", "wrong catalog")
    archive = state(env) / "discarded" / "ORD-2001-20261201T100000Z"
    assert result.exit_code == 0, result.output
    assert result.stdout == f"order ORD-2001 discarded; its files are kept in {archive}\n"
    assert not (state(env) / "orders" / "ORD-2001").exists()
    kept = (archive / "journal.jsonl").read_bytes()
    assert kept.startswith(before)  # nothing lost: the journal whole, the act after it, the chain intact
    scan = scan_bytes(kept)
    assert scan.bad_line is None
    assert scan.records[-1]["type"] == "operator.discard"
    assert scan.records[-1]["payload"] == {"operator": "ann", "reason": "wrong catalog"}
    assert (archive / "plan.json").is_file()
    listed = dro(env, "status").stdout
    assert "ORD-1001" in listed and "ORD-2001" not in listed
    assert "ORD-2001" not in dro(env, "jeopardy", "--format", "json").stdout
    missing = dro(env, "status", "ORD-2001")
    assert missing.exit_code == 2 and "no order 'ORD-2001'" in missing.stderr
    again = dro(env, "run", str(FIBER_ORDER), "--catalog", str(FIBER))
    assert "order ORD-2001: in_progress, 0/19 steps finished" in again.stdout
    assert json.loads(journal(env, "ORD-2001").splitlines()[0])["seq"] == 1  # a new journal


def test_an_order_whose_manual_steps_moved_may_be_discarded(env: dict[str, str]) -> None:
    catalog = state(env).parent / "desk"
    catalog.mkdir()
    (catalog / "c.dro").write_text('lane ops "Ops"\ngroup g {\n  step ask { type manual lane ops queue desk }\n'
                                   '  step wait { type pause lane ops after ask resume_on event "go" }\n}\n'
                                   'scenario s { when item.product == "P" add g }\n')
    order = state(env).parent / "o.yaml"
    order.write_text("order:\n  id: ORD-M\n  account: A\n  items:\n    - {id: I1, product: P}\n")
    assert dro(env, "run", str(order), "--catalog", str(catalog)).exit_code == 0
    assert dro(env, "complete", "ORD-M", "ask").exit_code == 0
    assert dro(env, "discard", "ORD-M", "--reason", "a test order").exit_code == 0
    assert dro(env, "run", str(order), "--catalog", str(catalog)).exit_code == 0
    assert dro(env, "discard", "ORD-M", "--reason", "again, in the same second").exit_code == 0
    assert sorted(p.name for p in (state(env) / "discarded").iterdir()) == \
        ["ORD-M-20261201T100000Z", "ORD-M-20261201T100000Z-2"]


def test_an_order_that_started_an_auto_or_callout_step_cannot_be_discarded(env: dict[str, str]) -> None:
    assert dro(env, "run", str(LAPTOP_ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    assert dro(env, "complete", "ORD-1001", "credit_check").exit_code == 0  # the reservation callout is sent
    before = journal(env)
    result = dro(env, "discard", "ORD-1001", "--reason", "oops")
    assert result.exit_code == 2 and result.stdout == ""
    assert "error: order ORD-1001 cannot be discarded: reserve[L1/LAPTOP-HW], assign_license[L1/OS-LICENSE] " \
           "started, so dro may have acted on other systems" in result.stderr
    assert "help: cancel it instead: dro cancel ORD-1001 --reason '...'" in result.stderr
    assert journal(env) == before
    assert not (state(env) / "discarded").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["discard", "ORD-1001"], "Missing option '--reason'"),
    (["discard", "ORD-1010", "--reason", "r"], "no order 'ORD-1010'"),
])
def test_discard_refuses_bad_input_and_changes_nothing(env: dict[str, str], args: list[str], message: str) -> None:
    assert dro(env, "run", str(LAPTOP_ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    before = journal(env)
    result = dro(env, *args)
    assert result.exit_code == 2 and message in result.stderr
    assert journal(env) == before


def test_discard_takes_the_order_lock(env: dict[str, str]) -> None:
    assert dro(env, "run", str(LAPTOP_ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
         "from dro_cli.journal.lock import OrderLock\n"
         "with OrderLock(Path(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(60)",
         str(state(env) / "orders" / "ORD-1001")], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        before = journal(env)
        result = dro(env, "discard", "ORD-1001", "--reason", "r")
        assert result.exit_code == 2 and f"order ORD-1001 is locked by pid {holder.pid}" in result.stderr
        assert journal(env) == before
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
