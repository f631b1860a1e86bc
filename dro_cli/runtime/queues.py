"""Across all orders of a state directory: the fallout queues and the steps in jeopardy or late.

Each order is read through its digest (`dro_cli.journal.digest`), so a scan of 10,000 orders
reads 10,000 small files rather than folding 10,000 journals. An order that cannot be
read, for any reason (a damaged journal, a plan.json changed by hand, a time past the
year 9999), is reported as that order's error, and the scan goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dro_cli.engine.instants import parse_instant
from dro_cli.engine.sla import sla_at
from dro_cli.errors import EXIT_USAGE, DroError
from dro_cli.journal.file import STATE_ELSEWHERE
from dro_cli.journal.order_errors import debugging, order_failure
from dro_cli.journal.path_errors import path_error
from dro_cli.journal.store import digest_of
from dsl.diagnostics import did_you_mean

SCHEMA_VERSION = 1


@dataclass
class Scan:
    """The digests of a state directory's orders, and the orders that could not be read."""

    root: Path
    seen: int = 0  # orders scanned
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (order id, why)

    def digests(self) -> Iterator[dict[str, Any]]:
        """Each order's digest, in order id order."""
        orders = os.path.join(self.root, "orders")
        try:
            names = sorted(name for name in os.listdir(orders) if not name.startswith("."))
        except FileNotFoundError:
            return
        except OSError as error:  # not a directory, not readable: the state directory itself is unusable
            raise path_error(error, orders, "read", elsewhere=STATE_ELSEWHERE) from None
        for name in names:
            try:  # about_order's way, without entering a context 10,000 times
                found = digest_of(f"{orders}/{name}")  # a name from listdir: join's checks are moot
            except Exception as error:
                if debugging(error):
                    raise
                self.seen += 1
                self.unreadable.append((name, order_failure(name, error).message))
                continue
            if found is not None:
                self.seen += 1
                yield found


def fallout_rows(digests: Iterable[dict[str, Any]], queue: str | None = None) -> list[dict[str, Any]]:
    """Every step in a fallout queue (or in `queue`), oldest first."""
    rows = [{"order": found["order"], **row} for found in digests for row in found["fallout"]
            if queue is None or row["queue"] == queue]
    rows.sort(key=lambda row: (row["since"] or "", row["order"]))
    return rows


def check_queue(digests: Iterable[dict[str, Any]], queue: str | None, root: Path) -> None:
    """A `--queue` that no step of any order can be in is a typo, not an empty queue: a usage error,
    with "did you mean" from the queues there are."""
    if queue is None:
        return
    known = sorted({name for found in digests for name in found.get("queues", ())})
    if queue in known:
        return
    hint = did_you_mean(queue, known) or (
        f"the queues there are: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}" if known
        else f"{root} has no orders yet")
    raise DroError(f"no step of any order in {root} can be in queue '{queue}'", hint=hint, exit_code=EXIT_USAGE)


def jeopardy_rows(digests: Iterable[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    """Every unfinished step in jeopardy or late at `now`, the most overdue first."""
    rows = []
    for found in digests:
        for step in found["watch"]:
            jeopardy_from = step["jeopardy_from"]
            sla = sla_at(now, None if jeopardy_from is None else parse_instant(jeopardy_from),
                         parse_instant(step["due"]))
            if sla != "on_track":
                rows.append({"order": found["order"], "id": step["id"], "step": step["step"], "lane": step["lane"],
                             "sla": sla, "ready_at": step["ready_at"], "due": step["due"]})
    rows.sort(key=lambda row: (parse_instant(row["due"]), row["order"]))
    return rows


def due_orders(digests: Iterable[dict[str, Any]], now: float) -> list[str]:
    """The orders `dro tick` continues: a retry or pause timer due, an SLA threshold crossed and not
    yet journaled, or a step left in doubt by a runner that died."""
    due = []
    for found in digests:
        if found["state"] in ("completed", "canceled"):
            continue
        timers = [t for t in (found["next_timer"], found["next_crossing"]) if t is not None]
        if found["in_doubt"] or any(parse_instant(t) <= now for t in timers):
            due.append(found["order"])
    return due
