"""What planning derives from templates is kept for the next plan with the same templates, and only then."""

from __future__ import annotations

import copy
from pathlib import Path

from dro_cli.planning.orders import load_order
from dro_cli.planning.planner import instantiate
from dro_cli.planning.prepared import prepared
from dsl import compile_catalog

CATALOG = Path(__file__).resolve().parents[1] / "catalogs" / "laptop"


def test_plans_with_the_same_templates_share_what_they_derive_and_plans_with_others_do_not() -> None:
    templates = compile_catalog([CATALOG]).templates
    assert templates is not None
    order = load_order(sorted((CATALOG / "orders").iterdir())[0]).order
    assert order is not None
    first = instantiate(templates, order).plan
    second = instantiate(templates, order).plan
    assert first == second
    assert prepared(templates) is prepared(templates)
    assert first["steps"][0]["config"] is second["steps"][0]["config"]  # made once, shared

    changed = copy.deepcopy(templates)
    step_id = first["steps"][0]["step"]
    changed["steps"][step_id]["title"] = "Renamed"
    renamed = instantiate(changed, order).plan
    assert renamed["steps"][0]["title"] == "Renamed"
    assert instantiate(templates, order).plan == first  # back to the first templates: their own settings
