"""The two forms of each example catalog say the same thing before compilation, and both fit the schema."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from dsl.api import load_document
from dsl.document import Document

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "catalogs"
SCHEMA = ROOT / "schemas" / "catalog.schema.json"
PAIRS = [("laptop", "laptop-yaml"), ("fiber", "fiber-yaml")]
SECTIONS = ("lanes", "endpoints", "decompositions", "groups", "scenarios", "jeopardy_rules", "fallout_rules")
DSL_SUFFIXES = (".dro",)
YAML_SUFFIXES = (".dro.yaml", ".dro.yml")


def files(catalog: str, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in (CATALOGS / catalog).rglob("*") if p.is_file() and p.name.endswith(suffixes))


@cache
def documents(catalog: str, suffixes: tuple[str, ...]) -> tuple[Document, ...]:
    docs = []
    for path in files(catalog, suffixes):
        shown = str(path.relative_to(ROOT))
        doc, diagnostics = load_document(path, shown, path.read_text(encoding="utf-8"))
        assert [d for d in diagnostics if d.is_error] == [], shown
        assert doc is not None
        docs.append(doc)
    assert docs, f"no {suffixes} files in catalogs/{catalog}"
    return tuple(docs)


def merged(docs: tuple[Document, ...]) -> dict[str, Any]:
    """The files' data, one mapping per section; decomposition rules ordered by product."""
    out: dict[str, Any] = {}
    for doc in docs:
        assert set(doc.data) <= set(SECTIONS), doc.file
        for section, entries in doc.data.items():
            if section == "decompositions":
                out.setdefault(section, []).extend(entries)
                continue
            table = out.setdefault(section, {})
            assert not set(table) & set(entries), f"{doc.file} declares again {set(table) & set(entries)}"
            table.update(entries)
    if "decompositions" in out:
        out["decompositions"] = sorted(out["decompositions"], key=lambda rule: rule["product"])
    return out


def dsl_form(catalog: str) -> dict[str, Any]:
    return merged(documents(catalog, DSL_SUFFIXES))


def yaml_form(catalog: str) -> dict[str, Any]:
    return merged(documents(catalog, YAML_SUFFIXES))


@pytest.mark.parametrize(("dsl_catalog", "yaml_catalog"), PAIRS)
def test_each_form_holds_only_its_own_files(dsl_catalog: str, yaml_catalog: str) -> None:
    assert files(dsl_catalog, YAML_SUFFIXES) == []
    assert files(yaml_catalog, DSL_SUFFIXES) == []
    assert files(dsl_catalog, DSL_SUFFIXES) and files(yaml_catalog, YAML_SUFFIXES)


@pytest.mark.parametrize(("dsl_catalog", "yaml_catalog"), PAIRS)
def test_both_forms_have_the_same_sections(dsl_catalog: str, yaml_catalog: str) -> None:
    assert set(dsl_form(dsl_catalog)) == set(yaml_form(yaml_catalog))


@pytest.mark.parametrize(("pair", "section"), [
    pytest.param(pair, section, id=f"{pair[0]}-{section}") for pair in PAIRS for section in SECTIONS
])
def test_lowered_dsl_equals_its_yaml_twin(pair: tuple[str, str], section: str) -> None:
    dsl_catalog, yaml_catalog = pair
    ours, twin = dsl_form(dsl_catalog).get(section), yaml_form(yaml_catalog).get(section)
    assert ours == twin


# ---- the catalog schema, applied with jsonschema directly ------------------------------------


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _problems(validator: jsonschema.protocols.Validator, data: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


ALL_FILES = [p for catalog in (c for pair in PAIRS for c in pair)
             for p in files(catalog, DSL_SUFFIXES + YAML_SUFFIXES)]


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(CATALOGS)))
def test_every_file_validates_against_the_catalog_schema(
        path: Path, validator: jsonschema.protocols.Validator) -> None:
    doc, _ = load_document(path, str(path), path.read_text(encoding="utf-8"))
    assert doc is not None
    assert doc.data, "an empty file proves nothing"
    assert _problems(validator, doc.data) == []


@pytest.mark.parametrize("path", [p for p in ALL_FILES if p.name.endswith(YAML_SUFFIXES)],
                         ids=lambda p: str(p.relative_to(CATALOGS)))
def test_yaml_files_read_the_same_with_plain_pyyaml(
        path: Path, validator: jsonschema.protocols.Validator) -> None:
    text = path.read_text(encoding="utf-8")
    plain = yaml.safe_load(text)
    assert _problems(validator, plain) == []
    doc, _ = load_document(path, str(path), text)
    assert doc is not None
    assert doc.data == plain


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p[0])
def test_merged_forms_validate(pair: tuple[str, str], validator: jsonschema.protocols.Validator) -> None:
    for data in (dsl_form(pair[0]), yaml_form(pair[1])):
        assert _problems(validator, data) == []
