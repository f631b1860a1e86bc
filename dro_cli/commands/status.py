"""`dro status`: every order on one line, or one order's steps by lane."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dro_cli.commands.common import state_dir_option, unreadable_json, warn_unreadable
from dro_cli.errors import EXIT_FAILED
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
    (state, attempts, SLA, queue).

    Exit status: 0, or 1 when an order cannot be read (the others are listed), 2 an
    unknown order or a bad state directory.
    """
    from dro_cli.errors import DroError
    from dro_cli.journal.store import about_order, find_order, order_ids, read_order
    from dro_cli.journal.store import state_dir as resolve_state_dir
    from dro_cli.runtime.clock import now
    from dro_cli.runtime.status import SCHEMA_VERSION, order_status, order_summary

    root = resolve_state_dir(state_dir)
    if order_id is None:
        at = now()
        summaries, unreadable = [], []
        for oid in order_ids(root):
            try:
                with about_order(oid):
                    summaries.append(order_summary(read_order(root / "orders" / oid), at))
            except DroError as error:
                unreadable.append((oid, error.message))
        if fmt == "json":
            _json({"schema_version": SCHEMA_VERSION, "orders": summaries, "unreadable": unreadable_json(unreadable)})
        else:
            from dro_cli.output.views.status_text import render_orders

            click.echo(render_orders(summaries, color_stdout()) if summaries
                       else f"no orders in {root}" if not unreadable else "no orders that can be read")
        warn_unreadable(unreadable)
        if unreadable:
            raise SystemExit(EXIT_FAILED)
        return
    order_dir = find_order(root, order_id)
    with about_order(order_id):
        view = read_order(order_dir)
        status = order_status(view, now())
    if fmt == "json":
        _json(status)
    else:
        from dro_cli.output.views.status_text import render_order

        with about_order(order_id):
            text = render_order(status, view.plan["lanes"], color_stdout())
        click.echo(text.rstrip("\n"))
