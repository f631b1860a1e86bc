"""`dro validate`: check catalogs the way CI does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from dro_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from dro_cli.output.reporters import REPORTERS
from dro_cli.output.reporters.report import Report
from dro_cli.output.terminal import quiet, use_color


def validate_paths(paths: list[Path], strict: bool = False) -> tuple[Report, int]:
    """Check each directory as its own catalog and the files given as one more; the exit code."""
    from dsl import check_catalog
    from dsl.diagnostics import Severity, sorted_diagnostics
    from dsl.sources import Sources

    directories = [p for p in paths if p.is_dir()]
    others = [p for p in paths if not p.is_dir()]
    groups = [[d] for d in directories] + ([others] if others else [])
    diagnostics, sources = [], Sources()
    usage = False
    for group in groups:
        result = check_catalog(group)
        diagnostics.extend(result.diagnostics)
        sources.texts.update(result.sources.texts)
        usage = usage or result.usage_error
    if strict:
        diagnostics = [dataclasses.replace(d, severity=Severity.ERROR) for d in diagnostics]
    report = Report(sorted_diagnostics(diagnostics), sources, len(sources.texts))
    code = EXIT_USAGE if usage else EXIT_FAILED if report.errors else EXIT_OK
    return report, code


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True,
              help="How to print diagnostics.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(paths: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Check catalogs: schema, references, cycles, expressions, templates.

    PATHS are catalog directories (each checked as one catalog) or catalog files
    (checked together as one catalog). Default: $DRO_CATALOG, else the current
    directory. Exit status: 0 clean, 1 errors (or warnings with --strict), 2 bad
    usage (a path that does not exist, a file that is not UTF-8).
    """
    import os

    targets = list(paths) or [Path(os.environ.get("DRO_CATALOG", "."))]
    report, code = validate_paths(targets, strict)
    REPORTERS[fmt](report, color=use_color(), err=False, summary=not quiet())
    raise SystemExit(code)
