"""Diagnostics for code scanning: SARIF 2.1.0, a rule per code with a link to its documentation."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

import click

from dro_cli import __version__
from dro_cli.output.reporters.report import Report
from dsl.codes import CODES
from dsl.diagnostics import Diagnostic

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Where the documentation of the codes is read: the docs/ directory of dro's repository, as
# GitHub shows it (its Markdown headings are the anchors). The repository has no public
# address yet: OWNER is the placeholder the pre-commit and CI docs use too. DRO_DOCS_URL
# points the links elsewhere: a fork, a mirror, an internal docs site with the same pages.
REPOSITORY_URI = "https://github.com/OWNER/dro"
DOCS_URI = f"{REPOSITORY_URI}/blob/main/docs/"
DOCS_URL_ENV = "DRO_DOCS_URL"
SRCROOT = "%SRCROOT%"


def docs_uri() -> str:
    """The base URL of the documentation pages: $DRO_DOCS_URL, else the repository's docs/ directory."""
    configured = os.environ.get(DOCS_URL_ENV, "").strip()
    return configured.rstrip("/") + "/" if configured else DOCS_URI


# The pages that document the codes of a category; the others are in language.md (see dsl/codes.py).
_DOC_PAGES = {"DRO5": "orders.md", "DRO6": "testing.md"}


def _doc_page(code: str) -> str:
    return _DOC_PAGES.get(code[:4], "language.md")


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def sarif_rule(code: str) -> dict[str, Any]:
    """The reportingDescriptor of a diagnostic code, from the table in dsl/codes.py."""
    title = CODES.get(code, code)
    page = _doc_page(code)
    heading = f"{code} {title}"
    return {
        "id": code,
        "name": "".join(word.capitalize() for word in re.findall(r"[A-Za-z0-9]+", title)) or code,
        "shortDescription": {"text": title},
        "helpUri": f"{docs_uri()}{page}#{_anchor(heading)}",
        "help": {"text": f"docs/{page}, section '{heading}', shows a bad example and the fix.",
                 "markdown": f"`docs/{page}`, section **{heading}**, shows a bad example and the fix."},
    }


def artifact_uri(file: str) -> tuple[str, str | None]:
    """The URI of a file as diagnostics show it, and its base: relative to %SRCROOT% when below it."""
    path = PurePath(file)
    if not path.is_absolute() and ".." not in path.parts:
        return quote(path.as_posix()), SRCROOT
    return Path(file).resolve().as_uri(), None


def utf16_column(line: str | None, column: int) -> int:
    """A 1-based column in code points as SARIF counts it by default: in UTF-16 code units."""
    if line is None or column < 1:
        return max(column, 1)
    before = line[: column - 1]
    return len(before.encode("utf-16-le", "surrogatepass")) // 2 + (column - 1 - len(before)) + 1


class _Lines:
    """Source lines split the way SARIF counts lines by default (at \\n and \\r\\n)."""

    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = texts
        self._lines: dict[str, list[str]] = {}

    def get(self, file: str, number: int) -> str | None:
        if file not in self._lines:
            text = self._texts.get(file)
            self._lines[file] = [] if text is None else [line.removesuffix("\r") for line in text.split("\n")]
        lines = self._lines[file]
        return lines[number - 1] if 0 < number <= len(lines) else None


def _message(diagnostic: Diagnostic) -> str:
    parts = [diagnostic.summary, diagnostic.detail, diagnostic.hint and "help: " + diagnostic.hint]
    return "\n".join(part for part in parts if part)


def sarif_document(report: Report) -> dict[str, Any]:
    """The SARIF log of a report: one run, a rule per code that occurs, a result per diagnostic."""
    codes = sorted({d.code for d in report.diagnostics})
    rule_index = {code: i for i, code in enumerate(codes)}
    files = report.checked_files()
    artifact_index = {file: i for i, file in enumerate(files)}
    lines = _Lines(report.sources.texts)

    def location(file: str) -> dict[str, Any]:
        uri, base = artifact_uri(file)
        return {"uri": uri, "uriBaseId": base} if base else {"uri": uri}

    results = []
    for d in report.diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": rule_index[d.code],
            "level": "error" if d.is_error else "warning",
            "message": {"text": _message(d)},
        }
        span = d.span
        if span is not None:
            start_line, end_line = max(span.line, 1), max(span.end_line, span.line, 1)
            region = {
                "startLine": start_line,
                "startColumn": utf16_column(lines.get(span.file, start_line), span.col),
                "endLine": end_line,
                "endColumn": utf16_column(lines.get(span.file, end_line), span.end_col),
            }
            artifact = {**location(span.file), "index": artifact_index[span.file]}
            result["locations"] = [{"physicalLocation": {"artifactLocation": artifact, "region": region}}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "dro", "version": __version__, "semanticVersion": __version__,
                                "informationUri": _information_uri(), "rules": [sarif_rule(c) for c in codes]}},
            "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().resolve().as_uri().rstrip("/") + "/"}},
            "artifacts": [{"location": location(file)} for file in files],
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    }


def _information_uri() -> str:
    """The tool's home: the repository, or the configured documentation."""
    return docs_uri() if os.environ.get(DOCS_URL_ENV, "").strip() else REPOSITORY_URI


def sarif_reporter(report: Report, *, color: bool | None, err: bool, summary: bool = True) -> None:
    """SARIF 2.1.0, for GitHub code scanning and other SARIF viewers."""
    click.echo(json.dumps(sarif_document(report), indent=2, ensure_ascii=False), err=err)
