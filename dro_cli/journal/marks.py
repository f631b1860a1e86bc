"""The end of an order's journal made knowable: the high-water marks its snapshot and digest leave.

An append-only chain shows damage inside it, but not records cut off its end at a
record boundary, nor a journal emptied or deleted: what is left still verifies. The
genuine snapshot and digest each name the last record they saw (seq and checksum);
a journal that no longer reaches it lost records (DRO517), and a plan without its
journal lost all of them (DRO520). Deleting the caches too makes the loss silent
again: these marks detect accidents and careless tampering, not a determined forger
with write access to the state directory (snapshot.py says more).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dro_cli.errors import EXIT_FAILED, DroError
from dro_cli.journal import digest, snapshot
from dro_cli.journal.file import JOURNAL_FILE, Position
from dro_cli.journal.files import last_line, open_regular
from dro_cli.journal.path_errors import about_path


def no_journal(order_dir: Path) -> DroError:
    """DRO520: a plan without its journal. dro makes the journal before the plan, so it was deleted."""
    return DroError(f"order {order_dir.name} has a plan but no journal ({order_dir / JOURNAL_FILE})", code="DRO520",
                    exit_code=EXIT_FAILED,
                    hint="the journal was deleted or moved; nothing was created. Restore it from a backup; to give "
                         "the order up, move its directory out of orders/ and run its order file again")


def high_water_marks(order_dir: Path, snapshot_data: Mapping[str, Any] | None) -> list[tuple[int, str]]:
    """The last records the genuine snapshot and digest saw, as (seq, the file that saw it)."""
    marks = []
    if snapshot_data is not None:
        with contextlib.suppress(KeyError, TypeError):
            marks.append((int(snapshot_data["position"]["seq"]), snapshot.SNAPSHOT_FILE))
    seen = digest.read_genuine(order_dir)
    if seen is not None and type(seen.get("last_seq")) is int:
        marks.append((seen["last_seq"], digest.DIGEST_FILE))
    return marks


def check_end(order_dir: Path, records: int, snapshot_data: Mapping[str, Any] | None) -> None:
    """DRO517 if the journal, of `records` records, ends before a record its snapshot or digest once saw:
    whole records cut off its end (or all of them) leave a chain that verifies, so only this mark tells."""
    for seq, seen_by in high_water_marks(order_dir, snapshot_data):
        if records < seq:
            raise shorter_than_seen(order_dir.name, records, seq, seen_by)


def shorter_than_seen(order_id: str, records: int, seq: int, seen_by: str) -> DroError:
    ends = f"it ends at record {records}" if records else "it holds no record"
    return DroError(f"the journal of order {order_id} is shorter than once seen: {ends}, {seen_by} saw record {seq}",
                    code="DRO517", exit_code=EXIT_FAILED,
                    hint="records were cut off its end; nothing was written. Restore the journal from a backup; to "
                         "accept the loss, delete snapshot.json and digest.json beside it (they are caches)")


def last_position(journal: Path, size: int) -> Position | None:
    """Where the journal's last whole record of its first `size` bytes stands, read from the end."""
    with about_path(journal, "read", elsewhere=None), open_regular(journal) as handle:
        data = last_line(handle, size, 1 << 16)
    if not data.endswith(b"\n"):
        return None
    try:
        record = json.loads(data)
    except ValueError:
        return None
    if type(record) is not dict or type(record.get("seq")) is not int or type(record.get("checksum")) is not str:
        return None
    return Position(record["seq"], record["checksum"], size - len(data), size)


