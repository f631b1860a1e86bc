"""Jinja templates in catalog strings: sandboxed, bounded environment; compile-time inspection."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsl.limits import MAX_LOOP_ITERATIONS, MAX_RENDER_SECONDS, MAX_RENDERED_LENGTH
from dsl.template_bounds import binop_problem, call_problem, format_problem

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_ROOTS = frozenset({"order", "item", "bundle", "plan", "step", "outputs"})
# The fields of each root (dro_cli/runtime/step_context.py builds them; test_templates keeps the two
# in step). `outputs` holds what the dependencies captured: any name.
TEMPLATE_FIELDS: Mapping[str, frozenset[str]] = {
    "order": frozenset({"id", "account", "attributes", "requested_date", "items", "source"}),
    "item": frozenset({"id", "product", "quantity", "action", "attributes", "bundle", "source"}),
    "bundle": frozenset({"id", "product", "quantity", "action", "attributes", "parent"}),
    "plan": frozenset({"id"}),
    "step": frozenset({"id", "attempt"}),
}
# What the steps that a `compensate` or `on_amend` runs also read: the step instance they undo (its
# outputs are what it captured) and the revision of the order that amends it (docs/language.md 3.5).
AMEND_FIELDS: Mapping[str, frozenset[str]] = {
    "undone": frozenset({"id", "step", "state", "attempt", "item", "bundle", "outputs"}),
    "revision": frozenset({"number", "reason"}),
}
_MARKERS = ("{{", "{%", "{#")
_CHECK_EVERY = 1024  # loop iterations between looks at the clock


class RenderLimit(Exception):
    """A rendering that went past a bound: too long, too many loop iterations, too slow."""


class RawPath(str):
    """A value the `raw_path` filter lets into a callout's path as written, not percent-encoded."""


def is_template(text: str) -> bool:
    return any(marker in text for marker in _MARKERS)


class _Budget(threading.local):
    """What the rendering on this thread may still spend."""

    deadline = float("inf")
    iterations = 0


_budget = _Budget()


def render_bounded(template: Template, context: Mapping[str, Any]) -> str:
    """`template` rendered with `context`, stopped with RenderLimit at the first bound it passes:
    MAX_RENDERED_LENGTH characters, MAX_LOOP_ITERATIONS loop iterations, MAX_RENDER_SECONDS."""
    _budget.deadline = time.monotonic() + MAX_RENDER_SECONDS
    _budget.iterations = 0
    parts, length = [], 0
    try:
        for part in template.generate(context):
            length += len(part)
            if length > MAX_RENDERED_LENGTH:
                raise RenderLimit(f"the text rendered is longer than {MAX_RENDERED_LENGTH:,} characters")
            _check_time()
            parts.append(part)
    finally:
        _budget.deadline = float("inf")
    return "".join(parts)


def _check_time() -> None:
    if time.monotonic() > _budget.deadline:
        raise RenderLimit(f"rendering took more than {MAX_RENDER_SECONDS:g} s")


def _bounded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    """What a `{% for %}` loop iterates: the same items, counted against the rendering's budget."""
    for item in iterable:
        _budget.iterations += 1
        if _budget.iterations % _CHECK_EVERY == 0:
            if _budget.iterations > MAX_LOOP_ITERATIONS:
                raise RenderLimit(f"the loops ran more than {MAX_LOOP_ITERATIONS:,} times")
            _check_time()
        yield item


@functools.lru_cache(maxsize=1)
def environment() -> ImmutableSandboxedEnvironment:
    """The one environment templates render in: sandboxed, immutable, strict about undefined names.

    Bounded, because an order's values are operands: `*` and `**` refuse results too large
    to compute, every `{% for %}` counts its iterations and looks at the clock (with
    render_bounded), and constants are never folded, so checking a template computes nothing.
    Keys of a mapping win over its methods: `order.items` is the order's items, not dict.items.
    """
    # Imported here so that commands which render nothing do not pay for jinja.
    from jinja2 import StrictUndefined, nodes
    from jinja2.compiler import Frame
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedLoops(_unfolded()):  # type: ignore[misc]
        def visit_For(self, node: nodes.For, frame: Frame) -> None:
            node.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_iter"), [node.iter], [], None, None)
            super().visit_For(node, frame)

    class BoundedEnvironment(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%"})  # also keeps them from being folded
        code_generator_class = BoundedLoops

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _refuse(binop_problem(operator, left, right))
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            _check_time()
            if isinstance(getattr(__obj, "__self__", None), str):  # 'x'.center(10**9)
                _refuse(call_problem(__obj.__name__, __obj.__self__, args, kwargs))
            return super().call(__context, __obj, *args, **kwargs)

        def getattr(self, obj: Any, attribute: str) -> Any:
            if isinstance(obj, Mapping):
                try:
                    return obj[attribute]
                except (KeyError, TypeError):
                    pass
            return super().getattr(obj, attribute)

        def wrap_str_format(self, value: Any) -> Any:
            sandboxed = super().wrap_str_format(value)  # 'x'.format(...) and format_map(...)
            if sandboxed is None:
                return None
            text = value.__self__

            def checked(*args: Any, **kwargs: Any) -> Any:
                _refuse(format_problem(text))
                return sandboxed(*args, **kwargs)

            return checked

    def _refuse(problem: str | None) -> None:
        if problem is not None:
            raise SecurityError(problem)

    env = BoundedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                             optimized=False)
    env.bounded_iter = _bounded_iter  # type: ignore[attr-defined]
    for name in _SIZED_FILTERS:
        env.filters[name] = _sized_filter(name, env.filters[name], _refuse)
    env.filters["raw_path"] = RawPath  # known everywhere; it means something only in a callout's path
    return env


@functools.lru_cache(maxsize=1)
def path_environment() -> ImmutableSandboxedEnvironment:
    """The environment of a callout's `path`: every `{{ value }}` is percent-encoded as one segment
    or query value ('/', '?', '&', '#' and '%' included), unless `| raw_path` marked it."""
    from urllib.parse import quote

    def encoded(value: Any) -> str:
        return value if isinstance(value, RawPath) else quote(str(value), safe="")

    return environment().overlay(finalize=encoded)


_SIZED_FILTERS = ("center", "indent", "format", "replace")


def _sized_filter(name: str, function: Any, refuse: Any) -> Any:
    """`function` (a Jinja filter) checked by call_problem before it runs."""
    passes_context = getattr(function, "jinja_pass_arg", None) is not None  # replace takes eval_ctx first

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        value, rest = (args[1], args[2:]) if passes_context else (args[0], args[1:])
        refuse(call_problem(name, value, rest, kwargs))
        return function(*args, **kwargs)

    return checked


@functools.lru_cache(maxsize=1)
def _unfolded() -> type:
    """Jinja's code generator, but never computing an output's constant expressions while compiling:
    checking or compiling `{{ 'a'|center(10**9) }}` must not build it. Literal text stays literal
    (a callout path's finalize encodes values, not the text around them)."""
    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator

    class Unfolded(CodeGenerator):
        def _output_child_to_const(self, node: nodes.Expr, frame: Any, finalize: Any) -> str:
            if isinstance(node, nodes.TemplateData):  # literal text: nothing computed, and never finalized
                return super()._output_child_to_const(node, frame, finalize)
            raise nodes.Impossible()

    return Unfolded


@functools.lru_cache(maxsize=1)
def _tracking() -> type:
    """jinja2.meta's generator that collects undeclared names, without constant folding."""
    from jinja2.meta import TrackingCodeGenerator

    return type("UnfoldedTracking", (TrackingCodeGenerator, _unfolded()), {})


@dataclass(frozen=True)
class TemplateInfo:
    """What inspecting a template found."""

    roots: frozenset[str]
    error_line: int | None = None  # 1-based line inside the template
    error_message: str | None = None
    unknown_fields: tuple[tuple[str, str], ...] = ()  # (root, field): `item.items`, `order['acount']`


@functools.lru_cache(maxsize=16384)
def inspect_template(text: str) -> TemplateInfo:
    """The root names a template reads, the fields it reads of them that they do not have, or its
    syntax error. Cached: catalogs repeat templates."""
    from jinja2 import TemplateSyntaxError

    try:
        tree = environment().parse(text)
    except TemplateSyntaxError as exc:
        return TemplateInfo(frozenset(), exc.lineno, exc.message or "invalid template")
    tracking = _tracking()(tree.environment)
    tracking.visit(tree)
    roots = frozenset(tracking.undeclared_identifiers)
    return TemplateInfo(roots, unknown_fields=tuple(_unknown_fields(tree, roots)))


def _unknown_fields(tree: Any, roots: frozenset[str]) -> Iterator[tuple[str, str]]:
    """`root.field` and `root['field']` where `root` is a template root the template never assigns
    (a loop variable `item` is not the step's item) and `field` is not one of its fields."""
    from jinja2 import nodes

    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"}
    known = {**TEMPLATE_FIELDS, **AMEND_FIELDS}
    checked = {root for root in roots & known.keys() if root not in assigned}
    seen: set[tuple[str, str]] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = node.node
        if not isinstance(target, nodes.Name) or target.name not in checked:
            continue
        field = node.attr if isinstance(node, nodes.Getattr) else \
            node.arg.value if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) else None
        if field is not None and field not in known[target.name] and (target.name, field) not in seen:
            seen.add((target.name, field))
            yield target.name, field
