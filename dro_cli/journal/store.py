"""The state directory: where orders live; an order's plan and state, read freely or opened to write.

`<state-dir>/orders/<order-id>/` holds `plan.json`, `journal.jsonl`, `lock` and a cached
`snapshot.json` (DESIGN 6). Readers take no lock: they read the plan and fold the
journal (from the snapshot when it still matches). A writer holds the order's lock
for as long as it has the order open, and it alone appends to the journal; it opens
the journal from the snapshot too, reading only the records after it, when the journal
still holds the snapshot's record where it says. Neither holds a whole long journal in
memory: without a snapshot, records are folded as they are read.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import stat
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
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
)
from dro_cli.journal.files import fsync_directory, open_regular, read_regular
from dro_cli.journal.fold import fold, fold_journal
from dro_cli.journal.lock import OrderLock
from dro_cli.journal.marks import check_end, last_position, no_journal
from dro_cli.journal.order_errors import about_order
from dro_cli.journal.path_errors import about_path, path_error
from dro_cli.journal.records import Record
from dro_cli.journal.revisions import loader
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
    orders = os.path.join(root, "orders")
    # plan.json of any kind: a directory or a FIFO in its place is that order's error, not its absence
    return [name for name in order_folders(root) if os.path.lexists(os.path.join(orders, name, PLAN_FILE))]


def order_folders(root: Path) -> list[str]:
    """The directories under `<root>/orders`, sorted by name: the orders, and maybe a few that hold none
    (yet), without a look inside each (`order_ids` looks)."""
    try:
        entries = os.scandir(os.path.join(root, "orders"))
    except FileNotFoundError:
        return []
    except OSError as error:
        raise path_error(error, root / "orders", "read", elsewhere=STATE_ELSEWHERE) from None
    with entries:
        return sorted(entry.name for entry in entries if entry.is_dir() and not entry.name.startswith("."))


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
    plan: Mapping[str, Any]  # the plan of its current revision (plan.json until an amendment)
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
    revisions = loader(order_dir)
    cached = None if data is None else snapshot.from_data(data, plan, plan_sha, revisions)
    if cached is not None:
        engine, position = cached
        tail = read_after(path, position)
        if tail is not None:
            fold(engine, tail)
            check_end(order_dir, engine.seq, data)
            return OrderView(order_dir, engine.plan, engine, _first_payload(path) if engine.created else None)
    engine, count, first, end = fold_journal(Engine(plan, revisions), path, order_dir, data)
    if count >= SNAPSHOT_EVERY:
        snapshot.save(order_dir, engine, end, plan_sha)
    return OrderView(order_dir, engine.plan, engine, first["payload"] if first else None)



def digest_of(order_dir: str | Path) -> dict[str, Any] | None:
    """The order's digest: the cached one while it matches the journal, else made (and cached) anew.
    None for a directory that holds no order, or one whose planning was interrupted."""
    folder = os.fspath(order_dir)  # plain strings while the digest is fresh: a scan calls this 10,000 times
    try:
        plan_mode = os.stat(f"{folder}/{PLAN_FILE}").st_mode
    except FileNotFoundError:
        return None
    except OSError:
        plan_mode = 0  # read_order says what is wrong with it
    cached = digest.load(folder) if stat.S_ISREG(plan_mode) else None  # else read_order refuses the plan
    if cached is not None:
        return cached
    order_dir = Path(folder)
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


def _anchor_of(snapshot_data: Mapping[str, Any] | None) -> Position | None:
    """The journal position a genuine snapshot stands at (Journal.open checks the journal still holds it)."""
    try:
        return None if snapshot_data is None else Position(**snapshot_data["position"])
    except (KeyError, TypeError):
        return None


class _Frozen:
    """gc.freeze is the process's, and `dro tick --parallel` has orders open on several threads: what
    is frozen goes back to the collector when the last open order closes, not the first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0

    def hold(self) -> None:
        with self._lock:
            gc.freeze()  # everything alive now, this order's plan and state among it
            self._holders += 1

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if not self._holders:
                gc.unfreeze()  # dro freezes nothing else


_frozen = _Frozen()


class OpenOrder:
    """An order open for writing: its lock held, its journal open, its state folded."""

    def __init__(self, order_dir: Path) -> None:
        self.order_dir = order_dir
        if (order_dir / PLAN_FILE).exists() and not (order_dir / JOURNAL_FILE).exists():
            raise no_journal(order_dir)  # before the lock or the journal is made: nothing is created
        self.lock = OrderLock(order_dir)
        self.lock.acquire()
        try:
            self._snapshot = snapshot.read_data(order_dir)
            # from the snapshot's record on, if the journal still holds it there: a long journal costs its tail
            self.journal = Journal.open(order_dir, _anchor_of(self._snapshot))
            check_end(order_dir, self.journal.last_seq, self._snapshot)
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
            records, after = self.journal.records, self.journal.after
            with about_order(self.order_dir.name):
                revisions = loader(self.order_dir)
                cached = None if self._snapshot is None else snapshot.from_data(self._snapshot, self.plan,
                                                                                 self.plan_sha, revisions)
                if after is not None and cached is not None and cached[1] == after:  # opened after this snapshot
                    engine = fold(cached[0], records)
                    self._cached_seq = after.seq
                elif after is not None:  # the snapshot is not this plan's: the whole journal after all
                    engine = fold_journal(Engine(self.plan, revisions), self.journal.path, self.order_dir,
                                          self._snapshot)[0]
                else:  # no snapshot, or one the journal does not hold where it says: it was read whole
                    engine = fold(Engine(self.plan, revisions), records)
            if not self._frozen:
                _frozen.hold()  # before the collector resumes: never scanned; reference counting still frees them
                self._frozen = True
        self.engine = engine
        return engine

    @property
    def created(self) -> Mapping[str, Any] | None:
        first = self.journal.first
        return first["payload"] if first is not None and first["type"] == "plan.created" else None

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
                _frozen.release()
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
