"""`dro validate`: check catalogs the way CI does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from dro_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from dro_cli.output.reporters import REPORTERS
from dro_cli.output.reporters.report import CatalogSummary, Report
from dro_cli.output.terminal import quiet, use_color


def validate_paths(paths: list[Path], strict: bool = False) -> tuple[Report, int]:
    """Check each catalog root below a directory on its own (a directory without roots as one catalog) and
    the files given as one more; the report, in the catalogs' order, and the worst exit code."""
    from dsl import check_catalog
    from dsl.diagnostics import Severity, sorted_diagnostics
    from dsl.project import catalog_units
    from dsl.sources import Sources, display_path

    units, diagnostics = catalog_units(paths)
    sources = Sources()
    catalogs = []
    usage = False
    for unit in units:
        result = check_catalog(unit.paths)
        found = result.diagnostics
        diagnostics.extend(found)
        sources.texts.update(result.sources.texts)
        usage = usage or result.usage_error
        errors = len(found) if strict else sum(d.is_error for d in found)
        catalogs.append(CatalogSummary(
            display_path(unit.root) if unit.root else ", ".join(display_path(p) for p in unit.paths),
            result.project.name if result.project else None, len(result.sources.texts), errors,
            len(found) - errors))
    if strict:
        diagnostics = [dataclasses.replace(d, severity=Severity.ERROR) for d in diagnostics]
    if len(units) == 1:  # one catalog: its own order; several: catalog by catalog
        diagnostics = sorted_diagnostics(diagnostics)
    report = Report(diagnostics, sources, len(sources.texts), catalogs)
    code = EXIT_USAGE if usage else EXIT_FAILED if report.errors else EXIT_OK
    return report, code


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True,
              help="How to print diagnostics.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(paths: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Check catalogs: schema, references, cycles, expressions, templates.

    PATHS are directories and catalog files. Each catalog root (a directory with a
    dro.yaml) at or below a directory is checked on its own; a directory without
    one is checked as one catalog; the files given are checked together as one
    more. Default: $DRO_CATALOG, else the current directory. Exit status: 0 clean,
    1 errors (or warnings with --strict), 2 bad usage (a path that does not exist,
    a file that is not UTF-8).
    """
    import os

    targets = list(paths) or [Path(os.environ.get("DRO_CATALOG", "."))]
    report, code = validate_paths(targets, strict)
    REPORTERS[fmt](report, color=use_color(), err=False, summary=not quiet())
    raise SystemExit(code)
