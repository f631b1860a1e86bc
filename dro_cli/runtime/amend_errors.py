"""The refusals of an amendment: past a point of no return (DRO532, exit 2), a frozen plan (DRO534, exit 4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dro_cli.engine.instants import iso_or_none
from dro_cli.engine.machine import Engine
from dro_cli.errors import EXIT_USAGE, EXIT_WAIT, DroError
from dro_cli.planning.amendment import Blocked, Reconciliation
from dsl.diagnostics import Diagnostic, error

if TYPE_CHECKING:
    from dro_cli.planning.orders import OrderResult


def blocked_error(engine: Engine, done: Reconciliation, loaded: OrderResult | None) -> DroError:
    """DRO532: each change a started `point_of_no_return` step forbids, located at the order line it touches."""
    free = _free_lines(engine, done.blocked)
    diagnostics = [_blocked(engine, blocked, loaded, free) for blocked in done.blocked]
    first = done.blocked[0]
    return DroError(
        f"order {engine.order_id} cannot be amended as asked: {len(done.blocked)} change(s) past the point of no "
        f"return of {first.ponr_step}; nothing was written", code="DRO532", exit_code=EXIT_USAGE,
        diagnostics=diagnostics, sources=loaded.sources if loaded is not None else None,
        hint=_still(free))


def _blocked(engine: Engine, blocked: Blocked, loaded: OrderResult | None, free: list[str]) -> Diagnostic:
    step = engine.steps[blocked.touched]
    line = _line_of(engine.plan, step)
    span = None
    if loaded is not None:
        span = (loaded.item_span(line) if line is not None else None) or loaded.order_span()
    since = iso_or_none(blocked.started_at) or "an earlier run"
    return error(
        "DRO532", f"{blocked.touched} cannot change: {blocked.ponr_step} passed its point of no return at {since}",
        span,
        detail=f"{blocked.ponr_step} has `point_of_no_return true`: once it has started, what it covers "
               f"({_scope(engine, blocked.ponr_step)}) can no longer be amended or cancelled. The revision would "
               f"change {blocked.touched}: {blocked.why}.",
        hint=f"keep what {blocked.touched} reads of line {line} as it is in the running order" if line
        else _still(free))


def frozen_error(engine: Engine, done: Reconciliation, *, waited: float | None) -> DroError:
    """DRO534 (exit 4): a `freeze_plan` step is in progress; the amendment waits until it is not."""
    shown = ", ".join(done.frozen)
    after = f" after waiting {waited:g}s" if waited else ""
    return DroError(
        f"order {engine.order_id} is frozen while {shown} is in progress (freeze_plan){after}: the amendment "
        "waits; nothing was written", code="DRO534", exit_code=EXIT_WAIT,
        hint="run it again once the step is done, or wait for it: dro amend ... --wait SECONDS")


def _instance(engine: Engine, sid: str) -> Mapping[str, Any]:
    step: Mapping[str, Any] = engine.steps[sid]
    return step


def _line_of(plan: Mapping[str, Any], step: Mapping[str, Any]) -> str | None:
    """The order line a step instance fulfils: its item's source line, else its bundle's root line."""
    item = step.get("item")
    if item:
        found = plan["context"]["items"].get(item) or plan["context"].get("removed_items", {}).get(item) or {}
        source: str | None = found.get("source")
        return source or item
    bundle: str | None = step.get("bundle")
    return bundle


def _scope(engine: Engine, sid: str) -> str:
    step = engine.steps[sid]
    if step["scope"] == "plan":
        return "the whole order"
    if step["scope"] == "bundle":
        return f"bundle {step['bundle']}"
    return f"item {step['item']}"


def _free_lines(engine: Engine, blocked: list[Blocked]) -> list[str]:
    """The order's lines no started point of no return covers: those can still change."""
    locks = [engine.steps[sid] for sid in {b.ponr_step for b in blocked}]
    if any(lock["scope"] == "plan" for lock in locks):
        return []
    covered_items = {lock["item"] for lock in locks if lock["scope"] == "line_item"}
    covered_bundles = {lock["bundle"] for lock in locks if lock["scope"] == "bundle"}
    free: set[str] = set()
    for item_id, item in engine.plan["context"]["items"].items():
        if item_id not in covered_items and item.get("bundle") not in covered_bundles:
            free.add(item_id)
    return sorted(free)


def _still(free: list[str]) -> str:
    if not free:
        return "nothing of this order can change any more; a later change is a new (change) order"
    return f"what can still change: the steps of {', '.join(free[:8])}{' ...' if len(free) > 8 else ''}"
