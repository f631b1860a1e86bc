"""The journal of one order: append-only, checksummed, chained records, durable when appended.

`<state-dir>/orders/<order-id>/` holds `plan.json` (written atomically), `journal.jsonl`
and `lock` (see lock.py). Each line of the journal is one record, the canonical
JSON (keys sorted, no spaces, UTF-8) of `seq`, `ts`, `type`, `payload`, `schema_version`
and `checksum`: the sha256 of the previous record's checksum (64 zeros for the first)
followed by the canonical JSON of the record without `checksum`. Since `checksum` sorts
first, a reader hashes the bytes of the line after it and re-serializes nothing.

Opening the journal cuts off a torn last line (an unfinished one, without its newline:
a write that never finished) and reports it; a whole line that fails its checks, the
last one included, is damage (DRO521 for the last): refused, and nothing is changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from dro_cli.errors import EXIT_USAGE, DroError
from dro_cli.journal.files import fsync_directory, last_line, open_regular, read_regular, write_file
from dro_cli.journal.path_errors import about_path, path_error
from dro_cli.journal.records import (
    PREFIX,
    SCHEMA_VERSION,
    ZERO_CHECKSUM,
    Record,
    Scan,
    body,
    entry_ok,
    explain,
    refusal,
    scan_bytes,
    scan_stream,
)
from dro_cli.journal.records import (
    JournalDamaged as JournalDamaged,  # raised by this module's readers
)

JOURNAL_FILE = "journal.jsonl"
PLAN_FILE = "plan.json"
STATE_ELSEWHERE = "use another state directory (--state-dir)"  # the alternative, for the files a new order makes

Entry = tuple[str, Mapping[str, Any], str]  # (type, payload, ts), as Journal.append takes them

_ORDER_ID = re.compile(r"[^./\\\s\x00-\x1f\x7f][^/\\\s\x00-\x1f\x7f]*")  # as schemas/order.schema.json
_sha256 = hashlib.sha256


def timestamp(moment: datetime) -> str:
    """A record's `ts`: an aware datetime in ISO 8601 UTC, e.g. 2026-12-01T10:00:00Z."""
    if moment.tzinfo is None:
        raise ValueError("a journal timestamp needs an aware datetime")
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def order_dir(state_dir: Path, order_id: str) -> Path:
    """The directory of an order's files under `state_dir`, created (durably) if need be."""
    if not _ORDER_ID.fullmatch(order_id):
        raise DroError(f"bad order id {order_id!r}", exit_code=EXIT_USAGE,
                       hint="an order id is text without spaces, '/' or '\\', not starting with '.'")
    path = state_dir / "orders" / order_id
    missing = [p for p in (path, path.parent, state_dir) if not p.is_dir()]
    with about_path(path, "create", elsewhere=STATE_ELSEWHERE):
        path.mkdir(parents=True, exist_ok=True)
        for created in reversed(missing):
            fsync_directory(created.parent)
    return path


def write_plan(order_dir: Path, plan: Mapping[str, Any]) -> Path:
    """Write `plan.json` atomically: readers see the old plan or the new one, and a crash loses neither."""
    path = order_dir / PLAN_FILE
    from dro_cli.journal.indented_json import dumps  # json.dumps(indent=2)'s text, in a third of the time

    write_file(path, dumps(plan) + "\n",
               then="then run the order file again: nothing was journaled", elsewhere=STATE_ELSEWHERE)
    return path


class Journal:
    """An order's journal, open for appending. Hold the order's `OrderLock` while it is open."""

    def __init__(self, path: Path, fd: int, records: list[Record], size: int, recovered: str | None,
                 last_line: int = 0, *, after: Position | None = None, first: Record | None = None) -> None:
        self.path = path
        # the records read on opening (every one, or with `after` those after that position) and those
        # appended since, oldest first; read it, do not change it
        self.records = records
        self.after = after  # the position opening read on from (a snapshot's), or None: it read every record
        self.first = first if after is not None else records[0] if records else None  # record 1, verified
        self.recovered = recovered  # what opening cut off and why, or None
        self._fd: int | None = fd
        self._size = size
        self._base = 0 if after is None else after.seq  # records before `records`
        self._last = records[-1]["checksum"] if records else ZERO_CHECKSUM if after is None else after.checksum
        self._last_line = last_line  # bytes in the last record's line
        self._broken = False

    @classmethod
    def open(cls, order_dir: Path, after: Position | None = None) -> Journal:
        """Open (or create) `<order_dir>/journal.jsonl`, verify it, and cut off a torn last line.

        With `after` (a snapshot's position), only what follows it is read and verified, if the journal
        still holds that record there (and a genuine first record); else the whole journal is."""
        path = order_dir / JOURNAL_FILE
        created = not path.exists()
        with about_path(path, "open", elsewhere=None):
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            with about_path(path, "open", elsewhere=None):
                if created:
                    fsync_directory(order_dir)
                tail = None if created or after is None else _scan_after(path, after)
                if after is not None and tail is not None:
                    (scan, first), start = tail, after.end
                else:
                    after, first, start, scan = None, None, 0, scan_bytes(read_regular(path))
            recovered = None
            if scan.bad_line is not None:
                if not scan.torn:
                    raise refusal(path, scan)
                with about_path(path, "repair", elsewhere=None):
                    os.ftruncate(fd, start + scan.good_end)
                    os.fsync(fd)
                line = scan.bad_line + (0 if after is None else after.seq)
                recovered = f"cut off the torn last line {line} of {path} ({scan.cut} bytes): {scan.reason}"
            last_line = scan.last_line if scan.records or after is None else after.end - after.line_start
            return cls(path, fd, scan.records, start + scan.good_end, recovered, last_line, after=after, first=first)
        except BaseException:
            os.close(fd)
            raise

    @property
    def last_seq(self) -> int:
        return self._base + len(self.records)

    @property
    def position(self) -> Position | None:
        """Where the journal stands now (None while it is empty)."""
        if not self.last_seq:
            return None
        return Position(self.last_seq, self._last, self._size - self._last_line, self._size)

    def append(self, entries: Sequence[Entry]) -> list[Record]:
        """Append records, written together and fsynced once: they are durable when this returns.

        Payloads are JSON values (dicts, lists, strings, numbers, booleans, None); the records
        returned hold them as given, as equal to what a reader parses back."""
        if self._fd is None or self._broken:
            raise DroError(f"{self.path} is {'closed' if self._fd is None else 'not writable after an error'}",
                           hint="open the journal again to continue")
        made: list[Record] = []
        lines: list[bytes] = []
        last = self._last.encode()
        seq = self.last_seq
        for kind, payload, ts in entries:
            seq += 1
            if not entry_ok(kind, payload, ts):  # what shape_ok would refuse in a record made here
                record = {"payload": payload, "schema_version": SCHEMA_VERSION, "seq": seq, "ts": ts, "type": kind}
                raise ValueError(f"not a journal record: {explain(record)}")
            encoded = body(kind, payload, ts, seq)
            checksum = _sha256(last + encoded).hexdigest()
            last = checksum.encode()
            made.append({"payload": payload, "schema_version": SCHEMA_VERSION, "seq": seq, "ts": ts, "type": kind,
                         "checksum": checksum})
            lines.append(b"%s%s\",%s\n" % (PREFIX, last, encoded[1:]))
        if not made:
            return made
        data = b"".join(lines)
        try:
            _write_all(self._fd, data)
            os.fsync(self._fd)
        except BaseException as error:
            self._broken = True  # the file may hold part of the batch: opening again sorts it out
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            if isinstance(error, OSError):
                then = (f"the journal is intact up to its last whole record; once that is fixed, "
                        f"`dro run {self.path.parent.name}` goes on from there") if self.last_seq else \
                    "nothing was journaled; once that is fixed, run the order file again"
                raise path_error(error, self.path, then=then, elsewhere=None) from None
            raise
        self._size += len(data)
        self._last = made[-1]["checksum"]
        self._last_line = len(lines[-1])
        self.records.extend(made)
        if self.first is None:
            self.first = made[0]
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
    scan = scan_bytes(_read(path))
    return VerifyReport(path, len(scan.records), scan.lines, scan.bad_line, scan.reason, scan.torn)


@dataclass(frozen=True)
class Position:
    """Where a journal stood after record `seq`: a snapshot's anchor, to read only what came after."""

    seq: int
    checksum: str
    line_start: int  # the byte offset of record `seq`'s line
    end: int  # the byte offset just after it


def read_after(path: Path, position: Position) -> list[Record] | None:
    """The records after `position`, if the journal still holds record `position.seq` with that checksum
    there and everything after it chains on; None if not (the caller reads the whole journal instead)."""
    tail = _scan_after(path, position)
    return None if tail is None else tail[0].records


def _scan_after(path: Path, position: Position) -> tuple[Scan, Record] | None:
    """The scan of what follows `position`, and record 1, if the journal holds a genuine first record and,
    at `position`, record `position.seq` with that checksum, verified against the one before it; and what
    follows chains on, a torn last line aside. None if not: read the whole journal instead."""
    try:
        with open_regular(path) as handle:
            first = scan_bytes(handle.readline())  # record 1 chains to zeros: it is checked on its own
            if first.bad_line is not None or not first.records or not _anchored(handle, position):
                return None
            handle.seek(position.end)
            scan = scan_bytes(handle.read(), position.seq + 1, position.checksum)
    except (OSError, ValueError, TypeError):
        return None
    if scan.bad_line is not None and not scan.torn:
        return None
    return scan, first.records[0]


def _anchored(handle: BinaryIO, position: Position) -> bool:
    """Whether the line from `position.line_start` to `position.end` is record `position.seq`, with that
    checksum, hashed from its bytes and the checksum of the line before it (read back from there)."""
    start, end = position.line_start, position.end
    if not (type(position.seq) is int and position.seq >= 1 and 0 <= start < end and type(position.checksum) is str):
        return False
    if position.seq == 1:
        before, behind = b"", start == 0
    else:
        before = last_line(handle, start, 1 << 12)  # the line before the anchor, whole
        behind = before.endswith(b"\n")
    if not behind:
        return False
    handle.seek(start)
    line = handle.read(end - start)
    if position.seq == 1:
        last = ZERO_CHECKSUM
    else:
        try:
            previous = json.loads(before)
        except (ValueError, RecursionError):
            return False
        if type(previous) is not dict or previous.get("seq") != position.seq - 1 or \
                type(previous.get("checksum")) is not str:
            return False
        last = previous["checksum"]
    scan = scan_bytes(line, position.seq, last)
    return scan.bad_line is None and len(scan.records) == 1 and scan.records[0]["checksum"] == position.checksum


def read_streaming(path: Path, consume: Callable[[list[Record]], object]) -> tuple[int, Record | None,
                                                                                   Position | None]:
    """`read_positioned` without holding the records: they go to `consume` chunk by chunk. Returns how many
    there were, the first one, and the position after the last; damage before good records raises
    `JournalDamaged` once the chunks before it are consumed."""
    first: list[Record] = []

    def take(records: list[Record]) -> None:
        if not first:
            first.append(records[0])
        consume(records)

    try:
        with open_regular(path) as handle:
            streamed = scan_stream(handle, take)
    except FileNotFoundError:
        raise DroError(f"no journal at {path}", exit_code=EXIT_USAGE) from None
    except OSError as error:
        raise path_error(error, path, "read", elsewhere=None) from None
    scan = streamed.scan
    if scan.bad_line is not None and not scan.torn:
        raise refusal(path, scan)
    return streamed.count, first[0] if first else None, position_of(scan.records, scan.good_end, scan.last_line)


def position_of(records: Sequence[Record], end: int, last_line: int) -> Position | None:
    """The position after the last of `records`, whose line is `last_line` bytes and ends at `end`."""
    if not records:
        return None
    return Position(records[-1]["seq"], records[-1]["checksum"], end - last_line, end)


def read(path: Path) -> list[Record]:
    """The records of a journal, for readers without the lock; a torn last line (perhaps being
    written right now) is left out, and damage before good records raises `JournalDamaged`."""
    return read_positioned(path)[0]


def read_positioned(path: Path) -> tuple[list[Record], Position | None]:
    """`read`, and the position after the last record read."""
    scan = scan_bytes(_read(path))
    if scan.bad_line is not None and not scan.torn:
        raise refusal(path, scan)
    return scan.records, position_of(scan.records, scan.good_end, scan.last_line)


def _read(path: Path) -> bytes:
    try:
        return read_regular(path)
    except FileNotFoundError:
        raise DroError(f"no journal at {path}", exit_code=EXIT_USAGE) from None
    except OSError as error:
        raise path_error(error, path, "read", elsewhere=None) from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]

