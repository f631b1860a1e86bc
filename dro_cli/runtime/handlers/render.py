"""Render the Jinja templates in a step's config: each distinct text compiled once, shared by all threads."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dsl.templates import RenderLimit, environment, is_template, path_environment, render_bounded
from dsl.urls import path_problem

if TYPE_CHECKING:
    from jinja2 import Template

_CACHE_LIMIT = 8192
_cache: dict[tuple[bool, str], Template] = {}
_PATH_SHOWN = 200  # characters of a refused path in its message
_cache_lock = threading.Lock()


class RenderError(Exception):
    """A template that does not render; `path` is the attribute it sits in (`body.sku`, `command[2]`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot render {path}: {reason}")
        self.path = path
        self.reason = reason


def compiled(text: str, *, path: bool = False) -> Template:
    """The compiled template of `text` (as a callout's path, whose values are percent-encoded,
    if `path`), compiled on first use only."""
    key = (path, text)
    template = _cache.get(key)  # a dict read is atomic: no lock on the hot path
    if template is None:
        with _cache_lock:
            template = _cache.get(key)
            if template is None:
                if len(_cache) >= _CACHE_LIMIT:  # a bound for long runs over many catalogs
                    _cache.clear()
                template = (path_environment() if path else environment()).from_string(text)
                _cache[key] = template
    return template


def render_path(text: str, context: Mapping[str, Any]) -> str:
    """A callout's path rendered: each value percent-encoded (dsl.templates.path_environment), and the
    result refused with RenderError, before anything is sent, where it could leave the endpoint's base
    path (dsl.urls.path_problem): an order's values choose segments, never where the request goes."""
    rendered = text
    if is_template(text):
        try:
            rendered = render_bounded(compiled(text, path=True), context)
        except Exception as exc:
            raise RenderError("path", _reason(exc)) from None
    problem = path_problem(rendered)
    if problem is not None:
        shown = rendered if len(rendered) <= _PATH_SHOWN else rendered[:_PATH_SHOWN] + "..."
        raise RenderError("path", f"the path {shown!r} is refused: {problem}")
    return rendered


def render(value: Any, context: Mapping[str, Any], path: str) -> Any:
    """`value` with every template string inside it (dict values, list items) rendered to a string.

    Dict keys and non-string scalars are kept as they are; a string without template
    markers is returned unchanged. Raises RenderError naming the attribute path.
    """
    if isinstance(value, str):
        if not is_template(value):
            return value
        try:
            return render_bounded(compiled(value), context)
        except Exception as exc:  # UndefinedError, SecurityError, a TypeError inside an expression...
            raise RenderError(path, _reason(exc)) from None
    if isinstance(value, Mapping):
        return {key: render(item, context, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(item, context, f"{path}[{i}]") for i, item in enumerate(value)]
    return value


def _reason(exc: Exception) -> str:
    from jinja2 import TemplateError

    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (TemplateError, RenderLimit)) else f"{type(exc).__name__}: {text}"
