"""Check the expressions and templates a catalog holds, located inside their strings."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from dsl import ast
from dsl.catalog import Catalog, Decl
from dsl.diagnostics import Diagnostic, Span, TextOrigin, did_you_mean, error
from dsl.document import Path
from dsl.expressions import WHEN_ROOTS
from dsl.expressions import check as check_expression
from dsl.references import compensation_uses
from dsl.templates import AMEND_FIELDS, TEMPLATE_FIELDS, TEMPLATE_ROOTS, inspect_template, is_template

# What a step run by `compensate` or `on_amend` reads beside the rest: the step instance it undoes, the revision.
_AMEND_WHEN_ROOTS = WHEN_ROOTS | AMEND_FIELDS.keys()
_AMEND_TEMPLATE_ROOTS = TEMPLATE_ROOTS | AMEND_FIELDS.keys()


def parse_expression(text: str, origin: TextOrigin) -> tuple[ast.Expr | None, list[Diagnostic]]:
    """dsl.parser's, loaded (with lark) by the first YAML expression: .dro files come parsed."""
    from dsl.parser import parse_expression as parse

    return parse(text, origin)


# Step attributes whose strings (at any depth) are templates.
TEMPLATE_ATTRIBUTES = ("path", "headers", "body", "instructions", "command", "inputs", "run_as")


def expression_of(decl: Decl, keys: Path, *, located: bool = False) -> tuple[ast.Expr | None, list[Diagnostic]]:
    """The parsed expression at `keys` of a declaration (parsed by the DSL already, or now).

    Expression strings are parsed once per distinct text; `located=True` parses this
    one again so that its spans point into its file, for reporting.
    """
    path = decl.path + keys
    parsed = decl.doc.expressions.get(path)
    if parsed is not None:
        return parsed, []
    value = _get(decl.data, keys)
    if isinstance(value, str) and not located:
        return _parse_cached(value, lambda: _origin(decl, path))
    if isinstance(value, str):
        return parse_expression(value, _origin(decl, path))
    if value is None or isinstance(value, (bool, int, float)):  # YAML gave a literal
        return ast.Literal((_origin(decl, path) if located else _NOWHERE).start, value), []
    return None, []


def _origin(decl: Decl, path: Path) -> TextOrigin:
    return decl.doc.text_origin(path) or TextOrigin(Span.point(decl.doc.file, 1, 1))


_NOWHERE = TextOrigin(Span("", 1, 1, 1, 2))


@functools.lru_cache(maxsize=65536)
def _parse_anywhere(text: str) -> tuple[ast.Expr | None, bool]:
    """A parse of `text` shared by every place that holds it; spans are not meaningful."""
    expr, problems = parse_expression(text, _NOWHERE)
    return expr, not problems


def _parse_cached(text: str, origin: Callable[[], TextOrigin]) -> tuple[ast.Expr | None, list[Diagnostic]]:
    expr, clean = _parse_anywhere(text)
    if clean:
        return expr, []
    return parse_expression(text, origin())  # parse again to locate what is wrong


def expression_places(catalog: Catalog) -> Iterator[tuple[Decl, Path]]:
    """Every place a catalog holds an expression, as (declaration, keys)."""
    for decl in [*catalog.valid(catalog.scenarios), *catalog.valid(catalog.steps)]:
        if "when" in decl.data:
            yield decl, ("when",)
    for rule in catalog.valid(catalog.decompositions):
        for i, target in enumerate(rule.data.get("into", [])):
            for key in ("when", "quantity"):
                if key in target:
                    yield rule, ("into", i, key)
            for name in target.get("attributes", {}):
                yield rule, ("into", i, "attributes", name)


def check_text(catalog: Catalog) -> Iterator[Diagnostic]:
    amending = compensation_uses(catalog)
    for decl, keys in expression_places(catalog):
        expr, problems = expression_of(decl, keys)
        yield from problems
        roots = _AMEND_WHEN_ROOTS if decl.kind == "step" and decl.id in amending else WHEN_ROOTS
        if expr is not None and check_expression(expr, roots):
            located, _ = expression_of(decl, keys, located=True)
            yield from _explained(check_expression(located or expr, roots), roots)
    for step in catalog.valid(catalog.steps):
        roots = _AMEND_TEMPLATE_ROOTS if step.id in amending else TEMPLATE_ROOTS
        for name in TEMPLATE_ATTRIBUTES:
            if name in step.data:
                yield from _templates(step, (name,), step.data[name], roots)


def _explained(problems: list[Diagnostic], roots: frozenset[str]) -> Iterator[Diagnostic]:
    """DRO402 about `undone` or `revision` outside a compensation step says where they are known."""
    for problem in problems:
        if problem.code == "DRO402" and roots is WHEN_ROOTS and _amend_root(problem.summary):
            problem = dataclasses.replace(problem, detail=f"{problem.detail} {_AMEND_ONLY}", hint=_AMEND_HINT)
        yield problem


_AMEND_ONLY = ("undone and revision are known only in the steps that a `compensate` or `on_amend` runs "
               "(docs/language.md 3.5).")
_AMEND_HINT = "read them only in a step that some `compensate` or `on_amend` runs"


def _amend_root(summary: str) -> bool:
    return any(f"'{root}'" in summary for root in AMEND_FIELDS)


def _templates(step: Decl, keys: Path, value: Any, roots: frozenset[str]) -> Iterator[Diagnostic]:
    if isinstance(value, str):
        if is_template(value):
            yield from _template(step, keys, value, roots)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _templates(step, (*keys, key), item, roots)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _templates(step, (*keys, i), item, roots)


def _template(step: Decl, keys: Path, text: str, roots: frozenset[str]) -> Iterator[Diagnostic]:
    info = inspect_template(text)
    if info.error_message is None and info.roots <= roots and not info.unknown_fields:
        return  # the common case: nothing to locate
    path = step.path + keys
    origin = step.doc.text_origin(path)
    whole = step.doc.span(path)
    if info.error_message is not None:
        line = (info.error_line or 1) - 1
        lines = text.split("\n")
        at = origin.at(line, 0, len(lines[line].strip())) if origin is not None and 0 < line < len(lines) else whole
        yield error("DRO404", f"template syntax error: {info.error_message}", at,
                    detail=f"In step '{step.id}'. Templates use Jinja: {{{{ order.account }}}}.",
                    hint="check the braces: `{{ ... }}` for values, `{% ... %}` for logic")
    for root in sorted(info.roots - roots):
        only = root in AMEND_FIELDS
        yield error("DRO405", f"unknown name '{root}' in template", _name_span(text, root, origin, whole),
                    detail=f"In step '{step.id}'. Templates read " + ", ".join(sorted(roots)) + "."
                    + (f" {_AMEND_ONLY}" if only else ""),
                    hint=_AMEND_HINT if only else did_you_mean(root, roots) or "use one of the names above")
    for root, field in info.unknown_fields:
        if root not in roots:
            continue  # an unknown root, said above
        fields = sorted(TEMPLATE_FIELDS.get(root) or AMEND_FIELDS[root])
        yield error("DRO406", f"'{root}' has no field '{field}'", _field_span(text, root, field, origin, whole),
                    detail=f"In step '{step.id}'. In templates, {root} has " + ", ".join(fields)
                           + " (a mapping's keys, never its methods: order.items is the order's items).",
                    hint=did_you_mean(field, fields) or ("use one of the fields above; an order's own values are "
                                                         f"under {root}.attributes" if "attributes" in fields
                                                         else "use one of the fields above"))


def _field_span(text: str, root: str, field: str, origin: TextOrigin | None, whole: Span | None) -> Span | None:
    found = re.search(rf"(?<![\w.]){re.escape(root)}\s*(?:\.\s*|\[\s*['\"]){re.escape(field)}\b", text)
    return _located(text, found.start(), found.end() - found.start(), origin, whole) if found else whole


def _name_span(text: str, name: str, origin: TextOrigin | None, whole: Span | None) -> Span | None:
    found = re.search(rf"(?<![\w.]){re.escape(name)}\b", text)
    return _located(text, found.start(), len(name), origin, whole) if found else whole


def _located(text: str, start: int, length: int, origin: TextOrigin | None, whole: Span | None) -> Span | None:
    """The span of `length` characters at offset `start` of a template, in its file."""
    if origin is None:
        return whole
    before = text[:start]
    line = before.count("\n")
    col = start - (before.rfind("\n") + 1 if line else 0)
    return origin.at(line, col, length)


def _get(data: Any, keys: Path) -> Any:
    for key in keys:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data
