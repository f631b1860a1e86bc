"""`dro compile`: a catalog's plan templates as JSON."""

from __future__ import annotations

from pathlib import Path

import click

from dro_cli.errors import EXIT_FAILED, EXIT_USAGE
from dro_cli.journal.files import write_file
from dro_cli.output.reporters import REPORTERS
from dro_cli.output.reporters.report import Report
from dro_cli.output.terminal import quiet, use_color


@click.command("compile")
@click.argument("catalog", required=False, type=click.Path(path_type=Path), envvar="DRO_CATALOG")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the templates here instead of standard output (untouched on errors).")
@click.option("--format", "fmt", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True,
              help="How to print diagnostics (on standard error).")
def compile_command(catalog: Path | None, output: Path | None, fmt: str) -> None:
    """Compile a catalog into plan templates (JSON).

    The output is deterministic and carries a schema_version and a content hash
    (the same for the .dro and .dro.yaml forms of one catalog). CATALOG defaults to
    $DRO_CATALOG, else the current directory.
    """
    from dsl import compile_catalog
    from dsl.compiler import dumps

    result = compile_catalog([catalog or Path(".")])
    if result.diagnostics or result.templates is None:
        report = Report(result.diagnostics, result.sources, len(result.sources.texts))
        REPORTERS[fmt](report, color=use_color(), err=True)
    if result.templates is None:
        raise SystemExit(EXIT_USAGE if result.usage_error else EXIT_FAILED)
    text = dumps(result.templates)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_file(output, text)
        if not quiet():
            click.echo(f"Wrote {output} ({len(result.templates['steps'])} steps, {result.templates['hash']}).",
                       err=True)
