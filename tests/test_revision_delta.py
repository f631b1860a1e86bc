"""A revision's plan file is its delta from the revision before (journal/revisions.py): read back on that plan
to the very plan written, a whole plan (as dro wrote revisions before) read as it is, and anything else refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dro_cli.errors import DroError
from dro_cli.journal.revisions import apply_delta, delta, loader, plan_text, revision_file, write_revision


def step(sid: str, after: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "step": sid.split("[")[0], "after": after or [], "config": {"path": "/x"}, **extra}


def plans() -> tuple[dict[str, Any], dict[str, Any]]:
    base = {"kind": "dro/plan", "schema_version": 1, "order": "O-1", "revision": 1, "context": {"items": {}},
            "steps": [step("a"), step("b", ["a"]), step("c", ["b"])]}
    kept_a, kept_b = base["steps"][0], base["steps"][1]
    revised = {**base, "revision": 2, "context": {"items": {"I1": {}}},
               "steps": [kept_a, kept_b, {**step("c", ["b"]), "revision": 2}, step("d", ["a"]), step("e")]}
    return base, revised


def test_the_delta_holds_only_what_is_not_the_revision_before() -> None:
    base, revised = plans()
    revised["steps"][4] = json.loads(json.dumps(base["steps"][1] | {"id": "e"}))  # a copy, not the same object
    made = delta(revised, base)
    assert [s["id"] for s in made["steps"]] == ["c", "d", "e"]
    assert made["order"] == ["a", "b", "c", "d", "e"] and "steps" not in made["plan"]
    assert apply_delta(json.loads(plan_text(made)), base) == revised


def test_a_copy_equal_to_the_instance_before_is_not_written_again() -> None:
    base, revised = plans()
    revised["steps"][0] = json.loads(json.dumps(base["steps"][0]))
    assert "a" not in [s["id"] for s in delta(revised, base)["steps"]]


def test_the_file_read_on_the_plan_before_is_the_plan_written(tmp_path: Path) -> None:
    base, revised = plans()
    sha = write_revision(tmp_path, revised, base)
    assert json.loads(revision_file(tmp_path, 2).read_text())["kind"] == "dro/plan-delta"
    assert loader(tmp_path)(2, sha, base) == revised


def test_a_whole_plan_written_by_an_older_dro_is_read_as_it_is(tmp_path: Path) -> None:
    base, revised = plans()
    text = plan_text(revised)
    revision_file(tmp_path, 2).write_text(text)
    assert loader(tmp_path)(2, hashlib.sha256(text.encode()).hexdigest(), base) == revised


def test_a_delta_read_on_another_revision_is_refused(tmp_path: Path) -> None:
    base, revised = plans()
    sha = write_revision(tmp_path, revised, base)
    with pytest.raises(DroError, match="not a revision this dro reads: a plan delta of version 1 on revision 1, "
                                       "read on revision 2"):
        loader(tmp_path)(2, sha, revised)


def test_a_changed_delta_is_refused_as_any_changed_plan(tmp_path: Path) -> None:
    base, revised = plans()
    sha = write_revision(tmp_path, revised, base)
    path = revision_file(tmp_path, 2)
    path.write_text(path.read_text().replace('"/x"', '"/EVIL"'))
    with pytest.raises(DroError) as refused:
        loader(tmp_path)(2, sha, base)
    assert refused.value.code == "DRO516"
