"""An order's digest: what the commands that look across orders need, without folding every journal.

`dro fallout`, `dro jeopardy` and `dro tick` scan the whole state directory. Folding
10,000 journals would take seconds, so whoever folds an order leaves `digest.json`
beside its journal: the steps in fallout, the unfinished steps with an SLA, and the
next timer and SLA crossing. Nothing in it depends on the time of reading. It holds
the journal's size when it was made and is used only while the journal still has
that size (the journal only grows, and a writer that cuts a torn line shrinks it);
otherwise the order is folded again and the digest rewritten. Like the snapshot, it
is a cache: never the truth, and not fsynced.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from dro_cli.engine.instants import iso, iso_or_none
from dro_cli.engine.machine import DEFAULT_FALLOUT_QUEUE, Engine
from dro_cli.engine.retry import for_error
from dro_cli.engine.sla import sla_thresholds
from dro_cli.engine.states import DISPATCHED_TYPES, FINISHED, StepState
from dro_cli.journal.file import JOURNAL_FILE
from dro_cli.journal.files import write_atomically

DIGEST_FILE = "digest.json"
KIND = "dro/digest"
VERSION = 3


def build(engine: Engine, journal_end: int) -> dict[str, Any]:
    """The digest of an order whose journal, `journal_end` bytes long, folds to `engine`."""
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
    return {
        "kind": KIND, "schema_version": VERSION, "journal_end": journal_end,
        "order": engine.order_id, "state": str(engine.state), "progress": list(engine.progress()),
        "next_timer": iso_or_none(engine.next_timer()), "next_crossing": iso_or_none(engine.next_crossing()),
        "in_doubt": bool(engine.in_doubt()), "fallout": fallout, "watch": watch, "queues": queues(engine),
    }


def queues(engine: Engine) -> list[str]:
    """Every queue a step of the plan can be in: manual steps' work queues, and the fallout queues of
    the steps that run (their own, each error code's, else the default). `--queue` checks against them."""
    found = {run.queue for run in engine.runs.values() if run.queue}
    for step in engine.steps.values():
        if step["type"] in DISPATCHED_TYPES:
            for override in step.get("fallout") or ():
                found.add(for_error(step, override["error"]).get("queue") or DEFAULT_FALLOUT_QUEUE)
            found.add(step.get("queue") or DEFAULT_FALLOUT_QUEUE)
        elif step.get("queue"):
            found.add(step["queue"])
    return sorted(found)


def save(order_dir: Path, digest: dict[str, Any]) -> None:
    """Leave the digest for the next scan; failing to costs only speed."""
    with contextlib.suppress(OSError):
        write_atomically(order_dir / DIGEST_FILE, json.dumps(digest, separators=(",", ":"), ensure_ascii=False),
                         durable=False)


def load(order_dir: str | Path) -> dict[str, Any] | None:
    """The order's digest, if it was made from the journal as it is now. (Plain string paths: a scan
    calls this 10,000 times, and pathlib's joins would cost more than the reads.)"""
    folder = os.fspath(order_dir)
    try:
        with open(os.path.join(folder, DIGEST_FILE), "rb") as handle:
            digest = json.loads(handle.read())
        size = os.stat(os.path.join(folder, JOURNAL_FILE)).st_size
    except (OSError, ValueError):
        return None
    if type(digest) is not dict or digest.get("kind") != KIND or digest.get("schema_version") != VERSION \
            or digest.get("journal_end") != size:
        return None
    return digest
