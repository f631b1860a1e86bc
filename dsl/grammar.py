"""Load the grammar of the .dro language (dsl/grammar.lark) once."""

from __future__ import annotations

import functools

from lark import Lark


@functools.lru_cache(maxsize=1)
def load_grammar() -> Lark:
    """The LALR parser for the grammar; lark caches the built tables on disk between runs."""
    return Lark.open_from_package(
        "dsl", "grammar.lark", ("",),
        parser="lalr", propagate_positions=True, start=["start", "expression"],
        cache=True, maybe_placeholders=True,
    )


def terminal_text(name: str) -> str:
    """How a terminal reads in a message: its literal text, or its name."""
    try:
        definition = load_grammar().get_terminal(name)
    except KeyError:
        return name.lower()
    if definition.pattern.type == "str":
        return f"'{definition.pattern.value}'"
    return name.lower()
