"""`dro status` of every order reads each order's digest, not its plan and journal: its one-line status
is the one a fold of the order gives, at any time of reading (the expected completion and the SLA are
worked out when it is read), for orders running, waiting on a retry, in fallout, completed and canceled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_fallout_queues import Lab, into_fallout

from dro_cli.engine.instants import parse_instant
from dro_cli.journal.digest import DIGEST_FILE
from dro_cli.journal.store import read_order
from dro_cli.runtime.status import order_summary


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    """ORD-1 in fallout; ORD-2 waiting on its check, with a requested date; ORD-3 with a retry due;
    ORD-4 canceled; ORD-5 and ORD-6 completed after and before their requested dates."""
    lab = Lab(tmp_path)
    into_fallout(lab, "ORD-1")
    lab.now = "2026-12-01T10:00:00Z"
    lab.stock(down=False)
    assert lab.start("ORD-2", requested="2026-12-02").exit_code == 0
    lab.stock(down=True)
    assert lab.start("ORD-3").exit_code == 0
    assert lab.dro("complete", "ORD-3", "check").exit_code == 0  # reserve fails: its retry in 10 minutes
    assert lab.start("ORD-4").exit_code == 0
    assert lab.dro("cancel", "ORD-4", "--reason", "test").exit_code == 0
    lab.stock(down=False)
    for order_id, requested in (("ORD-5", "2026-11-30"), ("ORD-6", "2026-12-05T00:00:00Z")):  # missed, met
        assert lab.start(order_id, requested=requested).exit_code == 0
        assert lab.dro("complete", order_id, "check").exit_code == 0
    return lab


@pytest.mark.parametrize("now", ["2026-12-01T10:00:00Z", "2026-12-01T13:30:00Z", "2026-12-03T00:00:00Z"])
def test_the_list_from_digests_is_the_fold_at_any_time(lab: Lab, now: str) -> None:
    lab.now = now
    listed = lab.json("status")
    orders = lab.state / "orders"
    assert all((orders / entry["order"] / DIGEST_FILE).is_file() for entry in listed["orders"])
    folded = [order_summary(read_order(orders / f"ORD-{n}"), parse_instant(now)) for n in range(1, 7)]
    assert listed["orders"] == json.loads(json.dumps(folded))
    assert {entry["state"] for entry in listed["orders"]} >= {"in_progress", "canceled", "completed"}
    assert [entry["sla"] for entry in listed["orders"][4:]] == ["missed", "met"]
    assert any(entry["sla"] for entry in listed["orders"])  # ORD-2's requested date is worked out


def test_without_digests_the_list_is_the_same_and_the_digests_are_left(lab: Lab) -> None:
    lab.now = "2026-12-01T13:30:00Z"
    before = lab.dro("status")
    for folder in (lab.state / "orders").iterdir():
        (folder / DIGEST_FILE).unlink()
    after = lab.dro("status")
    assert (after.exit_code, after.output) == (before.exit_code, before.output)
    assert all((folder / DIGEST_FILE).is_file() for folder in (lab.state / "orders").iterdir())


def test_an_order_whose_planning_was_interrupted_is_listed_as_before(lab: Lab) -> None:
    """plan.json and no `plan.created` yet: no digest; the list folds it (not started, waiting on nothing)."""
    folder = lab.state / "orders" / "ORD-7"
    shutil.copytree(lab.state / "orders" / "ORD-2", folder)
    (folder / DIGEST_FILE).unlink()
    (folder / "journal.jsonl").write_bytes(b"")
    lab.now = "2026-12-01T13:30:00Z"
    listed = lab.json("status")
    assert len(listed["orders"]) == 7 and listed["unreadable"] == []
    assert listed["orders"][-1] == json.loads(json.dumps(order_summary(read_order(folder),
                                                                       parse_instant(lab.now))))
    assert (listed["orders"][-1]["state"], listed["orders"][-1]["waiting_on"]) == ("not_started", [])
    assert not (folder / DIGEST_FILE).exists()


@pytest.mark.parametrize("whole_at_once", [64, 1 << 16], ids=["read-by-size", "one-read"])
def test_a_digest_is_used_only_while_the_journal_ends_with_the_line_it_names(
        lab: Lab, whole_at_once: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A digest too big for one read is read by its size; the journal's last line is read with a byte
    more, so a journal one byte longer (or shorter), or not a regular file, makes the digest stale."""
    from dro_cli.journal import digest

    monkeypatch.setattr(digest, "_WHOLE_AT_ONCE", whole_at_once)
    folder = lab.state / "orders" / "ORD-2"
    assert lab.dro("status").exit_code == 0
    made = digest.load(folder)
    assert made is not None and made["order"] == "ORD-2"
    journal = folder / "journal.jsonl"
    text = journal.read_bytes()
    for changed in (text + b"x", text[:-1], text[:-1] + b"\r"):
        journal.write_bytes(changed)
        assert digest.load(folder) is None
    journal.write_bytes(text)
    assert digest.load(folder) == made
    journal.unlink()
    journal.mkdir()
    assert digest.load(folder) is None
