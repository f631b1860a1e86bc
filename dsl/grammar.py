"""Load the grammar of the .dro language (dsl/grammar.lark) once."""

from __future__ import annotations

import functools
from typing import Any

from lark import Lark

from dsl.lexer import FastLexer


@functools.lru_cache(maxsize=2)
def load_grammar(transformer: Any = None) -> Lark:
    """The LALR parser for the grammar, with `transformer` run inline if given.

    lark caches the built tables on disk between runs.
    """
    return Lark.open_from_package(
        "dsl", "grammar.lark", ("",),
        parser="lalr", lexer=FastLexer, start=["start", "expression"], transformer=transformer,
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


def is_keyword(name: str) -> bool:
    """Whether a terminal is a word like `when` or `and` (a string terminal spelled like a name)."""
    try:
        definition = load_grammar().get_terminal(name)
    except KeyError:
        return False
    value = definition.pattern.value
    return definition.pattern.type == "str" and value.replace("_", "a").isalnum() and value[:1].isalpha()
