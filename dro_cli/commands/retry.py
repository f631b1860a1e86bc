"""`dro retry`: new attempts of steps in fallout, one order's or a whole queue's, then the plans go on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dro_cli.commands import completion
from dro_cli.commands.common import (
    format_option,
    interruptible,
    operator_option,
    options_for,
    order_result,
    print_result,
    report_run,
    run_options,
    warn_unreadable,
)
from dro_cli.engine.states import StepState
from dro_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, DroError

if TYPE_CHECKING:
    from dro_cli.runtime.api import RunOptions


@click.command("retry")
@click.argument("target", nargs=-1, metavar="[ORDER [STEP...]]", shell_complete=completion.retry_target)
@click.option("--all", "every", is_flag=True,
              help="Every step in fallout: ORDER's, or with no ORDER, every order's (narrow it with --queue).")
@click.option("--queue", default=None, shell_complete=completion.queue,
              help="With --all: only the steps in this fallout queue.")
@click.option("--reason", default=None, help="Why it is tried again (journaled).")
@operator_option
@run_options
@format_option
def retry_command(target: tuple[str, ...], every: bool, queue: str | None, reason: str | None,
                  operator: str | None, state_dir: Path | None, catalog: Path | None, parallel: int,
                  fmt: str) -> None:
    """Try steps in fallout again: `dro retry ORDER STEP...`, `dro retry ORDER --all`, or
    `dro retry --queue Q --all` across orders.

    Each retry is journaled with the operator and reason; the step starts a new
    attempt with a new round of its retry policy, and the plan goes on as `dro run`
    would. Exit status: 0 every retried step got past its failure, 1 a step is in
    fallout again (or, across orders, an order could not be read or retried: the
    others are), 2 bad input (nothing is retried).
    """
    from dro_cli.engine import acts
    from dro_cli.runtime.api import act, operator_name

    order_id, steps = (target[0], list(target[1:])) if target else (None, [])
    _check_usage(order_id, steps, every, queue)
    who = operator_name(operator)
    options = options_for(state_dir, catalog, parallel, fmt)
    with interruptible():
        if order_id is not None:
            if every:
                result = act(order_id, lambda e: acts.retry_queue(e, queue, operator=who, reason=reason), options)
            else:
                result = act(order_id, lambda e: acts.retry_steps(e, steps, operator=who, reason=reason), options)
            raise SystemExit(report_run(result, fmt))
        raise SystemExit(_retry_across_orders(queue, who, reason, options, fmt))


def _check_usage(order_id: str | None, steps: list[str], every: bool, queue: str | None) -> None:
    if order_id is None and not every:
        raise DroError("name the order and the steps to retry, or --all", exit_code=EXIT_USAGE,
                       hint="dro retry ORDER STEP...; dro retry ORDER --all; dro retry --queue Q --all")
    if every and steps:
        raise DroError("give either steps or --all, not both", exit_code=EXIT_USAGE,
                       hint=f"dro retry {order_id} --all retries every step of {order_id} in fallout")
    if order_id is not None and not steps and not every:
        raise DroError(f"name the steps of {order_id} to retry, or --all for every one in fallout",
                       exit_code=EXIT_USAGE, hint=f"`dro fallout` lists them; dro retry {order_id} STEP...")
    if queue is not None and not every:
        raise DroError("--queue selects the steps that --all retries", exit_code=EXIT_USAGE,
                       hint=f"dro retry --queue {queue} --all")


def _retry_across_orders(queue: str | None, operator: str, reason: str | None, options: RunOptions,
                         fmt: str) -> int:
    """Every order with steps in fallout (in `queue`): one line per order (or the JSON result), then the
    exit code."""
    from dro_cli.engine import acts
    from dro_cli.journal.lock import OrderLocked
    from dro_cli.journal.order_errors import about_order
    from dro_cli.output.terminal import quiet
    from dro_cli.output.views.status_text import progress_text
    from dro_cli.runtime.api import act
    from dro_cli.runtime.queues import Scan, check_queue, fallout_rows

    scan = Scan(options.state_dir)
    digests = list(scan.digests())
    warn_unreadable(scan.unreadable)  # an order the scan cannot read is not retried; the others are
    check_queue(digests, queue, options.state_dir)
    rows = fallout_rows(digests, queue)
    orders = sorted({row["order"] for row in rows})
    code = EXIT_FAILED if scan.unreadable else EXIT_OK
    results: list[dict[str, Any]] = []
    not_done = [{"order": order, "reason": why, "busy": False} for order, why in scan.unreadable]
    if not orders and fmt == "text":
        if not quiet():
            click.echo(f"no steps in fallout queue {queue}" if queue else "no steps in fallout")
        return code
    for order_id in orders:
        try:
            with about_order(order_id, "run"):
                result = act(order_id, lambda e: acts.retry_queue(e, queue, operator=operator, reason=reason),
                             options)
        except DroError as error:  # locked by another dro, or no longer in fallout: the others go on
            if fmt == "text":
                click.echo(f"{order_id}: not retried: {error.message}", err=True)
            not_done.append({"order": order_id, "reason": error.message, "busy": isinstance(error, OrderLocked)})
            code = EXIT_FAILED
            continue
        results.append(order_result(result, options.clock()))
        engine = result.engine
        back = [sid for sid in engine.with_state(StepState.FATALLY_FAILED)
                if queue is None or engine.runs[sid].queue == queue]  # the steps retried here that fell out
        if back:
            code = EXIT_FAILED
        if fmt == "text" and not quiet():
            line = f"{order_id}: {engine.state}, {progress_text(*engine.progress())}"
            click.echo(line + (f"; in fallout again: {', '.join(back)}" if back else ""))
    if fmt == "json":
        print_result(results, not_done=not_done, at=options.clock())
    return code
