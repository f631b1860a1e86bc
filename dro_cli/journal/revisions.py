"""The plans of an order's later revisions: `plan.r2.json`, `plan.r3.json`, ... beside `plan.json` (revision 1).

A revision's plan is written atomically before its `plan.amended` record is journaled; until that
record is durable the file belongs to no revision, and the next amendment writes it again. Each is
read back only through the record that names it, and refused (DRO516) unless its sha256 is the one
the record holds: a plan changed on disk would run what nobody planned.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dro_cli.engine.revisions import RevisionLoader
from dro_cli.errors import EXIT_FAILED, DroError
from dro_cli.journal.file import STATE_ELSEWHERE
from dro_cli.journal.files import read_regular, write_file
from dro_cli.journal.path_errors import about_path


def revision_file(order_dir: Path, revision: int) -> Path:
    return order_dir / f"plan.r{revision}.json"


def write_revision(order_dir: Path, plan: Mapping[str, Any]) -> str:
    """Write the revision's plan atomically and durably; its sha256, for the `plan.amended` record."""
    text = plan_text(plan)
    write_file(revision_file(order_dir, plan["revision"]), text,
               then="nothing was journaled: the order is still at its last revision", elsewhere=STATE_ELSEWHERE)
    return hashlib.sha256(text.encode()).hexdigest()


def plan_text(plan: Mapping[str, Any]) -> str:
    """The plan as compact JSON, its keys sorted, written by the C encoder in one call: an indented plan of
    10,000 steps is walked in Python, four times slower, and `jq` indents it for a reader."""
    return json.dumps(plan, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      check_circular=False) + "\n"  # a plan is a tree: no cycle to look for


def loader(order_dir: Path) -> RevisionLoader:
    """What the engine reads a revision's plan with, for this order's directory."""
    def load(revision: int, sha256: str) -> Mapping[str, Any]:
        path = revision_file(order_dir, revision)
        with about_path(path, "read", elsewhere=None):
            data = read_regular(path)
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise DroError(
                f"{path.name} of order {order_dir.name} is not the plan its journal amended it to: its sha256 is "
                f"{actual[:12]}..., plan.amended recorded {sha256[:12]}...", code="DRO516", exit_code=EXIT_FAILED,
                hint=f"{path.name} was changed after the amendment; nothing was written. Restore it from a backup; "
                     "dro neither runs nor shows an order whose plan is not the one journaled")
        plan: Mapping[str, Any] = json.loads(data)
        return plan
    return load
