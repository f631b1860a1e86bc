"""JUnit XML for CI test reports: `dro validate --format junit` and `dro test --format junit`.

The dialect is the one Jenkins, GitLab (`artifacts:reports:junit`) and the GitHub
test-report actions read: `<testsuites>` with totals, a `<testsuite>` per suite, a
`<testcase>` per case with `file` and `line`, and in a case `<failure>`, `<error>`
or `<skipped>` and `<system-out>`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

# XML 1.0 allows tab, newline, carriage return and the characters from U+0020 on,
# except surrogates and U+FFFE, U+FFFF. The rest cannot be written even escaped.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Case:
    name: str
    classname: str
    seconds: float = 0.0
    failure: str | None = None  # one-line message; None = passed
    details: str = ""  # the body text of <failure>/<error>
    error: bool = False  # True: <error> (could not run) instead of <failure>
    file: str | None = None  # attributes file= and line= (GitHub/GitLab test reporters read them)
    line: int | None = None
    skipped: str | None = None  # reason; <skipped message=...>
    stdout: str = ""  # <system-out> when non-empty

    @property
    def outcome(self) -> str:
        """One of passed, failure, error, skipped: a case counts in one total only."""
        if self.failure is not None:
            return "error" if self.error else "failure"
        return "skipped" if self.skipped is not None else "passed"


@dataclass(frozen=True)
class Suite:
    name: str
    cases: Sequence[Case]
    seconds: float = 0.0
    timestamp: str | None = None  # ISO 8601


def clean(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (control characters, lone surrogates)."""
    return _FORBIDDEN.sub("", text)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _totals(cases: Sequence[Case]) -> dict[str, int]:
    outcomes = [case.outcome for case in cases]
    return {"tests": len(outcomes), "failures": outcomes.count("failure"),
            "errors": outcomes.count("error"), "skipped": outcomes.count("skipped")}


def _set(element: ET.Element, **attributes: object) -> None:
    for key, value in attributes.items():
        if value is not None:
            element.set(key, clean(str(value)))


def _case_element(parent: ET.Element, case: Case) -> None:
    element = ET.SubElement(parent, "testcase")
    _set(element, name=case.name, classname=case.classname, time=_seconds(case.seconds),
         file=case.file, line=case.line)
    outcome = case.outcome
    if outcome in ("failure", "error"):
        child = ET.SubElement(element, outcome)
        _set(child, message=case.failure, type=outcome)
        if case.details:
            child.text = clean(case.details)
    elif outcome == "skipped":
        _set(ET.SubElement(element, "skipped"), message=case.skipped)
    if case.stdout:
        ET.SubElement(element, "system-out").text = clean(case.stdout)


def render_junit(suites: Sequence[Suite]) -> str:
    """An XML document: `<testsuites>` with the totals of its suites, each with its cases."""
    root = ET.Element("testsuites")
    every_case: list[Case] = []
    total_seconds = 0.0
    for suite in suites:
        seconds = suite.seconds or sum(case.seconds for case in suite.cases)
        total_seconds += seconds
        every_case.extend(suite.cases)
        element = ET.SubElement(root, "testsuite")
        _set(element, name=suite.name, **_totals(suite.cases), time=_seconds(seconds), timestamp=suite.timestamp)
        for case in suite.cases:
            _case_element(element, case)
    _set(root, **_totals(every_case), time=_seconds(total_seconds))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
