"""Options and output shared by the commands that run orders and act on them."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from dro_cli.engine.machine import Event
from dro_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from dro_cli.output.terminal import color_stdout, quiet, use_color
from dro_cli.runtime.clock import now

F = TypeVar("F", bound=Callable[..., Any])


def state_dir_option(function: F) -> F:
    return click.option("--state-dir", type=click.Path(path_type=Path), default=None,
                        help="Where orders are kept ($DRO_STATE_DIR, else .dro).")(function)


def run_options(function: F, parallel_help: str = "Steps run at once.") -> F:
    """--catalog, --parallel and --state-dir: what continuing a plan needs."""
    function = click.option("--parallel", type=click.IntRange(1, 256), default=8, show_default=True,
                            help=parallel_help)(function)
    function = click.option("--catalog", type=click.Path(path_type=Path), default=None,
                            help="Catalog directory or templates file ($DRO_CATALOG); flows import from it. "
                                 "Continuing an order defaults to the catalog it was planned with.")(function)
    return state_dir_option(function)


def format_option(function: F) -> F:
    """--format for the commands that change state: what they did, as text or as JSON."""
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                        help="json: what the command did and where each order stands "
                             "(schemas/result.schema.json); errors stay on stderr.")(function)


def operator_option(function: F) -> F:
    return click.option("--operator", default=None,
                        help="Who acts, for the journal ($DRO_OPERATOR, else your user name).")(function)


def options_for(state_dir: Path | None, catalog: Path | None, parallel: int, fmt: str = "text", *,
                new_state_dir: bool = False) -> Any:
    """RunOptions from the command line and the environment, with progress lines on a terminal (in text,
    unless quiet). The state directory must exist, unless `new_state_dir` (`dro run` of an order file
    creates it)."""
    from dro_cli.journal.store import state_dir as resolve_state_dir
    from dro_cli.runtime.api import CATALOG_ENV, RunOptions

    if catalog is None and os.environ.get(CATALOG_ENV):
        catalog = Path(os.environ[CATALOG_ENV])
    listener = _progress if fmt == "text" and sys.stdout.isatty() and not quiet() else None
    return RunOptions(resolve_state_dir(state_dir, must_exist=not new_state_dir), catalog, clock=now,
                      parallel=parallel, listener=listener)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C while steps run: say what happens to them, and exit at once. The journal is durable
    record by record; steps still running are in doubt and the next `dro run ORDER_ID` sends them
    again. Waiting for their threads (a flow may never return) would keep the user waiting."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo("\ninterrupted: steps still running will be sent again by `dro run ORDER_ID`", err=True)
        sys.stdout.flush()
        os._exit(130)


def _progress(events: Sequence[Event]) -> None:
    """One line per step that finishes, fails or waits, while the run goes on (terminals only)."""
    color = color_stdout()
    for kind, payload in events:
        line = _PROGRESS.get(kind)
        if line is not None:
            text, fg = line(payload)
            click.echo("  " + (click.style(text, fg=fg) if color else text))


_PROGRESS: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    "step.completed": lambda p: (f"done     {p['step']}", "green"),
    "step.failed": lambda p: (f"failed   {p['step']}: {p['code']}"
                              + (f", retry at {p['retry_at']}" if p.get("retry_at") else f", to queue {p['queue']}"),
                              "red" if p.get("queue") else "yellow"),
    "step.held": lambda p: (f"on hold  {p['step']}", "yellow"),
    "step.restarted": lambda p: (f"again    {p['step']} (in doubt after a crash)", "yellow"),
}


def report_run(result: Any, fmt: str = "text") -> int:
    """After a run or an act: what was recovered, where the plan stands, what it waits on; the exit code."""
    from dro_cli.journal.order_errors import about_order
    from dro_cli.output.views.status_text import progress_text, render_waiting
    from dro_cli.runtime.status import order_status

    at = now()
    for warning in ([result.recovered] if result.recovered else []) + result.warnings:
        click.echo(f"warning: {warning}", err=True)  # stderr in json too: stdout is the document only
    if fmt == "json":
        print_result([order_result(result, at)], warnings=result.diagnostics, at=at)
        return EXIT_FAILED if in_fallout(result) else EXIT_OK
    if quiet():
        return EXIT_FAILED if in_fallout(result) else EXIT_OK
    engine = result.engine
    with about_order(engine.order_id, "show"):
        status = order_status(result.view(), at)
    click.echo(f"order {engine.order_id}: {engine.state}, {progress_text(*engine.progress())}")
    waiting = render_waiting(status, color_stdout())
    if waiting:
        click.echo(waiting.rstrip("\n"))
    return EXIT_FAILED if in_fallout(result) else EXIT_OK


def in_fallout(result: Any) -> bool:
    from dro_cli.engine.waiting import waiting_on

    return any(entry["kind"] == "fallout" for entry in waiting_on(result.engine))


def order_result(result: Any, at: float) -> dict[str, Any]:
    """One order of a result document: its status after the command, and what the command journaled."""
    from dro_cli.journal.order_errors import about_order
    from dro_cli.runtime.status import order_summary

    with about_order(result.order_id, "show"):
        status = order_summary(result.view(), at)
    return {"status": status, "created": result.created, "recovered": result.recovered,
            "journaled": dict(sorted(result.journaled.items()))}


def print_result(orders: Sequence[dict[str, Any]], *, not_done: Sequence[dict[str, Any]] = (),
                 warnings: Sequence[Any] = (), at: float, **extra: Any) -> None:
    """The JSON result of a command that changed state (schemas/result.schema.json) on stdout."""
    import json

    from dro_cli.engine.instants import iso
    from dro_cli.output.reporters.json_document import diagnostic_json

    document = {"schema_version": 1, "command": click.get_current_context().info_name, "at": iso(at), **extra,
                "orders": list(orders), "not_done": list(not_done),
                "warnings": [diagnostic_json(d) for d in warnings]}
    click.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))


def warn_unreadable(unreadable: Sequence[tuple[str, str]], left: str = "left out") -> None:
    """The orders a command across orders could not read (or continue), one warning each on stderr."""
    for order_id, why in unreadable:
        click.echo(f"warning: order {order_id} {left}: {why}", err=True)


def unreadable_json(unreadable: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """The same orders for `--format json`: `[{"order": ..., "error": ...}]`."""
    return [{"order": order_id, "error": why} for order_id, why in unreadable]


def report_not_planned(error: Any) -> int:
    """The diagnostics of an order or catalog that could not be planned; the exit code."""
    _print_diagnostics(error.diagnostics, error.sources)
    return EXIT_USAGE if error.usage_error else EXIT_FAILED


def report_warnings(result: Any) -> None:
    if result.diagnostics:
        _print_diagnostics(result.diagnostics, result.sources)


def _print_diagnostics(diagnostics: Any, sources: Any) -> None:
    from dro_cli.output.reporters import REPORTERS
    from dro_cli.output.reporters.report import Report

    REPORTERS["text"](Report(diagnostics, sources, len(sources.texts)), color=use_color(), err=True, summary=False)
