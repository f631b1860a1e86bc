"""The order journal: records round-trip, torn last lines are cut, damage is refused, one writer holds the lock."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dro_cli.errors import DroError
from dro_cli.journal.file import (
    ZERO_CHECKSUM,
    Journal,
    JournalDamaged,
    Position,
    order_dir,
    read,
    timestamp,
    verify,
    write_plan,
)
from dro_cli.journal.lock import OrderLock
from dro_cli.journal.records import body, entry_ok, shape_ok
from dsl.schemas import fast_check, validator

ROOT = Path(__file__).resolve().parent.parent
TS = "2026-12-01T10:00:00Z"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def assert_chained(records: list[dict[str, Any]]) -> None:
    """Recompute every checksum from the format's definition, independently of the module."""
    last = ZERO_CHECKSUM
    for number, record in enumerate(records, 1):
        assert record["seq"] == number
        body = {k: v for k, v in record.items() if k != "checksum"}
        assert record["checksum"] == hashlib.sha256((last + canonical(body)).encode()).hexdigest()
        last = record["checksum"]


def line_for(last: str, **fields: Any) -> bytes:
    """A journal line made by hand: any fields, checksummed and chained as the format says."""
    checksum = hashlib.sha256((last + canonical(fields)).encode()).hexdigest()
    return (canonical({**fields, "checksum": checksum}) + "\n").encode()


@pytest.fixture
def order(tmp_path: Path) -> Path:
    return order_dir(tmp_path / ".dro", "ORD-1")


def write_records(order: Path, count: int) -> bytes:
    with Journal.open(order) as journal:
        journal.append([("step.started", {"n": n, "text": "é\u2028ü"}, TS) for n in range(1, count + 1)])
    return (order / "journal.jsonl").read_bytes()


# --- round trip ---------------------------------------------------------------------------------------------


def test_appended_records_come_back_in_order_with_a_valid_chain(order: Path) -> None:
    with Journal.open(order) as journal:
        assert (journal.records, journal.last_seq, journal.recovered) == ([], 0, None)
        first = journal.append([("plan.created", {"order": "ORD-1"}, TS)])
        more = journal.append([("step.started", {"step": "ship", "attempt": 1}, "2026-12-01T10:00:01.5Z"),
                               ("step.completed", {"step": "ship", "outputs": {"n": [1, 2.5, None]}},
                                "2026-12-01T10:00:02Z")])
        assert [r["seq"] for r in first + more] == [1, 2, 3]
        assert journal.records == first + more and journal.last_seq == 3
    with Journal.open(order) as again:
        assert again.records == first + more and again.recovered is None
    assert_chained(again.records)
    assert more[1]["payload"] == {"step": "ship", "outputs": {"n": [1, 2.5, None]}}
    for record in again.records:
        validator("journal-event").validate(record)
        assert fast_check("journal-event")(record)


def test_each_line_is_the_canonical_json_of_its_record(order: Path) -> None:
    text = write_records(order, 3).decode()
    lines = text.split("\n")
    assert lines.pop() == "" and len(lines) == 3
    assert lines == [canonical(json.loads(line)) for line in lines]
    assert lines[0].startswith('{"checksum":"')


def test_append_writes_nothing_for_no_entries_and_refuses_bad_ones(order: Path) -> None:
    before = write_records(order, 2)
    with Journal.open(order) as journal:
        assert journal.append([]) == []
        bad_entries: list[Any] = [("step.started", {}, "2026-12-01 10:00"), ("Step Started", {}, TS),
                                  ("step.started", [], TS)]
        for bad in bad_entries:
            with pytest.raises(ValueError, match="not a journal record"):
                journal.append([("step.started", {}, TS), bad])
        with pytest.raises(ValueError):
            journal.append([("step.started", {"x": float("nan")}, TS)])
        assert journal.last_seq == 2
    assert (order / "journal.jsonl").read_bytes() == before


def test_a_closed_journal_refuses_appends(order: Path) -> None:
    journal = Journal.open(order)
    journal.append([("plan.created", {}, TS)])  # written, flushed and fsynced
    journal.close()
    with pytest.raises(DroError, match="closed"):
        journal.append([("step.started", {}, TS)])
    assert verify(order / "journal.jsonl").records == 1


def test_timestamps_are_utc_iso_8601() -> None:
    moment = datetime(2026, 12, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert timestamp(moment) == TS
    assert timestamp(moment.replace(microsecond=250000)) == "2026-12-01T10:00:00.250000Z"
    with pytest.raises(ValueError):
        timestamp(datetime(2026, 12, 1))


# --- torn last records are cut off --------------------------------------------------------------------------


def _cut_mid_line(good: bytes, last: bytes) -> bytes:
    return good + last[: len(last) // 2]


TORN = {
    "cut mid-line": _cut_mid_line,
    "cut after the opening brace": lambda good, last: good + b"{",
    "zeros at the end": lambda good, last: good + last + b"\0" * 300,
    "missing final newline": lambda good, last: good + last[:-1],
    "garbage without its newline": lambda good, last: good + last + b"garbage",
}

# A whole last line (newline-terminated, so written in full and fsynced) that fails its checks is damage,
# not a torn write: cutting it off would lose what it holds (issue 15.3: an operator.complete with outputs).
WHOLE_BAD_LAST = {
    "a bit flipped in the last record": lambda good, last: good + last.replace(b'"n":4', b'"n":5'),
    "garbage last line": lambda good, last: good + last + b"garbage\n",
    "empty last line": lambda good, last: good + last + b"\n",
    "not a record": lambda good, last: good + last + b'{"seq":5}\n',
}


def damage_last_record(order: Path, damage: Any) -> tuple[bytes, int, bytes]:
    """Four records written, then `damage(records before the last, last record)` put in their place:
    (what was written, where its last record starts, the journal as damaged)."""
    whole = write_records(order, 4)
    last_start = whole.rindex(b"\n", 0, len(whole) - 1) + 1
    damaged = damage(whole[:last_start], whole[last_start:])
    (order / "journal.jsonl").write_bytes(damaged)
    return whole, last_start, damaged


@pytest.mark.parametrize("damage", WHOLE_BAD_LAST.values(), ids=WHOLE_BAD_LAST.keys())
def test_a_whole_last_line_that_fails_is_damage_refused_and_never_cut_off(order: Path, damage: Any) -> None:
    _, _, damaged = damage_last_record(order, damage)
    report = verify(order / "journal.jsonl")
    assert (report.ok, report.recoverable) == (False, False)
    for attempt in (lambda: Journal.open(order), lambda: read(order / "journal.jsonl")):
        with pytest.raises(JournalDamaged) as refused:
            attempt()
        assert refused.value.code == "DRO521" and "not a torn write" in refused.value.message
    assert (order / "journal.jsonl").read_bytes() == damaged  # nothing cut off


@pytest.mark.parametrize("damage", TORN.values(), ids=TORN.keys())
def test_a_torn_last_record_is_cut_off_and_reported_and_appends_continue(order: Path, damage: Any) -> None:
    whole, last_start, damaged = damage_last_record(order, damage)
    kept = whole if damaged.startswith(whole) else whole[:last_start]
    report = verify(order / "journal.jsonl")
    assert (report.ok, report.recoverable, report.records) == (False, True, kept.count(b"\n"))

    with Journal.open(order) as journal:
        assert journal.recovered is not None
        assert f"line {report.bad_line}" in journal.recovered and f": {report.reason}" in journal.recovered
        assert (order / "journal.jsonl").read_bytes() == kept
        appended = journal.append([("step.retried", {}, TS)])
        assert appended[0]["seq"] == report.records + 1
    with Journal.open(order) as again:
        assert again.recovered is None and again.last_seq == report.records + 1
        assert_chained(again.records)


def test_readers_leave_out_a_torn_last_line_and_change_nothing(order: Path) -> None:
    (order / "journal.jsonl").write_bytes(write_records(order, 3) + b'{"checksum":"ab')
    before = (order / "journal.jsonl").read_bytes()
    assert [r["seq"] for r in read(order / "journal.jsonl")] == [1, 2, 3]
    assert (order / "journal.jsonl").read_bytes() == before


# --- damage before good records is refused ------------------------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _rechain_line_2(lines: list[bytes]) -> list[bytes]:
    """Line 2 edited and given a correct checksum of its own: the chain breaks at line 3."""
    first = json.loads(lines[0])
    second = {k: v for k, v in json.loads(lines[1]).items() if k != "checksum"}
    return [lines[0], line_for(first["checksum"], **{**second, "payload": {"n": 99}}), *lines[2:]]


MIDDLE = {
    "bad JSON": (lambda lines: [lines[0], b"{oops\n", *lines[2:]], 2, "not JSON"),
    "edited payload": (lambda lines: [lines[0], lines[1].replace(b'"n":2', b'"n":7'), *lines[2:]], 2, "checksum"),
    "broken chain": (_rechain_line_2, 3, "checksum"),
    "seq gap": (lambda lines: [lines[0], *lines[2:]], 2, "seq 3 where 2 was expected"),
    "swapped lines": (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], 2, "seq 3 where 2 was expected"),
    "empty line": (lambda lines: [lines[0], b"\n", *lines[1:]], 2, "empty line"),
    "torn line before good ones": (lambda lines: [lines[0], lines[1][:30], *lines[1:]], 2, "not JSON"),
    "two bad lines at the end": (lambda lines: [*lines, b"x\n", b"y\n"], 5, "not JSON"),
}


@pytest.mark.parametrize(("damage", "line", "reason"), MIDDLE.values(), ids=MIDDLE.keys())
def test_damage_before_good_records_is_refused_and_nothing_changes(order: Path, damage: Any, line: int,
                                                                   reason: str) -> None:
    path = order / "journal.jsonl"
    path.write_bytes(b"".join(damage(_lines(write_records(order, 4)))))
    before = path.read_bytes()
    with pytest.raises(JournalDamaged) as refused:
        Journal.open(order)
    assert refused.value.exit_code == 1 and refused.value.hint
    assert f"damaged at line {line}: " in refused.value.message and reason in refused.value.message
    assert path.read_bytes() == before
    report = verify(path)
    assert (report.ok, report.recoverable, report.bad_line, report.records) == (False, False, line, line - 1)
    with pytest.raises(JournalDamaged):
        read(path)
    assert path.read_bytes() == before


def test_a_record_of_another_schema_version_is_refused_not_cut(order: Path) -> None:
    path = order / "journal.jsonl"
    whole = write_records(order, 2)
    last = json.loads(_lines(whole)[-1])["checksum"]
    path.write_bytes(whole + line_for(last, seq=3, ts=TS, type="step.started", payload={}, schema_version=2))
    before = path.read_bytes()
    with pytest.raises(JournalDamaged, match="line 3: a record of journal schema_version 2; this dro reads version 1"):
        Journal.open(order)
    assert path.read_bytes() == before
    assert verify(path).recoverable is False


def test_a_line_in_another_layout_is_checked_by_its_canonical_json(order: Path) -> None:
    path = order / "journal.jsonl"
    record = json.loads(line_for(ZERO_CHECKSUM, seq=1, ts=TS, type="plan.created", payload={"a": 1},
                                 schema_version=1))
    path.write_text(json.dumps(record, indent=None) + "\n", encoding="utf-8")  # spaces, checksum not first
    with Journal.open(order) as journal:
        assert journal.records == [record] and journal.recovered is None


def test_verify_reports_a_clean_journal_and_a_missing_one(order: Path) -> None:
    write_records(order, 5)
    report = verify(order / "journal.jsonl")
    assert (report.ok, report.records, report.lines, report.reason) == (True, 5, 5, None)
    with pytest.raises(DroError, match="no journal at") as missing:
        verify(order / "nope.jsonl")
    assert missing.value.exit_code == 2


# --- reading from a position on, and reading chunk by chunk -------------------------------------------------


def _position_at(order: Path, seq: int) -> Position:
    """Where record `seq` stands, as a snapshot records it."""
    data = (order / "journal.jsonl").read_bytes()
    starts = [0, *(i + 1 for i, byte in enumerate(data) if byte == ord("\n"))]
    record = json.loads(data[starts[seq - 1]:starts[seq]])
    return Position(seq, record["checksum"], starts[seq - 1], starts[seq])


@pytest.mark.parametrize("seq", [1, 3, 6])
def test_opening_after_a_position_reads_only_what_follows_and_appends_chain_on(order: Path, seq: int) -> None:
    write_records(order, 6)
    with Journal.open(order) as whole:
        everything, end = whole.records, whole.position
    with Journal.open(order, _position_at(order, seq)) as journal:
        assert journal.records == everything[seq:] and journal.first == everything[0]
        assert (journal.last_seq, journal.position, journal.recovered) == (6, end, None)
        journal.append([("step.retried", {}, TS)])
    assert_chained(read(order / "journal.jsonl"))


@pytest.mark.parametrize("damage", TORN.values(), ids=TORN.keys())
def test_opening_after_a_position_cuts_off_a_torn_last_line_as_a_whole_read_does(order: Path, damage: Any) -> None:
    whole, _, damaged = damage_last_record(order, damage)
    (order / "journal.jsonl").write_bytes(whole)
    position = _position_at(order, 2)
    (order / "journal.jsonl").write_bytes(damaged)
    report = verify(order / "journal.jsonl")
    with Journal.open(order, position) as journal:
        assert journal.recovered is not None and f"line {report.bad_line} " in journal.recovered
        assert journal.last_seq == report.records
    assert verify(order / "journal.jsonl").ok


@pytest.mark.parametrize("wrong", ["checksum", "line_start", "end", "seq", "beyond the end"])
def test_a_position_the_journal_does_not_hold_sends_opening_to_the_whole_journal(order: Path, wrong: str) -> None:
    write_records(order, 4)
    good = _position_at(order, 3)
    position = {"checksum": dataclasses.replace(good, checksum="f" * 64),
                "line_start": dataclasses.replace(good, line_start=good.line_start + 1),
                "end": dataclasses.replace(good, end=good.end - 1),
                "seq": dataclasses.replace(good, seq=2),
                "beyond the end": dataclasses.replace(good, line_start=good.end + 10, end=good.end + 400)}[wrong]
    with Journal.open(order, position) as journal:
        assert (journal.after, len(journal.records), journal.last_seq) == (None, 4, 4)


def test_an_anchor_record_that_does_not_hash_to_its_checksum_is_not_an_anchor(order: Path) -> None:
    whole = _lines(write_records(order, 4))
    position = _position_at(order, 3)
    whole[2] = whole[2].replace(b'"n":3', b'"n":8')  # same length, same checksum field, other content
    (order / "journal.jsonl").write_bytes(b"".join(whole))
    with pytest.raises(JournalDamaged, match="damaged at line 3"):
        Journal.open(order, position)


def test_a_first_record_changed_by_hand_sends_opening_to_the_whole_journal_which_refuses_it(order: Path) -> None:
    whole = _lines(write_records(order, 4))
    position = _position_at(order, 3)
    whole[0] = whole[0].replace(b'"n":1', b'"n":9')
    (order / "journal.jsonl").write_bytes(b"".join(whole))
    with pytest.raises(JournalDamaged, match="damaged at line 1"):
        Journal.open(order, position)


CHUNKED = {**{f"torn: {k}": (v, None) for k, v in TORN.items()},
           **{f"whole: {k}": (v, None) for k, v in WHOLE_BAD_LAST.items()},
           **{f"middle: {k}": (None, v[0]) for k, v in MIDDLE.items()}, "clean": (None, None)}


@pytest.mark.parametrize("chunk", [1, 150, 1000, 1 << 20])
@pytest.mark.parametrize(("last", "middle"), CHUNKED.values(), ids=CHUNKED.keys())
def test_a_scan_chunk_by_chunk_finds_what_a_scan_of_the_whole_finds(order: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    chunk: int, last: Any, middle: Any) -> None:
    from dro_cli.journal import records

    if last is not None:
        damage_last_record(order, last)
    else:
        data = write_records(order, 4)
        if middle is not None:
            (order / "journal.jsonl").write_bytes(b"".join(middle(_lines(data))))
    data = (order / "journal.jsonl").read_bytes()
    monkeypatch.setattr(records, "CHUNK", chunk)
    consumed: list[dict[str, Any]] = []
    with (order / "journal.jsonl").open("rb") as handle:
        streamed = records.scan_stream(handle, consumed.extend)
    whole = records.scan_bytes(data)
    assert consumed == whole.records and streamed.count == len(whole.records)
    assert streamed.scan == dataclasses.replace(whole, records=whole.records[-1:])


# --- the order directory and plan.json ----------------------------------------------------------------------


def test_the_order_directory_and_an_atomic_plan(tmp_path: Path) -> None:
    folder = order_dir(tmp_path / "state", "ORD-1")
    assert folder == tmp_path / "state" / "orders" / "ORD-1" and folder.is_dir()
    assert order_dir(tmp_path / "state", "ORD-1") == folder
    path = write_plan(folder, {"schema_version": 1, "order": "ORD-1", "title": "é"})
    write_plan(folder, {"schema_version": 1, "order": "ORD-1", "steps": {}})
    assert json.loads(path.read_text(encoding="utf-8")) == {"schema_version": 1, "order": "ORD-1", "steps": {}}
    assert sorted(p.name for p in folder.iterdir()) == ["plan.json"]  # no temp file left
    for bad in ["", ".hidden", "a/b", "a b", "..", "a\\b"]:
        with pytest.raises(DroError) as refused:
            order_dir(tmp_path / "state", bad)
        assert refused.value.exit_code == 2


# --- the schema and its inlined check agree -----------------------------------------------------------------

_GOOD = {"seq": 1, "ts": TS, "type": "step.started", "payload": {}, "schema_version": 1, "checksum": "a" * 64}
_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-1, 3), st.floats(), st.just(1.0), st.just(2.5),
    st.sampled_from(["", TS, TS + "\n", "2026-12-01T10:00:00.1234567Z", "2026-12-01T10:00:00+00:00",
                     "step.started", "step", "Step.started", "step..x", "a" * 64, "A" * 64, "a" * 63, "0" * 64 + "\n"]),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), st.lists(st.integers(), max_size=2))


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from([*_GOOD, "extra"]), _VALUES, max_size=3),
       st.sets(st.sampled_from(list(_GOOD)), max_size=2))
def test_the_inlined_check_agrees_with_the_schema(changes: dict[str, Any], removed: set[str]) -> None:
    record = {k: v for k, v in {**_GOOD, **changes}.items() if k not in removed}
    assert shape_ok(record) == validator("journal-event").is_valid(record) == fast_check("journal-event")(record)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["plan.created", "step.started", "step.completed", "operator.retry"]),
       st.dictionaries(st.text(max_size=4), st.recursive(
           st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=4),
           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
           max_leaves=8), max_size=4),
       st.sampled_from([TS, "2026-12-01T10:00:00.123456Z"]), st.integers(1, 10**15))
def test_a_record_made_from_its_parts_is_the_canonical_json_of_the_record(
        kind: str, payload: dict[str, Any], ts: str, seq: int) -> None:
    """Journal.append encodes only the payload and puts the rest around it: the same bytes."""
    fields = {"payload": payload, "schema_version": 1, "seq": seq, "ts": ts, "type": kind}
    assert body(kind, payload, ts, seq) == canonical(fields).encode()
    assert entry_ok(kind, payload, ts) == shape_ok({**fields, "checksum": "a" * 64}) is True


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=6), st.text(max_size=6), st.integers(-2, 10**15) | st.booleans(),
       st.none() | st.booleans() | st.integers() | st.text(max_size=3) | st.just({}) | st.just([])
       | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
def test_the_commonest_payloads_laid_out_by_a_format_are_their_canonical_json(
        step: str, key: str, attempt: int, outputs: Any) -> None:
    """body() lays out step.started and step.completed of the usual shape without the encoder: the same bytes,
    for any text (quotes, backslashes, control characters, non-ASCII), and the encoder for any other shape."""
    for kind, payload in (("step.started", {"step": step, "attempt": attempt, "idempotency_key": key}),
                          ("step.completed", {"outputs": outputs, "step": step, "attempt": attempt}),
                          ("step.started", {"step": step, "attempt": attempt, "idempotency_key": outputs})):
        fields = {"payload": payload, "schema_version": 1, "seq": 7, "ts": TS, "type": kind}
        assert body(kind, payload, TS, 7) == canonical(fields).encode()


@settings(max_examples=300, deadline=None)
@given(_VALUES, _VALUES, _VALUES)
def test_the_check_of_an_entry_agrees_with_the_check_of_its_record(kind: Any, payload: Any, ts: Any) -> None:
    record = {"payload": payload, "schema_version": 1, "seq": 1, "ts": ts, "type": kind, "checksum": "a" * 64}
    assert entry_ok(kind, payload, ts) == shape_ok(record)


# --- one writer per order -----------------------------------------------------------------------------------

HOLDER = """
import sys
from pathlib import Path
from dro_cli.journal.records import shape_ok
from dro_cli.journal.lock import OrderLock
lock = OrderLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
sys.stdin.read()
lock.release()
"""

TRY_LOCK = """
import sys
from pathlib import Path
from dro_cli.errors import DroError
from dro_cli.journal.records import shape_ok
from dro_cli.journal.lock import OrderLock
try:
    with OrderLock(Path(sys.argv[1])):
        print("acquired")
except DroError as error:
    print(error.message)
    sys.exit(error.exit_code)
"""


def _python(script: str, *args: str, **options: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, text=True, **options)


def _try_lock(order: Path) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", TRY_LOCK, str(order)], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, check=False)
    return done.returncode, done.stdout.strip()


def _holder(order: Path) -> subprocess.Popen[str]:
    proc = _python(HOLDER, str(order), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_process_is_told_who_holds_the_lock(order: Path) -> None:
    with OrderLock(order) as lock:
        assert lock.held and (order / "lock").read_text() == f"{os.getpid()}\n"
        assert _try_lock(order) == (2, f"order ORD-1 is locked by pid {os.getpid()}")
    assert _try_lock(order) == (0, "acquired")


def test_the_lock_frees_when_its_holder_exits(order: Path) -> None:
    proc = _holder(order)
    with pytest.raises(DroError, match=f"^order ORD-1 is locked by pid {proc.pid}$") as refused:
        OrderLock(order).acquire()
    assert refused.value.exit_code == 2 and refused.value.hint and str(proc.pid) in refused.value.hint
    proc.communicate("", timeout=30)
    assert proc.returncode == 0
    with OrderLock(order):
        pass


def test_the_lock_frees_when_its_holder_is_killed(order: Path) -> None:
    proc = _holder(order)
    assert _try_lock(order) == (2, f"order ORD-1 is locked by pid {proc.pid}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with OrderLock(order):
        assert (order / "lock").read_text() == f"{os.getpid()}\n"


# --- crashes ------------------------------------------------------------------------------------------------

WRITER = """
import sys
from pathlib import Path
from dro_cli.journal.file import Journal
from dro_cli.journal.records import shape_ok
from dro_cli.journal.lock import OrderLock

def meant(seq):
    return {"n": seq, "pad": "x" * (seq % 4 * 40000)}

order = Path(sys.argv[1])
with OrderLock(order), Journal.open(order) as journal:
    print(journal.last_seq, flush=True)
    while True:
        seq = journal.last_seq + 1
        journal.append([("step.started", meant(s), "2026-12-01T10:00:00Z") for s in range(seq, seq + 1 + seq % 3)])
"""


def _meant(seq: int) -> dict[str, Any]:
    return {"n": seq, "pad": "x" * (seq % 4 * 40000)}


def test_a_writer_killed_at_random_moments_leaves_a_prefix_of_what_it_meant(order: Path) -> None:
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    kept = 0
    started = time.monotonic()
    for _ in range(5):
        proc = _python(WRITER, str(order), stdout=subprocess.PIPE)
        assert proc.stdout is not None
        assert int(proc.stdout.readline()) >= kept, f"seed {seed}"
        time.sleep(rng.uniform(0.01, 0.2))
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        with OrderLock(order), Journal.open(order) as journal:
            records = journal.records
            assert records and len(records) >= kept, f"seed {seed}"
            assert [r["payload"] for r in records] == [_meant(n) for n in range(1, len(records) + 1)], f"seed {seed}"
            assert_chained(records)
            kept = len(records)
        assert verify(order / "journal.jsonl").ok
    assert time.monotonic() - started < 15
