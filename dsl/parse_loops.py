"""Which loop parses .dro text for dsl.parser's builder, fastest first, lark's own last.

1. lark's tables without lark (dsl.lalr_tables): no import of lark at all;
2. lark's tables through lark's objects (dsl.lalr_loop), if the first cannot hold them;
3. lark's own parser, for text that the loop above found does not parse: its exception makes
   the diagnostic, so every syntax error reads as it always did. It starts from a fresh builder.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dsl import lalr_tables

if TYPE_CHECKING:
    from lark import Lark


@functools.lru_cache(maxsize=1)
def lark_parser(builder: Any) -> Lark:
    """The grammar with `builder` run inline, as each rule is reduced: no tree is made."""
    from dsl.grammar import load_grammar

    return load_grammar(transformer=builder)


def lark_errors() -> ModuleType:
    """lark's exceptions, loaded when a parse raises something (lark made it, or it is a bug)."""
    from lark import exceptions

    return exceptions


@functools.lru_cache(maxsize=1)
def tables(builder: Any) -> lalr_tables.Tables | None:
    """The parser of lark's tables without lark: cached by an earlier process, or built from lark
    now and cached (also when the cache holds tables of another shape); None if lark built
    something those tables cannot hold."""
    data = lalr_tables.cached_data()
    if data is not None:
        try:
            return lalr_tables.Tables(data, builder)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):  # a cache of another shape
            pass
    data = lalr_tables.build(lark_parser(builder), builder)
    if data is None:
        return None
    lalr_tables.save(data)
    return lalr_tables.Tables(data, builder)


def parse(builder: Any, text: str, start: str) -> Any:
    """`builder`'s result for `text` from rule `start`; lark's exception if it does not parse."""
    fast = tables(builder)
    try:
        if fast is not None:
            return fast.parse(text, start)
        from dsl import lalr_loop

        return lalr_loop.parse(lark_parser(builder), text, start)
    except lalr_tables.Unparsed:  # once, not by every loop in turn: lark's own says what is wrong
        builder.reset(builder.file, builder.origin)
        return lark_parser(builder).parse(text, start=start)
