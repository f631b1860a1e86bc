"""`dro worker`: run orders on a Temporal cluster: their workflows (the engine) and their steps (activities)."""

from __future__ import annotations

import asyncio

import click

from dro_cli.commands.engine import settings, temporal_options


@click.command("worker")
@temporal_options
@click.option("--parallel", type=click.IntRange(1, 256), default=8, show_default=True,
              help="Steps (activities) this worker runs at once.")
@click.option("--activities-only", is_flag=True,
              help="Run steps only, not workflows: for a machine that hosts the flows and commands.")
def worker_command(temporal_address: str, namespace: str, task_queue: str, parallel: int,
                   activities_only: bool) -> None:
    """Run a worker for --engine temporal: it polls the task queue and runs the orders' workflows and
    steps, until Ctrl-C. Run as many as you like, on as many machines (docs/temporal.md); flows,
    commands and endpoint variables are read on the worker's machine.

    Exit status: 0 stopped by Ctrl-C, 2 the server cannot be reached or the extra is missing.
    """
    found = settings(temporal_address, namespace, task_queue)
    from dro_cli.hosts.temporal.worker import serve

    def ready() -> None:
        click.echo(f"dro worker: polling task queue {task_queue!r} on {temporal_address} (namespace {namespace}); "
                   "Ctrl-C stops", err=True)

    try:
        asyncio.run(serve(found, parallel=parallel, workflows=not activities_only, ready=ready))
    except KeyboardInterrupt:
        return
