"""Auto steps with a `flow`: import "module:function" from the catalog and call it with a read-only context.

A flow module is imported once per process and reused afterwards (the first catalog to
import a module name wins: two catalogs run by one process should not share module
names). The catalog directory sits at the front of `sys.path` only while the module is
imported, under a lock; modules it imports at its top level are found there too, but
an import done later, inside a flow call, no longer sees the catalog directory.

With a config `timeout`, the flow runs in a daemon thread and the step fails with
`timeout` when it is not done in time. Python cannot stop a thread: the flow goes on
in the background and its result is dropped, so a retry may overlap with it; flows
should be idempotent on their `idempotency_key` anyway.

Whatever a flow raises is its attempt's failure, a BaseException too: an Exception is
coded by its class name; SystemExit (sys.exit()), GeneratorExit and the other
BaseExceptions are `handler_error`, not retried. Only a Ctrl-C goes on up (`escapes`).
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dro_cli.engine.flow_errors import NonRetryable
from dro_cli.runtime.handlers.base import Invocation, Outcome, escapes, failure, success
from dro_cli.runtime.handlers.render import render
from dro_cli.runtime.handlers.secrets import Redactor
from dro_cli.runtime.handlers.shared import by_identity

MESSAGE_LIMIT = 2000
STEP_FIELDS = ("id", "step", "title", "type", "lane", "scope", "run_as")

_import_lock = threading.Lock()


class FlowNotFound(Exception):
    """The module or the function of a flow does not exist."""


class FlowImportError(Exception):
    """Importing the flow's module raised."""


def run_flow(invocation: Invocation, redactor: Redactor) -> Outcome:
    config = invocation.step["config"]
    spec = config["flow"]
    try:
        function = load(spec, invocation.catalog_dir)
    except FlowNotFound as exc:
        return failure("flow_not_found", str(exc), retryable=False)
    except FlowImportError as exc:
        return failure("flow_import_error", redactor.excerpt(str(exc), MESSAGE_LIMIT), retryable=False)
    inputs = config.get("inputs")
    ctx = flow_context(invocation, render(inputs, invocation.context, "inputs") if inputs else None)
    timeout = config.get("timeout")
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return _call_with_timeout(spec, function, ctx, float(timeout), redactor)
    try:
        result = function(ctx)
    except BaseException as exc:
        if escapes(exc):
            raise
        return _raised(spec, exc, redactor)
    return _returned(spec, result)


def load(spec: str, catalog_dir: Path | None) -> Callable[[Any], Any]:
    """The function named by "module:function", importing its module from `catalog_dir` first."""
    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise FlowNotFound(f"flow {spec!r} is not of the form \"module:function\"")
    module = sys.modules.get(module_name)
    if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
        module = _import(module_name, catalog_dir)  # not there yet, or another thread is importing it
    function = getattr(module, function_name, None)
    if not callable(function):
        where = getattr(module, "__file__", None) or module_name
        raise FlowNotFound(f"flow {spec!r}: module {module_name!r} ({where}) has no function {function_name!r}")
    return function  # type: ignore[no-any-return]


def _import(module_name: str, catalog_dir: Path | None) -> Any:
    with _import_lock:
        if module_name in sys.modules:  # imported meanwhile: import_module waits until it is complete
            return importlib.import_module(module_name)
        entry = str(catalog_dir) if catalog_dir is not None else None
        if entry is not None:
            sys.path.insert(0, entry)
        try:
            importlib.invalidate_caches()  # a flow file written after the directory was first listed
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                place = f"in {catalog_dir} or " if catalog_dir is not None else ""
                raise FlowNotFound(f"flow module {module_name!r} not found {place}in the installed packages") from None
            raise FlowImportError(_described(f"importing flow module {module_name!r} failed", exc)) from None
        except BaseException as exc:  # SyntaxError, an error or a sys.exit() at its top level, a missing dependency
            if escapes(exc):
                raise
            raise FlowImportError(_described(f"importing flow module {module_name!r} failed", exc)) from None
        finally:
            if entry is not None:
                _remove(entry)


def _remove(entry: str) -> None:
    if sys.path and sys.path[0] == entry:
        del sys.path[0]
    elif entry in sys.path:  # the module moved things around: drop the entry we added
        sys.path.remove(entry)


def flow_context(invocation: Invocation, inputs: Any) -> Mapping[str, Any]:
    """The one argument a flow gets: order, item, bundle, inputs, step, attempt, idempotency_key. Read-only."""
    context = invocation.context
    item, bundle = context.get("item"), context.get("bundle")
    return MappingProxyType({
        "order": _freeze_shared(context.get("order")),  # the whole order: frozen once per run, not per step
        "item": None if item is None else _freeze_shared(item),
        "bundle": None if bundle is None else _freeze_shared(bundle),
        "inputs": _NO_INPUTS if not inputs else freeze(inputs),
        "step": _frozen_step(invocation.step, context),
        "attempt": invocation.attempt,
        "idempotency_key": invocation.idempotency_key,
    })


_NO_INPUTS: Mapping[str, Any] = MappingProxyType({})


def _frozen_step(plan_step: Mapping[str, Any], context: Mapping[str, Any]) -> Mapping[str, Any]:
    """The step's STEP_FIELDS, read-only, `run_as` rendered with this attempt's context if it is a template.
    The fields are strings or None in a plan: one read-only dict, without a deep copy."""
    step = {name: plan_step.get(name) for name in STEP_FIELDS}
    if isinstance(step["run_as"], str):  # a plain string comes back as it is
        step["run_as"] = render(step["run_as"], context, "run_as")
    if _SCALARS.issuperset(map(type, step.values())):
        return MappingProxyType(step)
    frozen: Mapping[str, Any] = freeze(step)
    return frozen


def freeze(value: Any) -> Any:
    """A deep read-only copy: mappings become read-only mappings, lists and sets tuples."""
    kind = type(value)
    if kind in _SCALARS:  # most values: no abstract-class checks for them
        return value
    if kind is dict or isinstance(value, Mapping):
        return MappingProxyType({key: freeze(item) for key, item in value.items()})
    if kind is list or kind is tuple or isinstance(value, (set, frozenset)):
        return tuple(freeze(item) for item in value)
    return value


_SCALARS = frozenset({str, int, float, bool, type(None)})


_freeze_shared = by_identity(freeze)


def _call_with_timeout(spec: str, function: Callable[[Any], Any], ctx: Mapping[str, Any], timeout: float,
                       redactor: Redactor) -> Outcome:
    box: list[tuple[bool, Any]] = []
    done = threading.Event()

    def target() -> None:
        try:
            box.append((True, function(ctx)))
        except BaseException as exc:  # handed to the caller, which decides what propagates
            box.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=target, name=f"dro flow {spec}", daemon=True).start()
    if not done.wait(timeout):
        return failure("timeout", f"flow {spec!r} did not finish within {timeout:g} s (it may still be running)")
    finished, result = box[0]
    if finished:
        return _returned(spec, result)
    return _raised(spec, result, redactor)  # raised in the flow's own thread: never a Ctrl-C


def _raised(spec: str, exc: BaseException, redactor: Redactor) -> Outcome:
    message = redactor.excerpt(_described(f"flow {spec!r} raised", exc), MESSAGE_LIMIT)
    if not isinstance(exc, Exception):  # sys.exit() and its kin: a bug in the flow, which a retry repeats
        return failure("handler_error", message, retryable=False)
    return failure(type(exc).__name__, message, retryable=not isinstance(exc, NonRetryable))


def _described(what: str, exc: BaseException) -> str:
    """`what`, the exception and where it was raised: "flow 'm:f' raised ValueError: bad (m.py:12 in f)"."""
    text = f"{what} {type(exc).__name__}"
    if str(exc):
        text += f": {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" ({Path(last.filename).name}:{last.lineno} in {last.name})"
    return text


def _returned(spec: str, result: Any) -> Outcome:
    if result is None:
        return success()
    if not isinstance(result, Mapping):
        return failure("bad_return", f"flow {spec!r} returned {type(result).__name__}; "
                       "a flow returns a dict of outputs or None", retryable=False)
    try:
        # What the journal will hold: tuples become lists, read-only mappings dicts, keys strings.
        outputs = json.loads(json.dumps(result, allow_nan=False, default=_plain))
    except (TypeError, ValueError) as exc:
        return failure("bad_return", f"flow {spec!r} returned outputs that are not JSON: {exc}", retryable=False)
    return success(outputs)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
