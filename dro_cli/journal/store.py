"""The state directory: where orders live; an order's plan and state, read freely or opened to write.

`<state-dir>/orders/<order-id>/` holds `plan.json`, `journal.jsonl`, `lock` and a cached
`snapshot.json` (DESIGN 6). Readers take no lock: they read the plan and fold the
journal (from the snapshot when it still matches). A writer holds the order's lock
for as long as it has the order open, and it alone appends to the journal.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import stat
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from dro_cli.engine.instants import iso
from dro_cli.engine.machine import Engine, Event
from dro_cli.errors import EXIT_FAILED, EXIT_USAGE, DroError
from dro_cli.journal import digest, snapshot
from dro_cli.journal.file import (
    JOURNAL_FILE,
    PLAN_FILE,
    STATE_ELSEWHERE,
    Journal,
    Position,
    read_after,
    read_positioned,
)
from dro_cli.journal.files import fsync_directory, open_regular, read_regular
from dro_cli.journal.lock import OrderLock
from dro_cli.journal.marks import check_end, last_position, no_journal
from dro_cli.journal.path_errors import about_path, is_path_error, path_error
from dro_cli.journal.records import Record
from dsl.diagnostics import did_you_mean
from dsl.gc_pause import collector_paused

STATE_DIR_ENV = "DRO_STATE_DIR"
SNAPSHOT_EVERY = 20_000  # records a fold may have to read beyond the snapshot (about 0.2 s) before a new one pays
DEFAULT_STATE_DIR = Path(".dro")
DISCARDED_DIR = "discarded"  # <state-dir>/discarded/<order-id>-<when>/: discarded orders, kept whole


def state_dir(option: Path | None, *, must_exist: bool = True) -> Path:
    """`--state-dir`, else $DRO_STATE_DIR, else `.dro` under the current directory. A usage error if it,
    or its `orders`, is there but is not a directory; and, unless `must_exist` is false (`dro run` of an
    order file makes it), if it does not exist: a typo in the name must not read as a state directory
    without orders."""
    from_env = os.environ.get(STATE_DIR_ENV)
    root = option if option is not None else Path(from_env) if from_env else DEFAULT_STATE_DIR
    given_by = "--state-dir" if option is not None else f"${STATE_DIR_ENV}" if from_env else "the default"
    for folder in (root, root / "orders"):
        try:
            mode = os.stat(folder).st_mode
        except FileNotFoundError:
            if folder == root and must_exist:
                _no_state_dir(root, given_by)
            break
        except OSError as error:
            problem = path_error(error, folder, "use the state directory")
            raise DroError(problem.message, hint=f"{problem.hint}; {_origin(root)}", exit_code=EXIT_USAGE) from None
        if not stat.S_ISDIR(mode):
            raise DroError(f"cannot use the state directory {root}: {folder} is a file, not a directory",
                           hint=_origin(root), exit_code=EXIT_USAGE)
    return root


def _origin(root: Path) -> str:
    return (f"the state directory ({root}) is --state-dir, else ${STATE_DIR_ENV}, else .dro: give a directory, "
            "or a path where dro can make one")


def require_state_dir(root: Path, given_by: str = "--state-dir") -> None:
    """A usage error unless `root` is a directory, naming the sibling state directories it may have meant."""
    if root.is_dir():
        return
    if root.exists():
        raise DroError(f"cannot use the state directory {root}: it is a file, not a directory",
                       hint=_origin(root), exit_code=EXIT_USAGE)
    _no_state_dir(root, given_by)


def _no_state_dir(root: Path, given_by: str) -> None:
    """The usage error for a state directory that does not exist, naming the sibling state directories
    it may have meant."""
    parent = root.parent
    try:
        siblings = [str(parent / entry.name) for entry in os.scandir(parent)
                    if entry.is_dir() and os.path.isdir(os.path.join(entry.path, "orders"))]
    except OSError:
        siblings = []
    hint = did_you_mean(str(root), siblings) or (
        "`dro run ORDER_FILE --catalog DIR` creates it with its first order; "
        + ("give --state-dir or set $DRO_STATE_DIR to use another" if given_by == "the default"
           else "an empty directory is a state directory with no orders"))
    raise DroError(f"no state directory {root} ({given_by})", hint=hint, exit_code=EXIT_USAGE)


def order_ids(root: Path) -> list[str]:
    """The orders of a state directory, sorted by id."""
    try:
        entries = os.scandir(root / "orders")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise path_error(error, root / "orders", "read", elsewhere=STATE_ELSEWHERE) from None
    with entries:
        names = [entry.name for entry in entries if entry.is_dir() and not entry.name.startswith(".")]
    # plan.json of any kind: a directory or a FIFO in its place is that order's error, not its absence
    return sorted(name for name in names if os.path.lexists(root / "orders" / name / PLAN_FILE))


@contextlib.contextmanager
def about_order(order_id: str, doing: str = "read") -> Iterator[None]:
    """Inside, any exception but a DroError (a time past the year 9999, a plan.json changed by hand
    that the engine trips on) becomes that order's DroError, so that a scan across orders reports it
    and goes on, and a command on the order says what failed instead of "internal error".
    DRO_DEBUG=1 lets it through, with its traceback."""
    try:
        yield
    except DroError:
        raise
    except Exception as error:
        if os.environ.get("DRO_DEBUG"):
            raise
        raise order_failure(order_id, error, doing) from error


def order_failure(order_id: str, error: Exception, doing: str = "read") -> DroError:
    """An exception met while reading, running or showing one order (`doing`), as that order's DroError."""
    if isinstance(error, DroError):
        return error
    if isinstance(error, OSError) and is_path_error(error):
        return path_error(error, action="read" if doing == "read" else "write", elsewhere=None)
    message, journaled = _FAILURES[doing]
    return DroError(f"{message.format(order_id)}: {type(error).__name__}: {error}", exit_code=EXIT_FAILED,
                    hint=f"{journaled.format(order_id)}its plan.json or journal holds something dro cannot handle "
                         f"(a time past the year 9999, a file changed by hand?); `dro verify {order_id}` checks "
                         "the journal, and DRO_DEBUG=1 shows where it failed")


_FAILURES = {  # doing -> (the message, what the journal holds)
    "read": ("order {} cannot be read", ""),
    "run": ("order {} stopped: dro could not work out what follows",
            "the journal is intact, with every record up to the failure; "),
    "show": ("the status of order {} cannot be shown", "what this command did is journaled (`dro log {}`); "),
}


def find_order(root: Path, order_id: str) -> Path:
    """The directory of an existing order, or a usage error that names the orders there are."""
    require_state_dir(root)
    path = root / "orders" / order_id
    if "/" not in order_id and os.path.lexists(path / PLAN_FILE):  # read_plan says what is wrong with one
        return path
    known = order_ids(root)
    hint = did_you_mean(order_id, known) or (
        f"the orders in {root}: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}" if known
        else f"{root} has no orders yet; `dro run ORDER_FILE --catalog DIR` starts one")
    raise DroError(f"no order '{order_id}' in the state directory {root}", hint=hint, exit_code=EXIT_USAGE)


def read_plan(order_dir: Path) -> tuple[dict[str, Any], str]:
    """The order's plan and the sha256 of its file."""
    with about_path(order_dir / PLAN_FILE, "read", elsewhere=None):
        data = read_regular(order_dir / PLAN_FILE)
    try:
        plan = json.loads(data)
    except ValueError as exc:
        raise DroError(f"cannot read the plan of order {order_dir.name}: {exc}", exit_code=EXIT_USAGE,
                       hint="the state directory was changed by hand; `dro verify` checks the journal") from None
    if not isinstance(plan, dict) or plan.get("kind") != "dro/plan" or plan.get("schema_version") != 1:
        raise DroError(f"{order_dir / PLAN_FILE} is not a plan this dro reads (kind dro/plan, schema_version 1)",
                       exit_code=EXIT_USAGE, hint="use the dro that made it")
    return plan, hashlib.sha256(data).hexdigest()


@dataclass
class OrderView:
    """An order as readers see it: the plan, and the state its journal folds to."""

    order_dir: Path
    plan: Mapping[str, Any]
    engine: Engine
    created: Mapping[str, Any] | None  # the payload of `plan.created`, None while the plan is being made


def read_order(order_dir: Path) -> OrderView:
    """The order's state, without the lock: from the snapshot and the journal's tail when they match,
    else by folding the whole journal (and caching that fold for next time)."""
    plan, plan_sha = read_plan(order_dir)
    path = order_dir / JOURNAL_FILE
    if not path.exists():
        raise no_journal(order_dir)
    check_plan(order_dir.name, _first_payload(path), plan_sha)
    data = snapshot.read_data(order_dir)
    cached = None if data is None else snapshot.from_data(data, plan, plan_sha)
    if cached is not None:
        engine, position = cached
        tail = read_after(path, position)
        if tail is not None:
            _fold(engine, tail)
            check_end(order_dir, engine.seq, data)
            return OrderView(order_dir, plan, engine, _first_payload(path) if engine.created else None)
    records, end = read_positioned(path)
    check_end(order_dir, len(records), data)
    engine = _fold(Engine(plan), records)
    if len(records) >= SNAPSHOT_EVERY:
        snapshot.save(order_dir, engine, end, plan_sha)
    return OrderView(order_dir, plan, engine, records[0]["payload"] if records else None)


def digest_of(order_dir: str | Path) -> dict[str, Any] | None:
    """The order's digest: the cached one while it matches the journal, else made (and cached) anew.
    None for a directory that holds no order, or one whose planning was interrupted."""
    order_dir = Path(order_dir)
    try:
        plan_mode = os.stat(order_dir / PLAN_FILE).st_mode
    except FileNotFoundError:
        return None
    except OSError:
        plan_mode = 0  # read_order says what is wrong with it
    cached = digest.load(order_dir) if stat.S_ISREG(plan_mode) else None  # else read_order refuses the plan
    if cached is not None:
        return cached
    journal = order_dir / JOURNAL_FILE
    try:
        before = os.stat(journal).st_size
    except FileNotFoundError:
        raise no_journal(order_dir) from None
    view = read_order(order_dir)
    if view.created is None:
        return None
    position = last_position(journal, before)
    if position is None or position.seq != view.engine.seq:
        position = Position(view.engine.seq, "", 0, before)  # a writer is appending: build, but do not cache
    made = digest.build(view.engine, position)
    if position.checksum and os.stat(journal).st_size == before:  # no writer appended while it was read
        digest.save(order_dir, made)
    return made


def _first_payload(journal: Path) -> Mapping[str, Any] | None:
    """The payload of `plan.created`, the first record, without reading the rest of the journal; None
    while the journal holds no whole record of that type (a damaged one is the fold's to report)."""
    with about_path(journal, "read", elsewhere=None), open_regular(journal) as handle:
        line = handle.readline()
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not (line.endswith(b"\n") and type(record) is dict and record.get("type") == "plan.created"
            and type(record.get("payload")) is dict):
        return None
    payload: Mapping[str, Any] = record["payload"]
    return payload


def check_plan(order_id: str, created: Mapping[str, Any] | None, plan_sha256: str) -> None:
    """DRO516 unless plan.json is the plan `plan.created` journaled (by its sha256): a plan changed on
    disk would have the next act send what nobody planned, so the order is refused and nothing written."""
    if created is None or created.get("plan_sha256") == plan_sha256:
        return
    raise DroError(
        f"plan.json of order {order_id} is not the plan its journal was created with: its sha256 is "
        f"{plan_sha256[:12]}..., plan.created recorded {str(created.get('plan_sha256'))[:12]}...",
        code="DRO516", exit_code=EXIT_FAILED,
        hint="plan.json was changed after the order was planned; nothing was written. Restore it from a backup "
             f"(`dro verify {order_id}` checks the order's files); dro neither runs nor shows an order whose plan "
             "is not the one journaled")


def _fold(engine: Engine, records: Sequence[Record]) -> Engine:
    try:
        for record in records:
            engine.apply_record(record)
    except (ValueError, KeyError, TypeError) as exc:
        raise DroError(f"the journal of order {engine.order_id} does not fit its plan at record "
                       f"{engine.seq + 1}: {exc}", hint="the journal or plan.json was changed by hand; "
                       "`dro verify` checks the journal's chain") from None
    return engine


class OpenOrder:
    """An order open for writing: its lock held, its journal open, its state folded."""

    def __init__(self, order_dir: Path) -> None:
        self.order_dir = order_dir
        if (order_dir / PLAN_FILE).exists() and not (order_dir / JOURNAL_FILE).exists():
            raise no_journal(order_dir)  # before the lock or the journal is made: nothing is created
        self.lock = OrderLock(order_dir)
        self.lock.acquire()
        try:
            self.journal = Journal.open(order_dir)
            self._snapshot = snapshot.read_data(order_dir)
            check_end(order_dir, len(self.journal.records), self._snapshot)
        except BaseException:
            if hasattr(self, "journal"):
                self.journal.close()
            self.lock.release()
            raise
        self.recovered = self.journal.recovered  # what opening cut off, to report
        self.plan: dict[str, Any] = {}
        self.plan_sha = ""
        self.engine: Engine | None = None
        self._cached_seq = 0  # the seq of the snapshot the state was loaded from
        self._moved = False
        self.journaled: Counter[str] = Counter()  # the records appended while open, by type
        self._frozen = False  # load_plan froze the objects then alive (gc.freeze), close unfreezes them

    def load_plan(self) -> Engine:
        """Read plan.json and fold the journal over it (from the snapshot when it matches). What is loaded stays
        frozen (gc.freeze) until close, so that the collector's full collections during a run scan what the run
        makes, not a plan of 100,000 steps every time the run's objects grow by a quarter."""
        with collector_paused():  # the plan and the engine's state: many small objects, no cycles
            self.plan, self.plan_sha = read_plan(self.order_dir)
            check_plan(self.order_dir.name, self.created, self.plan_sha)
            records = self.journal.records
            with about_order(self.order_dir.name):
                cached = None if self._snapshot is None else snapshot.from_data(self._snapshot, self.plan,
                                                                                 self.plan_sha)
                if cached is not None and cached[1].seq <= len(records) and \
                        records[cached[1].seq - 1]["checksum"] == cached[1].checksum:
                    engine = _fold(cached[0], records[cached[1].seq:])
                    self._cached_seq = cached[1].seq
                else:
                    engine = _fold(Engine(self.plan), records)
            if not self._frozen:
                gc.freeze()  # before the collector resumes: never scanned; reference counting still frees them
                self._frozen = True
        self.engine = engine
        return engine

    @property
    def created(self) -> Mapping[str, Any] | None:
        records = self.journal.records
        return records[0]["payload"] if records and records[0]["type"] == "plan.created" else None

    def append(self, events: Sequence[Event], now: float) -> list[Record]:
        """Journal events (already applied to the engine, or about to be): durable when this returns."""
        ts = iso(now)
        made = self.journal.append([(kind, payload, ts) for kind, payload in events])
        self.journaled.update(kind for kind, _ in events)
        if made and self.engine is not None:
            self.engine.seq = made[-1]["seq"]
        return made

    def move_to(self, target: Path) -> None:
        """Move the order's whole directory to `target` (a new directory on the same file system),
        durably, while the lock is held; the journal is closed, and closing the order then only
        releases the lock. The order is gone from its state directory's `orders/` in one rename."""
        self.journal.close()
        self._moved = True
        missing = [p for p in (target.parent, target.parent.parent) if not p.is_dir()]
        target.parent.mkdir(parents=True, exist_ok=True)
        for created in reversed(missing):
            fsync_directory(created.parent)
        os.rename(self.order_dir, target)
        fsync_directory(self.order_dir.parent)
        fsync_directory(target.parent)
        self.order_dir = target

    def close(self, *, cache: bool = True) -> None:
        """Close the journal and release the lock; cache the state unless an error may have left
        the engine ahead of the journal."""
        try:
            if cache and self.engine is not None and self.plan_sha and not self._moved:
                self._cache(self.engine)
        finally:
            if self._frozen:
                gc.unfreeze()  # handed back to the collector (dro freezes nothing else)
                self._frozen = False
            self.journal.close()
            self.lock.release()

    def _cache(self, engine: Engine) -> None:
        """Leave the snapshot and the digest. They are caches: failing to make one (a full disk, a time
        the digest cannot write) must not fail the command whose work is journaled already; the next
        reader folds the journal instead, and reports what it cannot fold as this order's error."""
        position = self.journal.position
        with contextlib.suppress(Exception), collector_paused():  # copies of the whole state, without cycles
            if self.journal.last_seq - self._cached_seq >= SNAPSHOT_EVERY:
                snapshot.save(self.order_dir, engine, position, self.plan_sha)
            if engine.created and position is not None:
                digest.save(self.order_dir, digest.build(engine, position))

    def __enter__(self) -> OpenOrder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close(cache=error is None)
