"""Render the Jinja templates in a step's config: each distinct text compiled once, shared by all threads."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dsl.templates import RenderLimit, environment, is_template, render_bounded

if TYPE_CHECKING:
    from jinja2 import Template

_CACHE_LIMIT = 8192
_cache: dict[str, Template] = {}
_cache_lock = threading.Lock()


class RenderError(Exception):
    """A template that does not render; `path` is the attribute it sits in (`body.sku`, `command[2]`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot render {path}: {reason}")
        self.path = path
        self.reason = reason


def compiled(text: str) -> Template:
    """The compiled template of `text`, compiled on first use only."""
    template = _cache.get(text)  # a dict read is atomic: no lock on the hot path
    if template is None:
        with _cache_lock:
            template = _cache.get(text)
            if template is None:
                if len(_cache) >= _CACHE_LIMIT:  # a bound for long runs over many catalogs
                    _cache.clear()
                template = environment().from_string(text)
                _cache[text] = template
    return template


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
