"""`dro events`: register listeners (TMF's /hub pattern), send orders' events, list and resend dead letters."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dro_cli.commands.common import state_dir_option
from dro_cli.errors import EXIT_FAILED, EXIT_USAGE, DroError
from dro_cli.events import listeners as registry
from dro_cli.events.delivery import Policy, Report, dead_letters, resend, send_all
from dro_cli.journal.store import state_dir as resolve_state_dir


@click.group("events", invoke_without_command=True)
@click.option("--failed", is_flag=True, help="List the dead letters: events no listener took after every attempt.")
@state_dir_option
@click.pass_context
def events_command(ctx: click.Context, failed: bool, state_dir: Path | None) -> None:
    """Send orders' events (TMF622 and dro's own) to the listeners registered here."""
    if ctx.invoked_subcommand is not None:
        return
    if not failed:
        click.echo(ctx.get_help())
        return
    root = resolve_state_dir(state_dir)
    for order_dir, listener, letter in dead_letters(root, registry.load(root)):
        click.echo(f"{letter['event']['id']}\t{listener.id}\t{letter['attempts']} attempts\t{letter['error']}"
                   f"\t(order {order_dir.name})")


@events_command.command("subscribe")
@click.argument("url")
@click.option("--events", "types", multiple=True, metavar="TYPE",
              help="Event types to send (repeatable): " + ", ".join(registry.EVENT_TYPES)
                   + ". Default: the TMF622 ones.")
@click.option("--order", "orders", multiple=True, metavar="ORDER_ID", help="Only this order's events (repeatable).")
@click.option("--bearer-env", metavar="NAME",
              help="Send `Authorization: Bearer $NAME` (the name is stored, never the value).")
@state_dir_option
def subscribe_command(url: str, types: tuple[str, ...], orders: tuple[str, ...], bearer_env: str | None,
                      state_dir: Path | None) -> None:
    """Register a listener URL; prints its id."""
    root = resolve_state_dir(state_dir)
    split = [name.strip() for text in types for name in text.split(",") if name.strip()]
    listener = registry.subscribe(root, url, registry.check_events(split), orders, registry.bearer_auth(bearer_env))
    click.echo(listener.id)


@events_command.command("unsubscribe")
@click.argument("listener_id")
@state_dir_option
def unsubscribe_command(listener_id: str, state_dir: Path | None) -> None:
    """Remove a listener (its dead letters stay in the order directories)."""
    registry.unsubscribe(resolve_state_dir(state_dir), listener_id)


@events_command.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@state_dir_option
def list_command(fmt: str, state_dir: Path | None) -> None:
    """List the listeners."""
    found = registry.load(resolve_state_dir(state_dir))
    if fmt == "json":
        click.echo(json.dumps([listener.as_json() for listener in found], indent=2))
        return
    for listener in found:
        click.echo(f"{listener.id}\t{listener.callback}\t{','.join(listener.events)}")


def _policy_options(function: click.decorators.FC) -> click.decorators.FC:
    function = click.option("--timeout", type=click.FloatRange(0.1, 60), default=2.0, show_default=True,
                            help="Seconds per request.")(function)
    function = click.option("--deadline", type=click.FloatRange(0.1, 3600), default=10.0, show_default=True,
                            help="Seconds for the whole pass; the rest waits for the next.")(function)
    return click.option("--max-attempts", type=click.IntRange(1, 100), default=5, show_default=True,
                        help="Attempts before an event goes to the dead letters.")(function)


@events_command.command("send")
@_policy_options
@state_dir_option
def send_command(timeout: float, deadline: float, max_attempts: int, state_dir: Path | None) -> None:
    """Send what the listeners have not had yet (for cron, after `dro tick`). Exit 1 if a send failed."""
    root = resolve_state_dir(state_dir)
    _finish(send_all(root, registry.load(root), Policy(timeout, deadline, max_attempts)))


@events_command.command("resend")
@click.argument("event_id", required=False)
@click.option("--all", "every", is_flag=True, help="Every dead letter.")
@_policy_options
@state_dir_option
def resend_command(event_id: str | None, every: bool, timeout: float, deadline: float, max_attempts: int,
                   state_dir: Path | None) -> None:
    """Send dead letters again: one by its event id, or --all."""
    if (event_id is None) == (not every):
        raise DroError("give an event id or --all, not both or neither", hint="dro events --failed lists the ids",
                       exit_code=EXIT_USAGE)
    root = resolve_state_dir(state_dir)
    _finish(resend(root, registry.load(root), event_id, Policy(timeout, deadline, max_attempts)))


def _finish(report: Report) -> None:
    click.echo(f"sent {report.sent} event{'' if report.sent == 1 else 's'}"
               + (f", {report.dead} to the dead letters" if report.dead else "")
               + (f", {report.waiting} waiting for a later pass" if report.waiting else ""))
    for line in report.failed:
        click.echo(f"warning: {line}", err=True)
    if report.failed:
        raise SystemExit(EXIT_FAILED)
