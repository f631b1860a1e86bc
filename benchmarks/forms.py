"""The catalog model of the generator, and its two writers: the DSL form and the YAML form.

Values are typed where the forms differ (a duration is bare in the DSL, a string in YAML;
an expression is bare in the DSL, its text in YAML), so one model writes both forms with
the same declarations, following the mapping in docs/language.md (section 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

# ---- typed values: how a value is written differs between the two forms ------------

class Ident(str):
    """A bare word in the DSL (`lane billing`), a plain string in YAML."""


class Dur(str):
    """A duration: `30s` bare in the DSL, the string "30s" in YAML."""


class Expr(str):
    """A `when` (or `into`) expression: bare in the DSL, its text as a string in YAML."""


@dataclass(frozen=True)
class Env:
    name: str
    default: str | None = None


@dataclass(frozen=True)
class Ref:
    step: str
    within: str | None = None


@dataclass(frozen=True)
class Into:
    product: str
    when: Expr | None = None
    quantity: int | Expr | None = None
    attributes: dict[str, Any] | None = None


@dataclass
class Block:
    """One declaration: KIND ID ["Title"] { attributes... } (steps nest in groups)."""

    kind: str
    id: str
    title: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    children: list[Block] = field(default_factory=list)


# ---- the DSL writer ---------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dro_value(v: Any) -> str:
    if isinstance(v, (Ident, Dur, Expr)):
        return str(v)
    if isinstance(v, str):
        return _q(v)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, Env):
        return f"env({_q(v.name)}, {_q(v.default)})" if v.default is not None \
            else f"env({_q(v.name)})"
    if isinstance(v, list):
        return "[" + ", ".join(_dro_value(x) for x in v) + "]"
    if isinstance(v, dict):
        items = [f"{k if _NAME.match(k) else _q(k)}: {_dro_value(x)}" for k, x in v.items()]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"no DSL form for {v!r}")


def _dro_ref(r: Ref) -> str:
    return r.step + (f" within {r.within}" if r.within else "")


def _dro_long(v: Any, indent: str) -> str:
    """A value, with a map too long for one line written one entry a line."""
    flat = _dro_value(v)
    if not isinstance(v, dict) or len(indent) + len(flat) <= 90:
        return flat
    inner = indent + "  "
    lines = [f"{inner}{k if _NAME.match(k) else _q(k)}: {_dro_long(x, inner)}"
             for k, x in v.items()]
    return "{\n" + "\n".join(lines) + f"\n{indent}}}"


def _dro_attr(name: str, v: Any, pad: int, indent: str) -> str:
    if name == "when":
        return f"{'when'.ljust(pad)} {v}"
    if name == "after":
        refs = [_dro_ref(r) for r in v]
        return f"{'after'.ljust(pad)} " + (refs[0] if len(refs) == 1
                                           else "[" + ", ".join(refs) + "]")
    if name == "resume_on":
        return f"{name.ljust(pad)} event {_q(v)}"
    return f"{name.ljust(pad)} {_dro_long(v, indent)}"


def _dro_into(into: Into) -> str:
    s = f"into {_q(into.product)}"
    if into.when:
        s += f" when {into.when}"
    settings = []
    if into.quantity is not None:
        settings.append(f"quantity {into.quantity}")
    if into.attributes:
        settings.append("attributes { " + ", ".join(
            f"{k}: {_dro_value(v)}" for k, v in into.attributes.items()) + " }")
    return s + (" { " + "  ".join(settings) + " }" if settings else "")


def _dro_block(b: Block, indent: str = "") -> Iterator[str]:
    head = f"{indent}{b.kind} {_q(b.id) if b.kind == 'decompose' else b.id}"
    if b.title:
        head += f" {_q(b.title)}"
    if not b.attrs and not b.children:
        yield head
        return
    yield head + " {"
    inner = indent + "  "
    pad = max((len(k) for k in b.attrs), default=0)
    for name, v in b.attrs.items():
        if name == "into":
            for into in v:
                yield inner + _dro_into(into)
        else:
            yield inner + _dro_attr(name, v, pad, inner)
    for child in b.children:
        yield ""
        yield from _dro_block(child, inner)
    yield indent + "}"


def to_dro(blocks: list[Block], header: str) -> str:
    lines = [f"# {header}"]
    one_liner = False
    for b in blocks:
        block = list(_dro_block(b))
        if not (one_liner and len(block) == 1):   # consecutive one-liners stay together
            lines.append("")
        lines.extend(block)
        one_liner = len(block) == 1
    return "\n".join(lines) + "\n"


# ---- the YAML writer --------------------------------------------------------------

SECTIONS = {"lane": "lanes", "endpoint": "endpoints", "decompose": "decompositions",
            "group": "groups", "scenario": "scenarios", "jeopardy_rule": "jeopardy_rules",
            "fallout_rule": "fallout_rules"}


def _data(v: Any) -> Any:
    """A model value as plain YAML data (str subclasses become str)."""
    if isinstance(v, str):
        return str(v)
    if isinstance(v, Env):
        return {"env": v.name, **({"default": v.default} if v.default is not None else {})}
    if isinstance(v, Ref):
        return {"step": v.step, "within": v.within} if v.within else v.step
    if isinstance(v, Into):
        d: dict[str, Any] = {"product": v.product}
        if v.when:
            d["when"] = str(v.when)
        if v.quantity is not None:
            d["quantity"] = _data(v.quantity)
        if v.attributes:
            d["attributes"] = _data(v.attributes)
        return d
    if isinstance(v, list):
        return [_data(x) for x in v]
    if isinstance(v, dict):
        return {k: _data(x) for k, x in v.items()}
    return v


def _yaml_decl(b: Block) -> dict[str, Any]:
    d: dict[str, Any] = {"title": b.title} if b.title else {}
    for name, v in b.attrs.items():
        d[name] = {"event": v} if name == "resume_on" else _data(v)
    if b.children:
        d["steps"] = {c.id: _yaml_decl(c) for c in b.children}
    return d


def to_yaml_data(blocks: list[Block]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for b in blocks:
        section = SECTIONS[b.kind]
        if b.kind == "decompose":
            doc.setdefault(section, []).append({"product": b.id, **_yaml_decl(b)})
        else:
            doc.setdefault(section, {})[b.id] = _yaml_decl(b)
    return doc


def to_yaml(blocks: list[Block], header: str, schema_ref: str) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    body = yaml.dump(to_yaml_data(blocks), Dumper=dumper, sort_keys=False,
                     allow_unicode=True, width=100, default_flow_style=False)
    return f"# yaml-language-server: $schema={schema_ref}\n# {header}\n{body}"
