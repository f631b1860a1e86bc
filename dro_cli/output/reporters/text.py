"""Diagnostics for people: ruff-style blocks with the source line and a caret, then a summary.
A long line is shown as a window around the caret, and a kind repeated in a file is counted after ten."""

from __future__ import annotations

import click

from dro_cli.output.reporters.excerpt import excerpt
from dro_cli.output.reporters.repeats import Omitted, interleaved
from dro_cli.output.reporters.report import CatalogSummary, Report
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
            shown = excerpt(source, span.col, span.end_col if span.end_line == span.line else None)
            bar = click.style("|", fg="blue", bold=True)
            lines.append(f"{gutter} {bar}")
            lines.append(f"{click.style(str(span.line), fg='blue', bold=True)} {bar} {shown.text}")
            caret = click.style("^" * shown.caret_width, fg=_COLOR[diagnostic.severity], bold=True)
            lines.append(f"{gutter} {bar} {' ' * shown.caret_at}{caret}")
    pad = gutter + " "
    if diagnostic.detail:
        lines.append(f"{pad}= note: {diagnostic.detail}")
    if diagnostic.hint:
        lines.append(f"{pad}= {click.style('help', bold=True)}: {diagnostic.hint}")
    return "\n".join(lines)


def text_reporter(report: Report, *, color: bool | None, err: bool, summary: bool = True) -> None:
    for shown in interleaved(report.diagnostics):
        if isinstance(shown, Omitted):
            click.echo(click.style(str(shown), bold=True) + "\n", color=color, err=err)
        else:
            click.echo(render_text(shown, report.sources) + "\n", color=color, err=err)
    if not summary:
        return
    several = len(report.catalogs) > 1
    for catalog in report.catalogs if several else ():
        counts = (f"{plural(catalog.errors, 'error')}, {plural(catalog.warnings, 'warning')} in "
                  f"{plural(catalog.files, 'file')}" if catalog.errors or catalog.warnings
                  else f"all checks passed ({plural(catalog.files, 'file')})")
        click.echo(f"{_catalog_title(catalog)}: {counts}", color=color, err=err)
    files = plural(report.files, "file") + (f" of {plural(len(report.catalogs), 'catalog')}" if several else "")
    if report.errors or report.warnings:
        counts = f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}"
        click.echo(click.style(f"Found {counts} in {files}.", bold=True), color=color, err=err)
    else:
        click.echo(f"All checks passed ({files}).", color=color, err=err)


def _catalog_title(catalog: CatalogSummary) -> str:
    """Where a catalog is, and its name when its directory is not called so."""
    named = catalog.name and catalog.path.replace("\\", "/").rpartition("/")[2] != catalog.name
    return f"{catalog.path} ({catalog.name})" if named else catalog.path
