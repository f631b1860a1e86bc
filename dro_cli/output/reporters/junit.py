"""Diagnostics for CI test reports: JUnit XML, a test case per checked file, failed by its errors."""

from __future__ import annotations

from collections.abc import Iterable

import click

from dro_cli.output.reporters.report import Report
from dro_cli.output.reporters.text import render_text
from dsl.diagnostics import Diagnostic, plural

JUNIT_SUITE = "dro validate"
JUNIT_CLASSNAME = "dro.validate"


def _rendered(diagnostics: Iterable[Diagnostic], report: Report) -> str:
    return "\n\n".join(click.unstyle(render_text(d, report.sources)) for d in diagnostics)


def junit_xml(report: Report) -> str:
    """A test case per checked file, failed by its errors; warnings go to the case's output."""
    from dro_cli.output.junit_xml import Case, Suite, render_junit  # xml.etree: only for --format junit

    by_file: dict[str | None, list[Diagnostic]] = {file: [] for file in report.checked_files()}
    for d in report.diagnostics:
        by_file.setdefault(d.span.file if d.span else None, []).append(d)
    cases = []
    for file, diagnostics in by_file.items():
        errors = [d for d in diagnostics if d.is_error]
        warnings = [d for d in diagnostics if not d.is_error]
        failure, line = None, None
        if errors:
            first = errors[0]
            where = f" at {first.span}" if first.span else ""
            failure = f"{plural(len(errors), 'error')}; first: {first.code} {first.summary}{where}"
            line = first.span.line if first.span else None
        cases.append(Case(
            name=file if file is not None else "(catalog)", classname=JUNIT_CLASSNAME, failure=failure,
            details=_rendered(errors, report), file=file, line=line, stdout=_rendered(warnings, report)))
    return render_junit([Suite(name=JUNIT_SUITE, cases=cases)])


def junit_reporter(report: Report, *, color: bool | None, err: bool, summary: bool = True) -> None:
    """JUnit XML, for CI test reports: a failed test per file with errors."""
    click.echo(junit_xml(report), err=err, nl=False)
