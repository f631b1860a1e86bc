"""Render diagnostics for people (text), programs (json) and GitHub Actions (github)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import click

from dro_cli.reporters_ci import junit_reporter, sarif_reporter
from dsl.diagnostics import Diagnostic, Severity, plural
from dsl.sources import Sources

DIAGNOSTICS_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Report:
    diagnostics: Sequence[Diagnostic]
    sources: Sources
    files: int

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors


class Reporter(Protocol):
    def __call__(self, report: Report, *, color: bool | None, err: bool, summary: bool = True) -> None: ...



# ---- text ------------------------------------------------------------------------

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


# ---- json ------------------------------------------------------------------------


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, object]:
    span = diagnostic.span
    return {
        "severity": diagnostic.severity.value,
        "code": diagnostic.code,
        "summary": diagnostic.summary,
        "detail": diagnostic.detail,
        "hint": diagnostic.hint,
        "file": span.file if span else None,
        "line": span.line if span else None,
        "column": span.col if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_col if span else None,
    }


def json_reporter(report: Report, *, color: bool | None, err: bool, summary: bool = True) -> None:
    document = {
        "schema_version": DIAGNOSTICS_SCHEMA_VERSION,
        "files": report.files,
        "errors": report.errors,
        "warnings": report.warnings,
        "diagnostics": [diagnostic_json(d) for d in report.diagnostics],
    }
    click.echo(json.dumps(document, indent=2, ensure_ascii=False), err=err)


# ---- github ----------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_reporter(report: Report, *, color: bool | None, err: bool, summary: bool = True) -> None:
    """GitHub workflow commands, which become annotations on the pull request."""
    for d in report.diagnostics:
        level = "error" if d.is_error else "warning"
        props = [f"title={_escape_property(d.code + ' ' + d.summary)}"]
        if d.span is not None:
            s = d.span
            props[:0] = [f"file={_escape_property(s.file)}", f"line={s.line}", f"col={s.col}",
                         f"endLine={s.end_line}", f"endColumn={s.end_col}"]
        message = d.summary + "".join(f"\n{part}" for part in (d.detail, d.hint and "help: " + d.hint) if part)
        click.echo(f"::{level} {','.join(props)}::{_escape_data(message)}", err=err)


REPORTERS: dict[str, Reporter] = {
    "text": text_reporter,
    "json": json_reporter,
    "github": github_reporter,
    "sarif": sarif_reporter,
    "junit": junit_reporter,
}
