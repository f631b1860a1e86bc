"""Documents: one catalog file as YAML-shaped data that remembers where each value came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from dsl import ast
from dsl.diagnostics import Span, TextOrigin

Key = str | int
Path = tuple[Key, ...]


class Locator(Protocol):
    """Finds the source of a value by its path in the document's data."""

    def value_span(self, path: Path) -> Span | None: ...
    def key_span(self, path: Path) -> Span | None: ...
    def text_origin(self, path: Path) -> TextOrigin | None: ...


@dataclass
class SpanTable:
    """A Locator filled as a document is built (the DSL form)."""

    values: dict[Path, Span] = field(default_factory=dict)
    keys: dict[Path, Span] = field(default_factory=dict)
    origins: dict[Path, TextOrigin] = field(default_factory=dict)

    def value_span(self, path: Path) -> Span | None:
        return self.values.get(path)

    def key_span(self, path: Path) -> Span | None:
        return self.keys.get(path)

    def text_origin(self, path: Path) -> TextOrigin | None:
        return self.origins.get(path)


@dataclass
class Document:
    """One catalog file as YAML-shaped data, with where each value came from."""

    file: str
    data: dict[str, Any]
    locator: Locator
    # Expressions the DSL parser already read, so they keep their own spans.
    expressions: dict[Path, ast.Expr] = field(default_factory=dict)
    # Values a loader already reported and replaced by null: no second diagnostic for them.
    reported: set[Path] = field(default_factory=set)

    def span(self, path: Path) -> Span | None:
        """Where the value at `path` is, or its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            found = self.locator.value_span(path[:end])
            if found is not None:
                return found
        return None

    def key_span(self, path: Path) -> Span | None:
        """Where the key (attribute name or id) of `path` is, else its value."""
        return self.locator.key_span(path) or self.span(path)

    def text_origin(self, path: Path) -> TextOrigin | None:
        """Where the text of the string at `path` starts, for spans inside it."""
        origin = self.locator.text_origin(path)
        if origin is None:
            span = self.span(path)
            return TextOrigin(span) if span is not None else None
        return origin



_DECLARATION_SECTIONS = frozenset(
    {"lanes", "endpoints", "groups", "scenarios", "jeopardy_rules", "fallout_rules"})


def is_declaration(path: Path) -> bool:
    """Whether `path` names a declaration by its id (a lane, a step in its group, ...)."""
    if len(path) == 2:
        return path[0] in _DECLARATION_SECTIONS
    return len(path) == 4 and path[0] == "groups" and path[2] == "steps"
