"""The journal's record format: canonical JSON lines chained by checksums, and the one-pass scan that verifies them."""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from dro_cli.errors import EXIT_FAILED, DroError

SCHEMA_VERSION = 1
ZERO_CHECKSUM = "0" * 64

Record = dict[str, Any]

_KEYS = frozenset({"checksum", "payload", "schema_version", "seq", "ts", "type"})
PREFIX = b'{"checksum":"'  # then 64 hex digits and '",' (79 bytes), then the rest of the canonical body
_sha256 = hashlib.sha256
_UNSEEN = object()  # equal to no JSON value


class JournalDamaged(DroError):
    """The journal is damaged before its last record (or written by another dro): nothing was changed."""

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None) -> None:
        super().__init__(message, hint=hint, exit_code=EXIT_FAILED, code=code)


@dataclass(frozen=True)
class Scan:
    records: list[Record]  # the good records before the first bad line
    good_end: int  # bytes those records take
    lines: int  # lines in the file, an unfinished last one included
    bad_line: int | None = None
    reason: str | None = None
    cut: int = 0  # bytes from the bad line to the end of the file
    foreign: bool = False  # the bad line is a record of another schema version: never cut it
    last_line: int = 0  # bytes in the last good record's line, its newline included
    whole: bool = False  # the bad line ends with a newline: it was written to the end, so it is not torn

    @property
    def torn(self) -> bool:
        """A write that never finished: an unfinished last line. A whole last line that fails its checks
        was written (and fsynced) in full, then changed: damage, never cut off."""
        return self.bad_line == self.lines and not self.foreign and not self.whole


def scan_bytes(data: bytes, first_seq: int = 1, last_checksum: str = ZERO_CHECKSUM) -> Scan:
    """Verify a journal in one pass: one JSON parse and one sha256 per record. A part of a journal
    may be scanned too: `data` starts at record `first_seq`, chained to `last_checksum`."""
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline, else an unfinished line
    total = len(lines) + (1 if tail else 0)
    last = last_checksum.encode()
    is_shaped, sha256, prefix, keys, ts_ok, type_ok = shape_ok, _sha256, PREFIX, _KEYS, _TS, _TYPE
    records = _parse(lines)
    ts: object = _UNSEEN  # the last timestamp and type that matched their patterns (a batch shares them)
    kind: object = _UNSEEN
    # The check of _hashed_ok, inlined (a million records): the 64 hex digits of the checksum are the
    # line's bytes 13 to 77, so the next link is sliced from the line, not encoded from the record.
    for number, (line, record) in enumerate(zip(lines, records, strict=True)):
        # The common record first: shape_ok inlined, for an int seq and schema_version (what dro writes).
        if (type(record) is dict and record.keys() == keys and type(seq := record["seq"]) is int
                and seq == number + first_seq and seq >= 1 and line.startswith(prefix) and line[77:79] == b'",'
                and sha256(last + b"{" + line[79:]).hexdigest() == record["checksum"]
                and type(record["payload"]) is dict and type(version := record["schema_version"]) is int
                and version == SCHEMA_VERSION
                and ((stamp := record["ts"]) == ts or (type(stamp) is str and ts_ok(stamp) and (ts := stamp)))
                and ((name := record["type"]) == kind or (type(name) is str and type_ok(name) and (kind := name)))):
            last = line[13:77]
            continue
        if not (type(record) is dict and record.get("seq") == number + first_seq and line.startswith(prefix)
                and line[77:79] == b'",' and sha256(last + b"{" + line[79:]).hexdigest() == record.get("checksum")
                and is_shaped(record, hashed=True)):
            # the slow way, to say what is wrong
            record, reason, foreign = _check_alone(line, number + first_seq, last)
            if record is None:
                return _stopped(records[:number], lines, data, total, number + 1, reason, foreign, whole=True)
            records[number] = record
            last = record["checksum"].encode()
            continue
        last = line[13:77]
    if tail:
        reason = f"an unfinished line of {len(tail)} bytes (no final newline)"
        return _stopped(records, lines, data, total, total, reason, False)
    return Scan(records, len(data), total, last_line=len(lines[-1]) + 1 if lines else 0)


CHUNK = 1 << 21  # bytes a streaming scan reads at a time: some 7,000 records, folded, then dropped


@dataclass(frozen=True)
class Streamed:
    """What `scan_stream` found: `scan` as `scan_bytes` gives it for the whole stream, but its `records`
    hold only the last good record (the others went to the consumer); and how many good records there were."""

    scan: Scan
    count: int


def scan_stream(handle: BinaryIO, consume: Callable[[list[Record]], object], first_seq: int = 1,
                last_checksum: str = ZERO_CHECKSUM) -> Streamed:
    """`scan_bytes` of what `handle` reads from where it stands, chunk by chunk: each chunk's good records
    go to `consume`, so that memory holds one chunk, not the journal. Offsets are from where it started."""
    was_enabled = gc.isenabled()  # records and their fold are acyclic: no collector passes over them
    gc.disable()
    try:
        return _scan_chunks(handle, consume, first_seq, last_checksum)
    finally:
        if was_enabled:
            gc.enable()


def _scan_chunks(handle: BinaryIO, consume: Callable[[list[Record]], object], first_seq: int,
                 last_checksum: str) -> Streamed:
    done = lines_done = count = 0  # bytes and lines of the whole good lines scanned so far
    seq, last = first_seq, last_checksum
    kept: list[Record] = []
    last_line = 0
    carry = b""
    while True:
        block = handle.read(CHUNK)
        data = carry + block if carry else block
        if block:
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # one line longer than a chunk: read on
                carry = data
                continue
            part, carry = (data, b"") if cut == len(data) else (data[:cut], data[cut:])
        else:
            part, carry = data, b""  # the end: what is left is an unfinished last line, or nothing
        if part:
            scan = scan_bytes(part, seq, last)
            if scan.records:
                consume(scan.records)
                count += len(scan.records)
                seq += len(scan.records)
                last = scan.records[-1]["checksum"]
                kept = scan.records[-1:]
                last_line = scan.last_line
            if scan.bad_line is not None:
                rest, more = _count_rest(handle, carry)
                good_end = done + scan.good_end
                return Streamed(Scan(kept, good_end, lines_done + scan.lines + more, lines_done + scan.bad_line,
                                     scan.reason, len(part) - scan.good_end + rest, scan.foreign, last_line,
                                     scan.whole), count)
            done += len(part)
            lines_done += scan.lines
        if not block:
            return Streamed(Scan(kept, done, lines_done, last_line=last_line), count)


def _count_rest(handle: BinaryIO, carry: bytes) -> tuple[int, int]:
    """The bytes and lines (an unfinished last one included) from `carry` on to the end, for a refusal."""
    size, lines, end = len(carry), carry.count(b"\n"), carry[-1:]
    while block := handle.read(CHUNK):
        size, lines, end = size + len(block), lines + block.count(b"\n"), block[-1:]
    return size, lines + (1 if end not in (b"", b"\n") else 0)


def _stopped(records: list[Record], lines: list[bytes], data: bytes, total: int, bad_line: int, reason: str,
             foreign: bool, *, whole: bool = False) -> Scan:
    good_end = sum(map(len, lines[:len(records)])) + len(records)
    last_line = len(lines[len(records) - 1]) + 1 if records else 0
    return Scan(records, good_end, total, bad_line, reason, len(data) - good_end, foreign, last_line, whole)


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
    return (line.startswith(PREFIX) and line[77:79] == b'",'
            and _sha256(last + b"{" + line[79:]).hexdigest() == record.get("checksum"))


def _canonical_ok(record: Record, last: bytes) -> bool:
    """The checksum, from the canonical JSON of the record as the format defines it (for any layout)."""
    try:
        body = canonical({k: v for k, v in record.items() if k != "checksum"})
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
    if not shape_ok(record):
        return None, f"not a journal record: {explain(record)}", False
    if record["seq"] != number:
        return None, f"seq {record['seq']} where {number} was expected", False
    if not (_hashed_ok(line, record, last) or _canonical_ok(record, last)):
        return None, "the checksum does not match the record and the checksum of the record before it", False
    return record, "", False


def refusal(path: Path, scan: Scan) -> JournalDamaged:
    if scan.foreign:
        return JournalDamaged(f"{path} line {scan.bad_line}: {scan.reason}",
                              hint="use the dro that wrote this journal, or a newer one")
    after = scan.lines - (scan.bad_line or 0)
    if after == 0:
        return JournalDamaged(
            f"{path} is damaged at line {scan.bad_line}, its last record: {scan.reason}; the line is whole "
            "(it ends with a newline), so it was written in full and changed since: not a torn write",
            code="DRO521",
            hint="nothing was changed; the record may hold an operator's act or a step's outputs, so dro does not "
                 "cut it off: restore the journal from a backup, or delete that line by hand if you accept losing it")
    follow = "1 more line follows" if after == 1 else f"{after} more lines follow"
    return JournalDamaged(
        f"{path} is damaged at line {scan.bad_line}: {scan.reason}; {follow} it, so it is not a torn last write",
        hint="nothing was changed; restore the journal from a backup, or cut it at the damage by hand if you accept "
             "losing the records after it")


def _schema_patterns() -> dict[str, Callable[[str], object]]:
    """The schema's patterns, read from the schema itself so the two cannot drift apart."""
    import schemas  # a package of plain files; importlib.resources (zipfile and all) would cost every start-up

    text = (Path(schemas.__file__).parent / "journal-event.schema.json").read_text(encoding="utf-8")
    properties = json.loads(text)["properties"]
    return {name: re.compile(spec["pattern"]).search for name, spec in properties.items() if "pattern" in spec}


_PATTERNS = _schema_patterns()
# Journals repeat their timestamps (one per batch) and types (a few dozen): remember the answers.
_TS, _TYPE = (functools.lru_cache(maxsize=1024)(_PATTERNS.pop(name)) for name in ("ts", "type"))
_CHECKSUM = _PATTERNS.pop("checksum")
assert not _PATTERNS, "a new pattern in journal-event.schema.json needs checking in shape_ok"


def shape_ok(record: Any, *, hashed: bool = False) -> bool:
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


def explain(record: Any) -> str:
    """What the schema says is wrong with a record (jsonschema explains; it is only loaded here)."""
    from jsonschema.exceptions import best_match

    from dsl.schemas import validator

    error = best_match(validator("journal-event").iter_errors(record))
    if error is None:
        return "it does not match schemas/journal-event.schema.json"
    where = "".join(f"[{p!r}]" for p in error.absolute_path)
    return f"{where + ': ' if where else ''}{error.message}"


def entry_ok(kind: Any, payload: Any, ts: Any) -> bool:
    """`shape_ok` of a record Journal.append makes from (kind, payload, ts): its keys, seq, schema_version
    and checksum are right by construction, so only these three are left to check."""
    return type(payload) is dict and type(ts) is str and bool(_TS(ts)) and type(kind) is str and bool(_TYPE(kind))


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(value: Any) -> bytes:
    """Keys sorted, no spaces, UTF-8. (One encoder for every record: `json.dumps` with options makes a
    new one per call, a third of the cost; `_ENCODER.encode` still makes its C encoder per call, half
    the cost of a small payload, so dicts go to one made once.)"""
    if type(value) is dict and _C_ENCODE is not None:
        try:
            return "".join(_C_ENCODE(value, 0)).encode()
        except RecursionError:  # without markers, a circular value recurses: _ENCODER says what it is
            pass
    return _ENCODER.encode(value).encode()


def _c_encoder() -> Callable[[Any, int], list[str]] | None:
    """The C encoder of `_ENCODER`'s options, without the circular-reference markers (a dict shared by
    calls would keep stale ids after an error); None where there is none or it encodes otherwise."""
    from json import encoder

    c_make_encoder = getattr(encoder, "c_make_encoder", None)  # not in typeshed: an implementation detail
    if c_make_encoder is None:
        return None
    try:
        encode = c_make_encoder(None, _ENCODER.default, encoder.encode_basestring, None, ":", ",", True, False, False)
        sample = {"b": [1, 2.5, None, True, "é\n\""], "a": {"z": {}, "y": []}, "c": -0.0}
        if "".join(encode(sample, 0)) != _ENCODER.encode(sample):
            return None
    except Exception:  # another Python's signature: the plain encoder does
        return None
    return encode  # type: ignore[no-any-return]


_C_ENCODE = _c_encoder()


_BODY = b'{"payload":%s,"schema_version":%d,"seq":%d,"ts":%s,"type":%s}'
_STRINGS: dict[str, bytes] = {}  # the canonical JSON of the record types (a few dozen) and timestamps seen


def body(kind: str, payload: Mapping[str, Any], ts: str, seq: int) -> bytes:
    """`canonical` of the record {payload, schema_version, seq, ts, type}, with only the payload encoded:
    the keys sort in that order, and the rest are an int and strings, whose encodings are remembered.
    (tests/test_journal.py checks it against `canonical` of the whole record.)"""
    strings = _STRINGS
    ts_json = strings.get(ts)
    if ts_json is None:
        if len(strings) >= 4096:
            strings.clear()
        ts_json = strings[ts] = canonical(ts)
    kind_json = strings.get(kind)
    if kind_json is None:
        kind_json = strings[kind] = canonical(kind)
    return _BODY % (_payload_json(payload), SCHEMA_VERSION, seq, ts_json, kind_json)


_STARTED = frozenset({"attempt", "idempotency_key", "step"})  # the keys of a step.started of an auto step
_COMPLETED = frozenset({"attempt", "outputs", "step"})  # and of a step.completed
_quoted = json.encoder.encode_basestring  # the C function _C_ENCODE quotes strings with (ensure_ascii off)


def _payload_json(payload: Mapping[str, Any]) -> bytes:
    """`canonical(payload)`; the runner's two commonest payloads (two thirds of a run's records) laid out
    by a format, a third of the encoder's cost. (tests/test_journal.py checks them against `canonical`.)"""
    keys = payload.keys()
    if keys == _COMPLETED:
        attempt, outputs, step = payload["attempt"], payload["outputs"], payload["step"]
        if type(attempt) is int and type(step) is str and type(outputs) is dict and not outputs:
            return f'{{"attempt":{attempt},"outputs":{{}},"step":{_quoted(step)}}}'.encode()
    elif keys == _STARTED:
        attempt, key, step = payload["attempt"], payload["idempotency_key"], payload["step"]
        if type(attempt) is int and type(key) is str and type(step) is str:
            return f'{{"attempt":{attempt},"idempotency_key":{_quoted(key)},"step":{_quoted(step)}}}'.encode()
    return canonical(payload)
