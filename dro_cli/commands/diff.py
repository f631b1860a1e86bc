"""`dro diff OLD NEW`: how two catalog revisions change the plans of sample orders, and the templates."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dro_cli.errors import EXIT_DIFFERENCES, EXIT_OK
from dro_cli.output.terminal import use_color

Renderer = Callable[[Any], str]


def _json(report: Any) -> str:
    return json.dumps(report.as_json(), indent=2, sort_keys=True, ensure_ascii=False)


def _renderers() -> dict[str, Renderer]:
    from dro_cli.output.views.diff_markdown import render_markdown
    from dro_cli.output.views.diff_text import render_text

    return {"text": render_text, "json": _json, "markdown": render_markdown}


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--orders", type=click.Path(path_type=Path), default=None,
              help="Directory of sample orders (*.yaml, *.yml, *.json), or one order file. Default: NEW/orders.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True,
              help="text: like terraform plan; json: schemas/diff.schema.json; markdown: a pull-request comment.")
def diff_command(old: str, new: str, orders: Path | None, fmt: str) -> None:
    """Show how catalog NEW changes, against OLD, the plan of every sample order, and the plan templates.

    OLD and NEW are catalog directories (or templates files from `dro compile`), or
    git revisions of a catalog directory, `git:REV:path`, path relative to the
    repository's root as in `git show REV:path` (git:main:catalogs/laptop).

    Instances added (+) and removed (-); for the others (~) dependencies, lane, type,
    scope, SLA, retry, fallout, queue and configuration changes. Nothing runs.

    Exit status: 0 no difference, 3 differences (terraform's -detailed-exitcode),
    1 an error (a catalog that does not compile, an order that cannot be planned),
    2 bad usage.
    """
    from dro_cli.diff.api import diff_revisions

    report = diff_revisions(old, new, orders)
    click.echo(_renderers()[fmt](report), nl=fmt != "markdown", color=use_color() if fmt == "text" else False)
    raise SystemExit(EXIT_DIFFERENCES if report.differences else EXIT_OK)
