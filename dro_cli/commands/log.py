"""`dro log`: an order's journal as a timeline; `dro verify`: check its chain of checksums."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dro_cli.commands import completion
from dro_cli.commands.common import state_dir_option
from dro_cli.errors import EXIT_FAILED
from dro_cli.output.terminal import color_stdout


@click.command("log")
@click.argument("order_id", shell_complete=completion.order_id)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the records, one JSON object per line (schemas/journal-event.schema.json).")
@state_dir_option
def log_command(order_id: str, fmt: str, state_dir: Path | None) -> None:
    """Show an order's journal: every state change and operator act, oldest first."""
    from dro_cli.journal.file import JOURNAL_FILE, read
    from dro_cli.journal.marks import no_journal
    from dro_cli.journal.order_errors import about_order
    from dro_cli.journal.store import find_order
    from dro_cli.journal.store import state_dir as resolve_state_dir

    path = find_order(resolve_state_dir(state_dir), order_id) / JOURNAL_FILE
    if not path.exists():
        raise no_journal(path.parent)  # DRO520, not an empty timeline
    records = read(path)
    if fmt == "json":
        for record in records:
            click.echo(json.dumps(record, sort_keys=True, ensure_ascii=False))
        return
    from dro_cli.output.views.log_text import render_log

    with about_order(order_id):
        text = render_log(records, color_stdout())
    click.echo(text.rstrip("\n"))


@click.command("verify")
@click.argument("order_id", shell_complete=completion.order_id)
@state_dir_option
def verify_command(order_id: str, state_dir: Path | None) -> None:
    """Check an order's journal (sequence, record shape, the chain of checksums) and the files believed beside
    it: plan.json against plan.created, the snapshot and the digest against the records. Changes nothing.

    Exit status: 0 intact, 1 damaged (a torn last record, which the next writer cuts
    off, is reported but is not damage).
    """
    from dro_cli.journal.audit import audit_order
    from dro_cli.journal.store import find_order
    from dro_cli.journal.store import state_dir as resolve_state_dir
    from dro_cli.output.terminal import quiet

    audit = audit_order(find_order(resolve_state_dir(state_dir), order_id))
    report = audit.journal
    if not (report.ok or report.recoverable):
        click.echo(f"error: {order_id}: the journal is damaged at line {report.bad_line}: {report.reason} "
                   f"({report.records} good records before it)", err=True)
        raise SystemExit(EXIT_FAILED)
    for note in audit.notes:
        click.echo(f"note: {order_id}: {note}", err=True)
    for problem in audit.problems:
        click.echo(f"error{f'[{problem.code}]' if problem.code else ''}: {problem.message}", err=True)
        if problem.hint:
            click.echo(f"  = help: {problem.hint}", err=True)
    if audit.problems:
        raise SystemExit(EXIT_FAILED)
    if report.recoverable:
        click.echo(f"{order_id}: {report.records} good records; line {report.bad_line} is a torn last write "
                   f"({report.reason}); the next `dro run {order_id}` cuts it off")
    elif not quiet():
        click.echo(f"{order_id}: journal intact, {report.records} records, checksums chained; "
                   "plan.json, snapshot and digest agree with it")
