"""Amending and cancelling a simulated order: `amend: FILE` and `cancel: [LINES]` of a script, reconciled
as `dro amend` and `dro cancel` reconcile them (planning/amendment.py, runtime/amend.py) and folded by
the engine as `plan.amended`. The revision plans stay in memory: `dro test` writes no file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dro_cli.errors import DroError
from dro_cli.planning.amendment import Reconciliation
from dro_cli.scenario_tests.results import ScriptError
from dsl.diagnostics import did_you_mean

if TYPE_CHECKING:
    from dro_cli.planning.orders import OrderResult
    from dro_cli.scenario_tests.simulation import Simulation


class Revisions:
    """The plans of an order's revisions, by number: the engine's revision loader, without files."""

    def __init__(self) -> None:
        self.plans: dict[int, tuple[Mapping[str, Any], str]] = {}

    def add(self, plan: Mapping[str, Any]) -> str:
        """Keep the plan of a revision; its sha256, as the journal would record it."""
        sha = hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()
        self.plans[plan["revision"]] = (plan, sha)
        return sha

    def __call__(self, revision: int, sha: str, base: Mapping[str, Any]) -> Mapping[str, Any]:
        plan, known = self.plans[revision]
        if known != sha:  # as DRO516 for a revision file that changed: cannot happen in memory
            raise ValueError(f"revision {revision}: sha256 {sha} is not the one kept")
        return plan


def amend(sim: Simulation, loaded: OrderResult, shown: str, options: Mapping[str, Any]) -> Reconciliation:
    """`dro amend ORDER FILE --reason R`: the order becomes `loaded` (the file `shown`)."""
    from dro_cli.planning.revise import revise
    from dro_cli.runtime.amend import running_of

    engine = sim.engine
    _check_open(sim)
    reason = options.get("reason")
    revision = revise(running_of(engine), engine.order_id, loaded, sim.templates, engine.revision + 1, reason)
    if revision.reconciliation is None:
        errors = [d for d in revision.diagnostics if d.is_error]
        raise _script_error(DroError(f"the revised order {shown} cannot be used", code=errors[0].code if errors
                                     else None, diagnostics=errors,
                                     hint="the diagnostics below say what is wrong in it"))
    done = revision.reconciliation
    _commit(sim, done, loaded, options, {"order_file": shown})
    sim.order = loaded
    return done


def cancel(sim: Simulation, lines: Sequence[str] | None, options: Mapping[str, Any]) -> Reconciliation | None:
    """`dro cancel ORDER [--items LINE ...] --reason R`: the whole order (`lines` None) or some of its lines.
    A whole order with nothing to compensate is canceled as it always was (`operator.cancel`): None."""
    from dro_cli.engine import acts
    from dro_cli.planning.amendment import reconcile
    from dro_cli.runtime.amend import running_of

    engine = sim.engine
    _check_open(sim)
    reason = str(options.get("reason") or "")
    if lines is None:
        from dro_cli.planning.revise import nothing_left

        done = reconcile(running_of(engine), nothing_left(engine.plan), sim.templates, engine.revision + 1, reason)
        _refuse(sim, done, None)
        if not any(entry.get("compensation") for entry in done.entries):
            sim.apply(acts.cancel(engine, operator=sim.operator(options), reason=reason))
            return None
        _commit(sim, done, None, options, {"cancel": True})
        return done
    assert sim.order is not None and sim.order.order is not None
    order_lines = [item.id for item in sim.order.order.items]
    unknown = [line for line in lines if line not in order_lines]
    if unknown:
        raise ScriptError(f"order {engine.order_id} has no line {unknown[0]!r}",
                          did_you_mean(unknown[0], order_lines) or f"its lines: {', '.join(order_lines)}")
    from dro_cli.planning.api import plan_order
    from dro_cli.planning.revise import without_items

    revised = without_items(sim.order, lines)
    planned = plan_order(revised, sim.templates)
    if planned.plan is None:
        errors = [d for d in planned.diagnostics if d.is_error]
        raise _script_error(DroError(f"order {engine.order_id} without {', '.join(lines)} cannot be planned",
                                     code=errors[0].code if errors else None, diagnostics=errors))
    done = reconcile(running_of(engine), planned.plan, sim.templates, engine.revision + 1, reason)
    _commit(sim, done, None, options, {"canceled_items": list(lines)})
    sim.order = revised
    return done


def _commit(sim: Simulation, done: Reconciliation, loaded: OrderResult | None, options: Mapping[str, Any],
            extra: Mapping[str, Any]) -> None:
    """Refuse what dro refuses (DRO532, DRO534), else fold `plan.amended` and run on. An amendment that
    changes nothing records nothing, as `dro amend` journals nothing for it."""
    from dro_cli.runtime.amend import amended_record

    _refuse(sim, done, loaded)
    sim.reconciliation = done
    if not done.changes:
        return
    sha = sim.revisions.add(done.plan)
    record = amended_record(done, f"plan.r{done.revision}.json", sha, sim.operator(options), options.get("reason"),
                            extra)
    sim.apply(("plan.amended", record))


def _refuse(sim: Simulation, done: Reconciliation, loaded: OrderResult | None) -> None:
    from dro_cli.runtime.amend_errors import blocked_error, frozen_error

    if done.blocked:
        raise _script_error(blocked_error(sim.engine, done, loaded))
    if done.frozen:
        raise _script_error(frozen_error(sim.engine, done, waited=None))


def _check_open(sim: Simulation) -> None:
    from dro_cli.runtime.amend import check_open

    try:
        check_open(sim.engine)
    except DroError as exc:
        raise _script_error(exc) from None


def _script_error(exc: DroError) -> ScriptError:
    return ScriptError(exc.message, exc.hint, code=exc.code, diagnostics=exc.diagnostics)
