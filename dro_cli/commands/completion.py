"""Shell completion of what lives in the state directory: order ids, step instances, events and queues.

Click completes commands and options by itself (`eval "$(_DRO_COMPLETE=bash_source dro)"`); these
give the arguments their values. They read plan.json files and digests only, never fold a journal,
and never fail: a completion that cannot be computed offers nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

Completer = Callable[[click.Context, click.Parameter, str], "list[CompletionItem]"]


def _root(ctx: click.Context) -> Path:
    from dro_cli.journal.store import state_dir

    return state_dir(ctx.params.get("state_dir"))


def _order_ids(ctx: click.Context) -> list[str]:
    from dro_cli.journal.store import order_ids

    return order_ids(_root(ctx))


def _plan(ctx: click.Context, order_id: str | None) -> dict[str, Any]:
    if not order_id or os.sep in order_id:
        return {}
    try:
        plan: dict[str, Any] = json.loads((_root(ctx) / "orders" / order_id / "plan.json").read_bytes())
    except (OSError, ValueError):
        return {}
    return plan if isinstance(plan, dict) else {}


def _matching(values: Iterable[str], incomplete: str, help_of: Callable[[str], str | None] = lambda v: None,
              ) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem  # only while completing: commands load without it

    return [CompletionItem(value, help=help_of(value)) for value in sorted(set(values)) if value.startswith(incomplete)]


def _safely(complete: Completer) -> Completer:
    def run(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        try:
            return complete(ctx, param, incomplete)
        except Exception:  # a shell must never see a traceback while the user types
            return []
    return run


@_safely
def order_id(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return _matching(_order_ids(ctx), incomplete)


@_safely
def order_file_or_id(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """`dro run TARGET`: an order file (the shell completes paths) or an order already started."""
    from click.shell_completion import CompletionItem

    return [*_matching(_order_ids(ctx), incomplete), CompletionItem(incomplete, type="file")]


@_safely
def step(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """A step of the order named before it: instance ids (`install[L1]`) and step ids."""
    return _steps(ctx, ctx.params.get("order_id"), incomplete)


def _steps(ctx: click.Context, order: str | None, incomplete: str) -> list[CompletionItem]:
    steps = _plan(ctx, order).get("steps") or []
    titles = {s["id"]: s.get("title") for s in steps}
    return _matching([*titles, *(s["step"] for s in steps)], incomplete, titles.get)


@_safely
def event(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The events the order's pauses resume on."""
    steps = _plan(ctx, ctx.params.get("order_id")).get("steps") or []
    names = [((s.get("config") or {}).get("resume_on") or {}).get("event") for s in steps if s["type"] == "pause"]
    return _matching([name for name in names if name], incomplete)


@_safely
def retry_target(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """`dro retry [ORDER [STEP...]]`: an order first, then its steps."""
    given = ctx.params.get("target") or ()
    return _steps(ctx, given[0], incomplete) if given else _matching(_order_ids(ctx), incomplete)


@_safely
def queue(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The fallout queues steps are in now, from the orders' digests."""
    from dro_cli.runtime.queues import Scan

    return _matching([row["queue"] for found in Scan(_root(ctx)).digests() for row in found["fallout"]
                      if row["queue"]], incomplete)
