"""`dro discard`: remove an order that has not acted on anything yet, keeping its files in an archive."""

from __future__ import annotations

from pathlib import Path

import click

from dro_cli.commands import completion
from dro_cli.commands.common import operator_option, state_dir_option


@click.command("discard")
@click.argument("order_id", shell_complete=completion.order_id)
@click.option("--reason", required=True, help="Why the order is discarded (journaled).")
@operator_option
@state_dir_option
def discard_command(order_id: str, reason: str, operator: str | None, state_dir: Path | None) -> None:
    """Discard an order started by mistake (a wrong catalog, a wrong file) before any auto or callout step
    has started.

    The act is journaled with the operator and the reason, then the order's directory
    moves whole to <state-dir>/discarded/: nothing is deleted, `dro status` and the
    scans no longer list it, and running its order file again plans it afresh. An
    order that has started an auto or callout step cannot be discarded (cancel it).
    Exit status: 0 discarded, 2 bad input or refused (nothing changed).
    """
    from dro_cli.commands.common import options_for
    from dro_cli.output.terminal import quiet
    from dro_cli.runtime.api import discard_order, operator_name

    options = options_for(state_dir, None, 1)
    archive = discard_order(order_id, operator=operator_name(operator), reason=reason, options=options)
    if not quiet():
        click.echo(f"order {order_id} discarded; its files are kept in {archive}")
