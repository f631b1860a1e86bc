"""The journal of one order: append-only, checksummed, chained records, durable when appended.

`<state-dir>/orders/<order-id>/` holds `plan.json` (written atomically), `journal.jsonl`
and `lock` (see order_lock.py). Each line of the journal is one record, the canonical
JSON (keys sorted, no spaces, UTF-8) of `seq`, `ts`, `type`, `payload`, `schema_version`
and `checksum`: the sha256 of the previous record's checksum (64 zeros for the first)
followed by the canonical JSON of the record without `checksum`. Since `checksum` sorts
first, a reader hashes the bytes of the line after it and re-serializes nothing.

Opening the journal cuts off a torn or bad last line (a write that never finished)
and reports it; damage before good records is refused and nothing is changed.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

from dro_cli.errors import EXIT_FAILED, EXIT_USAGE, DroError
from dro_cli.files import fsync_directory, write_atomically

SCHEMA_VERSION = 1
ZERO_CHECKSUM = "0" * 64
JOURNAL_FILE = "journal.jsonl"
PLAN_FILE = "plan.json"

Record = dict[str, Any]
Entry = tuple[str, Mapping[str, Any], str]  # (type, payload, ts), as Journal.append takes them

_KEYS = frozenset({"checksum", "payload", "schema_version", "seq", "ts", "type"})
_PREFIX = b'{"checksum":"'  # then 64 hex digits and '",' (79 bytes), then the rest of the canonical body
_ORDER_ID = re.compile(r"[^./\\\s\x00-\x1f\x7f][^/\\\s\x00-\x1f\x7f]*")  # as schemas/order.schema.json
_sha256 = hashlib.sha256


class JournalDamaged(DroError):
    """The journal is damaged before its last record (or written by another dro): nothing was changed."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, exit_code=EXIT_FAILED)


def timestamp(moment: datetime) -> str:
    """A record's `ts`: an aware datetime in ISO 8601 UTC, e.g. 2026-12-01T10:00:00Z."""
    if moment.tzinfo is None:
        raise ValueError("a journal timestamp needs an aware datetime")
    text = moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    return text + "Z"


def order_dir(state_dir: Path, order_id: str) -> Path:
    """The directory of an order's files under `state_dir`, created (durably) if need be."""
    if not _ORDER_ID.fullmatch(order_id):
        raise DroError(f"bad order id {order_id!r}", exit_code=EXIT_USAGE,
                       hint="an order id is text without spaces, '/' or '\\', not starting with '.'")
    path = state_dir / "orders" / order_id
    missing = [p for p in (path, path.parent, state_dir) if not p.is_dir()]
    path.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        fsync_directory(created.parent)
    return path


def write_plan(order_dir: Path, plan: Mapping[str, Any]) -> Path:
    """Write `plan.json` atomically: readers see the old plan or the new one, and a crash loses neither."""
    path = order_dir / PLAN_FILE
    write_atomically(path, json.dumps(plan, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
    return path


class Journal:
    """An order's journal, open for appending. Hold the order's `OrderLock` while it is open."""

    def __init__(self, path: Path, fd: int, records: list[Record], size: int, recovered: str | None) -> None:
        self.path = path
        self.records = records  # every record so far, oldest first; read it, do not change it
        self.recovered = recovered  # what opening cut off and why, or None
        self._fd: int | None = fd
        self._size = size
        self._last = records[-1]["checksum"] if records else ZERO_CHECKSUM
        self._broken = False

    @classmethod
    def open(cls, order_dir: Path) -> Journal:
        """Open (or create) `<order_dir>/journal.jsonl`, verify it, and cut off a torn last line."""
        path = order_dir / JOURNAL_FILE
        created = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            if created:
                fsync_directory(order_dir)
            with open(path, "rb") as handle:
                scan = _scan(handle.read())
            recovered = None
            if scan.bad_line is not None:
                if not scan.torn:
                    raise _refusal(path, scan)
                os.ftruncate(fd, scan.good_end)
                os.fsync(fd)
                recovered = f"cut off the torn last line {scan.bad_line} of {path} ({scan.cut} bytes): {scan.reason}"
            return cls(path, fd, scan.records, scan.good_end, recovered)
        except BaseException:
            os.close(fd)
            raise

    @property
    def last_seq(self) -> int:
        return len(self.records)

    def append(self, entries: Sequence[Entry]) -> list[Record]:
        """Append records, written together and fsynced once: they are durable when this returns."""
        if self._fd is None or self._broken:
            raise DroError(f"{self.path} is {'closed' if self._fd is None else 'not writable after an error'}",
                           hint="open the journal again to continue")
        made: list[Record] = []
        lines: list[bytes] = []
        last = self._last
        for kind, payload, ts in entries:
            body = _canonical({"payload": payload, "schema_version": SCHEMA_VERSION,
                               "seq": self.last_seq + len(made) + 1, "ts": ts, "type": kind})
            last = _sha256(last.encode() + body).hexdigest()
            line = b"%s%s\",%s\n" % (_PREFIX, last.encode(), body[1:])
            record = json.loads(line)
            if not _shape_ok(record):
                raise ValueError(f"not a journal record: {_explain(record)}")
            made.append(record)
            lines.append(line)
        if not made:
            return made
        data = b"".join(lines)
        try:
            _write_all(self._fd, data)
            os.fsync(self._fd)
        except BaseException:
            self._broken = True  # the file may hold part of the batch: opening again sorts it out
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += len(data)
        self._last = last
        self.records.extend(made)
        return made

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found: how many good records, and the first bad line with its reason."""

    path: Path
    records: int
    lines: int
    bad_line: int | None = None
    reason: str | None = None
    recoverable: bool = False  # the bad line is a torn last line, which opening the journal cuts off

    @property
    def ok(self) -> bool:
        return self.bad_line is None


def verify(path: Path) -> VerifyReport:
    """Check every record of a journal file (sequence, shape, checksum chain); change nothing."""
    scan = _scan(_read(path))
    return VerifyReport(path, len(scan.records), scan.lines, scan.bad_line, scan.reason, scan.torn)


def read(path: Path) -> list[Record]:
    """The records of a journal, for readers without the lock; a torn last line (perhaps being
    written right now) is left out, and damage before good records raises `JournalDamaged`."""
    scan = _scan(_read(path))
    if scan.bad_line is not None and not scan.torn:
        raise _refusal(path, scan)
    return scan.records


@dataclass(frozen=True)
class _Scan:
    records: list[Record]  # the good records before the first bad line
    good_end: int  # bytes those records take
    lines: int  # lines in the file, an unfinished last one included
    bad_line: int | None = None
    reason: str | None = None
    cut: int = 0  # bytes from the bad line to the end of the file
    foreign: bool = False  # the bad line is a record of another schema version: never cut it

    @property
    def torn(self) -> bool:
        return self.bad_line == self.lines and not self.foreign


def _scan(data: bytes) -> _Scan:
    """Verify a journal in one pass: one JSON parse and one sha256 per record."""
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline, else an unfinished line
    total = len(lines) + (1 if tail else 0)
    last = ZERO_CHECKSUM.encode()
    shape_ok, hashed_ok = _shape_ok, _hashed_ok
    records: list[Record] = []
    for number, (line, record) in enumerate(zip(lines, _parse(lines), strict=True), 1):
        if not (type(record) is dict and record.get("seq") == number and hashed_ok(line, record, last)
                and shape_ok(record, hashed=True)):
            record, reason, foreign = _check_alone(line, number, last)  # the slow way, to say what is wrong
            if record is None:
                return _stopped(records, lines, data, total, number, reason, foreign)
        records.append(record)
        last = record["checksum"].encode()
    if tail:
        reason = f"an unfinished line of {len(tail)} bytes (no final newline)"
        return _stopped(records, lines, data, total, total, reason, False)
    return _Scan(records, len(data), total)


def _stopped(records: list[Record], lines: list[bytes], data: bytes, total: int, bad_line: int, reason: str,
             foreign: bool) -> _Scan:
    good_end = sum(map(len, lines[:len(records)])) + len(records)
    return _Scan(records, good_end, total, bad_line, reason, len(data) - good_end, foreign)


def _parse(lines: list[bytes]) -> list[Any]:
    """Every line as JSON, all at once as one array (twice as fast as line by line); if that fails,
    None for every line, and each is checked on its own."""
    was_enabled = gc.isenabled()  # as dsl.gc_pause, without importing all of dsl: a million acyclic
    gc.disable()  # records would make the collector scan them again and again
    try:
        values: list[Any] = json.loads(b"[" + b",".join(lines) + b"]")
        return values if len(values) == len(lines) else [None] * len(lines)
    except (ValueError, RecursionError):
        return [None] * len(lines)
    finally:
        if was_enabled:
            gc.enable()


def _hashed_ok(line: bytes, record: Record, last: bytes) -> bool:
    """The checksum, from the line's bytes as dro lays them out (checksum first, then the canonical body)."""
    return (line.startswith(_PREFIX) and line[77:79] == b'",'
            and _sha256(last + b"{" + line[79:]).hexdigest() == record.get("checksum"))


def _canonical_ok(record: Record, last: bytes) -> bool:
    """The checksum, from the canonical JSON of the record as the format defines it (for any layout)."""
    try:
        body = _canonical({k: v for k, v in record.items() if k != "checksum"})
    except (ValueError, TypeError):
        return False
    return bool(_sha256(last + body).hexdigest() == record["checksum"])


def _check_alone(line: bytes, number: int, last: bytes) -> tuple[Record | None, str, bool]:
    """Line `number` parsed and checked on its own: the record, else why it is not the next record
    and whether it is a record of another schema version."""
    if not line.strip():
        return None, "an empty line", False
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as error:
        return None, f"not JSON ({error})", False
    if type(record) is not dict:
        return None, "not a JSON object", False
    version = record.get("schema_version")
    if version != SCHEMA_VERSION and type(version) is int:
        return None, f"a record of journal schema_version {version}; this dro reads version {SCHEMA_VERSION}", True
    if not _shape_ok(record):
        return None, f"not a journal record: {_explain(record)}", False
    if record["seq"] != number:
        return None, f"seq {record['seq']} where {number} was expected", False
    if not (_hashed_ok(line, record, last) or _canonical_ok(record, last)):
        return None, "the checksum does not match the record and the checksum of the record before it", False
    return record, "", False


def _refusal(path: Path, scan: _Scan) -> JournalDamaged:
    if scan.foreign:
        return JournalDamaged(f"{path} line {scan.bad_line}: {scan.reason}",
                              hint="use the dro that wrote this journal, or a newer one")
    after = scan.lines - (scan.bad_line or 0)
    follow = "1 more line follows" if after == 1 else f"{after} more lines follow"
    return JournalDamaged(
        f"{path} is damaged at line {scan.bad_line}: {scan.reason}; {follow} it, so it is not a torn last write",
        hint="nothing was changed; restore the journal from a backup, or cut it at the damage by hand if you accept "
             "losing the records after it")


def _schema_patterns() -> dict[str, Callable[[str], object]]:
    """The schema's patterns, read from the schema itself so the two cannot drift apart."""
    text = resources.files("schemas").joinpath("journal-event.schema.json").read_text(encoding="utf-8")
    properties = json.loads(text)["properties"]
    return {name: re.compile(spec["pattern"]).search for name, spec in properties.items() if "pattern" in spec}


_PATTERNS = _schema_patterns()
# Journals repeat their timestamps (one per batch) and types (a few dozen): remember the answers.
_TS, _TYPE = (functools.lru_cache(maxsize=1024)(_PATTERNS.pop(name)) for name in ("ts", "type"))
_CHECKSUM = _PATTERNS.pop("checksum")
assert not _PATTERNS, "a new pattern in journal-event.schema.json needs checking in _shape_ok"


def _shape_ok(record: Any, *, hashed: bool = False) -> bool:
    """The journal-event schema, inlined: `fast_check` costs 10 us a record, too much for a million.

    `hashed`: the checksum is known to equal a sha256 hexdigest, so its pattern holds.
    tests/test_journal.py checks that it agrees with `dsl.schemas.validator("journal-event")`.
    """
    if type(record) is not dict or record.keys() != _KEYS:
        return False
    seq, version, ts, kind, checksum = (record["seq"], record["schema_version"], record["ts"], record["type"],
                                        record["checksum"])
    return bool(
        (type(seq) is int or (type(seq) is float and seq.is_integer())) and seq >= 1
        and (type(version) is int or type(version) is float) and version == SCHEMA_VERSION
        and type(record["payload"]) is dict
        and type(ts) is str and _TS(ts) and type(kind) is str and _TYPE(kind)
        and type(checksum) is str and (hashed or _CHECKSUM(checksum))
    )


def _explain(record: Any) -> str:
    """What the schema says is wrong with a record (jsonschema explains; it is only loaded here)."""
    from jsonschema.exceptions import best_match

    from dsl.schemas import validator

    error = best_match(validator("journal-event").iter_errors(record))
    if error is None:
        return "it does not match schemas/journal-event.schema.json"
    where = "".join(f"[{p!r}]" for p in error.absolute_path)
    return f"{where + ': ' if where else ''}{error.message}"


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DroError(f"no journal at {path}", exit_code=EXIT_USAGE) from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]

