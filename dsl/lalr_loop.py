"""lark's LALR parse loop, without what costs most in it on large catalogs.

lark's `ParserState.feed_token` checks `assert arg != end_state` for every action: with
a rule as `arg` that is a `Rule.__eq__` call, 786k of them on the benchmark catalog
(python -O drops it; users do not run -O). This loop reads the same parse table and runs
the same callbacks, the builder of dsl.parser, in the same order. It only parses input
that parses: at the first token the table has no action for, or anything lark's lexer
raises, it says so with Unparsed and the caller parses again with lark's own loop, whose
exceptions (and so every syntax diagnostic) are lark's.
"""

from __future__ import annotations

from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedInput
from lark.lexer import LexerState
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_parser_state import ParseConf, ParserState
from lark.utils import TextSlice

from dsl.lalr_tables import Unparsed


def parse(parser: Lark, text: str, start: str) -> Any:
    """What `parser.parse(text, start=start)` returns, for text that parses."""
    frontend = parser.parser
    lalr = frontend.parser.parser  # lark's _Parser: its parse table and callbacks
    conf = ParseConf(lalr.parse_table, lalr.callbacks, start)
    state = ParserState(conf, None)  # type: ignore[arg-type]  # FastLexer reads its states and position only
    lexer_state = LexerState(TextSlice.cast_from(text))
    states, end_state, callbacks = conf.states, conf.end_state, conf.callbacks
    state_stack, value_stack = state.state_stack, state.value_stack
    token: Token | None = None
    try:
        for token in frontend.lexer.lex(lexer_state, state):
            kind = token.type
            while True:
                action, arg = states[state_stack[-1]].get(kind, _NONE)
                if action is Shift:
                    state_stack.append(arg)
                    value_stack.append(token if kind not in callbacks else callbacks[kind](token))
                    break
                if action is None:
                    raise Unparsed
                _reduce(arg, states, callbacks, state_stack, value_stack)
    except UnexpectedInput as exc:
        raise Unparsed from exc
    end = Token.new_borrow_pos("$END", "", token) if token else Token("$END", "", 0, 1, 1)
    while True:
        action, arg = states[state_stack[-1]].get("$END", _NONE)
        if action is not Shift and action is not None:
            _reduce(arg, states, callbacks, state_stack, value_stack)
            if state_stack[-1] == end_state:
                return value_stack[-1]
            continue
        raise Unparsed(end)


_NONE = (None, None)


def _reduce(rule: Any, states: Any, callbacks: Any, state_stack: list[Any], value_stack: list[Any]) -> None:
    size = len(rule.expansion)
    if size:
        children = value_stack[-size:]
        del state_stack[-size:]
        del value_stack[-size:]
    else:
        children = []
    value = callbacks[rule](children)
    _shift, new_state = states[state_stack[-1]][rule.origin.name]
    state_stack.append(new_state)
    value_stack.append(value)
