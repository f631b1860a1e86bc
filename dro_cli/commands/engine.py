"""`--engine local|temporal` and where Temporal is (`--temporal-address`, `--namespace`, `--task-queue`),
and how a verb's answer from Temporal is shown. temporalio loads only when the engine is temporal."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from dro_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, DroError

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

ENGINES = ("local", "temporal")
# The verbs that run on Temporal so far; the others say so rather than run locally (main.py checks).
ON_TEMPORAL = frozenset({"run", "status", "complete", "signal", "resume", "worker"})
# The verbs on orders that do not yet: asked for Temporal, they refuse (the others, such as `validate` and
# `plan`, touch no order and run as ever).
NOT_YET_ON_TEMPORAL = frozenset({"log", "retry", "cancel", "amend", "discard", "fallout", "jeopardy", "tick",
                                 "serve", "verify", "view"})
TEMPORAL_MISSING_HINT = "install the extra: pip install 'dro[temporal]' (docs/temporal.md)"


def temporal_options(function: F) -> F:
    """--temporal-address, --namespace and --task-queue (each with its $DRO_TEMPORAL_* variable)."""
    for flags, env, default, what in reversed([
            (["--temporal-address"], "DRO_TEMPORAL_ADDRESS", "127.0.0.1:7233", "The Temporal frontend, HOST:PORT."),
            (["--namespace"], "DRO_TEMPORAL_NAMESPACE", "default", "The Temporal namespace of the orders."),
            (["--task-queue"], "DRO_TEMPORAL_TASK_QUEUE", "dro", "The task queue dro's workers poll.")]):
        function = click.option(*flags, envvar=env, default=default, show_default=True,
                                help=f"{what} With --engine temporal. (${env})")(function)
    return function


def engine_options(function: F) -> F:
    """--engine (default local, $DRO_ENGINE) and the Temporal options, given to the command as one argument,
    `temporal`: None for the local engine, else the Temporal settings."""

    @functools.wraps(function)
    def with_engine(*args: Any, engine: str, temporal_address: str, namespace: str, task_queue: str,
                    **kwargs: Any) -> Any:
        kwargs["temporal"] = settings(temporal_address, namespace, task_queue) if engine == "temporal" else None
        return function(*args, **kwargs)

    decorated = temporal_options(with_engine)
    return click.option("--engine", type=click.Choice(ENGINES), envvar="DRO_ENGINE", default="local",
                        show_default=True, help="Where orders run: this machine's state directory, or a Temporal "
                                                "cluster (docs/temporal.md). ($DRO_ENGINE)")(decorated)  # type: ignore[return-value]


def settings(address: str, namespace: str, task_queue: str) -> Any:
    """The Temporal settings (a `dro_cli.hosts.temporal.client.Settings`); a clear error without the extra."""
    try:
        from dro_cli.hosts.temporal.client import Settings
    except ImportError as error:
        raise DroError(f"--engine temporal needs the temporalio package ({error.name} is not installed)",
                       exit_code=EXIT_USAGE, hint=TEMPORAL_MISSING_HINT) from None
    return Settings(address, namespace, task_queue)


def wait_for(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine to its end; a Ctrl-C stops it (the workflow goes on on the cluster)."""
    return asyncio.run(coroutine)


def report_view(view: dict[str, Any], fmt: str, *, full: bool) -> int:
    """An order's view from Temporal, as `dro status ORDER` (full) or `dro run` shows a local one; the exit
    code: 1 when a step is in fallout, else 0."""
    from dro_cli.output.terminal import color_stdout, quiet
    from dro_cli.output.views.status_text import progress_text, render_order, render_waiting

    status = view["status"]
    for note in view.get("notes") or []:
        click.echo(f"warning: {note}", err=True)
    if fmt == "json":
        from dro_cli.journal.indented_json import dumps

        click.echo(dumps(status))
    elif full:
        click.echo(render_order(status, view["lanes"], color_stdout()).rstrip("\n"))
    elif not quiet():
        progress = status["progress"]
        click.echo(f"order {status['order']}: {status['state']}, "
                   f"{progress_text(progress['finished'], progress['canceled'], progress['total'])}")
        waiting = render_waiting(status, color_stdout())
        if waiting:
            click.echo(waiting.rstrip("\n"))
    fallout = any(entry["kind"] == "fallout" for entry in status["waiting_on"])
    return EXIT_FAILED if fallout else EXIT_OK


def not_on_temporal(verb: str) -> DroError:
    return DroError(f"`dro {verb}` is not yet supported on Temporal (--engine temporal, or $DRO_ENGINE)",
                    exit_code=EXIT_USAGE,
                    hint=f"the verbs on Temporal so far: {', '.join(sorted(ON_TEMPORAL))} (docs/temporal.md); "
                         "unset DRO_ENGINE or give --engine local for the local engine")

