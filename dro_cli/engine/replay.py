"""Replaying journal records into the engine in bulk: what `Engine.apply_record` does one by one, faster.

Most of a long journal is retries: `step.started` and `step.failed` of the same steps, again and again
(and `step.restarted`, after a crash).
Those are applied here inline, without the general dispatch; each step's retry timer is scheduled once per
batch, for its last failure (an earlier one no longer counts, and the engine skips such timers anyway).
Anything else, or anything unusual about one of those (a record that does not fit, a fatal failure), goes
through `Engine.apply_record`, in order, so the state and any error are the same as one by one
(tests/test_replay.py compares the two).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from typing import Any

from dro_cli.engine.instants import parse_instant
from dro_cli.engine.machine import Engine
from dro_cli.engine.states import StepState
from dro_cli.engine.transitions import TRANSITIONS

_INLINE = frozenset({"step.started", "step.failed", "step.restarted"})
_STARTABLE = TRANSITIONS["step.started"]
_FAILABLE = TRANSITIONS["step.failed"]
_RESTARTABLE = TRANSITIONS["step.restarted"]
_IN_PROGRESS, _FAILED = StepState.IN_PROGRESS, StepState.FAILED
_UNSEEN = object()  # equal to no value a record holds


class _Unusual(Exception):
    """A record the inline path leaves to `Engine.apply_record`."""


def replay(engine: Engine, records: Sequence[Mapping[str, Any]]) -> None:
    """`engine.apply_record(record)` for each of `records` in turn, with the same result and the same error."""
    runs, ready, timers, position = engine.runs, engine._ready, engine._timers, engine.position
    retries: dict[str, float] = {}  # step -> the retry_at of its last failure in this batch
    seq = engine.seq
    ts: Any = _UNSEEN  # the last timestamp parsed, and its instant (a batch of records shares one)
    at = 0.0
    retry_text: Any = _UNSEEN  # likewise the last retry_at
    retry_at = 0.0
    for record in records:
        kind = record["type"]
        if kind in _INLINE:
            # Everything that can fail is read first, then the run is changed: a record that raises here, or
            # is unusual, has changed nothing, and apply_record below applies it (or raises) as it would have.
            try:
                payload = record["payload"]
                stamp = record["ts"]
                if stamp != ts:
                    at, ts = parse_instant(stamp), stamp
                sid = payload["step"]
                run = runs[sid]
                if "steps" in payload:
                    raise _Unusual
                if kind == "step.started":
                    if run.state not in _STARTABLE:
                        raise _Unusual
                    attempt, queue, record_seq = payload["attempt"], payload.get("queue"), record["seq"]
                    run.state, run.attempts, run.started_at, run.retry_at = _IN_PROGRESS, attempt, at, None
                    run.queue = queue
                    ready.discard(sid)
                elif kind == "step.failed":
                    text = payload.get("retry_at")
                    if run.state not in _FAILABLE or text is None:  # a fatal failure: to its queue, below
                        raise _Unusual
                    if text != retry_text:
                        retry_at, retry_text = parse_instant(text), text
                    error = {"code": payload["code"], "message": payload["message"], "retryable": payload["retryable"]}
                    record_seq = record["seq"]
                    run.error = error
                    run.state, run.retry_at, run.queue = _FAILED, retry_at, None
                    run.finished_at = at
                    retries[sid] = retry_at
                elif run.state in _RESTARTABLE:  # the same attempt sent again after a crash: no change
                    record_seq = record["seq"]
                else:
                    raise _Unusual
                seq = record_seq
                continue
            except Exception:  # apply_record says what is wrong, from the same state
                pass
        _schedule(timers, position, retries)
        engine.seq = seq
        engine.apply_record(record)
        seq, ready, timers = engine.seq, engine._ready, engine._timers
    _schedule(timers, position, retries)
    engine.seq = seq


def _schedule(timers: list[tuple[float, int, str]], position: Mapping[str, int], retries: dict[str, float]) -> None:
    """The retry timers of the failures replayed so far, one a step, as `Engine._failed` pushes them."""
    for sid, when in retries.items():
        heapq.heappush(timers, (when, position[sid], sid))
    retries.clear()
