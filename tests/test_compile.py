"""The compiler: deterministic output, one result for both forms, content hashes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from goldens import CATALOGS

from dsl import compile_catalog
from dsl.compiler import content_hash, dumps

PAIRS = [("laptop", "laptop-yaml"), ("fiber", "fiber-yaml")]


def _templates(path: Path) -> dict[str, object]:
    result = compile_catalog([path])
    assert result.templates is not None, [f"{d.code} {d.summary} {d.span}" for d in result.diagnostics]
    return result.templates


@pytest.mark.parametrize(("dsl_form", "yaml_form"), PAIRS)
def test_both_forms_compile_to_the_same_templates(dsl_form: str, yaml_form: str) -> None:
    from_dsl, from_yaml = _templates(CATALOGS / dsl_form), _templates(CATALOGS / yaml_form)
    assert from_dsl["sources"] != from_yaml["sources"]  # they do come from different files
    without_sources = [{k: v for k, v in t.items() if k != "sources"} for t in (from_dsl, from_yaml)]
    assert without_sources[0] == without_sources[1]
    assert from_dsl["hash"] == from_yaml["hash"]


def test_compiling_twice_gives_the_same_bytes() -> None:
    first = dumps(_templates(CATALOGS / "fiber"))
    second = dumps(_templates(CATALOGS / "fiber"))
    assert first == second


def test_file_order_and_location_do_not_change_the_hash(tmp_path: Path) -> None:
    # The same declarations in other files, in another order: same content, same hash.
    original = _templates(CATALOGS / "fiber-yaml")
    copy = tmp_path / "reordered"
    copy.mkdir()
    for i, source in enumerate(sorted((CATALOGS / "fiber-yaml").glob("*.dro.yaml"), reverse=True)):
        shutil.copy(source, copy / f"part{i}.dro.yaml")
    moved = _templates(copy)
    assert moved["hash"] == original["hash"]
    assert moved["sources"] != original["sources"]


def test_any_change_of_meaning_changes_the_hash(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    base = """
lane ops
group g { step a "A" { type milestone lane ops } }
scenario s { when item.product == "X"  add g }
"""
    first = _templates(catalog_dir({"c.dro": base}))["hash"]
    second = _templates(catalog_dir({"c.dro": base.replace('"X"', '"Y"')}))["hash"]
    assert first != second


def test_hash_covers_everything_but_itself_and_sources() -> None:
    templates = _templates(CATALOGS / "laptop")
    assert templates["hash"] == content_hash(templates)
    changed = {**templates, "sources": {}}
    assert content_hash(changed) == templates["hash"]
    changed["order"] = list(reversed(templates["order"]))  # type: ignore[call-overload]
    assert content_hash(changed) != templates["hash"]


def test_templates_normalize_durations_and_expressions(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    path = catalog_dir({"c.dro.yaml": """
lanes: {ops: {}}
groups:
  g:
    steps:
      a: {type: manual, lane: ops, duration: 1h30m, jeopardy: 900s, when: "item.x==1 and(order.y!=2)",
          retry: {policy: staggered, intervals: [10s, 1m]}}
scenarios:
  s: {when: 'item.product=="X"', add: [g]}
"""})
    step = _templates(path)["steps"]["a"]  # type: ignore[index]
    assert (step["duration"], step["jeopardy"]) == (5400, 900)
    assert step["when"] == "item.x == 1 and order.y != 2"
    assert step["retry"] == {"policy": "staggered", "intervals": [10, 60], "retries": 2}
    assert step["scope"] == "plan" and step["title"] == "a"


def test_order_puts_dependencies_first() -> None:
    templates = _templates(CATALOGS / "fiber")
    position = {s: i for i, s in enumerate(templates["order"])}  # type: ignore[arg-type]
    for step_id, step in templates["steps"].items():  # type: ignore[attr-defined]
        for dep in step["after"]:
            assert position[dep["step"]] < position[step_id]


def test_templates_json_is_canonical() -> None:
    text = dumps(_templates(CATALOGS / "laptop"))
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
