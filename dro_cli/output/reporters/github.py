"""Diagnostics for GitHub Actions: workflow commands, which become annotations on the pull request."""

from __future__ import annotations

import click

from dro_cli.output.reporters.repeats import Omitted, interleaved
from dro_cli.output.reporters.report import Report


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_reporter(report: Report, *, color: bool | None, err: bool, summary: bool = True) -> None:
    """GitHub workflow commands, which become annotations on the pull request."""
    for d in interleaved(report.diagnostics):
        if isinstance(d, Omitted):  # GitHub shows ten annotations of a kind per step anyway
            click.echo(f"::notice title={_escape_property(d.code)}::{_escape_data(str(d))}", err=err)
            continue
        level = "error" if d.is_error else "warning"
        props = [f"title={_escape_property(d.code + ' ' + d.summary)}"]
        if d.span is not None:
            s = d.span
            props[:0] = [f"file={_escape_property(s.file)}", f"line={s.line}", f"col={s.col}",
                         f"endLine={s.end_line}", f"endColumn={s.end_col}"]
        message = d.summary + "".join(f"\n{part}" for part in (d.detail, d.hint and "help: " + d.hint) if part)
        click.echo(f"::{level} {','.join(props)}::{_escape_data(message)}", err=err)
