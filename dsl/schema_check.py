"""Check a Document against one of schemas/ (the catalog's by default) and locate every violation."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from dsl.diagnostics import Diagnostic, Span, article, did_you_mean, error
from dsl.document import Document, Path
from dsl.schemas import fast_check, load_schema, validator

if TYPE_CHECKING:  # jsonschema loads only for a document that fails the fast check (dsl.schemas)
    from jsonschema.exceptions import ValidationError

_KINDS = {"lanes": "lane", "endpoints": "endpoint", "groups": "group", "scenarios": "scenario",
          "jeopardy_rules": "jeopardy rule", "fallout_rules": "fallout rule",
          "decompositions": "decomposition"}


Owner = Callable[[Document, Path], str]
"""What the declaration holding a path is, in words: "step 'reserve'", "item 'L2'"."""


def check_document(doc: Document, schema: str = "catalog",
                   owner: Owner | None = None) -> tuple[list[Diagnostic], set[Path]]:
    """The schema diagnostics of `doc`, and the paths of the values they are about.

    `owner` names what holds each path in the messages (catalog declarations by default).
    """
    owner = owner or catalog_owner
    if fast_check(schema)(doc.data):
        return [], set()
    diagnostics: list[Diagnostic] = []
    bad: set[Path] = set()
    for err in validator(schema).iter_errors(doc.data):
        at: Path = tuple(err.absolute_path)
        bad.add(at)
        if not any(at[: len(r)] == r for r in doc.reported):
            diagnostics.extend(_translate(doc, err, at, owner))
    return diagnostics, bad


def describe(path: Path) -> str:
    """What a path points at, in words: "step 'reserve'", "lane 'billing'"."""
    if len(path) >= 4 and path[0] == "groups" and path[2] == "steps":
        return f"step '{path[3]}'"
    if len(path) >= 2 and path[0] in _KINDS:
        if path[0] == "decompositions":
            return "decomposition"
        return f"{_KINDS[str(path[0])]} '{path[1]}'"
    return "the file"


def catalog_owner(doc: Document, path: Path) -> str:
    return describe(path[:4] if path[:1] == ("groups",) and len(path) >= 4 else path[:2])


def _translate(doc: Document, err: ValidationError, at: Path, owner: Owner) -> Iterable[Diagnostic]:
    schema = err.schema if isinstance(err.schema, dict) else {}
    kind = err.validator
    if kind is None:  # a `false` schema: an attribute that does not apply to this step type
        yield from _not_applicable(doc, at, owner)
        return
    message = schema.get("x-dro-message")
    hint = schema.get("x-dro-hint")
    code = schema.get("x-dro-code")
    if kind == "additionalProperties":
        yield from _unknown_attributes(doc, err, at, owner)
    elif kind == "required":
        yield from _missing(doc, err, at, owner)
    elif kind == "propertyNames":
        return  # reported by the nested error on the key itself
    elif err.absolute_schema_path and "propertyNames" in err.absolute_schema_path:
        key = str(err.instance)
        span = doc.key_span((*at, key))
        yield error(code or "DRO206", f"bad id '{key}'", span,
                    detail=f"'{key}' in {owner(doc, (*at, key))} is not a valid id.", hint=hint)
    elif message:
        yield error(code or "DRO203", message, _where(doc, at), detail=f"In {owner(doc, at)}.", hint=hint)
    elif kind == "enum":
        allowed = [str(v) for v in _values(err)]
        name = _name(at)
        yield error("DRO205", f"'{err.instance}' is not a valid {name}", doc.span(at),
                    detail=f"{_capital(article(name))} {name} is one of: " + ", ".join(allowed) + ".",
                    hint=did_you_mean(str(err.instance), allowed) if isinstance(err.instance, str) else None)
    elif kind == "type" and code == "DRO204":
        yield error("DRO204", f"bad duration {err.instance!r}: a duration is text with a unit", doc.span(at),
                    detail=f"In {owner(doc, at)}.", hint=hint)
    elif kind == "type":
        yield error(code or "DRO203", f"{_name(at)} should be {_type_words(err.validator_value)}, "
                    f"not {_kind_of(err.instance)}", doc.span(at), detail=f"In {owner(doc, at)}.", hint=hint)
    elif kind == "pattern" and code == "DRO204":
        yield error("DRO204", f"bad duration '{err.instance}'", doc.span(at), detail=f"In {owner(doc, at)}.",
                    hint=hint)
    elif kind == "pattern" and code == "DRO206":
        yield error("DRO206", f"bad id '{err.instance}'", doc.span(at),
                    detail=f"The {_name(at)} of {owner(doc, at)} is not a valid id.", hint=hint)
    elif kind == "pattern":
        yield error(code or "DRO208", f"'{err.instance}' is not a valid {_name(at)}", doc.span(at),
                    detail=f"In {owner(doc, at)}.", hint=hint)
    else:
        yield error(code or "DRO208", _constraint(err, at), doc.span(at), detail=f"In {owner(doc, at)}.",
                    hint=hint)


def _values(err: ValidationError) -> list[Any]:
    """The list a keyword like `enum` or `required` holds."""
    value = err.validator_value
    return list(value) if isinstance(value, (list, tuple)) else []


def _where(doc: Document, at: Path) -> Span | None:
    return doc.key_span(at) if at else doc.span(at)


def _unknown_attributes(doc: Document, err: ValidationError, at: Path, owner: Owner) -> Iterable[Diagnostic]:
    known = list(err.schema.get("properties", {})) if isinstance(err.schema, dict) else []
    instance: dict[str, Any] = err.instance  # type: ignore[assignment]
    for key in instance:
        if key in known:
            continue
        if not at:
            yield error("DRO201", f"unknown section '{key}'", doc.key_span((key,)),
                        detail="The file has the sections " + ", ".join(known) + ".",
                        hint=did_you_mean(key, known))
            continue
        yield error("DRO201", f"unknown attribute '{key}'", doc.key_span((*at, key)),
                    detail=f"{_capital(owner(doc, at))} has no attribute '{key}'.",
                    hint=did_you_mean(key, known) or "known attributes: " + ", ".join(known))


def _missing(doc: Document, err: ValidationError, at: Path, owner: Owner) -> Iterable[Diagnostic]:
    instance: dict[str, Any] = err.instance  # type: ignore[assignment]
    step_type = instance.get("type") if "then" in err.absolute_schema_path else None
    for name in _values(err):
        if name in instance:
            continue
        needs = f"{article(step_type)} {step_type} step" if isinstance(step_type, str) else owner(doc, at)
        written = f"{name} ..." if doc.file.endswith(".dro") else f"{name}: ..."
        yield error("DRO202", f"{needs} needs '{name}'", _where(doc, at),
                    detail=f"{_capital(owner(doc, at))} has no '{name}'.", hint=f"add `{written}`")


@functools.lru_cache(maxsize=1)
def _not_applicable_table() -> dict[str, frozenset[str]]:
    """Step type -> the attributes the schema forbids for it."""
    table: dict[str, frozenset[str]] = {}
    for rule in load_schema("catalog")["$defs"]["step"]["allOf"]:
        step_type = rule["if"]["properties"]["type"]["const"]
        table[step_type] = frozenset(k for k, v in rule["then"].get("properties", {}).items() if v is False)
    return table


def _not_applicable(doc: Document, at: Path, owner: Owner) -> Iterable[Diagnostic]:
    # jsonschema drops the path of `false` schema errors, so `at` is the step itself.
    step = _get(doc.data, at)
    if not isinstance(step, dict):
        return
    step_type = step.get("type")
    for key in sorted(_not_applicable_table().get(str(step_type), frozenset()) & step.keys()):
        kind = f"{article(str(step_type))} {step_type} step"
        yield error("DRO207", f"'{key}' does not apply to {kind}", doc.key_span((*at, key)),
                    detail=f"{_capital(owner(doc, at))} is {kind}.",
                    hint="remove it, or change the step's type")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _get(data: Any, at: Path) -> Any:
    for key in at:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _name(at: Path) -> str:
    names = [k for k in at if isinstance(k, str)]
    name = names[-1] if names else "value"
    return {"type": "step type", "policy": "retry policy"}.get(name, name.replace("_", " "))


_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "object": "a map",
               "array": "a list", "boolean": "true or false", "null": "null"}


def _type_words(expected: Any) -> str:
    kinds = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPE_WORDS.get(str(k), str(k)) for k in kinds)


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value}'"
    return "a list" if isinstance(value, list) else "a map"


_CONSTRAINTS = {
    "minimum": "at least {v}", "maximum": "at most {v}", "exclusiveMinimum": "more than {v}",
    "minItems": "a list of at least {v}", "minLength": "not empty", "uniqueItems": "without repeats",
    "minProperties": "at least {v} entry", "maxProperties": "at most {v} entry",
}


def _constraint(err: ValidationError, at: Path) -> str:
    template = _CONSTRAINTS.get(str(err.validator))
    if template is None:
        return re.sub(r"\s+", " ", err.message)
    if err.validator in ("minItems", "minLength") and err.validator_value == 1:
        return f"{_name(at)} must not be empty"
    return f"{_name(at)} must be " + template.format(v=err.validator_value)
