"""What running a scenario test gives: per case, passed, failed (with the mismatches) or an error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dsl.diagnostics import Diagnostic, Span, did_you_mean
from dsl.document import Path as DocPath


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # an expectation does not hold, or the script asked for an act dro refuses
    ERROR = "error"  # the case could not run: a bad order, a catalog that does not compile


@dataclass(frozen=True)
class Mismatch:
    """One expectation that does not hold: what it is about, what was expected and what is."""

    subject: str  # "lane of install[L1]"
    expected: Any
    actual: Any
    at: DocPath = ()  # where the expectation is written
    note: str | None = None


@dataclass(frozen=True)
class Failure:
    title: str  # "plan facts", "run step 4: expect", "run step 2: complete"
    span: Span | None
    mismatches: Sequence[Mismatch] = ()
    message: str | None = None  # a refused act or an error
    hint: str | None = None
    diagnostics: Sequence[Diagnostic] = ()


@dataclass
class CaseResult:
    file: str
    name: str
    span: Span | None
    verdict: Verdict = Verdict.PASSED
    failure: Failure | None = None
    seconds: float = 0.0
    simulated: float = 0.0  # seconds of virtual time the run covered


@dataclass
class FileResult:
    file: str
    cases: list[CaseResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # the file itself could not be used
    seconds: float = 0.0


def instances(steps: Mapping[str, Mapping[str, Any]], ref: str) -> list[str]:
    """The step instances a reference names: the instance with that id, or every instance of that step."""
    if ref in steps:
        return [ref]
    return [sid for sid, step in steps.items() if step["step"] == ref]


def unknown(steps: Mapping[str, Mapping[str, Any]], ref: str, at: DocPath, what: str) -> Mismatch:
    """The mismatch for a reference that names no step instance of the plan."""
    names = list(steps) + sorted({step["step"] for step in steps.values()})
    return Mismatch(f"{what} of {ref}", "a step of the plan", "no such step in the plan", at,
                    did_you_mean(ref, names) or "the plan's steps: " + ", ".join(list(steps)[:12]))


class ScriptError(Exception):
    """A scripted act that does not apply to the run as it is (the act `dro` would refuse)."""

    def __init__(self, message: str, hint: str | None = None, *, code: str | None = None,
                 diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code  # a refusal with a code (DRO532) can be expected: `expect: {refused: CODE}`
        self.diagnostics = diagnostics
