"""An order's digest: what the commands that look across orders need, without folding every journal.

`dro fallout`, `dro jeopardy` and `dro tick` scan the whole state directory. Folding
10,000 journals would take seconds, so whoever folds an order leaves `digest.json`
beside its journal: the steps in fallout, the unfinished steps with an SLA, and the
next timer and SLA crossing; and what `dro status` shows of the order (`summary`: what it
waits on, the cancel act, its requested date, and what its forecast is made of, so that the
expected completion is worked out at the time of reading by the engine's own code). Nothing
in it depends on the time of reading. It holds
the journal's size when it was made and is used only while the journal still has
that size (the journal only grows, and a writer that cuts a torn line shrinks it)
and still ends with the record it names (`last_seq`, `last_checksum`, at byte
`last_line_start`), and while its content hashes to its `digest_sha256` (chained to
that checksum); otherwise the order is folded again and the digest rewritten.

Since version 6 the hash is of the file's bytes as written, so a reader hashes what it read
instead of encoding the parsed digest again, as version 5 did; version 7 adds the order's revision
to the summary. The file
is still one JSON object, its hash first: `{"digest_sha256":"<64 hex>",` then the rest of the
object's bytes; the hash is of the last checksum, then `{` and those bytes. Older versions
are still recognised as genuine (their last record is a high-water mark) but not used by a
scan: it makes them again, once, as version 6. Like
the snapshot, it is a cache: never the truth, and not fsynced; and like the
snapshot's anchor, its last record is a high-water mark (DRO517, store.py). The hash
detects damage and naive forgery, not a forger who runs this code (see snapshot.py);
`dro verify` compares the digest with one made afresh from the records.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dro_cli.engine.instants import iso, iso_or_none
from dro_cli.engine.machine import DEFAULT_FALLOUT_QUEUE, Engine
from dro_cli.engine.retry import override_queues
from dro_cli.engine.sla import sla_thresholds
from dro_cli.engine.states import DISPATCHED_TYPES, FINISHED, StepState
from dro_cli.engine.waiting import waiting_on
from dro_cli.journal.file import JOURNAL_FILE, Position
from dro_cli.journal.files import write_atomically
from dro_cli.journal.records import PREFIX, canonical

DIGEST_FILE = "digest.json"
KIND = "dro/digest"
VERSION = 7      # 7: the summary holds the order's revision
V6 = 6           # hashed as VERSION is, without the revision: read to check, made again as VERSION
V5 = 5           # the content hashed as canonical JSON (keys sorted): read to check, made again as VERSION
_HEAD = b'{"digest_sha256":"'
_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # decode() without its whitespace matching
_BODY_AT = len(_HEAD) + 64 + 2  # after the hash and '",'


def build(engine: Engine, position: Position) -> dict[str, Any]:
    """The digest of an order whose journal, ending at `position`, folds to `engine`."""
    fallout, watch = [], []
    for sid, run in engine.runs.items():
        if run.state in FINISHED:
            continue
        step = engine.steps[sid]
        if run.state is StepState.FATALLY_FAILED:
            error = run.error or {}
            fallout.append({"id": sid, "step": step["step"], "queue": run.queue, "error": error.get("code"),
                            "message": error.get("message"), "attempts": run.attempts,
                            "since": iso_or_none(run.finished_at)})
        if run.ready_at is not None:
            jeopardy_from, due = sla_thresholds(step, run.ready_at)
            if due is not None:
                watch.append({"id": sid, "step": step["step"], "lane": step["lane"], "ready_at": iso(run.ready_at),
                              "due": iso(due), "jeopardy_from": iso_or_none(jeopardy_from)})
    made = {
        "kind": KIND, "schema_version": VERSION, "journal_end": position.end, "last_seq": position.seq,
        "last_checksum": position.checksum, "last_line_start": position.line_start,
        "order": engine.order_id, "state": str(engine.state), "progress": list(engine.progress()),
        "next_timer": iso_or_none(engine.next_timer()), "next_crossing": iso_or_none(engine.next_crossing()),
        "in_doubt": bool(engine.in_doubt()), "fallout": fallout, "watch": watch, "queues": queues(engine),
        "summary": summary(engine),
    }
    body = _body(made)  # encoded once: hashed here, written by `save` (a 10,000-step order's is 1 MB)
    sha = _sha256(made["last_checksum"], b"{" + body)
    built = Built({"digest_sha256": sha, **made})
    built.encoded = b'%s%s",%s' % (_HEAD, sha.encode(), body)
    return built


class Built(dict):  # type: ignore[type-arg]
    """A digest as `build` made it, with the bytes `encode` gives for it (not to be changed in place)."""

    encoded: bytes


def summary(engine: Engine) -> dict[str, Any]:
    """What `order_summary` needs beyond the state and progress: `waiting_on` and the cancel act as they are;
    the revision (an engine's field: no work per step); the requested date; and, while the plan is neither
    completed nor canceled, its forecast's inputs, one row per step in plan order (id, after, duration, state,
    finished_at, ready_at, retry_at, resume_at).
    Instants are written as the journal writes them, so that a writer's engine and a fold of its journal
    leave the same digest, and the forecast made from it is the one the fold would give."""
    forecast = [] if engine.canceled is not None or engine.completed_at is not None else [
        [sid, step["after"], step.get("duration"), str(run.state), iso_or_none(run.finished_at),
         iso_or_none(run.ready_at), iso_or_none(run.retry_at), iso_or_none(run.resume_at)]
        for sid, step in engine.steps.items() for run in (engine.runs[sid],)]
    return {"waiting_on": waiting_on(engine), "canceled": engine.canceled, "revision": engine.revision,
            "completed_at": iso_or_none(engine.completed_at),
            "requested_date": engine.plan["context"]["order"].get("requested_date"), "forecast": forecast}


def content_sha256(digest: Mapping[str, Any]) -> str:
    """The sha256 of the digest's content (every key but `digest_sha256`, as `encode` writes it), chained to
    its last record's checksum."""
    return _sha256(digest.get("last_checksum"), b"{" + _body(digest))


def encode(digest: Mapping[str, Any]) -> bytes:
    """The bytes of digest.json: `digest_sha256` first, then the rest as `content_sha256` hashed it."""
    if type(digest) is Built:
        return digest.encoded
    return b'%s%s",%s' % (_HEAD, str(digest["digest_sha256"]).encode(), _body(digest))


def _body(digest: Mapping[str, Any]) -> bytes:
    """The object's bytes after its opening brace, `digest_sha256` left out."""
    content = {key: value for key, value in digest.items() if key != "digest_sha256"}
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()[1:]


def _sha256(last_checksum: Any, content: bytes) -> str:
    return hashlib.sha256(str(last_checksum).encode() + content).hexdigest()


def _v5_sha256(digest: Mapping[str, Any]) -> str:
    body = {key: value for key, value in digest.items() if key != "digest_sha256"}
    return _sha256(digest.get("last_checksum"), canonical(body))


def queues(engine: Engine) -> list[str]:
    """Every queue a step of the plan can be in: manual steps' work queues, and the fallout queues of
    the steps that run (their own, each error code's, else the default). `--queue` checks against them."""
    found = {run.queue for run in engine.runs.values() if run.queue}
    for step in engine.steps.values():
        if step["type"] in DISPATCHED_TYPES:
            found |= override_queues(step, DEFAULT_FALLOUT_QUEUE)
            found.add(step.get("queue") or DEFAULT_FALLOUT_QUEUE)
        elif step.get("queue"):
            found.add(step["queue"])
    return sorted(found)


def save(order_dir: Path, digest: dict[str, Any]) -> None:
    """Leave the digest for the next scan; failing to costs only speed."""
    with contextlib.suppress(OSError):
        write_atomically(order_dir / DIGEST_FILE, encode(digest).decode(), durable=False)


def read_genuine(order_dir: str | Path) -> dict[str, Any] | None:
    """The digest as written by dro (its content hashes to its `digest_sha256`), stale or not, of this
    version, V6 or V5; else None."""
    try:
        data = _read_whole(f"{os.fspath(order_dir)}/{DIGEST_FILE}")
        return None if data is None else _genuine(data)
    except (OSError, ValueError, TypeError):
        return None


def _genuine(data: bytes) -> dict[str, Any] | None:
    text = data.decode()  # dro writes UTF-8: no need for json.loads to guess the encoding
    try:
        digest, end = _scan(text, 0)
    except StopIteration:  # not a JSON value there
        return None
    if end != len(text) or type(digest) is not dict or digest.get("kind") != KIND:
        return None
    version, claimed = digest.get("schema_version"), digest.get("digest_sha256")
    if version in (VERSION, V6):  # the bytes read, hashed as they are: the hash they begin with must be the one parsed
        if data.startswith(_HEAD) and data[_BODY_AT - 2:_BODY_AT] == b'",' \
                and data[len(_HEAD):_BODY_AT - 2].decode() == claimed \
                and _sha256(digest.get("last_checksum"), b"{" + data[_BODY_AT:]) == claimed:
            return digest
    elif version == V5 and claimed == _v5_sha256(digest):
        return digest
    return None


def load(order_dir: str | Path) -> dict[str, Any] | None:
    """The order's digest, if it was made from the journal as it is now: genuine, the journal's size, and
    the journal's last line the record it names. (Plain string paths and descriptors: a scan calls this
    10,000 times, and pathlib's joins or buffered files would cost more than the reads.)"""
    digest = read_genuine(order_dir)
    if digest is None or digest["schema_version"] != VERSION:  # an older one is made again, once
        return None
    try:
        start, end = digest["last_line_start"], digest["journal_end"]
        expected = PREFIX + str(digest["last_checksum"]).encode() + b'",'
        if type(start) is not int or type(end) is not int or not 0 <= start < end:
            return None
        # A byte more than the line: the journal ends where the digest says only if it is not there.
        line = _read_at(f"{os.fspath(order_dir)}/{JOURNAL_FILE}", start, end - start + 1)
    except (OSError, KeyError, TypeError, ValueError, OverflowError):
        return None
    if not (len(line) == end - start and line.startswith(expected) and line.endswith(b"\n")
            and line.count(b"\n") == 1):
        return None
    return digest


_WHOLE_AT_ONCE = 1 << 16  # a digest this small (nearly all are) is read by one pread, without an fstat


def _read_whole(path: str) -> bytes | None:
    """The file's bytes, or None unless it is a regular file: opened without blocking, and pread
    refuses a FIFO or a directory (OSError), so neither is waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        first = os.pread(fd, _WHOLE_AT_ONCE, 0)
        if len(first) < _WHOLE_AT_ONCE:
            return first
        info = os.fstat(fd)  # a large one: read on to the size it has
        if not stat.S_ISREG(info.st_mode):
            return None
        chunks, at = [first], len(first)
        while at < info.st_size:  # pread may return less than asked; regular files rarely do
            chunk = os.pread(fd, info.st_size - at, at)
            if not chunk:
                break
            chunks.append(chunk)
            at += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_at(path: str, start: int, count: int) -> bytes:
    """Up to `count` bytes of the file from `start`, by one pread: all there are, from a regular file.
    Opened without blocking, and pread refuses a FIFO or a directory (OSError), so neither is waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        return os.pread(fd, count, start)
    finally:
        os.close(fd)
