"""Snapshots: a cache of the journal's fold that is used only while it matches the journal, never trusted."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from goldens import CATALOGS

from dro_cli.engine import acts
from dro_cli.errors import DroError
from dro_cli.journal import store
from dro_cli.journal.file import JournalDamaged
from dro_cli.journal.snapshot import SNAPSHOT_FILE, content_sha256
from dro_cli.journal.store import read_order
from dro_cli.runtime.api import RunOptions, act, run_order
from dro_cli.runtime.handlers.base import success
from dro_cli.runtime.status import order_status

T0 = 1_796_119_200.0
ORDER = CATALOGS / "laptop" / "orders" / "ORD-1001.yaml"


@pytest.fixture
def order_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ORD-1001 waiting for its install, with a snapshot written by every writer and reader."""
    monkeypatch.setattr(store, "SNAPSHOT_EVERY", 1)
    options = RunOptions(tmp_path / "state", CATALOGS / "laptop", clock=lambda: T0,
                         handler=lambda invocation: success({"id": invocation.idempotency_key}))
    run_order(str(ORDER), options)
    act("ORD-1001", lambda e: acts.complete(e, "credit_check", operator="ann", reason=None, outputs={}), options)
    path = tmp_path / "state" / "orders" / "ORD-1001"
    assert (path / SNAPSHOT_FILE).exists()
    return path


def folded(order_dir: Path) -> dict[str, object]:
    """The status from the whole journal, with no snapshot at all."""
    saved = (order_dir / SNAPSHOT_FILE).read_bytes()
    (order_dir / SNAPSHOT_FILE).unlink()
    try:
        return order_status(read_order(order_dir), T0)
    finally:
        (order_dir / SNAPSHOT_FILE).write_bytes(saved)


def test_an_open_order_keeps_its_loaded_state_frozen_until_it_is_closed(order_dir: Path) -> None:
    """The collector does not scan an open order's plan and state (gc.freeze); closing hands them back,
    whether the order was used or not, so a process that opens many orders in turn keeps nothing frozen."""
    assert gc.get_freeze_count() == 0
    with store.OpenOrder(order_dir) as order:
        engine = order.load_plan()
        assert gc.get_freeze_count() > len(engine.steps)
        order.load_plan()  # loaded again: all handed back at close all the same
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), store.OpenOrder(order_dir) as order:
        order.load_plan()
        raise RuntimeError("a command failed while the order was open")
    assert gc.get_freeze_count() == 0


def test_the_snapshot_gives_the_state_the_journal_folds_to(order_dir: Path) -> None:
    assert order_status(read_order(order_dir), T0) == folded(order_dir)


def test_records_after_the_snapshot_are_folded_on_top(order_dir: Path, tmp_path: Path) -> None:
    snapshot_before = (order_dir / SNAPSHOT_FILE).read_bytes()
    store.SNAPSHOT_EVERY = 10**9  # the next writer leaves the old snapshot in place
    options = RunOptions(tmp_path / "state", None, clock=lambda: T0, handler=lambda invocation: success())
    act("ORD-1001", lambda e: acts.complete(e, "install", operator="ann", reason=None, outputs={}), options)
    assert (order_dir / SNAPSHOT_FILE).read_bytes() == snapshot_before
    status = order_status(read_order(order_dir), T0)
    assert {s["id"]: s["state"] for s in status["steps"]}["install[L1]"] == "completed"
    assert status == folded(order_dir)


@pytest.mark.parametrize("damage", ["garbage", "state edited", "other plan", "moved anchor", "other checksum",
                                    "missing journal"])
def test_a_snapshot_that_does_not_match_is_ignored(order_dir: Path, damage: str) -> None:
    truth = folded(order_dir)
    path = order_dir / SNAPSHOT_FILE
    data = json.loads(path.read_bytes())
    data["steps"]["credit_check"]["state"] = "fatally_failed"  # what a trusted bad snapshot would show
    if damage == "garbage":
        path.write_bytes(b"{not json")
    else:
        if damage == "other plan":
            data["plan_sha256"] = "0" * 64
        elif damage == "moved anchor":
            data["position"]["line_start"] += 1
        elif damage == "other checksum":
            data["position"]["checksum"] = "f" * 64
        if damage != "state edited":  # the content hash alone would catch the others: recompute it, test the rest
            data["state_sha256"] = content_sha256(data)
        path.write_text(json.dumps(data))
    if damage == "missing journal":  # emptied: the snapshot saw more, so the loss is reported (DRO517)
        path.write_text(json.dumps(data))
        (order_dir / "journal.jsonl").write_bytes(b"")
        with pytest.raises(DroError, match="shorter than once seen: it holds no record") as refused:
            read_order(order_dir)
        assert refused.value.code == "DRO517"
        return
    assert order_status(read_order(order_dir), T0) == truth


def test_a_forged_anchor_record_sends_the_reader_to_the_whole_journal_which_refuses_it(order_dir: Path) -> None:
    journal = order_dir / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[-1])
    record["payload"]["outputs"] = {"forged": True}
    lines[-1] = json.dumps(record).encode() + b"\n"
    position = json.loads((order_dir / SNAPSHOT_FILE).read_bytes())["position"]
    lines.append(lines[-1])  # a line past the snapshot that does not chain on
    journal.write_bytes(b"".join(lines))
    assert position["seq"] == len(lines) - 1
    with pytest.raises(JournalDamaged, match="damaged"):
        read_order(order_dir)


@pytest.mark.parametrize("damage", ["moved anchor", "other checksum", "other plan"])
def test_a_writer_whose_snapshot_does_not_match_folds_the_whole_journal(order_dir: Path, tmp_path: Path,
                                                                         damage: str) -> None:
    path = order_dir / SNAPSHOT_FILE
    data = json.loads(path.read_bytes())
    data["steps"]["credit_check"]["state"] = "fatally_failed"  # what a trusted bad snapshot would show
    if damage == "moved anchor":
        data["position"]["line_start"] += 1
    elif damage == "other checksum":
        data["position"]["checksum"] = "f" * 64
    else:
        data["plan_sha256"] = "0" * 64
    data["state_sha256"] = content_sha256(data)
    path.write_text(json.dumps(data))
    store.SNAPSHOT_EVERY = 10**9  # the writer leaves the bad snapshot in place: the next read meets it too
    options = RunOptions(tmp_path / "state", None, clock=lambda: T0, handler=lambda invocation: success())
    result = act("ORD-1001", lambda e: acts.complete(e, "install", operator="ann", reason=None, outputs={}),
                 options)
    assert result.engine.runs["credit_check"].state.value == "completed"
    assert order_status(read_order(order_dir), T0) == folded(order_dir)


def test_a_writer_opens_from_the_snapshot_and_verify_still_reads_every_record(order_dir: Path,
                                                                              tmp_path: Path) -> None:
    """A writer reads only what follows the snapshot's record: a change before it is for `dro verify` to find."""
    from dro_cli.journal.audit import audit_order

    journal = order_dir / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    position = json.loads((order_dir / SNAPSHOT_FILE).read_bytes())["position"]
    assert position["seq"] == len(lines) > 2
    lines[1] = lines[1].replace(b'"step.ready"', b'"step.Ready"')  # same length: the anchor stays where it was
    journal.write_bytes(b"".join(lines))
    options = RunOptions(tmp_path / "state", None, clock=lambda: T0, handler=lambda invocation: success())
    act("ORD-1001", lambda e: acts.complete(e, "install", operator="ann", reason=None, outputs={}), options)
    assert {s["id"]: s["state"] for s in order_status(read_order(order_dir), T0)["steps"]}["install[L1]"] == \
        "completed"
    audit = audit_order(order_dir)
    assert not audit.ok and audit.journal.bad_line == 2
