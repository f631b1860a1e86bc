"""How an error reaches the user: its diagnostics, then `error[CODE]: message` and `= help: ...` on stderr."""

from __future__ import annotations

import click

from dro_cli.errors import DroError


def show_error(error: DroError) -> None:
    if error.diagnostics and error.sources is not None:
        from dro_cli.output.reporters import REPORTERS
        from dro_cli.output.reporters.report import Report
        from dro_cli.output.terminal import use_color

        report = Report(error.diagnostics, error.sources, len(error.sources.texts))
        REPORTERS["text"](report, color=use_color(), err=True, summary=False)
    label = f"error[{error.code}]" if error.code else "error"
    click.echo(f"{label}: {error.message}", err=True)
    if error.hint:
        click.echo(f"  = help: {error.hint}", err=True)
