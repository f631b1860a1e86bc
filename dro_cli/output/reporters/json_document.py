"""Diagnostics for programs: one JSON document (schemas/diagnostics.schema.json)."""

from __future__ import annotations

import json

import click

from dro_cli.output.reporters.report import Report
from dsl.diagnostics import Diagnostic

DIAGNOSTICS_SCHEMA_VERSION = 1


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
        "catalogs": [{"path": c.path, "name": c.name, "files": c.files, "errors": c.errors, "warnings": c.warnings}
                     for c in report.catalogs],
        "diagnostics": [diagnostic_json(d) for d in report.diagnostics],
    }
    click.echo(json.dumps(document, indent=2, ensure_ascii=False), err=err)
