"""Diagnostics for people: ruff-style blocks with the source line and a caret, then a summary."""

from __future__ import annotations

import click

from dro_cli.output.reporters.report import Report
from dsl.diagnostics import Diagnostic, Severity, plural
from dsl.sources import Sources

_COLOR = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def render_text(diagnostic: Diagnostic, sources: Sources) -> str:
    """One diagnostic, ruff style: header, location, source line with a caret, note and help."""
    head = click.style(f"{diagnostic.severity.value}[{diagnostic.code}]", fg=_COLOR[diagnostic.severity], bold=True)
    lines = [f"{head}{click.style(': ' + diagnostic.summary, bold=True)}"]
    span = diagnostic.span
    gutter = ""
    if span is not None:
        gutter = " " * len(str(span.line))
        lines.append(f"{gutter}{click.style('-->', fg='blue', bold=True)} {span}")
        source = sources.line(span.file, span.line)
        if source is not None:
            shown = source.expandtabs(4)
            col = len(source[: span.col - 1].expandtabs(4)) + 1
            end = span.end_col if span.end_line == span.line else len(source) + 1
            width = max(1, len(source[: end - 1].expandtabs(4)) - col + 1)
            bar = click.style("|", fg="blue", bold=True)
            lines.append(f"{gutter} {bar}")
            lines.append(f"{click.style(str(span.line), fg='blue', bold=True)} {bar} {shown}")
            caret = click.style("^" * width, fg=_COLOR[diagnostic.severity], bold=True)
            lines.append(f"{gutter} {bar} {' ' * (col - 1)}{caret}")
    pad = gutter + " "
    if diagnostic.detail:
        lines.append(f"{pad}= note: {diagnostic.detail}")
    if diagnostic.hint:
        lines.append(f"{pad}= {click.style('help', bold=True)}: {diagnostic.hint}")
    return "\n".join(lines)


def text_reporter(report: Report, *, color: bool | None, err: bool, summary: bool = True) -> None:
    for diagnostic in report.diagnostics:
        click.echo(render_text(diagnostic, report.sources) + "\n", color=color, err=err)
    if not summary:
        return
    if report.errors or report.warnings:
        counts = f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}"
        click.echo(click.style(f"Found {counts} in {plural(report.files, 'file')}.", bold=True),
                   color=color, err=err)
    else:
        click.echo(f"All checks passed ({plural(report.files, 'file')}).", color=color, err=err)
