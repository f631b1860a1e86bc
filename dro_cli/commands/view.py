"""`dro view`: an order's plan with every step's state, as a self-contained HTML page, mermaid or dot."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from dro_cli.commands import completion
from dro_cli.commands.common import state_dir_option

# plan, status (`order_status`), now -> the text
Renderer = Callable[[Mapping[str, Any], Mapping[str, Any], float], str]


def _html(plan: Mapping[str, Any], status: Mapping[str, Any], at: float) -> str:
    from dro_cli.output.views.plan_html import render_html

    return render_html(plan, status, at)


def _mermaid(plan: Mapping[str, Any], status: Mapping[str, Any], at: float) -> str:
    from dro_cli.output.views.plan_mermaid import render_mermaid

    return render_mermaid(plan, _states(status), status.get("superseded") or ())


def _dot(plan: Mapping[str, Any], status: Mapping[str, Any], at: float) -> str:
    from dro_cli.output.views.plan_dot import render_dot

    return render_dot(plan, _states(status), status.get("superseded") or ())


def _states(status: Mapping[str, Any]) -> dict[str, str]:
    return {step["id"]: step["state"] for step in status["steps"]}


RENDERERS: dict[str, Renderer] = {"html": _html, "mermaid": _mermaid, "dot": _dot}


def render_view(order_dir: Path, fmt: str, at: float) -> str:
    """An order's plan and its steps' states at `at`, rendered in `fmt` (a key of RENDERERS)."""
    from dro_cli.journal.store import read_order
    from dro_cli.runtime.status import order_status

    view = read_order(order_dir)
    return RENDERERS[fmt](view.engine.plan, order_status(view, at), at)  # the live revision's plan


@click.command("view")
@click.argument("order_id", shell_complete=completion.order_id)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here (atomically) instead of standard output.")
@click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), default="html", show_default=True,
              help="html: one self-contained page; mermaid: a flowchart; dot: a Graphviz digraph.")
@state_dir_option
def view_command(order_id: str, output: Path | None, fmt: str, state_dir: Path | None) -> None:
    """Draw an order's plan as it stands now: lanes, steps coloured by state, dependencies.

    The html page (`dro view ORD-1001 -o plan.html`) needs nothing but a browser: it
    shows what the plan waits on, SLA badges, fallout errors and queues, and each
    step's attempts, times, outputs, error and operator acts when you click it.
    Exit status: 0 written, 2 an unknown order.
    """
    from dro_cli.journal.files import write_file
    from dro_cli.journal.order_errors import about_order
    from dro_cli.journal.store import find_order
    from dro_cli.journal.store import state_dir as resolve_state_dir
    from dro_cli.runtime.clock import now

    order_dir = find_order(resolve_state_dir(state_dir), order_id)
    with about_order(order_id):
        text = render_view(order_dir, fmt, now())
    if output is None:
        click.echo(text, nl=False)
        return
    write_file(output, text)
    from dro_cli.output.terminal import quiet

    if not quiet():
        click.echo(f"Wrote {output} ({fmt}, order {order_dir.name}).", err=True)
