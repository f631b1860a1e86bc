"""`dro plan`: what an order would instantiate, without running anything."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from dro_cli.errors import EXIT_FAILED, EXIT_USAGE
from dro_cli.output.reporters import REPORTERS
from dro_cli.output.reporters.report import Report
from dro_cli.output.terminal import use_color

Renderer = Callable[[Mapping[str, Any]], str]


def _json(plan: Mapping[str, Any]) -> str:
    return json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _renderers() -> dict[str, Renderer]:
    from dro_cli.output.views.plan_mermaid import render_mermaid
    from dro_cli.output.views.plan_text import render_plan

    return {"text": render_plan, "json": _json, "mermaid": render_mermaid}


@click.command("plan")
@click.argument("order_file", type=click.Path(path_type=Path))
@click.option("--catalog", type=click.Path(path_type=Path), envvar="DRO_CATALOG",
              help="Catalog directory, or a templates file from `dro compile` ($DRO_CATALOG).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "mermaid"]), default="text", show_default=True,
              help="text: steps by swimlane; json: the plan (schemas/plan.schema.json); mermaid: a flowchart.")
def plan_command(order_file: Path, catalog: Path | None, fmt: str) -> None:
    """Show the orchestration plan an order would get: steps by swimlane, scope, dependencies, SLA.

    Nothing runs and nothing is written. Exit status: 0 planned, 1 the catalog has
    errors, 2 a bad order or usage.
    """
    from dro_cli.planning.api import make_plan

    result = make_plan(order_file, catalog or Path(os.environ.get("DRO_CATALOG", ".")))
    if result.diagnostics:
        report = Report(result.diagnostics, result.sources, len(result.sources.texts))
        REPORTERS["text"](report, color=use_color(), err=True, summary=False)
    if result.plan is None:
        raise SystemExit(EXIT_USAGE if result.usage_error else EXIT_FAILED)
    click.echo(_renderers()[fmt](result.plan), nl=fmt == "text", color=use_color())
