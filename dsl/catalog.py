"""The catalog model: every file's declarations merged into one namespace per kind."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dsl.diagnostics import Diagnostic, Span, error
from dsl.document import Document, Path

# Sections of a file whose entries are declarations keyed by id, and their kind.
ID_SECTIONS = {
    "lanes": "lane",
    "endpoints": "endpoint",
    "groups": "group",
    "scenarios": "scenario",
    "jeopardy_rules": "jeopardy_rule",
    "fallout_rules": "fallout_rule",
}


@dataclass(frozen=True)
class Decl:
    """One declaration, its validated attributes, and where it was written."""

    kind: str
    id: str
    data: Mapping[str, Any]
    doc: Document
    path: Path
    valid: bool = True
    group: str | None = None

    def span(self, *keys: str | int) -> Span | None:
        return self.doc.span(self.path + keys)

    def key_span(self, *keys: str | int) -> Span | None:
        return self.doc.key_span(self.path + keys)

    @property
    def where(self) -> str:
        span = self.doc.key_span(self.path)
        return str(span) if span else self.doc.file


@dataclass
class Catalog:
    """The declarations of every file, by kind and id."""

    lanes: dict[str, Decl] = field(default_factory=dict)
    endpoints: dict[str, Decl] = field(default_factory=dict)
    groups: dict[str, Decl] = field(default_factory=dict)
    steps: dict[str, Decl] = field(default_factory=dict)
    scenarios: dict[str, Decl] = field(default_factory=dict)
    jeopardy_rules: dict[str, Decl] = field(default_factory=dict)
    fallout_rules: dict[str, Decl] = field(default_factory=dict)
    decompositions: dict[str, Decl] = field(default_factory=dict)  # by product code
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file of the first, file of the second)

    def table(self, kind: str) -> dict[str, Decl]:
        tables: dict[str, dict[str, Decl]] = {
            "lane": self.lanes, "endpoint": self.endpoints, "group": self.groups, "step": self.steps,
            "scenario": self.scenarios, "jeopardy_rule": self.jeopardy_rules,
            "fallout_rule": self.fallout_rules, "decomposition": self.decompositions}
        return tables[kind]

    def valid(self, table: Mapping[str, Decl]) -> Iterator[Decl]:
        return (d for d in table.values() if d.valid)


def owner_of(path: Path) -> Path:
    """The declaration a value belongs to: a step inside its group, else a top-level entry."""
    if len(path) >= 4 and path[0] == "groups" and path[2] == "steps":
        return path[:4]
    return path[:2]


def merge(documents: Iterable[tuple[Document, set[Path]]]) -> tuple[Catalog, list[Diagnostic]]:
    """One catalog from its files; `set[Path]` holds each file's schema-invalid paths."""
    catalog = Catalog()
    diagnostics: list[Diagnostic] = []

    def add(kind: str, key: str, data: Any, doc: Document, path: Path, invalid: set[Path],
            group: str | None = None) -> None:
        table = catalog.table(kind)
        decl = Decl(kind, key, data if isinstance(data, dict) else {}, doc, path,
                    valid=isinstance(data, dict) and path not in invalid, group=group)
        first = table.get(key)
        if first is None:
            table[key] = decl
            return
        catalog.duplicates.append((first.doc.file, doc.file))
        noun = "decomposition rule for product" if kind == "decomposition" else kind.replace("_", " ")
        diagnostics.append(error(
            "DRO305", f"duplicate {noun} '{key}'", doc.key_span(path),
            detail=f"{noun[0].upper() + noun[1:]} '{key}' is already declared at {first.where}.",
            hint="remove one of them, or give one another id" if kind != "decomposition"
            else "merge the two rules into one decompose block"))

    for doc, bad in documents:
        if not isinstance(doc.data, dict):
            continue  # a file that is a list or a value: the schema check said so
        invalid = {owner_of(p) for p in bad}
        for section, kind in ID_SECTIONS.items():
            entries = doc.data.get(section)
            if not isinstance(entries, dict):
                continue
            for key, data in entries.items():
                add(kind, key, data, doc, (section, key), invalid)
                if kind == "group" and isinstance(data, dict) and isinstance(data.get("steps"), dict):
                    for step_id, step in data["steps"].items():
                        add("step", step_id, step, doc, (section, key, "steps", step_id), invalid, group=key)
        rules = doc.data.get("decompositions")
        if isinstance(rules, list):
            for i, rule in enumerate(rules):
                product = rule.get("product") if isinstance(rule, dict) else None
                if isinstance(product, str):
                    add("decomposition", product, rule, doc, ("decompositions", i), invalid)
    return catalog, diagnostics
