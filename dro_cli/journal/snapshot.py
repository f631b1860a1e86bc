"""A cached fold of an order's journal, so that reading a long journal's state costs only its tail.

`snapshot.json` holds the engine's state after record `seq`, anchored to that record's
checksum and byte position, and `state_sha256`: the sha256 of its own content (plan,
anchor and state) chained to that checksum. It is only used when its content hashes
to that value and the journal still holds that record there, for the same plan;
otherwise the journal is folded from the start. The journal is the truth: a stale,
foreign, damaged or naively forged snapshot is ignored, never trusted. Its anchor is
also a high-water mark: a journal that no longer reaches record `seq` lost records
(DRO517, store.py).

Threat model: the hash detects damage and a snapshot edited by hand; it is no
signature. Whoever can write the state directory and read this code can recompute
it (and the journal's own chain). `dro verify` goes further and compares the
snapshot's state with a replay of the records up to its seq (audit.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dro_cli.engine.instants import iso, parse_instant
from dro_cli.engine.machine import Engine
from dro_cli.engine.revisions import RevisionLoader
from dro_cli.engine.states import StepState
from dro_cli.engine.step_run import StepRun
from dro_cli.journal.file import Position
from dro_cli.journal.files import read_regular, write_atomically
from dro_cli.journal.records import canonical

SNAPSHOT_FILE = "snapshot.json"
KIND = "dro/snapshot"
VERSION = 1
_TIMES = ("ready_at", "started_at", "finished_at", "retry_at", "resume_at")
_DEFAULTS = {"state": StepState.PENDING, "attempts": 0, "round_start": 0}
_FIELDS = tuple(field.name for field in dataclasses.fields(StepRun))


def save(order_dir: Path, engine: Engine, position: Position | None, plan_sha256: str) -> None:
    """Cache the engine's state; a failure to write it costs nothing but speed, so it is not an error."""
    if position is None or position.seq != engine.seq or engine.revision > 1:
        return  # a snapshot holds the state of revision 1; an amended order folds on from the last one
    data = state_of(engine, position, plan_sha256)
    data["state_sha256"] = content_sha256(data)
    with contextlib.suppress(OSError):
        write_atomically(order_dir / SNAPSHOT_FILE, json.dumps(data, separators=(",", ":"), ensure_ascii=False))


def state_of(engine: Engine, position: Position, plan_sha256: str) -> dict[str, Any]:
    """What a snapshot of `engine` at `position` holds, but its own hash."""
    return {
        "kind": KIND, "schema_version": VERSION, "plan_sha256": plan_sha256,
        "position": dataclasses.asdict(position),
        "plan": {"created": engine.created, "canceled": engine.canceled,
                 "completed_at": None if engine.completed_at is None else iso(engine.completed_at)},
        "steps": {sid: _run_data(run) for sid, run in engine.runs.items() if run != _PENDING},
    }


def content_sha256(data: Mapping[str, Any]) -> str:
    """The sha256 of a snapshot's content (every key but `state_sha256`, canonical JSON), chained to the
    checksum of the record it stands after, so that it is bound to that point of the journal."""
    body = {key: value for key, value in data.items() if key != "state_sha256"}
    anchor = str(data["position"]["checksum"]).encode()
    return hashlib.sha256(anchor + canonical(body)).hexdigest()


def read_data(order_dir: Path) -> dict[str, Any] | None:
    """The snapshot's content if it is one this dro wrote and it hashes to its `state_sha256`; else None."""
    try:
        data = json.loads(read_regular(order_dir / SNAPSHOT_FILE))
        if type(data) is dict and data.get("kind") == KIND and data.get("schema_version") == VERSION \
                and data.get("state_sha256") == content_sha256(data):
            return data
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None


def load(order_dir: Path, plan: Mapping[str, Any], plan_sha256: str) -> tuple[Engine, Position] | None:
    """The cached engine and the journal position it stands at, if the snapshot is one of this plan
    and its content is what was written."""
    data = read_data(order_dir)
    return None if data is None else from_data(data, plan, plan_sha256)


def from_data(data: Mapping[str, Any], plan: Mapping[str, Any], plan_sha256: str,
              revisions: RevisionLoader | None = None) -> tuple[Engine, Position] | None:
    """`load`, from the content `read_data` gave; `revisions` reads the plans of later revisions."""
    if data.get("plan_sha256") != plan_sha256:
        return None
    try:
        position = Position(**data["position"])
        engine = Engine(plan, revisions)
        for sid, fields in data["steps"].items():
            engine.runs[sid] = _run_from(fields)
        engine.created = data["plan"]["created"]
        engine.canceled = data["plan"]["canceled"]
        completed = data["plan"]["completed_at"]
        engine.completed_at = None if completed is None else parse_instant(completed)
        engine.seq = position.seq
        engine.rebuild()
        return engine, position
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no snapshot, or not one this dro wrote: fold the journal instead


_PENDING = StepRun()


def _run_data(run: StepRun) -> dict[str, Any]:
    """The fields that differ from a pending step's, times as ISO instants. (Field by field, not
    `dataclasses.asdict`, which deep-copies: ten times slower for a plan of 10,000 steps.)"""
    fields = {}
    for name in _FIELDS:
        value = getattr(run, name)
        if value is not None and value != _DEFAULTS.get(name) and value != {} and value != []:
            fields[name] = iso(value) if name in _TIMES else value
    return fields


def _run_from(fields: Mapping[str, Any]) -> StepRun:
    values: dict[str, Any] = {name: parse_instant(value) if name in _TIMES and value is not None else value
                              for name, value in fields.items()}
    values["state"] = StepState(values.get("state", StepState.PENDING))
    return StepRun(**values)
