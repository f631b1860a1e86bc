"""`dro tick`: continue every order whose timers are due and journal new SLA crossings (for cron)."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from dro_cli.commands.common import (
    format_option,
    interruptible,
    options_for,
    order_result,
    print_result,
    run_options,
    warn_unreadable,
)
from dro_cli.errors import EXIT_FAILED, EXIT_OK
from dro_cli.output.terminal import color_stdout, quiet


@click.command("tick")
@functools.partial(run_options, parallel_help="Orders continued at once, each by one worker holding its lock; "
                                              "each runs up to N of its steps at once.")
@format_option
@click.option("--send-events", is_flag=True,
              help="Then send the orders' events to the listeners (`dro events send`, docs/tmf622.md), "
                   "within 10 seconds; a listener that fails is named on stderr and does not change the exit status.")
def tick_command(state_dir: Path | None, catalog: Path | None, parallel: int, fmt: str, send_events: bool) -> None:
    """Continue every order whose retry or pause timer is due, journal the SLA thresholds crossed since
    the last command, and send again the steps of runners that died. Run it from cron.

    Up to --parallel orders are continued at once (the report lists them in order id
    order all the same). Orders another dro is working on are left to it; an order that
    cannot be read or continued is named on stderr, and the others go on. Exit status: 0, or 1 when a step
    fell out during this tick or an order could not be continued.
    """
    import dataclasses

    from dro_cli.output.views.queue_text import render_tick
    from dro_cli.runtime.tick import tick

    options = dataclasses.replace(options_for(state_dir, catalog, parallel, fmt), listener=None)
    with interruptible():
        report = tick(options)
    if fmt == "json":
        not_done = [{"order": order, "reason": "held by another dro", "busy": True} for order in report.busy]
        not_done += [{"order": order, "reason": why, "busy": False} for order, why in report.failed]
        print_result([order_result(c.result, report.at) for c in report.continued], not_done=not_done,
                     at=report.at, scanned=report.scanned)
    elif not quiet():
        click.echo(render_tick(report, color_stdout()), nl=False)
    for continued in report.continued:  # what a run tells its operator (a command a dead runner left, ended)
        for warning in continued.result.warnings:
            click.echo(f"warning: order {continued.order}: {warning}", err=True)
    warn_unreadable(report.failed, "not continued")
    if send_events:
        _send_events(options.state_dir)
    raise SystemExit(EXIT_FAILED if report.fell_out or report.failed else EXIT_OK)


def _send_events(state_dir: Path) -> None:
    """After the tick's records are on disk: one bounded delivery pass (what it misses waits for the next)."""
    from dro_cli.errors import DroError
    from dro_cli.events.delivery import Policy, send_all
    from dro_cli.events.listeners import load

    try:
        sent = send_all(state_dir, load(state_dir), Policy())
    except DroError as error:  # another pass is sending: it sends what this one would
        click.echo(f"warning: events not sent: {error.message}", err=True)
        return
    for line in sent.failed:
        click.echo(f"warning: event not delivered: {line}", err=True)
