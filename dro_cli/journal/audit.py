"""`dro verify`: check an order's journal and every file believed beside it, changing nothing.

The journal's chain is checked record by record (file.verify). Then what the other
files claim is held against it: plan.json must hash to the `plan_sha256` of
`plan.created`; the snapshot and the digest must be bound to a record the journal
holds, must not have seen a longer journal than there is now, and must say what the
records say (the snapshot's state is compared with a replay up to its seq, the
digest with one made afresh). The hot path checks less (see snapshot.py); this is
the full proof, as slow as a fold of the whole journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dro_cli.engine.machine import Engine
from dro_cli.errors import DroError
from dro_cli.journal import digest, snapshot
from dro_cli.journal.file import JOURNAL_FILE, Position, VerifyReport, read, verify
from dro_cli.journal.marks import check_end, no_journal
from dro_cli.journal.records import Record
from dro_cli.journal.revisions import loader
from dro_cli.journal.store import check_plan, read_plan


@dataclass(frozen=True)
class Problem:
    """One thing `dro verify` found wrong, as the error the order's commands would give."""

    message: str
    code: str | None = None
    hint: str | None = None


@dataclass
class OrderAudit:
    """The journal's report, and what is wrong beside it."""

    journal: VerifyReport
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # ignored caches and the like: not damage, worth saying

    @property
    def ok(self) -> bool:
        return (self.journal.ok or self.journal.recoverable) and not self.problems


def audit_order(order_dir: Path) -> OrderAudit:
    """Every check `dro verify` makes of the order in `order_dir`."""
    journal = order_dir / JOURNAL_FILE
    if not journal.exists():
        error = no_journal(order_dir)
        return OrderAudit(VerifyReport(journal, 0, 0), [Problem(error.message, error.code, error.hint)])
    audit = OrderAudit(verify(journal))
    if not (audit.journal.ok or audit.journal.recoverable):
        return audit  # the chain is broken: nothing beside it can be held against it
    records = read(journal)
    plan, plan_sha = read_plan(order_dir)  # a plan.json that cannot be read is the command's error, as for any reader
    data = snapshot.read_data(order_dir)
    try:
        check_plan(order_dir.name, records[0]["payload"] if records and records[0]["type"] == "plan.created"
                   else None, plan_sha)
        check_end(order_dir, len(records), data)
        if not records:
            raise DroError(f"the journal of order {order_dir.name} holds no record, though the order has a plan",
                           code="DRO517", hint="its planning was interrupted before plan.created was journaled (run "
                           "its order file again to plan it anew), or the journal was emptied (restore it)")
    except DroError as error:
        audit.problems.append(Problem(error.message, error.code, error.hint))
        return audit
    _audit_snapshot(order_dir, audit, records, plan, plan_sha, data)
    _audit_digest(order_dir, audit, records, plan)
    return audit


def _audit_snapshot(order_dir: Path, audit: OrderAudit, records: list[Record], plan: Mapping[str, Any],
                    plan_sha: str, data: Mapping[str, Any] | None) -> None:
    """The snapshot, if it would be used, must hold the state the records fold to at its seq."""
    if data is None:
        if (order_dir / snapshot.SNAPSHOT_FILE).exists():
            audit.notes.append(f"{snapshot.SNAPSHOT_FILE} is damaged, foreign or was changed by hand: ignored "
                               "(the journal is folded instead)")
        return
    cached = snapshot.from_data(data, plan, plan_sha)
    seq = int(data["position"]["seq"])
    if cached is None or records[seq - 1]["checksum"] != data["position"]["checksum"]:
        audit.notes.append(f"{snapshot.SNAPSHOT_FILE} does not match the journal (stale or foreign): ignored")
        return
    replayed = Engine(plan, loader(order_dir))
    for record in records[:seq]:
        replayed.apply_record(record)
    if snapshot.state_of(replayed, cached[1], plan_sha) != {k: v for k, v in data.items() if k != "state_sha256"}:
        audit.problems.append(Problem(
            f"{snapshot.SNAPSHOT_FILE} of order {order_dir.name} claims a state its journal's first {seq} records "
            "do not fold to: it was forged, and its hash recomputed",
            hint=f"delete {order_dir / snapshot.SNAPSHOT_FILE} (a cache; the journal is the truth), and find who "
                 "can write the state directory"))


def _audit_digest(order_dir: Path, audit: OrderAudit, records: list[Record], plan: Mapping[str, Any]) -> None:
    """The digest, if the scans would use it, must say what a digest made afresh from the records says."""
    if not records or records[0]["type"] != "plan.created":
        return
    used = digest.load(order_dir)
    if used is None:
        if (order_dir / digest.DIGEST_FILE).exists() and digest.read_genuine(order_dir) is None:
            audit.notes.append(f"{digest.DIGEST_FILE} is damaged or was changed by hand: ignored (made again)")
        return
    engine = Engine(plan, loader(order_dir))
    for record in records:
        engine.apply_record(record)
    position = Position(records[-1]["seq"], records[-1]["checksum"], used["last_line_start"], used["journal_end"])
    if digest.build(engine, position) != used:
        audit.problems.append(Problem(
            f"{digest.DIGEST_FILE} of order {order_dir.name} is not what its journal's records say: it was forged, "
            "and its hash recomputed",
            hint=f"delete {order_dir / digest.DIGEST_FILE} (a cache, made again from the journal), and find who can "
                 "write the state directory"))
