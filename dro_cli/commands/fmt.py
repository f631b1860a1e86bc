"""`dro fmt`: rewrite .dro files in the canonical layout, keeping comments."""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dro_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, DroError
from dro_cli.output.terminal import quiet, use_color
from dsl.diagnostics import plural

if TYPE_CHECKING:
    from dsl.diagnostics import Diagnostic

STDIN = "-"


@dataclass
class Outcome:
    """What a run did (or, checking, would do) to the files."""

    check: bool
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: int = 0

    @property
    def exit_code(self) -> int:
        if self.failed:
            return EXIT_USAGE
        return EXIT_FAILED if self.check and self.changed else EXIT_OK

    def summary(self) -> str:
        changed, verb = (plural(len(self.changed), "file"), "would be reformatted" if self.check else "reformatted")
        parts = [f"{changed} {verb}" if self.changed else "",
                 f"{plural(self.unchanged, 'file')} {'already formatted' if self.check else 'left unchanged'}"
                 if self.unchanged else "",
                 f"{plural(self.failed, 'file')} could not be formatted" if self.failed else ""]
        return ", ".join(p for p in parts if p) or "no .dro files found"



@click.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; list the files that would change, exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Write nothing; print a unified diff of what would change, exit 1 if anything would.")
@click.option("--stdin-filename", metavar="NAME", default=None,
              help="The file name to show in diagnostics when formatting standard input (-).")
def fmt_command(paths: tuple[Path, ...], check: bool, show_diff: bool, stdin_filename: str | None) -> None:
    """Rewrite .dro files in the canonical layout, keeping comments.

    PATHS are .dro files and directories (searched recursively for *.dro; .dro.yaml
    files and hidden directories are skipped). Default: $DRO_CATALOG, else the current
    directory. The names of the files that change are printed, the summary goes to
    standard error (with -q, only --check's and --diff's findings and the errors).
    `dro fmt -` formats standard input to standard output (for editors). A file that
    does not parse is left as it is and its syntax error reported.

    \b
    Exit status:
      0  every file is formatted (or now is)
      1  --check or --diff: some file would change
      2  a file does not parse, is not UTF-8 or cannot be written, a path does not exist,
         or a directory holds no catalog files
    """
    check = check or show_diff
    if STDIN in (str(p) for p in paths):
        if len(paths) > 1:
            raise DroError("'-' (standard input) cannot be mixed with other paths",
                           hint="run `dro fmt -` on its own", exit_code=EXIT_USAGE)
        raise SystemExit(_format_stdin(check, show_diff, stdin_filename or STDIN))
    targets = list(paths) or [Path(os.environ.get("DRO_CATALOG", "."))]
    outcome = Outcome(check)
    for path in dro_files(targets):
        _format_file(path, outcome, show_diff)
    if not quiet():
        click.echo(outcome.summary(), err=True)
    raise SystemExit(outcome.exit_code)


def dro_files(paths: Iterable[Path]) -> list[Path]:
    """The .dro files named, and those below the directories named (in every catalog root there), each once."""
    from dsl.sources import DSL_SUFFIX, YAML_SUFFIXES, find_files, find_roots

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            below = [f for folder in [path, *find_roots(path)] for f in find_files(folder)]
            if not below:  # as dro validate and dro test: nothing to work on is bad usage
                raise DroError(f"no catalog files in '{path}'", code="DRO003", exit_code=EXIT_USAGE,
                               hint="name a catalog directory, or .dro files")
            found.extend(f for f in sorted(set(below)) if f.name.endswith(DSL_SUFFIX))
        elif path.exists():
            if not path.name.endswith(YAML_SUFFIXES):  # the YAML form has no layout of ours
                found.append(path)
        else:
            raise DroError(f"path '{path}' does not exist", exit_code=EXIT_USAGE,
                           hint="check the spelling; dro fmt takes .dro files and directories")
    seen: set[Path] = set()
    unique = []
    for path in found:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append(path)
    return unique


def _format_file(path: Path, outcome: Outcome, show_diff: bool) -> None:
    from dro_cli.journal.files import write_atomically
    from dsl.sources import display_path

    shown = display_path(path)
    text = _read(path, shown)
    formatted = None if text is None else _formatted(text, shown)
    if text is None or formatted is None:
        outcome.failed += 1
    elif formatted == text:
        outcome.unchanged += 1
    elif show_diff:
        click.echo(unified_diff(shown, text, formatted), nl=False)
        outcome.changed.append(shown)
    elif outcome.check:
        click.echo(shown)
        outcome.changed.append(shown)
    else:
        try:
            write_atomically(path.resolve(), formatted)
        except OSError as exc:  # reported like every error, and the other files go on
            from dro_cli.journal.path_errors import path_error
            from dro_cli.output.failure import show_error

            show_error(path_error(exc, shown, elsewhere=None))
            outcome.failed += 1
            return
        if not quiet():
            click.echo(shown)
        outcome.changed.append(shown)


def _read(path: Path, shown: str) -> str | None:
    """The file's text as it is (byte order mark and line ends included); None after reporting why not."""
    from dsl.sources import read_text

    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        text, problem = read_text(path, shown)  # the diagnostic `dro validate` gives
        if problem is not None:
            _report([problem], shown, "")
        return text


def _formatted(text: str, shown: str) -> str | None:
    """The formatted text, or None after printing why the file could not be formatted."""
    from dsl.formatter import FormatterBug, format_text, normalize

    try:
        formatted, diagnostics = format_text(text, shown)
    except FormatterBug as exc:
        click.echo(f"error: cannot format '{shown}' safely: {exc}; it is left as it is", err=True)
        click.echo("  = help: this is a bug in dro fmt; please report it with the file", err=True)
        return None
    if formatted is None:
        _report(diagnostics, shown, normalize(text))
    return formatted


def _report(diagnostics: list[Diagnostic], shown: str, text: str) -> None:
    from dro_cli.output.reporters import REPORTERS
    from dro_cli.output.reporters.report import Report
    from dsl.sources import Sources

    sources = Sources({shown: text} if text else {})
    REPORTERS["text"](Report(diagnostics, sources, 1), color=use_color(), err=True, summary=False)


def _format_stdin(check: bool, show_diff: bool, shown: str) -> int:
    """Standard input formatted to standard output; with --check or --diff, only what would change."""
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DroError(f"standard input is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                       hint="send the file as UTF-8", exit_code=EXIT_USAGE) from None
    formatted = _formatted(text, shown)
    if formatted is None:
        return EXIT_USAGE
    if show_diff:
        click.echo(unified_diff(shown, text, formatted), nl=False)
    elif check:
        if formatted != text:
            click.echo(shown)
    else:
        click.echo(formatted, nl=False)
    return EXIT_FAILED if check and formatted != text else EXIT_OK


def unified_diff(shown: str, before: str, after: str) -> str:
    """A unified diff of a file's text before and after formatting, as `diff -u` prints it."""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=shown, tofile=shown)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
