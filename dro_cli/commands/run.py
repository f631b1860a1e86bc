"""`dro run`: plan an order (once) and work its plan until it completes or must wait."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import click

from dro_cli.commands import completion
from dro_cli.commands.common import (
    format_option,
    interruptible,
    options_for,
    report_not_planned,
    report_run,
    report_warnings,
    run_options,
)
from dro_cli.commands.engine import engine_options
from dro_cli.commands.order_form import order_form_options
from dro_cli.errors import EXIT_USAGE, DroError


@click.command("run")
@click.argument("target", metavar="ORDER_FILE|ORDER_ID", shell_complete=completion.order_file_or_id)
@run_options
@click.option("--wait", is_flag=True, help="Stay, sleeping until the next timer, instead of exiting while a "
                                          "retry or a timed pause is due later.")
@click.option("--allow-empty", is_flag=True, help="Run a new order even if it plans no step (it completes at once); "
                                                 "without it such an order is refused (DRO515).")
@order_form_options
@format_option
@engine_options
def run_command(target: str, state_dir: Path | None, catalog: Path | None, parallel: int, wait: bool,
                allow_empty: bool, fmt: str, temporal: Any) -> None:
    """Run an order: ORDER_FILE plans it (once) and runs it; ORDER_ID continues it.

    Steps run until the plan completes or waits for an operator, an event or a
    timer; then dro says what it waits on and exits. Running the same order file
    again continues its order. An order that plans no step is refused (wrong
    catalog?) unless --allow-empty. Exit status: 0 completed or waiting, 1 a step is
    in fallout (or the catalog has errors, or the order plans no step), 2 bad input.
    With --format json, what it journaled and where the order stands (with --wait:
    the last run's). With --engine temporal, the order runs on the workers of a
    Temporal cluster (docs/temporal.md); dro returns once it settles, and --format json
    prints its status document.
    """
    from dro_cli.output.terminal import quiet
    from dro_cli.runtime.api import NotPlanned, run_order

    if temporal is not None:
        _run_on_temporal(target, temporal, catalog, allow_empty, fmt)

    options = dataclasses.replace(options_for(state_dir, catalog, parallel, fmt, new_state_dir=True),
                                  allow_empty=allow_empty)
    if wait and os.environ.get("DRO_NOW"):
        raise DroError("--wait cannot wait while DRO_NOW fixes the clock", exit_code=EXIT_USAGE,
                       hint="move DRO_NOW forward and run again, or unset it")
    with interruptible():
        try:
            result = run_order(target, options)
        except NotPlanned as error:
            raise SystemExit(report_not_planned(error)) from None
        if fmt == "text":
            report_warnings(result)
        while wait and (due := result.engine.next_timer()) is not None:
            pause = max(0.0, due - options.clock())
            if fmt == "text" and not quiet():
                click.echo(f"waiting {pause:.1f}s for the next timer (Ctrl-C stops; `dro run {result.order_id}` "
                           "goes on)")
            time.sleep(pause)  # the order's lock is not held while sleeping: operators can act meanwhile
            result = run_order(result.order_id, options)
    raise SystemExit(report_run(result, fmt))


def _run_on_temporal(target: str, temporal: Any, catalog: Path | None, allow_empty: bool, fmt: str) -> None:
    from dro_cli.commands.engine import report_view, wait_for
    from dro_cli.hosts.temporal.client import run_order as run_on_temporal
    from dro_cli.runtime.api import CATALOG_ENV, NotPlanned

    catalog = catalog or (Path(os.environ[CATALOG_ENV]) if os.environ.get(CATALOG_ENV) else None)
    with interruptible():
        try:
            view = wait_for(run_on_temporal(target, temporal, catalog=catalog, allow_empty=allow_empty))
        except NotPlanned as error:
            raise SystemExit(report_not_planned(error)) from None
    raise SystemExit(report_view(view, fmt, full=False))
