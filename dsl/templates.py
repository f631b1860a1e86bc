"""Jinja templates in catalog strings: sandboxed environment, compile-time inspection."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_ROOTS = frozenset({"order", "item", "bundle", "plan", "step", "outputs"})
_MARKERS = ("{{", "{%", "{#")


def is_template(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


@functools.lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    """The one environment templates render in: sandboxed, immutable, strict about undefined names."""
    # Imported here so that commands which render nothing do not pay for jinja.
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class TemplateInfo:
    roots: frozenset[str]
    error_line: int | None = None  # 1-based line inside the template
    error_message: str | None = None


@functools.lru_cache(maxsize=16384)
def inspect_template(text: str) -> TemplateInfo:
    """The root names a template reads, or its syntax error. Cached: catalogs repeat templates."""
    from jinja2 import TemplateSyntaxError, meta

    try:
        tree = environment().parse(text)
    except TemplateSyntaxError as exc:
        return TemplateInfo(frozenset(), exc.lineno, exc.message or "invalid template")
    return TemplateInfo(frozenset(meta.find_undeclared_variables(tree)))
