"""A catalog compiled for one plan is kept for the next plan of the same catalog, and only while every
file it was compiled from reads the same."""

from __future__ import annotations

from pathlib import Path

from dro_cli.planning.templates_source import load_templates

CATALOG = "\n".join([
    'lane ops "Operations"',
    'group chain "Chain" {',
    '  step s0 "Step 0" { type manual lane ops scope plan }',
    '}',
    'scenario any "Any" { when item.product == "P" add chain }',
    "",
])


def test_the_same_catalog_compiles_once_and_each_change_compiles_again(tmp_path: Path) -> None:
    (tmp_path / "one.dro").write_text(CATALOG)
    first = load_templates(tmp_path)
    second = load_templates(tmp_path)
    assert first.templates is not None and second.templates is first.templates  # not compiled again
    second.diagnostics.append(first.diagnostics[0] if first.diagnostics else None)  # type: ignore[arg-type]
    assert load_templates(tmp_path).diagnostics == first.diagnostics  # each caller gets lists of its own

    (tmp_path / "one.dro").write_text(CATALOG.replace('"Step 0"', '"Step zero"'))  # same size or not: bytes
    renamed = load_templates(tmp_path)
    assert renamed.templates is not None and renamed.templates["steps"]["s0"]["title"] == "Step zero"

    (tmp_path / "two.dro").write_text('lane qa "Quality"\n')
    added = load_templates(tmp_path)
    assert added.templates is not None and "qa" in added.templates["lanes"]

    (tmp_path / "two.dro").unlink()
    assert "qa" not in load_templates(tmp_path).templates["lanes"]  # type: ignore[index]


def test_a_catalog_with_errors_is_not_kept(tmp_path: Path) -> None:
    (tmp_path / "one.dro").write_text(CATALOG.replace("lane ops", "lane"))
    assert load_templates(tmp_path).templates is None
    assert load_templates(tmp_path).templates is None
    (tmp_path / "one.dro").write_text(CATALOG)
    assert load_templates(tmp_path).templates is not None
