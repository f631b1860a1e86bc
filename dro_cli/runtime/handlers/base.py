"""What the runner hands a step handler, and what the handler gives back."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Invocation:
    """One attempt of one step instance, with everything its handler may read.

    `context` is the template context of DESIGN 3.5: `order` (with `items`, the
    fulfillment items), `item` (None unless line_item scope), `bundle` (None for
    plan scope), `plan` ({id}), `step` ({id, attempt}) and `outputs` (the outputs
    of the step's dependencies, by step id).
    """

    step: Mapping[str, Any]  # the plan's step: id, step, type, lane, scope, config, ...
    attempt: int
    idempotency_key: str  # <plan>/<step instance>/<attempt>
    context: Mapping[str, Any]
    endpoints: Mapping[str, Any]  # the plan's endpoints (env variable names, never values)
    catalog_dir: Path | None  # flows import from here first; commands run here
    environ: Mapping[str, str] = field(default_factory=dict)  # where env("NAME") looks
    # Marks the attempt's processes (DRO_ATTEMPT_ID): the same for the same attempt of the same order
    # directory, whichever runner sends it, and no other's on this machine. The runner sets it.
    attempt_id: str = field(default_factory=lambda: f"local:{uuid.uuid4().hex}")
    restarted: bool = False  # sent again: the runner that first sent it died without its outcome


@dataclass(frozen=True)
class Outcome:
    """A handler's result. `error` is None on success; otherwise an error code that
    fallout rules match (`http_503`, `timeout`, `connection`, `exit_2`, a flow
    exception's class name, ...), with a message for operators."""

    outputs: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    message: str = ""
    retryable: bool = True
    notes: tuple[str, ...] = ()  # what the operator should know of this attempt, printed by the run, not journaled

    @property
    def ok(self) -> bool:
        return self.error is None


def success(outputs: Mapping[str, Any] | None = None) -> Outcome:
    return Outcome(dict(outputs)) if outputs else _SUCCESS


_SUCCESS = Outcome(MappingProxyType({}))  # a success without outputs, the common one: made once, read-only


def failure(error: str, message: str, *, retryable: bool = True) -> Outcome:
    return Outcome({}, error, message, retryable)


def escapes(exc: BaseException) -> bool:
    """Whether an exception from step code must go on up: only a Ctrl-C, which Python raises in the
    main thread. Anything else (SystemExit from sys.exit(), GeneratorExit, a KeyboardInterrupt a flow
    raised on a worker thread, any BaseException) is the step's failure: let through, it would leave
    the attempt without an outcome, stall its order and stop the run or the tick that ran it."""
    return isinstance(exc, KeyboardInterrupt) and threading.current_thread() is threading.main_thread()
