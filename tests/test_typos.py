"""Typos in `--queue` and `--state-dir` are errors with "did you mean", not empty answers: a queue no step of
any order can be in, a state directory that does not exist (which only `dro run ORDER_FILE` may create)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_fallout_queues import Lab, into_fallout

from dro_cli.main import cli


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    lab = Lab(tmp_path)
    into_fallout(lab, "ORD-1")
    return lab


def test_a_queue_no_step_can_be_in_is_an_error_with_did_you_mean(lab: Lab) -> None:
    before = lab.journal("ORD-1")
    for args in (["fallout", "--queue", "stock_falout"], ["retry", "--queue", "stock_falout", "--all"]):
        result = lab.dro(*args)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert f"error: no step of any order in {lab.state} can be in queue 'stock_falout'" in result.stderr
        assert "help: did you mean 'stock_fallout'?" in result.stderr
    assert lab.journal("ORD-1") == before
    nothing_like = lab.dro("fallout", "--queue", "zzz")
    assert nothing_like.exit_code == 2
    assert "help: the queues there are: desk, fallout, stock_fallout" in nothing_like.stderr


def test_a_queue_that_exists_but_is_empty_is_no_error(lab: Lab) -> None:
    assert lab.dro("fallout", "--queue", "desk").output == "no steps in fallout queue desk\n"  # a manual step's
    assert lab.dro("fallout", "--queue", "fallout").output == "no steps in fallout queue fallout\n"  # ship's
    assert lab.dro("fallout", "--queue", "stock_fallout").exit_code == 0


READERS = [["status"], ["status", "ORD-1"], ["log", "ORD-1"], ["verify", "ORD-1"], ["fallout"], ["jeopardy"],
           ["tick"], ["view", "ORD-1", "-o", "plan.html"], ["complete", "ORD-1", "check"], ["cancel", "ORD-1",
           "--reason", "r"], ["retry", "--all"], ["discard", "ORD-1", "--reason", "r"], ["run", "ORD-1"]]


@pytest.mark.parametrize("args", READERS, ids=lambda args: " ".join(args[:2]))
def test_a_state_directory_that_does_not_exist_is_an_error_with_did_you_mean(lab: Lab, args: list[str]) -> None:
    typo = lab.state.with_name("stat")
    result = lab.dro(*args, "--state-dir", str(typo))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"error: no state directory {typo} (--state-dir)" in result.stderr
    assert f"help: did you mean '{lab.state}'?" in result.stderr
    assert not typo.exists()


def test_dro_serve_refuses_a_state_directory_that_does_not_exist(lab: Lab) -> None:
    typo = lab.state.with_name("stat")
    done = subprocess.run([sys.executable, "-m", "dro_cli.main", "serve", "--port", "0", "--state-dir", str(typo)],
                          capture_output=True, text=True, timeout=30)  # a server that started would time out
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"error: no state directory {typo} (--state-dir)" in done.stderr
    assert f"help: did you mean '{lab.state}'?" in done.stderr


def test_the_environment_and_the_default_say_where_the_state_directory_came_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "nowhere"
    from_env = CliRunner(env={"DRO_STATE_DIR": str(elsewhere)}).invoke(cli, ["status"], catch_exceptions=False)
    assert from_env.exit_code == 2
    assert f"error: no state directory {elsewhere} ($DRO_STATE_DIR)" in from_env.stderr
    assert "help: `dro run ORDER_FILE --catalog DIR` creates it with its first order; an empty directory is a " \
           "state directory with no orders" in from_env.stderr
    runner = CliRunner(env={"DRO_STATE_DIR": None})
    monkeypatch.chdir(tmp_path)
    default = runner.invoke(cli, ["fallout"], catch_exceptions=False)
    assert default.exit_code == 2
    assert "error: no state directory .dro (the default)" in default.stderr
    assert "give --state-dir or set $DRO_STATE_DIR to use another" in default.stderr
    (tmp_path / ".dro").mkdir()
    empty: Result = runner.invoke(cli, ["fallout"], catch_exceptions=False)
    assert (empty.exit_code, empty.stdout) == (0, "no steps in fallout\n")


def test_a_state_directory_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("")
    result = CliRunner().invoke(cli, ["status", "--state-dir", str(tmp_path / "state")], catch_exceptions=False)
    assert result.exit_code == 2 and "is a file, not a directory" in result.stderr


def test_dro_run_of_an_order_file_creates_the_state_directory(lab: Lab) -> None:
    new = lab.state.with_name("fresh") / "nested"
    result = lab.dro("run", str(lab.orders / "ORD-1.yaml"), "--state-dir", str(new))
    assert result.exit_code == 0, result.output
    assert (new / "orders" / "ORD-1" / "journal.jsonl").is_file()
