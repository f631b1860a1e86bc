"""`dro status`: every order on one line, or one order's steps by lane; with --watch, again as they change."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dro_cli.commands import completion
from dro_cli.commands.common import state_dir_option, unreadable_json, warn_unreadable
from dro_cli.commands.engine import engine_options
from dro_cli.errors import EXIT_FAILED
from dro_cli.output.terminal import color_stdout

Unreadable = list[tuple[str, str]]  # (order id, why it cannot be read)


@click.command("status")
@click.argument("order_id", required=False, shell_complete=completion.order_id)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json follows schemas/status.schema.json (with --watch: one document a line).")
@click.option("-w", "--watch", is_flag=True,
              help="Stay, and show the status again each time it changes (Ctrl-C stops).")
@click.option("--interval", type=click.FloatRange(0.05, 3600), default=1.0, show_default=True,
              help="With --watch: seconds between looks.")
@state_dir_option
@engine_options
def status_command(order_id: str | None, fmt: str, watch: bool, interval: float, state_dir: Path | None,
                   temporal: Any) -> None:
    """Show orders: state, progress and what each waits on; with ORDER_ID, its steps by lane
    (state, attempts, SLA, queue). With --watch, as `kubectl get -w` does: again whenever
    it changes, on a terminal in place of the last one.

    Exit status: 0, or 1 when an order cannot be read (the others are listed), 2 an
    unknown order or a bad state directory. With --engine temporal: one order's status,
    from its workflow (ORDER_ID needed, no --watch yet).
    """
    if temporal is not None:
        _status_on_temporal(order_id, fmt, watch, temporal)
        return
    from dro_cli.journal.store import find_order
    from dro_cli.journal.store import state_dir as resolve_state_dir

    root = resolve_state_dir(state_dir)
    order_dir = None if order_id is None else find_order(root, order_id)
    if not watch:
        text, unreadable = _render(root, order_dir, fmt, compact=False)
        click.echo(text)
        warn_unreadable(unreadable)
        if unreadable:
            raise SystemExit(EXIT_FAILED)
        return
    is_text = fmt == "text"
    _watch(lambda: _render(root, order_dir, fmt, compact=True), interval, clear=is_text and sys.stdout.isatty(),
           apart=is_text)


def _render(root: Path, order_dir: Path | None, fmt: str, *, compact: bool) -> tuple[str, Unreadable]:
    """The status as it is now (every order, or one order's steps; text, or JSON on one line when
    `compact`), and the orders that could not be read."""
    from dro_cli.journal.order_errors import about_order
    from dro_cli.journal.store import read_order
    from dro_cli.runtime.clock import now
    from dro_cli.runtime.status import SCHEMA_VERSION, order_status

    def as_json(data: Any) -> str:
        if compact:
            return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        from dro_cli.journal.indented_json import dumps

        return dumps(data)  # json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False), faster

    at = now()
    if order_dir is None:
        summaries, unreadable = _summaries(root, at)
        if fmt == "json":
            return as_json({"schema_version": SCHEMA_VERSION, "orders": summaries,
                            "unreadable": unreadable_json(unreadable)}), unreadable
        from dro_cli.output.views.status_text import render_orders

        text = (render_orders(summaries, color_stdout()) if summaries
                else f"no orders in {root}" if not unreadable else "no orders that can be read")
        return text, unreadable
    with about_order(order_dir.name):
        view = read_order(order_dir)
        status = order_status(view, at)
        if fmt == "json":
            return as_json(status), []
        from dro_cli.output.views.status_text import render_order

        return render_order(status, view.engine.plan["lanes"], color_stdout()).rstrip("\n"), []


def _summaries(root: Path, at: float) -> tuple[list[dict[str, Any]], Unreadable]:
    """Every order's one-line status, read from its digest (as the other scans read them: 10,000 small
    files, not 10,000 plans and journals), and the orders that could not be read."""
    from dro_cli.journal.file import PLAN_FILE
    from dro_cli.journal.order_errors import debugging, order_failure
    from dro_cli.journal.store import digest_of, order_folders, read_order
    from dro_cli.runtime.status import order_summary, summary_of_digest
    from dsl.gc_pause import collector_paused

    summaries, unreadable = [], []
    orders = os.path.join(root, "orders")
    with collector_paused():  # rows that live until printed, without cycles: nothing for the collector
        for oid in order_folders(root):
            try:  # about_order's way, without entering a context 10,000 times
                found = digest_of(f"{orders}/{oid}")  # a name from listdir: join's checks are moot
                if found is not None:
                    summaries.append(summary_of_digest(found, at))
                elif os.path.lexists(os.path.join(orders, oid, PLAN_FILE)):  # its planning was interrupted
                    summaries.append(order_summary(read_order(root / "orders" / oid), at))
            except Exception as error:
                if debugging(error):
                    raise
                unreadable.append((oid, order_failure(oid, error).message))
    return summaries, unreadable


def _watch(render: Callable[[], tuple[str, Unreadable]], interval: float, *, clear: bool, apart: bool) -> None:
    """Print what `render()` gives now and whenever it gives something else, until Ctrl-C (which exits 0):
    in place of the last one (`clear`), else after it, a blank line between them when `apart`."""
    shown = None
    try:
        while True:
            text, unreadable = render()
            if text != shown:
                if clear:
                    click.clear()
                elif shown is not None and apart:
                    click.echo()
                click.echo(text)
                warn_unreadable(unreadable)
                shown = text
            time.sleep(interval)
    except KeyboardInterrupt:
        return


def _status_on_temporal(order_id: str | None, fmt: str, watch: bool, temporal: Any) -> None:
    from dro_cli.commands.engine import report_view, wait_for
    from dro_cli.errors import EXIT_USAGE, DroError
    from dro_cli.hosts.temporal.client import read

    if order_id is None or watch:
        raise DroError("on Temporal, `dro status` shows one order, once: give ORDER_ID, without --watch",
                       exit_code=EXIT_USAGE, hint="listing orders across a namespace is not yet supported on "
                                                  "Temporal (docs/temporal.md); `temporal workflow list` lists them")
    report_view(wait_for(read(temporal, order_id)), fmt, full=True)
