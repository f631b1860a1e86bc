"""Folding an order's journal into the engine: records in hand, or the whole journal as it is read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dro_cli.engine.machine import Engine
from dro_cli.engine.replay import replay
from dro_cli.errors import DroError
from dro_cli.journal.file import Position, read_streaming
from dro_cli.journal.marks import check_end
from dro_cli.journal.records import Record


def fold(engine: Engine, records: Sequence[Record]) -> Engine:
    """Fold records into `engine`; one that does not fit its plan is the order's DroError."""
    try:
        replay(engine, records)  # engine.apply_record of each, in bulk
    except (ValueError, KeyError, TypeError) as exc:
        raise DroError(f"the journal of order {engine.order_id} does not fit its plan at record "
                       f"{engine.seq + 1}: {exc}", hint="the journal or plan.json was changed by hand; "
                       "`dro verify` checks the journal's chain") from None
    return engine


def fold_journal(engine: Engine, path: Path, order_dir: Path, snapshot_data: Mapping[str, Any] | None
                 ) -> tuple[Engine, int, Record | None, Position | None]:
    """Fold the whole journal into `engine` as it is read, chunk by chunk, never holding all its records.
    Damage is reported first, then a journal shorter than once seen (DRO517), then what does not fold."""
    failed: list[Exception] = []

    def take(records: list[Record]) -> None:
        if not failed:
            try:
                fold(engine, records)
            except Exception as error:  # raised once the damage and the end are checked, as before
                failed.append(error)

    count, first, end = read_streaming(path, take)
    check_end(order_dir, count, snapshot_data)
    if failed:
        raise failed[0]
    return engine, count, first, end
