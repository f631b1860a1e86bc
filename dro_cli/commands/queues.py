"""`dro fallout` and `dro jeopardy`: the steps across all orders that need an operator's eye."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dro_cli.commands import completion
from dro_cli.commands.common import state_dir_option, unreadable_json, warn_unreadable
from dro_cli.errors import EXIT_FAILED
from dro_cli.output.terminal import color_stdout

_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                       help="json follows schemas/queues.schema.json.")


@click.command("fallout")
@click.option("--queue", default=None, shell_complete=completion.queue, help="Only the steps in this fallout queue.")
@_FORMAT
@state_dir_option
def fallout_command(queue: str | None, fmt: str, state_dir: Path | None) -> None:
    """List the steps in fallout queues across all orders, oldest first: what failed, how often, since when.

    Exit status: 0, or 1 when an order cannot be read (named on stderr; the others are listed).
    """
    from dro_cli.journal.store import state_dir as resolve_state_dir
    from dro_cli.output.views.queue_text import render_fallout
    from dro_cli.runtime.queues import Scan, check_queue, fallout_rows

    scan = Scan(resolve_state_dir(state_dir))
    digests = list(scan.digests())
    check_queue(digests, queue, scan.root)
    rows = fallout_rows(digests, queue)
    _show(fmt, "fallout", rows, lambda: render_fallout(rows, queue, color_stdout()), scan.unreadable)


@click.command("jeopardy")
@_FORMAT
@state_dir_option
def jeopardy_command(fmt: str, state_dir: Path | None) -> None:
    """List the unfinished steps in jeopardy or late across all orders, the most overdue first.

    Exit status: 0, or 1 when an order cannot be read (named on stderr; the others are listed).
    """
    from dro_cli.journal.store import state_dir as resolve_state_dir
    from dro_cli.output.views.queue_text import render_jeopardy
    from dro_cli.runtime.clock import now
    from dro_cli.runtime.queues import Scan, jeopardy_rows

    at = now()
    scan = Scan(resolve_state_dir(state_dir))
    rows = jeopardy_rows(scan.digests(), at)
    _show(fmt, "jeopardy", rows, lambda: render_jeopardy(rows, at, color_stdout()), scan.unreadable)


def _show(fmt: str, key: str, rows: list[dict[str, Any]], text: Callable[[], str],
          unreadable: list[tuple[str, str]]) -> None:
    """The rows as JSON under `key` (and the orders the scan could not read under `unreadable`), or as
    text; then those orders on stderr (exit 1 if any)."""
    from dro_cli.runtime.queues import SCHEMA_VERSION

    if fmt == "json":
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, key: rows, "unreadable": unreadable_json(unreadable)},
                              indent=2, sort_keys=True, ensure_ascii=False))
    else:
        click.echo(text(), nl=False)
    warn_unreadable(unreadable)
    if unreadable:
        raise SystemExit(EXIT_FAILED)
