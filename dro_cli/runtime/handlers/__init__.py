"""Step handlers: run one attempt of an auto or a callout step and say how it went.

The runner calls `run_step`; everything else here is loaded on first use, so importing
the package costs next to nothing. Handlers are where steps touch the world (HTTP,
processes, flow code); they may import the engine's flow errors and `dsl.templates`,
and know nothing of the journal.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dro_cli.runtime.handlers.base import Invocation, Outcome, escapes, failure, success

if TYPE_CHECKING:
    from dro_cli.runtime.handlers.secrets import Redactor

StepHandler = Callable[[Invocation, "Redactor"], Outcome]

__all__ = ["Invocation", "Outcome", "close_connections", "failure", "run_step", "success"]


def run_step(invocation: Invocation) -> Outcome:
    """Run one attempt of `invocation.step` ("auto": a flow or a command; "callout": an HTTP request).

    Never raises, but for a Ctrl-C (`base.escapes`): every failure, a bug in a handler and a
    sys.exit() in step code included, is an Outcome with an error code. Every credential of the plan's
    endpoints is replaced by "***" in the outcome's message and outputs (see secrets.py).
    """
    try:
        redactor = _redactor_for()(invocation.endpoints, invocation.environ)
    except Exception as exc:  # a malformed endpoint: say nothing that could hold a secret
        return failure("handler_error", f"cannot read the plan's endpoints ({type(exc).__name__})", retryable=False)
    try:
        outcome = _run(invocation, redactor)
    except BaseException as exc:
        if escapes(exc):
            raise
        outcome = _failure_of(invocation, exc)
    return redactor.outcome(outcome)


def close_connections() -> None:
    """Close the kept-alive callout connections (the runner calls it when it is done; it also runs at exit)."""
    from dro_cli.runtime.handlers.connections import close_connections as close

    close()


def _run(invocation: Invocation, redactor: Redactor) -> Outcome:
    step = invocation.step
    kind, config = step.get("type"), step.get("config")
    if kind not in ("auto", "callout"):
        return failure("unsupported_step_type", f"step {step.get('id')}: {kind!r} steps are not run by a handler",
                       retryable=False)
    if not isinstance(config, Mapping):
        return failure("bad_config", f"step {step.get('id')}: its config is not a mapping", retryable=False)
    if kind == "auto":
        if config.get("flow"):
            return _run_flow()(invocation, redactor)
        if config.get("command"):
            return _run_command()(invocation, redactor)
        return failure("bad_config", f"step {step.get('id')}: an auto step needs a flow or a command", retryable=False)
    return _run_callout()(invocation, redactor)


# The handler modules, imported on first use (importing the package loads none): an import statement
# in run_step would cost a microsecond a step, these cached functions a tenth of that.

@functools.cache
def _redactor_for() -> Callable[[Mapping[str, Any], Mapping[str, str]], Redactor]:
    from dro_cli.runtime.handlers.secrets import redactor_for

    return redactor_for


@functools.cache
def _run_flow() -> StepHandler:
    from dro_cli.runtime.handlers.flow import run_flow

    return run_flow


@functools.cache
def _run_command() -> StepHandler:
    from dro_cli.runtime.handlers.command import run_command

    return run_command


@functools.cache
def _run_callout() -> StepHandler:
    from dro_cli.runtime.handlers.callout import run_callout

    return run_callout


def _failure_of(invocation: Invocation, exc: BaseException) -> Outcome:
    from dro_cli.runtime.handlers.render import RenderError
    from dro_cli.runtime.handlers.secrets import InsecureSecret, MissingEnv

    step = invocation.step.get("id")
    if isinstance(exc, RenderError):
        return failure("template_error", f"step {step}: {exc}", retryable=False)
    if isinstance(exc, MissingEnv):
        return failure("missing_env", str(exc), retryable=False)
    if isinstance(exc, InsecureSecret):
        return failure("insecure_secret", str(exc), retryable=False)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return failure("handler_error", f"step {step}: {type(exc).__name__}: {exc}{where}", retryable=False)
