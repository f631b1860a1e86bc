"""Jinja templates in catalog strings: sandboxed environment, compile-time inspection."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsl.limits import MAX_TEXT_LENGTH

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_ROOTS = frozenset({"order", "item", "bundle", "plan", "step", "outputs"})
_MARKERS = ("{{", "{%", "{#")
_MAX_POWER_BITS = 4096  # far beyond any number a plan holds (dsl/limits.py: MAX_SAFE_INTEGER)


def is_template(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


@functools.lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    """The one environment templates render in: sandboxed, immutable, strict about undefined names.

    `*` and `**` are bounded: with an order's values as operands (`{{ item.attributes.note *
    item.quantity }}`) they could make text of any size, or numbers that take forever.
    """
    # Imported here so that commands which render nothing do not pay for jinja.
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedEnvironment(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            problem = _binop_problem(operator, left, right)
            if problem is not None:
                raise SecurityError(problem)
            return super().call_binop(context, operator, left, right)

    return BoundedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def _binop_problem(operator: str, left: Any, right: Any) -> str | None:
    """Why `left OPERATOR right` would be too large to compute, or None."""
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) \
                    and len(sequence) * times > MAX_TEXT_LENGTH:
                return f"repeating makes more than {MAX_TEXT_LENGTH:,} characters or items"
    if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 \
            and abs(left) > 1 and right * abs(left).bit_length() > _MAX_POWER_BITS:
        return f"the power is larger than 2^{_MAX_POWER_BITS:,}"
    return None


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
