"""Read a scenario test file (`*.test.yaml`): check it against schemas/test.schema.json and keep
where each case, action and expectation is written, so that a failure points at its line."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsl.diagnostics import Diagnostic, Span, TextOrigin, did_you_mean, error, has_errors, sorted_diagnostics, warning
from dsl.document import Document
from dsl.document import Path as DocPath
from dsl.schema_check import check_document
from dsl.sources import display_path, enclosing_root, leads_outside, read_text
from dsl.yaml_loader import load_yaml

DEFAULT_START = "2026-01-01T00:00:00Z"
TEST_SUFFIXES = (".test.yaml", ".test.yml")
ANSWER_KINDS = ("status", "error", "outputs")
ACTIONS = ("advance", "until", "complete", "signal", "resume", "retry", "cancel", "amend", "answer", "expect")


@dataclass(frozen=True)
class Action:
    """One entry of a case's `run`: its kind (a key of ACTIONS), its value and its other keys."""

    kind: str
    value: Any
    options: Mapping[str, Any]
    at: DocPath  # where it is written in the test file


@dataclass(frozen=True)
class Case:
    name: str
    at: DocPath
    order: str | Mapping[str, Any]  # a path relative to the test file, or the order itself
    start: str
    expect: Mapping[str, Any] | None
    answers: Mapping[str, Sequence[Mapping[str, Any]]]
    run: tuple[Action, ...]


@dataclass
class TestFile:
    path: Path
    shown: str
    doc: Document | None
    text: str = ""
    catalog: Path | None = None
    cases: list[Case] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.doc is not None and not has_errors(self.diagnostics)

    def span(self, at: DocPath) -> Span | None:
        return self.doc.span(at) if self.doc is not None else None


def is_test_file(path: Path) -> bool:
    return path.name.endswith(TEST_SUFFIXES)


def find_test_files(paths: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The test files named, and those below the directories named (hidden directories skipped), sorted.
    As for catalogs, a link below a directory that leads out of it is not read: a warning says so."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            real_root = path.resolve()
            for candidate in sorted(p for p in path.rglob("*.test.y*ml")
                                    if is_test_file(p) and not _hidden(p.relative_to(path))):
                if leads_outside(candidate, real_root):
                    problems.append(_outside(candidate, path))
                else:
                    found.append(candidate)
        elif path.is_file():
            found.append(path)
        else:
            problems.append(error("DRO001", f"path '{display_path(path)}' does not exist",
                                  hint="check the spelling, or give the catalog directory that holds the tests"))
    return list(dict.fromkeys(found)), problems


def _outside(link: Path, searched: Path) -> Diagnostic:
    return warning("DRO603", f"'{display_path(link)}' is a link that leads outside '{display_path(searched)}': "
                             "not read", Span.point(display_path(link), 1, 1),
                   detail="dro test reads only the test files inside the directories it searches, as dro "
                          "validate does for catalogs, so that a link cannot make it print another file.",
                   hint="copy the test file into the directory, or name it on the command line")


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts[:-1])


def load_test_file(path: Path) -> TestFile:
    shown = display_path(path)
    text, problem = read_text(path, shown)
    if text is None:
        return TestFile(path, shown, None, diagnostics=[problem] if problem else [])
    doc, diagnostics = load_yaml(shown, text)
    loaded = TestFile(path, shown, doc, text, diagnostics=list(diagnostics))
    if doc is None:
        return loaded
    if not isinstance(doc.data, dict) or not doc.data:
        loaded.diagnostics.append(error("DRO601", "a test file must be a map with the key 'cases'", doc.span(()),
                                        hint="see docs/testing.md for the layout of a test file"))
        return loaded
    shapes = list(_shapes(doc))
    doc.reported.update(at for at, _ in shapes)  # said here more plainly than the schema would
    problems, _bad = check_document(doc, "test", owner=_owner)
    loaded.diagnostics = sorted_diagnostics([*loaded.diagnostics, *(d for _, d in shapes), *problems])
    if has_errors(loaded.diagnostics):
        return loaded
    data = doc.data
    # The catalog is named, or the catalog root the file is in (a directory with a dro.yaml), or its directory.
    named = data.get("catalog")
    loaded.catalog = (path.parent / named).resolve() if named else enclosing_root(path.parent) or path.parent.resolve()
    start = data.get("start", DEFAULT_START)
    loaded.cases = [_case(entry, ("cases", i), start) for i, entry in enumerate(data["cases"])]
    loaded.diagnostics += _duplicate_names(loaded)
    return loaded


def _shapes(doc: Document) -> Iterator[tuple[DocPath, Diagnostic]]:
    """Script steps that hold no action or two, and answers that give two outcomes at once."""
    cases = doc.data.get("cases")
    for i, case in enumerate(cases if isinstance(cases, list) else ()):
        if not isinstance(case, dict):
            continue
        run = case.get("run")
        for j, step in enumerate(run if isinstance(run, list) else ()):
            if isinstance(step, dict):
                yield from _one_of(doc, ("cases", i, "run", j), step, ACTIONS, "a script step", "action")
        answers = case.get("answers")
        for ref, value in (answers.items() if isinstance(answers, dict) else ()):
            for k, answer in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(answer, dict):
                    at: DocPath = ("cases", i, "answers", ref) + ((k,) if isinstance(value, list) else ())
                    yield from _one_of(doc, at, answer, ANSWER_KINDS, "an answer", "outcome")


def _one_of(doc: Document, at: DocPath, entry: Mapping[str, Any], kinds: Sequence[str], what: str,
            word: str) -> Iterator[tuple[DocPath, Diagnostic]]:
    given = [key for key in kinds if key in entry]
    if len(given) == 1:
        return
    if given:
        summary = f"{what} gives {len(given)} {word}s: {', '.join(given)}"
        hint = f"give one {word} per entry; split it into several" if word == "action" else \
            "an attempt ends one way: a `status` (callouts), `outputs` (auto steps) or an `error`"
        yield at, error("DRO208", summary, doc.span((*at, given[1])), hint=hint)
        return
    unknown = [str(key) for key in entry]
    close = next((h for key in unknown if (h := did_you_mean(key, kinds))), None)
    yield at, error("DRO202", f"{what} needs one {word}: {', '.join(kinds)}",
                    doc.key_span((*at, unknown[0])) if unknown else doc.span(at),
                    hint=close or f"start it with one of: {', '.join(kinds)}")


def _case(entry: Mapping[str, Any], at: DocPath, start: str) -> Case:
    answers = {ref: (value if isinstance(value, list) else [value])
               for ref, value in (entry.get("answers") or {}).items()}
    run = tuple(_action(step, (*at, "run", i)) for i, step in enumerate(entry.get("run") or ()))
    return Case(entry["name"], at, entry["order"], entry.get("start", start), entry.get("expect"), answers, run)


def _action(entry: Mapping[str, Any], at: DocPath) -> Action:
    kind = next(key for key in ACTIONS if key in entry)  # the schema allows exactly one
    return Action(kind, entry[kind], {k: v for k, v in entry.items() if k != kind}, at)


def _duplicate_names(loaded: TestFile) -> list[Diagnostic]:
    seen: set[str] = set()
    problems = []
    for case in loaded.cases:
        if case.name in seen:
            problems.append(error("DRO601", f"two cases are named '{case.name}'", loaded.span((*case.at, "name")),
                                  hint="give every case of a file its own name: reports and JUnit tell them by it"))
        seen.add(case.name)
    return problems


def _owner(doc: Document, path: DocPath) -> str:
    """What holds `path`, for schema messages: a case (by its name), or the file."""
    if len(path) >= 2 and path[0] == "cases" and isinstance(path[1], int):
        cases = doc.data.get("cases")
        entry = cases[path[1]] if isinstance(cases, list) and path[1] < len(cases) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        return f"case '{name}'" if isinstance(name, str) else f"case {path[1] + 1}"
    return "the test file"


class PrefixedLocator:
    """The locator of a document that sits inside another, at `prefix` (a case's inline order)."""

    def __init__(self, outer: Document, prefix: DocPath, inner_prefix: DocPath) -> None:
        self.outer = outer
        self.prefix = prefix
        self.inner_prefix = inner_prefix

    def _outer(self, path: DocPath) -> DocPath:
        return (*self.prefix, *path[len(self.inner_prefix):])

    def value_span(self, path: DocPath) -> Span | None:
        return self.outer.locator.value_span(self._outer(path))

    def key_span(self, path: DocPath) -> Span | None:
        return self.outer.locator.key_span(self._outer(path))

    def text_origin(self, path: DocPath) -> TextOrigin | None:
        return self.outer.locator.text_origin(self._outer(path))


def inline_order_document(loaded: TestFile, case: Case) -> Document:
    """A case's inline order as the document of an order file (`{"order": ...}`), located in the test file."""
    assert loaded.doc is not None and isinstance(case.order, Mapping)
    locator = PrefixedLocator(loaded.doc, (*case.at, "order"), ("order",))
    return Document(loaded.shown, {"order": dict(case.order)}, locator)
