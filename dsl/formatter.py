"""Format .dro text in the canonical layout, keeping every comment (`dro fmt`).

The compiler's parser drops comments and punctuation, so formatting parses the same
grammar again with lark's own lexer, keeping every token and collecting the comments.
format_layout attaches the comments to what they annotate; format_print prints.
"""

from __future__ import annotations

import collections
import functools
import threading
from typing import NamedTuple

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from dsl.diagnostics import Diagnostic, error
from dsl.format_layout import build_layout
from dsl.format_print import Printer


class FormatterBug(RuntimeError):
    """The output would not hold the same tokens and comments as the input: never write it."""


def format_text(text: str, path: str) -> tuple[str | None, list[Diagnostic]]:
    """`text` in the canonical layout, or None and the syntax error when it does not parse.

    A leading byte order mark is dropped and line ends become `\\n`.
    """
    from dsl.parser import parse_file

    text = normalize(text)
    # The compiler's parser decides what parses: lark's lexer alone would read `not inx` as `not in x`.
    syntax_tree, diagnostics = parse_file(path, text)
    parsed = parse(text) if syntax_tree is not None else None
    if parsed is None:
        errors = [d for d in diagnostics if d.is_error]
        return None, errors or [error("DRO101", "the file does not parse", hint="run `dro validate` on it")]
    tree, tokens, comments = parsed
    formatted = Printer(build_layout(tree, tokens, comments)).file()
    _check_same_tokens(formatted, parsed)
    return formatted, []


def normalize(text: str) -> str:
    """Without a byte order mark, with `\\n` line ends (also inside \"\"\" strings, as git would)."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    """The grammar with every token kept (keywords, brackets, commas); comments go to _comments."""
    return Lark.open_from_package(
        "dsl", "grammar.lark", ("",),
        parser="lalr", lexer="contextual", start="start", keep_all_tokens=True, propagate_positions=True,
        maybe_placeholders=False, cache=True, lexer_callbacks={"COMMENT": _collect_comment})


# lark calls lexer callbacks without context: one parse at a time fills this list.
_lock = threading.Lock()
_comments: list[Token] = []


def _collect_comment(token: Token) -> Token:
    _comments.append(token)
    return token


class Parsed(NamedTuple):
    tree: Tree[Token]
    tokens: list[Token]  # every token but comments, in order
    comments: list[Token]


def parse(text: str) -> Parsed | None:
    """The tree with every token kept, and the comments; None if the text does not parse."""
    with _lock:
        _comments.clear()
        try:
            tree = _parser().parse(text)
        except UnexpectedInput:
            return None
        finally:
            comments = list(_comments)
            _comments.clear()
    tokens = list(tree.scan_values(lambda v: isinstance(v, Token)))
    return Parsed(tree, tokens, comments)


def signature(tokens: list[Token], comments: list[Token]) -> tuple[list[str], collections.Counter[str]]:
    """What formatting keeps: the tokens but commas and empty braces (both optional), and the comments."""
    kept: list[str] = []
    for token in tokens:
        if token.type == "RBRACE" and kept and kept[-1] == "{":
            kept.pop()
        elif token.type != "COMMA":
            kept.append(str(token))
    return kept, collections.Counter(str(c).rstrip() for c in comments)


def _check_same_tokens(formatted: str, source: Parsed) -> None:
    """Parse the output again: a formatter bug must not reach the user's file (black checks the same)."""
    again = parse(formatted)
    if again is None or signature(again.tokens, again.comments) != signature(source.tokens, source.comments):
        raise FormatterBug("formatting would change the file's tokens or comments")
