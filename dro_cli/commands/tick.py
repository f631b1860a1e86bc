"""`dro tick`: continue every order whose timers are due and journal new SLA crossings (for cron)."""

from __future__ import annotations

from pathlib import Path

import click

from dro_cli.commands.common import interruptible, options_for, run_options, warn_unreadable
from dro_cli.errors import EXIT_FAILED, EXIT_OK
from dro_cli.output.terminal import color_stdout


@click.command("tick")
@run_options
def tick_command(state_dir: Path | None, catalog: Path | None, parallel: int) -> None:
    """Continue every order whose retry or pause timer is due, journal the SLA thresholds crossed since
    the last command, and send again the steps of runners that died. Run it from cron.

    Orders another dro is working on are left to it; an order that cannot be read or
    continued is named on stderr, and the others go on. Exit status: 0, or 1 when a step
    fell out during this tick or an order could not be continued.
    """
    import dataclasses

    from dro_cli.output.views.queue_text import render_tick
    from dro_cli.runtime.tick import tick

    options = dataclasses.replace(options_for(state_dir, catalog, parallel), listener=None)
    with interruptible():
        report = tick(options)
    click.echo(render_tick(report, color_stdout()), nl=False)
    warn_unreadable(report.failed, "not continued")
    raise SystemExit(EXIT_FAILED if report.fell_out or report.failed else EXIT_OK)
