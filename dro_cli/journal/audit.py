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

from dataclasses import dataclass, field
from pathlib import Path

from dro_cli.errors import DroError
from dro_cli.journal.file import JOURNAL_FILE, VerifyReport, read, verify
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
    audit = OrderAudit(verify(order_dir / JOURNAL_FILE))
    if not (audit.journal.ok or audit.journal.recoverable):
        return audit  # the chain is broken: nothing beside it can be held against it
    records = read(order_dir / JOURNAL_FILE)
    _, plan_sha = read_plan(order_dir)  # a plan.json that cannot be read is the command's error, as for any reader
    try:
        check_plan(order_dir.name, records[0]["payload"] if records and records[0]["type"] == "plan.created"
                   else None, plan_sha)
    except DroError as error:
        audit.problems.append(Problem(error.message, error.code, error.hint))
    return audit
