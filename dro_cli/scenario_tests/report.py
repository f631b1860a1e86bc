"""Print scenario test results as pytest does (a line per file, then the failures), or as JUnit XML."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click
import yaml

from dro_cli.output.reporters.text import render_text
from dro_cli.scenario_tests.results import CaseResult, Failure, FileResult, Mismatch, Verdict
from dsl.sources import Sources

_MARK = {Verdict.PASSED: (".", "green"), Verdict.FAILED: ("F", "red"), Verdict.ERROR: ("E", "red")}
_WORD = {Verdict.PASSED: ("PASSED", "green"), Verdict.FAILED: ("FAILED", "red"), Verdict.ERROR: ("ERROR", "red")}
WIDTH = 80


def text_report(files: Sequence[FileResult], sources: Sources, *, verbose: bool, seconds: float,
                deselected: int = 0, quiet: bool = False) -> str:
    """A line per file (a mark per case, or with `verbose` a line per case; none when `quiet`), the
    failures, then the summary."""
    lines: list[str] = []
    for result in files if not quiet else ():
        if verbose:
            lines += [f"{result.file}::{case.name} {click.style(*_WORD[case.verdict])}" for case in result.cases]
        else:
            marks = "".join(click.style(*_MARK[case.verdict]) for case in result.cases)
            lines.append(f"{result.file} {marks}" if result.cases else f"{result.file} {click.style('E', 'red')}")
    broken = [result for result in files if result.diagnostics]
    failed = [case for result in files for case in result.cases if case.verdict is not Verdict.PASSED]
    if broken or failed:
        lines += ["", _rule("FAILURES", "=")]
    for result in broken:
        lines += [_rule(f"{result.file} cannot be used", "_")]
        lines += [render_text(d, sources) + "\n" for d in result.diagnostics]
    for case in failed:
        lines += [_rule(f"{case.file}::{case.name}", "_"), *_failure_lines(case, sources), ""]
    lines.append(_summary(files, seconds, deselected))
    return "\n".join(lines)


def _failure_lines(case: CaseResult, sources: Sources) -> list[str]:
    failure = case.failure
    assert failure is not None
    where = f"{failure.span}: " if failure.span else ""
    lines = [click.style(f"{where}{failure.title}", bold=True)]
    if failure.span is not None:
        source = sources.line(failure.span.file, failure.span.line)
        if source is not None:
            lines.append(f"    {source.strip()}")
    if failure.message:
        lines.append(click.style(f"E   {failure.message}", fg="red"))
    for mismatch in failure.mismatches:
        lines += _mismatch_lines(mismatch)
    if failure.hint:
        lines.append(f"    = help: {failure.hint}")
    lines += [render_text(d, sources) for d in failure.diagnostics]
    return lines


def _mismatch_lines(mismatch: Mismatch) -> list[str]:
    lines = [click.style(f"E   {mismatch.subject}", fg="red")]
    lines += [click.style(f"E     - {line}", fg="green") for line in _shown(mismatch.expected)]
    lines += [click.style(f"E     + {line}", fg="red") for line in _shown(mismatch.actual)]
    if mismatch.note:
        lines.append(f"E       ({mismatch.note})")
    return lines


def _shown(value: Any) -> list[str]:
    """A value as a test file would write it: scalars on one line, lists and maps as YAML lines."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ["[" + ", ".join(value) + "]"]
    if isinstance(value, (dict, list)) and value:
        return yaml.safe_dump(value, sort_keys=True, allow_unicode=True, default_flow_style=False).splitlines()
    if isinstance(value, str):
        return [value]
    return [json.dumps(value, ensure_ascii=False)]


def _summary(files: Sequence[FileResult], seconds: float, deselected: int) -> str:
    cases = [case for result in files for case in result.cases]
    counts = {verdict: sum(case.verdict is verdict for case in cases) for verdict in Verdict}
    errors = counts[Verdict.ERROR] + sum(bool(result.diagnostics) for result in files)
    parts = [f"{counts[Verdict.FAILED]} failed"] if counts[Verdict.FAILED] else []
    parts += [f"{counts[Verdict.PASSED]} passed"] if counts[Verdict.PASSED] else []
    parts += [f"{errors} error" + ("s" if errors != 1 else "")] if errors else []
    parts += [f"{deselected} deselected"] if deselected else []
    text = ", ".join(parts) or "no tests ran"
    colour = "red" if counts[Verdict.FAILED] or errors else "green" if cases else "yellow"
    return _rule(f"{text} in {seconds:.2f}s", "=", colour)


def _rule(title: str, char: str, colour: str | None = None) -> str:
    pad = max(2, WIDTH - len(title) - 2)
    line = f"{char * (pad // 2)} {title} {char * (pad - pad // 2)}"
    return click.style(line, fg=colour, bold=colour is not None)


def junit_report(files: Sequence[FileResult], sources: Sources) -> str:
    from dro_cli.output.junit_xml import Case, Suite, render_junit

    suites = []
    for result in files:
        cases = [Case(name=case.name, classname=_classname(result.file), seconds=case.seconds,
                      failure=_headline(case.failure) if case.failure else None,
                      details=click.unstyle("\n".join(_failure_lines(case, sources))) if case.failure else "",
                      error=case.verdict is Verdict.ERROR,
                      file=case.span.file if case.span else result.file, line=case.span.line if case.span else None)
                 for case in result.cases]
        if result.diagnostics:
            details = "\n\n".join(click.unstyle(render_text(d, sources)) for d in result.diagnostics)
            cases.append(Case(name="(test file)", classname=_classname(result.file),
                              failure="the test file cannot be used", details=details, error=True, file=result.file))
        suites.append(Suite(name=result.file, cases=cases, seconds=result.seconds))
    return render_junit(suites)


def _headline(failure: Failure) -> str:
    if failure.message:
        return f"{failure.title}: {failure.message}"
    if failure.mismatches:
        first = failure.mismatches[0]
        more = f" (and {len(failure.mismatches) - 1} more)" if len(failure.mismatches) > 1 else ""
        return f"{failure.title}: {first.subject}{more}"
    return failure.title


def _classname(file: str) -> str:
    """A test file as a JUnit class name: its path without the suffix, dotted."""
    stem = file.removesuffix(".yaml").removesuffix(".yml").removesuffix(".test")
    return stem.replace("\\", "/").replace("/", ".")
