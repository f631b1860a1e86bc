"""`dro fallout` and `dro jeopardy`: the steps across all orders that need an operator's eye."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dro_cli.commands.common import state_dir_option
from dro_cli.errors import EXIT_FAILED
from dro_cli.terminal import color_stdout

_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                       help="json follows schemas/queues.schema.json.")


@click.command("fallout")
@click.option("--queue", default=None, help="Only the steps in this fallout queue.")
@_FORMAT
@state_dir_option
def fallout_command(queue: str | None, fmt: str, state_dir: Path | None) -> None:
    """List the steps in fallout queues across all orders, oldest first: what failed, how often, since when."""
    from dro_cli.queues import SCHEMA_VERSION, Scan, fallout_rows
    from dro_cli.store import state_dir as resolve_state_dir

    scan = Scan(resolve_state_dir(state_dir))
    rows = fallout_rows(scan, queue)
    if fmt == "json":
        _json({"schema_version": SCHEMA_VERSION, "fallout": rows})
    else:
        from dro_cli.views.queue_text import render_fallout

        click.echo(render_fallout(rows, queue, color_stdout()), nl=False)
    _report_unreadable(scan.unreadable)


@click.command("jeopardy")
@_FORMAT
@state_dir_option
def jeopardy_command(fmt: str, state_dir: Path | None) -> None:
    """List the unfinished steps in jeopardy or late across all orders, the most overdue first."""
    from dro_cli.clock import now
    from dro_cli.queues import SCHEMA_VERSION, Scan, jeopardy_rows
    from dro_cli.store import state_dir as resolve_state_dir

    at = now()
    scan = Scan(resolve_state_dir(state_dir))
    rows = jeopardy_rows(scan, at)
    if fmt == "json":
        _json({"schema_version": SCHEMA_VERSION, "jeopardy": rows})
    else:
        from dro_cli.views.queue_text import render_jeopardy

        click.echo(render_jeopardy(rows, at, color_stdout()), nl=False)
    _report_unreadable(scan.unreadable)


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _report_unreadable(unreadable: list[tuple[str, str]]) -> None:
    """Orders the scan could not read are left out; say which, and exit 1."""
    for order_id, why in unreadable:
        click.echo(f"warning: order {order_id} left out: {why}", err=True)
    if unreadable:
        raise SystemExit(EXIT_FAILED)
