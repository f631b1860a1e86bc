"""The state directory: where orders live; an order's plan and state, read freely or opened to write.

`<state-dir>/orders/<order-id>/` holds `plan.json`, `journal.jsonl`, `lock` and a cached
`snapshot.json` (DESIGN 6). Readers take no lock: they read the plan and fold the
journal (from the snapshot when it still matches). A writer holds the order's lock
for as long as it has the order open, and it alone appends to the journal.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from dro_cli.engine.instants import iso
from dro_cli.engine.machine import Engine, Event
from dro_cli.errors import EXIT_USAGE, DroError
from dro_cli.journal import digest, snapshot
from dro_cli.journal.file import JOURNAL_FILE, PLAN_FILE, Journal, read_after, read_positioned
from dro_cli.journal.lock import OrderLock
from dro_cli.journal.records import Record
from dsl.diagnostics import did_you_mean

STATE_DIR_ENV = "DRO_STATE_DIR"
SNAPSHOT_EVERY = 20_000  # records a fold may have to read beyond the snapshot (about 0.2 s) before a new one pays
DEFAULT_STATE_DIR = Path(".dro")


def state_dir(option: Path | None) -> Path:
    """`--state-dir`, else $DRO_STATE_DIR, else `.dro` under the current directory."""
    if option is not None:
        return option
    from_env = os.environ.get(STATE_DIR_ENV)
    return Path(from_env) if from_env else DEFAULT_STATE_DIR


def order_ids(root: Path) -> list[str]:
    """The orders of a state directory, sorted by id."""
    try:
        entries = os.scandir(root / "orders")
    except FileNotFoundError:
        return []
    with entries:
        names = [entry.name for entry in entries if entry.is_dir() and not entry.name.startswith(".")]
    return sorted(name for name in names if os.path.isfile(root / "orders" / name / PLAN_FILE))


def find_order(root: Path, order_id: str) -> Path:
    """The directory of an existing order, or a usage error that names the orders there are."""
    path = root / "orders" / order_id
    if "/" not in order_id and (path / PLAN_FILE).is_file():
        return path
    known = order_ids(root)
    hint = did_you_mean(order_id, known) or (
        f"the orders in {root}: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}" if known
        else f"{root} has no orders yet; `dro run ORDER_FILE --catalog DIR` starts one")
    raise DroError(f"no order '{order_id}' in the state directory {root}", hint=hint, exit_code=EXIT_USAGE)


def read_plan(order_dir: Path) -> tuple[dict[str, Any], str]:
    """The order's plan and the sha256 of its file."""
    try:
        data = (order_dir / PLAN_FILE).read_bytes()
        plan = json.loads(data)
    except (OSError, ValueError) as exc:
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
    cached = snapshot.load(order_dir, plan, plan_sha)
    if cached is not None:
        engine, position = cached
        tail = read_after(path, position)
        if tail is not None:
            _fold(engine, tail)
            return OrderView(order_dir, plan, engine, _created_payload(order_dir, engine))
    if not path.exists():
        return OrderView(order_dir, plan, Engine(plan), None)
    records, end = read_positioned(path)
    engine = _fold(Engine(plan), records)
    if len(records) >= SNAPSHOT_EVERY:
        snapshot.save(order_dir, engine, end, plan_sha)
    return OrderView(order_dir, plan, engine, records[0]["payload"] if records else None)


def digest_of(order_dir: str | Path) -> dict[str, Any] | None:
    """The order's digest: the cached one while it matches the journal, else made (and cached) anew.
    None for a directory that holds no order, or one whose planning was interrupted."""
    cached = digest.load(order_dir)
    if cached is not None:
        return cached
    order_dir = Path(order_dir)
    journal = order_dir / JOURNAL_FILE
    if not (order_dir / PLAN_FILE).is_file():
        return None
    try:
        before = os.stat(journal).st_size
    except FileNotFoundError:
        return None
    view = read_order(order_dir)
    if view.created is None:
        return None
    made = digest.build(view.engine, before)
    if os.stat(journal).st_size == before:  # no writer appended while it was read: the digest is exact
        digest.save(order_dir, made)
    return made


def _created_payload(order_dir: Path, engine: Engine) -> Mapping[str, Any] | None:
    """The first record's payload, without reading the rest of the journal."""
    if not engine.created:
        return None
    with open(order_dir / JOURNAL_FILE, "rb") as handle:
        payload: Mapping[str, Any] = json.loads(handle.readline())["payload"]
        return payload


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
        self.lock = OrderLock(order_dir)
        self.lock.acquire()
        try:
            self.journal = Journal.open(order_dir)
        except BaseException:
            self.lock.release()
            raise
        self.recovered = self.journal.recovered  # what opening cut off, to report
        self.plan: dict[str, Any] = {}
        self.plan_sha = ""
        self.engine: Engine | None = None
        self._cached_seq = 0  # the seq of the snapshot the state was loaded from
        self.journaled: Counter[str] = Counter()  # the records appended while open, by type

    def load_plan(self) -> Engine:
        """Read plan.json and fold the journal over it (from the snapshot when it matches)."""
        self.plan, self.plan_sha = read_plan(self.order_dir)
        cached = snapshot.load(self.order_dir, self.plan, self.plan_sha)
        records = self.journal.records
        if cached is not None and cached[1].seq <= len(records) and \
                records[cached[1].seq - 1]["checksum"] == cached[1].checksum:
            engine = _fold(cached[0], records[cached[1].seq:])
            self._cached_seq = cached[1].seq
        else:
            engine = _fold(Engine(self.plan), records)
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

    def close(self, *, cache: bool = True) -> None:
        """Close the journal and release the lock; cache the state unless an error may have left
        the engine ahead of the journal."""
        try:
            if cache and self.engine is not None and self.plan_sha:
                position = self.journal.position
                if self.journal.last_seq - self._cached_seq >= SNAPSHOT_EVERY:
                    snapshot.save(self.order_dir, self.engine, position, self.plan_sha)
                if self.engine.created and position is not None:
                    digest.save(self.order_dir, digest.build(self.engine, position.end))
        finally:
            self.journal.close()
            self.lock.release()

    def __enter__(self) -> OpenOrder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close(cache=error is None)
