"""`dro plan`: what an order would instantiate, without running anything."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from dro_cli.commands.order_form import order_form_options
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
              help="text: steps by swimlane; json: the plan (schemas/plan.schema.json); mermaid: a flowchart. "
                   "With --amend: text, or json (schemas/amendment.schema.json).")
@click.option("--amend", "amend", metavar="ORDER_ID", default=None,
              help="Preview amending the running order ORDER_ID with ORDER_FILE (its whole revised order): what is "
                   "kept, discarded, added, compensated and blocked. Uses the order's pinned templates unless "
                   "--catalog is given.")
@order_form_options
@click.option("--state-dir", type=click.Path(path_type=Path), default=None,
              help="With --amend: where the order lives ($DRO_STATE_DIR, else .dro).")
def plan_command(order_file: Path, catalog: Path | None, fmt: str, amend: str | None, state_dir: Path | None) -> None:
    """Show the orchestration plan an order would get: steps by swimlane, scope, dependencies, SLA.

    Nothing runs and nothing is written. Exit status: 0 planned, 1 the catalog has
    errors, 2 a bad order or usage (with --amend: also a change past a point of no
    return).
    """
    from dro_cli.planning.api import make_plan

    if amend is not None:
        raise SystemExit(_preview(amend, order_file, catalog, state_dir, fmt))

    result = make_plan(order_file, catalog or Path(os.environ.get("DRO_CATALOG", ".")))
    if result.diagnostics:
        report = Report(result.diagnostics, result.sources, len(result.sources.texts))
        REPORTERS["text"](report, color=use_color(), err=True, summary=False)
    if result.plan is None:
        raise SystemExit(EXIT_USAGE if result.usage_error else EXIT_FAILED)
    click.echo(_renderers()[fmt](result.plan), nl=fmt == "text", color=use_color())


def _preview(order_id: str, order_file: Path, catalog: Path | None, state_dir: Path | None, fmt: str) -> int:
    """`dro plan --amend`: the reconciliation an amendment would make, with nothing written."""
    from dro_cli.commands.common import options_for, report_not_planned
    from dro_cli.output.views.amendment_text import amendment_document, render_amendment
    from dro_cli.runtime.amend import load_revised, preview
    from dro_cli.runtime.api import NotPlanned

    if fmt == "mermaid":
        raise click.UsageError("--amend shows a reconciliation: --format text or json")
    source = click.get_current_context().get_parameter_source("catalog")
    explicit = catalog if source is click.core.ParameterSource.COMMANDLINE else None  # not $DRO_CATALOG
    try:
        loaded = load_revised(order_file)  # a bad file first, whatever the state directory
        options = options_for(state_dir, None, 1)
        amendment = preview(order_id, order_file, options, explicit, loaded)
    except NotPlanned as error:
        return report_not_planned(error)
    document = amendment_document(order_id, amendment.reconciliation, applied=False, catalog=amendment.catalog)
    click.echo(_json(document) if fmt == "json" else render_amendment(document, bool(use_color())), nl=False)
    return EXIT_USAGE if document["blocked"] else 0
