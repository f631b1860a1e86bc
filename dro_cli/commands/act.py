"""Operator acts: `dro complete`, `dro signal`, `dro resume`. Each is journaled with the operator (and the
reason), then the plan continues as `dro run` would. (`dro cancel` is an amendment: commands/amend.py.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dro_cli.commands import completion
from dro_cli.commands.common import (
    format_option,
    interruptible,
    operator_option,
    options_for,
    report_run,
    run_options,
)
from dro_cli.commands.engine import engine_options
from dro_cli.errors import EXIT_USAGE, DroError


def _act(order_id: str, make: Callable[[Any], Any], state_dir: Path | None, catalog: Path | None,
         parallel: int, fmt: str, temporal: Any = None, request: dict[str, Any] | None = None) -> None:
    from dro_cli.runtime.api import act

    if temporal is not None:  # the same act, as an update of the order's workflow (docs/temporal.md)
        from dro_cli.commands.engine import report_view, wait_for
        from dro_cli.hosts.temporal.client import act as act_on_temporal

        assert request is not None
        raise SystemExit(report_view(wait_for(act_on_temporal(temporal, order_id, request)), fmt, full=False))

    with interruptible():
        result = act(order_id, make, options_for(state_dir, catalog, parallel, fmt))
    raise SystemExit(report_run(result, fmt))


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise DroError(f"{option} {value!r} is not KEY=VALUE", exit_code=EXIT_USAGE,
                           hint=f"write it like {option} ticket=INC-42")
        pairs[key] = text
    return pairs


@click.command("complete")
@click.argument("order_id", shell_complete=completion.order_id)
@click.argument("step", shell_complete=completion.step)
@click.option("--output", "outputs", multiple=True, metavar="KEY=VALUE",
              help="An output for dependent steps (outputs.<step>.<key>); repeatable.")
@click.option("--reason", default=None, help="Why; required to complete a step in fallout.")
@operator_option
@run_options
@format_option
@engine_options
def complete_command(order_id: str, step: str, outputs: tuple[str, ...], reason: str | None, operator: str | None,
                     state_dir: Path | None, catalog: Path | None, parallel: int, fmt: str, temporal: Any) -> None:
    """Complete a manual step waiting in its queue (or mark a step in fallout complete, with --reason)."""
    from dro_cli.engine import acts
    from dro_cli.runtime.api import operator_name

    values = _pairs(outputs, "--output")
    who = operator_name(operator)
    _act(order_id, lambda e: acts.complete(e, step, operator=who, reason=reason, outputs=values),
         state_dir, catalog, parallel, fmt, temporal,
         {"kind": "complete", "step": step, "operator": who, "reason": reason, "outputs": values})


@click.command("signal")
@click.argument("order_id", shell_complete=completion.order_id)
@click.argument("event", shell_complete=completion.event)
@click.option("--data", multiple=True, metavar="KEY=VALUE",
              help="Data of the event, the outputs of the pauses it resumes; repeatable.")
@operator_option
@run_options
@format_option
@engine_options
def signal_command(order_id: str, event: str, data: tuple[str, ...], operator: str | None,
                   state_dir: Path | None, catalog: Path | None, parallel: int, fmt: str, temporal: Any) -> None:
    """Send an event: every pause on hold for it resumes."""
    from dro_cli.engine import acts
    from dro_cli.runtime.api import operator_name

    values = _pairs(data, "--data")
    who = operator_name(operator)
    _act(order_id, lambda e: acts.signal(e, event, operator=who, data=values), state_dir, catalog, parallel, fmt,
         temporal, {"kind": "signal", "event": event, "operator": who, "data": values})


@click.command("resume")
@click.argument("order_id", shell_complete=completion.order_id)
@click.argument("step", shell_complete=completion.step)
@click.option("--reason", default=None, help="Why it resumes before its event or timer.")
@operator_option
@run_options
@format_option
@engine_options
def resume_command(order_id: str, step: str, reason: str | None, operator: str | None,
                   state_dir: Path | None, catalog: Path | None, parallel: int, fmt: str, temporal: Any) -> None:
    """Resume a pause on hold, without waiting for its event or timer."""
    from dro_cli.engine import acts
    from dro_cli.runtime.api import operator_name

    who = operator_name(operator)
    _act(order_id, lambda e: acts.resume(e, step, operator=who, reason=reason), state_dir, catalog, parallel, fmt,
         temporal, {"kind": "resume", "step": step, "operator": who, "reason": reason})
