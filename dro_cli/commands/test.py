"""`dro test`: run a catalog's scenario tests, as pytest runs a project's tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from dro_cli.errors import EXIT_FAILED, EXIT_NO_TESTS, EXIT_OK, EXIT_USAGE
from dro_cli.output.terminal import quiet, use_color


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "junit"]), default="text", show_default=True,
              help="text: like pytest; junit: JUnit XML for CI test reports.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of standard output.")
@click.option("-v", "--verbose", is_flag=True, help="One line per case, with its verdict.")
@click.option("-k", "keyword", metavar="TEXT",
              help="Run only the cases whose name contains TEXT; the others are deselected.")
def test_command(paths: tuple[Path, ...], fmt: str, output: Path | None, verbose: bool, keyword: str | None) -> None:
    """Run scenario tests: the *.test.yaml files in PATHS (files, or directories searched
    recursively; default: $DRO_CATALOG, else the current directory).

    A case plans an order and checks plan facts (steps present or absent, dependencies,
    lanes, SLA and retry settings); it may script a run on a virtual clock (advance time,
    complete, signal, answer callouts) and check states, SLA, fallout and outputs.
    Nothing leaves the process and nothing sleeps. See docs/testing.md.

    Exit status: 0 every case passed, 1 a case failed or could not run, 2 bad usage
    (no test files, a path that does not exist, a test file that cannot be read),
    5 no case ran (-k selected none), as pytest exits.
    """
    from dro_cli.output.reporters import REPORTERS
    from dro_cli.output.reporters.report import Report
    from dro_cli.scenario_tests.execute import Catalogs, run_file
    from dro_cli.scenario_tests.report import junit_report, text_report
    from dro_cli.scenario_tests.spec import find_test_files, load_test_file
    from dsl.diagnostics import error, has_errors
    from dsl.sources import Sources

    targets = list(paths) or [Path(os.environ.get("DRO_CATALOG", "."))]
    began = time.perf_counter()
    files, problems = find_test_files(targets)
    if not files and not has_errors(problems):
        shown = ", ".join(str(p) for p in targets)
        problems.append(error("DRO602", f"no test files (*.test.yaml) in {shown}",
                              hint="write scenario tests beside the catalog, such as catalogs/acme/acme.test.yaml; "
                                   "see docs/testing.md"))
    if problems:  # said before the cases run; only errors stop them
        REPORTERS["text"](Report(problems, Sources(), 0), color=use_color(), err=True, summary=False)
        if has_errors(problems):
            raise SystemExit(EXIT_USAGE)
    catalogs = Catalogs()
    results = []
    deselected = 0
    for path in files:
        loaded = load_test_file(path)
        catalogs.sources.texts[loaded.shown] = loaded.text
        if keyword and loaded.usable:
            selected = [case for case in loaded.cases if keyword in case.name]
            deselected += len(loaded.cases) - len(selected)
            if not selected:
                continue  # as pytest: a file none of whose cases is selected is not shown (nor its catalog compiled)
            loaded.cases = selected
        results.append(run_file(loaded, catalogs))
    seconds = time.perf_counter() - began
    if fmt == "junit":
        text = junit_report(results, catalogs.sources)
    else:
        text = text_report(results, catalogs.sources, verbose=verbose, seconds=seconds, deselected=deselected,
                           quiet=quiet())
    if output is not None:
        _write(output, click.unstyle(text) + "\n")
    else:
        click.echo(text, color=use_color() if fmt == "text" else False)
    if any(result.diagnostics for result in results):
        raise SystemExit(EXIT_USAGE)  # a test file that cannot be used is bad input
    cases = [case for result in results for case in result.cases]
    if not cases:
        raise SystemExit(EXIT_NO_TESTS)  # CI must notice a -k that matches nothing
    raise SystemExit(EXIT_OK if all(case.failure is None for case in cases) else EXIT_FAILED)


def _write(path: Path, text: str) -> None:
    from dro_cli.journal.files import write_file

    write_file(path, text, durable=False)
