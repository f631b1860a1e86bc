"""`dro schema [NAME]`: the JSON Schemas dro ships, for editors, CI and tools that read dro's output."""

from __future__ import annotations

from importlib import resources

import click

from dro_cli.errors import EXIT_USAGE, DroError

SUFFIX = ".schema.json"


def schema_names() -> list[str]:
    """The short names of the shipped schemas: `catalog` for schemas/catalog.schema.json."""
    return sorted(entry.name[:-len(SUFFIX)] for entry in resources.files("schemas").iterdir()
                  if entry.name.endswith(SUFFIX))


@click.command("schema")
@click.argument("name", required=False)
def schema_command(name: str | None) -> None:
    """Print the JSON Schema NAME (catalog, order, plan, status, ...); without NAME, list them."""
    names = schema_names()
    if name is None:
        click.echo("\n".join(names))
        return
    if name.endswith(SUFFIX):
        name = name[:-len(SUFFIX)]
    if name not in names:
        from dsl.diagnostics import did_you_mean

        raise DroError(f"no schema '{name}'", exit_code=EXIT_USAGE,
                       hint=did_you_mean(name, names) or f"the schemas: {', '.join(names)}")
    click.echo(resources.files("schemas").joinpath(name + SUFFIX).read_text(encoding="utf-8"), nl=False)
