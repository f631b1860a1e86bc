"""`dro amend` and `dro cancel`: change or cancel a running order (docs/amending.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dro_cli.commands import completion
from dro_cli.commands.common import (
    F,
    in_fallout,
    interruptible,
    operator_option,
    options_for,
    order_result,
    report_not_planned,
    report_run,
    state_dir_option,
)
from dro_cli.commands.order_form import order_form_options
from dro_cli.errors import EXIT_FAILED, EXIT_OK
from dro_cli.output.terminal import color_stdout, quiet
from dro_cli.runtime.clock import now


def _amend_options(function: F) -> F:
    """--catalog (said explicitly: the revision is planned with it), --parallel, --state-dir, --format."""
    function = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                            show_default=True, help="json: the reconciliation (schemas/amendment.schema.json), "
                            "with where the order stands after it (`result`); a whole order canceled at once: what "
                            "`dro run` prints (schemas/result.schema.json). Errors stay on stderr.")(function)
    function = click.option("--parallel", type=click.IntRange(1, 256), default=8, show_default=True,
                            help="Steps run at once, as the order runs on.")(function)
    function = click.option("--catalog", type=click.Path(path_type=Path), default=None,
                            help="Plan the revision with this catalog instead of the templates the order was "
                                 "planned with (kept in the state directory); its flows import from it.")(function)
    return state_dir_option(function)


def _finish(amendment: Any, fmt: str) -> None:
    """The reconciliation, then where the order stands; in json one document (schemas/amendment.schema.json)
    with the run's result inside. The exit code is the run's."""
    from dro_cli.output.views.amendment_text import amendment_document, render_amendment

    run = amendment.run
    document = amendment_document(amendment.order_id, amendment.reconciliation, applied=run is not None,
                                  catalog=amendment.catalog)
    if fmt == "json":
        document["result"] = None if run is None else order_result(run, now())
        click.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
        raise SystemExit(EXIT_FAILED if run is not None and in_fallout(run) else EXIT_OK)
    if not quiet():
        click.echo(render_amendment(document, color_stdout()), nl=False)
    raise SystemExit(EXIT_OK if run is None else report_run(run, fmt))


@click.command("amend")
@click.argument("order_id", shell_complete=completion.order_id)
@click.argument("order_file", type=click.Path(path_type=Path))
@click.option("--reason", default=None, help="Why the order changes (journaled; compensations read it).")
@click.option("--wait", "wait", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="While a freeze_plan step is in progress, wait up to this long for it instead of exiting 4.")
@order_form_options
@operator_option
@_amend_options
def amend_command(order_id: str, order_file: Path, reason: str | None, wait: float | None, operator: str | None,
                  state_dir: Path | None, catalog: Path | None, parallel: int, fmt: str) -> None:
    """Amend a running order: ORDER_FILE is the whole order as it should now be.

    The revision is planned with the templates the order was planned with (or
    --catalog, said explicitly), reconciled step by step with the running plan, and
    journaled before any compensation runs; then the order runs on. `dro plan --amend`
    previews it. Exit status: 0 amended (or nothing to change), 1 a step is in fallout,
    2 bad input or a change past a point of no return (nothing written), 4 the plan
    is frozen while a freeze_plan step is in progress (nothing written).
    """
    from dro_cli.runtime.amend import amend, load_revised
    from dro_cli.runtime.api import NotPlanned, operator_name

    with interruptible():
        try:
            loaded = load_revised(order_file)  # a bad file first, whatever the state directory
            options = options_for(state_dir, catalog, parallel, fmt)
            amendment = amend(order_id, order_file, options, operator=operator_name(operator), reason=reason,
                              wait=wait, catalog=catalog, loaded=loaded)
        except NotPlanned as error:
            raise SystemExit(report_not_planned(error)) from None
    _finish(amendment, fmt)


@click.command("cancel")
@click.argument("order_id", shell_complete=completion.order_id)
@click.option("--items", "items", multiple=True, metavar="LINE_ID",
              help="Cancel only these order lines (and the lines under them); repeatable. Default: the whole order.")
@click.option("--reason", required=True, help="Why (journaled; compensations read it).")
@operator_option
@_amend_options
def cancel_command(order_id: str, items: tuple[str, ...], reason: str, operator: str | None, state_dir: Path | None,
                   catalog: Path | None, parallel: int, fmt: str) -> None:
    """Cancel an order, or some of its lines, as an amendment that removes them.

    Steps not started are discarded; started or completed steps run their
    compensation (`compensate`), in reverse dependency order; a change past a point
    of no return is refused. A whole order with nothing to compensate is canceled at
    once. Exit status: 0 canceled (or canceling), 1 a step is in fallout, 2 bad input or
    past a point of no return, 4 frozen.
    """
    from dro_cli.runtime.amend import cancel
    from dro_cli.runtime.api import NotPlanned, operator_name

    options = options_for(state_dir, catalog, parallel, fmt)
    with interruptible():
        try:
            amendment = cancel(order_id, list(items), options, operator=operator_name(operator), reason=reason,
                               catalog=catalog)
        except NotPlanned as error:
            raise SystemExit(report_not_planned(error)) from None
    if not items and amendment.run is not None and amendment.run.engine.canceled is not None:
        raise SystemExit(report_run(amendment.run, fmt))  # canceled outright, as before
    _finish(amendment, fmt)
