"""`dro import salesforce`: turn a Salesforce DRO configuration export into a dro catalog."""

from __future__ import annotations

from pathlib import Path

import click

from dro_cli.errors import EXIT_USAGE, DroError


@click.group("import")
def import_command() -> None:
    """Turn another system's fulfillment configuration into a dro catalog."""


@import_command.command("salesforce")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, metavar="CATALOG_DIR",
              help="The catalog directory to write (created; must be empty unless --force).")
@click.option("--force", is_flag=True, help="Replace a non-empty CATALOG_DIR.")
def salesforce_command(export: Path, output: Path, force: bool) -> None:
    """Import a Salesforce DRO export: data-loader CSV files or SOQL JSON, one file per object.

    Writes formatted .dro files, sf_flows.py (stubs of the flows), dro.yaml and IMPORT_REPORT.md
    (everything dro cannot express, with its row). Then run `dro validate CATALOG_DIR`.

    \b
    Exit status:
      0  the catalog is written (see IMPORT_REPORT.md for what was not imported)
      2  bad input (a missing column, an unknown value, a dangling group, malformed CSV or JSON)
         or CATALOG_DIR cannot be written or is not empty; nothing is written
    """
    from dro_cli.importers.salesforce import ImportFailure, convert, write_catalog
    from dro_cli.importers.salesforce.ids import slug
    from dro_cli.output.terminal import quiet

    try:
        imported = convert(export, slug(output.resolve().name, "catalog"))
        write_catalog(imported.files, output, force=force, export=export)
    except ImportFailure as failure:
        raise DroError(f"{failure.where}: {failure.what}", hint=failure.fix, exit_code=EXIT_USAGE) from None
    dro_files = sum(name.endswith(".dro") for name in imported.files)
    if not quiet():
        click.echo(f"wrote {dro_files} .dro files to {output}; {len(imported.notes)} things not imported, "
                   f"{len(imported.collisions)} ids renamed: see {output / 'IMPORT_REPORT.md'}", err=True)
    for note in imported.notes:  # warnings: shown with -q too
        click.echo(f"warning: not imported: {note.origin}, {note.column}: {note.why}", err=True)
