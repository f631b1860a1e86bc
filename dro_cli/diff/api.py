"""`dro diff` as an API: compile two catalog revisions, plan every sample order with each, compare.

Every problem found on the way is collected before giving up: both catalogs are
compiled even when the first has errors, and every order is planned with both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dro_cli.diff.catalog_revisions import Revision, open_revision
from dro_cli.diff.plans import PlanDiff, diff_plans
from dro_cli.diff.templates import TemplateDiff, diff_templates
from dro_cli.errors import EXIT_USAGE, DroError
from dsl.diagnostics import Diagnostic, has_errors
from dsl.sources import Sources, display_path

DIFF_SCHEMA_VERSION = 1
ORDER_SUFFIXES = (".yaml", ".yml", ".json")
# Files in an orders directory that are not orders: catalog files and `dro test` cases.
NOT_ORDERS = (".dro.yaml", ".dro.yml", ".test.yaml", ".test.yml")


@dataclass(frozen=True)
class OrderDiff:
    file: str  # the order file, as shown
    plan: PlanDiff

    @property
    def order(self) -> str:
        return self.plan.order


@dataclass(frozen=True)
class DiffReport:
    old: str  # the revisions as the user named them
    new: str
    orders: tuple[OrderDiff, ...]
    templates: TemplateDiff

    @property
    def differences(self) -> bool:
        return not self.templates.empty or any(not o.plan.empty for o in self.orders)

    def totals(self) -> dict[str, int]:
        return {
            "orders": len(self.orders),
            "orders_changed": sum(not o.plan.empty for o in self.orders),
            "add": sum(len(o.plan.added) for o in self.orders),
            "remove": sum(len(o.plan.removed) for o in self.orders),
            "change": sum(len(o.plan.changed) for o in self.orders),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "schema_version": DIFF_SCHEMA_VERSION,
            "old": self.old,
            "new": self.new,
            "differences": self.differences,
            "summary": self.totals(),
            "orders": [{"file": o.file, **o.plan.as_json()} for o in self.orders],
            "templates": self.templates.as_json(),
        }


def diff_revisions(old_spec: str, new_spec: str, orders: Path | None) -> DiffReport:
    """The difference between the catalogs `old_spec` and `new_spec` (paths or `git:REV:path`) over the
    orders in `orders` (a directory or one order file; default: NEW's `orders` directory)."""
    with contextlib.ExitStack() as stack:
        old = stack.enter_context(open_revision(old_spec))
        new = stack.enter_context(open_revision(new_spec))
        if orders is None:
            orders = new.path / "orders"
            if not orders.is_dir():
                raise DroError(f"no orders to plan: '{new.shown(display_path(orders))}' is not a directory",
                               exit_code=EXIT_USAGE, hint="pass --orders DIR, a directory of sample order files")
        report = diff_catalogs(old, new, order_files(orders))
    return report


def order_files(path: Path) -> list[Path]:
    """The order files `path` names: itself, or the *.yaml, *.yml and *.json files directly in it."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DroError(f"'{display_path(path)}' does not exist", exit_code=EXIT_USAGE,
                       hint="pass --orders DIR, a directory of sample order files (or one order file)")
    found = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in ORDER_SUFFIXES and not p.name.lower().endswith(NOT_ORDERS))
    if not found:
        raise DroError(f"no order files in '{display_path(path)}'", exit_code=EXIT_USAGE,
                       hint="orders are *.yaml, *.yml or *.json files (docs/orders.md); pass --orders DIR")
    return found


@dataclass
class _Compiled:
    revision: Revision
    templates: dict[str, Any] | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: Sources = field(default_factory=Sources)


def diff_catalogs(old: Revision, new: Revision, orders: Sequence[Path]) -> DiffReport:
    """The difference between two revisions over `orders`; a DroError with the diagnostics when either
    cannot plan them.

    Order files read out of NEW's git revision (its `orders` directory) are named as in it."""
    compiled = [_compile(old), _compile(new)]
    broken = [c for c in compiled if c.templates is None]
    if broken:
        names = " and ".join(f"'{c.revision.spec}'" for c in broken)
        raise DroError(f"the catalog {names} cannot be compiled, so no plans can be compared",
                       diagnostics=list(dict.fromkeys(d for c in broken for d in c.diagnostics)),
                       sources=_merged(c.sources for c in broken),
                       hint="fix the errors above; `dro validate CATALOG` checks a catalog alone")
    old_templates, new_templates = compiled[0].templates, compiled[1].templates
    assert old_templates is not None and new_templates is not None
    planned = _diff_orders([(old.spec, old_templates), (new.spec, new_templates)], orders, new)
    return DiffReport(old.spec, new.spec, planned, diff_templates(old_templates, new_templates))


def _diff_orders(revisions: Sequence[tuple[str, dict[str, Any]]], orders: Sequence[Path],
                 orders_from: Revision) -> tuple[OrderDiff, ...]:
    """Each order planned with the templates of both revisions, (spec, templates), and compared."""
    from dro_cli.planning.api import plan_too_large
    from dro_cli.planning.orders import load_order
    from dro_cli.planning.planner import instantiate

    results: list[OrderDiff] = []
    diagnostics: list[Diagnostic] = []
    sources = Sources()
    failed: list[str] = []
    for path in orders:
        loaded = load_order(path)
        shown = orders_from.shown(display_path(path))
        loaded.diagnostics, loaded.sources = orders_from.relabel(loaded.diagnostics, loaded.sources)
        sources.texts.update(loaded.sources.texts)
        if loaded.order is None or has_errors(loaded.diagnostics):
            diagnostics += loaded.diagnostics
            failed.append(f"{shown} (not a valid order)")
            continue
        plans = []
        for spec, templates in revisions:
            planned = instantiate(templates, loaded.order)
            too_large = plan_too_large(loaded, planned.plan)
            if too_large is not None:
                planned.diagnostics.append(too_large)
            if has_errors(planned.diagnostics):
                diagnostics += orders_from.relabel(planned.diagnostics, Sources())[0]
                failed.append(f"{shown} (with '{spec}')")
            else:
                plans.append(planned.plan)
        if len(plans) == 2:
            results.append(OrderDiff(shown, diff_plans(plans[0], plans[1])))
    if failed:
        raise DroError(f"cannot plan every sample order: {', '.join(failed)}",
                       diagnostics=diagnostics, sources=sources,
                       hint="fix the order files, or the catalog they cannot be planned with")
    return tuple(results)


def _compile(revision: Revision) -> _Compiled:
    from dro_cli.planning.templates_source import load_templates

    if not revision.path.exists():
        return _Compiled(revision, None, [_missing(revision)])
    result = load_templates(revision.path)
    diagnostics, sources = revision.relabel(result.diagnostics, result.sources)
    if result.templates is None or has_errors(result.diagnostics):
        return _Compiled(revision, None, diagnostics, sources)
    return _Compiled(revision, result.templates)


def _missing(revision: Revision) -> Diagnostic:
    from dsl.diagnostics import error

    return error("DRO001", f"catalog '{revision.spec}' does not exist",
                 hint="give a catalog directory, a templates file from `dro compile`, or git:REV:path")


def _merged(all_sources: Iterable[Sources]) -> Sources:
    merged = Sources()
    for sources in all_sources:
        merged.texts.update(sources.texts)
    return merged
