"""An amendment's reconciliation, for `dro plan --amend`, `dro amend` and `dro cancel`: as text (like
`dro diff`: a sign per change, with the reason) and as JSON (schemas/amendment.schema.json)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from dro_cli.engine.instants import iso_or_none

_SIGNS = {"discarded": ("-", "red"), "canceled": ("-", "red"), "amended": ("~", "yellow"), "added": ("+", "green"),
          "compensation": ("<", "magenta"), "blocked": ("!", "red")}
KIND = "dro/amendment"
_FATES = ("amended", "discarded", "canceled", "added", "kept")  # the order counts read in: changes first


def amendment_line(amendment: Mapping[str, Any]) -> str:
    """What an amendment did, in a few words (a `plan.amended` payload, or `dro status`'s amendment):
    "amended the order, revision 2: 1 amended, 5 kept"."""
    if amendment.get("cancel"):
        what = "canceled the order (compensating first)"
    elif amendment.get("canceled_items"):
        what = f"canceled lines {', '.join(amendment['canceled_items'])}"
    else:
        what = "amended the order"
    counts = amendment.get("counts") or {}
    known = [fate for fate in _FATES if counts.get(fate)]
    told = ", ".join(f"{counts[fate]} {fate}" for fate in [*known, *sorted(set(counts) - set(_FATES))] if counts[fate])
    return f"{what}, revision {amendment['revision']}" + (f": {told}" if told else "")


def amendment_document(order_id: str, done: Any, *, applied: bool, catalog: str | None) -> dict[str, Any]:
    """The reconciliation as JSON: what `--format json` prints."""
    compensations = [{"step": step["id"], "undoes": step["undoes"], "by": step["compensates"]}
                     for step in done.plan["steps"] if step.get("undoes") and step.get("revision") == done.revision]
    return {
        "kind": KIND, "schema_version": 1, "order": order_id, "revision": done.revision, "applied": applied,
        "catalog": catalog, "counts": {**done.counts(), "compensation": len(compensations)},
        "changes": done.entries, "compensations": compensations, "kept": done.kept,
        "blocked": [{"step": b.touched, "point_of_no_return": b.ponr_step, "passed_at": iso_or_none(b.started_at),
                     "reason": b.why} for b in done.blocked],
        "frozen": done.frozen,
        "plan_file": f"plan.r{done.revision}.json" if applied else None,
    }


def render_amendment(document: Mapping[str, Any], color: bool = False) -> str:
    order, revision = document["order"], document["revision"]
    source = f"the catalog {document['catalog']}" if document["catalog"] else "its pinned templates"
    verb = "amended to" if document["applied"] else "would become"
    lines = [f"order {order} {verb} revision {revision} (planned with {source})"]
    rows = [(entry["fate"], entry["step"], entry["reason"]) for entry in document["changes"]]
    rows += [("compensation", c["step"], f"{c['by']} of {c['undoes']}") for c in document["compensations"]]
    rows += [("blocked", b["step"], f"past the point of no return of {b['point_of_no_return']} "
              f"(since {b['passed_at'] or 'an earlier run'}): {b['reason']}") for b in document["blocked"]]
    width = max((len(step) for _, step, _ in rows), default=0)
    for fate, step, why in rows:
        sign, tint = _SIGNS[fate]
        text = f"  {sign} {fate:<12} {step:<{width}}  {why}"
        lines.append(click.style(text, fg=tint) if color else text)
    counts = document["counts"]
    lines.append(f"  = kept         {counts.get('kept', 0)} step(s) as they are")
    if document["frozen"]:
        lines.append(f"  frozen while in progress (freeze_plan): {', '.join(document['frozen'])}")
    if not document["changes"] and not document["blocked"]:
        lines.append("  nothing changes: the revision plans what is running")
    return "\n".join(lines) + "\n"
