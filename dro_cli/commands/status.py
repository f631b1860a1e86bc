"""`dro status`: every order on one line, or one order's steps by lane."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dro_cli.commands.common import state_dir_option
from dro_cli.output.terminal import color_stdout


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


@click.command("status")
@click.argument("order_id", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json follows schemas/status.schema.json.")
@state_dir_option
def status_command(order_id: str | None, fmt: str, state_dir: Path | None) -> None:
    """Show orders: state, progress and what each waits on; with ORDER_ID, its steps by lane
    (state, attempts, SLA, queue)."""
    from dro_cli.journal.store import find_order, order_ids, read_order
    from dro_cli.journal.store import state_dir as resolve_state_dir
    from dro_cli.runtime.clock import now
    from dro_cli.runtime.status import SCHEMA_VERSION, order_status, order_summary

    root = resolve_state_dir(state_dir)
    if order_id is None:
        at = now()
        summaries = [order_summary(read_order(root / "orders" / oid), at) for oid in order_ids(root)]
        if fmt == "json":
            _json({"schema_version": SCHEMA_VERSION, "orders": summaries})
        else:
            from dro_cli.output.views.status_text import render_orders

            click.echo(render_orders(summaries, color_stdout()) if summaries else f"no orders in {root}")
        return
    view = read_order(find_order(root, order_id))
    status = order_status(view, now())
    if fmt == "json":
        _json(status)
    else:
        from dro_cli.output.views.status_text import render_order

        click.echo(render_order(status, view.plan["lanes"], color_stdout()).rstrip("\n"))
