"""`dro serve`: a read-only dashboard of the orders on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import click

from dro_cli.commands.common import state_dir_option
from dro_cli.errors import EXIT_USAGE, DroError


@click.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8008, show_default=True,
              help="Port to listen on (0: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback exposes the orders to the network: say so explicitly.")
@click.option("--allow-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="Also answer requests for this host name (a proxy's, a DNS name of this machine). "
                   "Repeatable. localhost, the --host name and IP addresses are always answered.")
@state_dir_option
def serve_command(port: int, host: str, allowed_hosts: tuple[str, ...], state_dir: Path | None) -> None:
    """Serve a read-only dashboard: every order with its state, progress, fallout and jeopardy counts,
    and each order's plan view, updating as journals grow. Ctrl-C stops it."""
    from dro_cli.journal.store import state_dir as resolve_state_dir
    from dro_cli.output.serve import make_server

    root = resolve_state_dir(state_dir)
    try:
        server = make_server(root, host, port, allowed_hosts)
    except OSError as error:
        raise DroError(f"cannot listen on {host}:{port}: {error.strerror or error}", exit_code=EXIT_USAGE,
                       hint="choose another --port (0 picks a free one)") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: {host} is not loopback: anyone who reaches this address sees every order", err=True)
    from dro_cli.output.terminal import quiet

    if not quiet():
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"serving the orders of {root} at http://{shown}:{server.server_port}/ (read-only; Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        if not quiet():
            click.echo("stopped")
    finally:
        server.server_close()
