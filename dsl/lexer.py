"""A fast lexer for the .dro grammar that behaves like lark's contextual lexer.

lark's lexer matches whitespace and comments as tokens of their own and tries one
regex per parser state; for large catalogs that is most of the parse. This lexer
builds one regex from the grammar's own terminals (so it cannot drift from
grammar.lark) that skips whitespace and comments inside each match. Names that spell
a keyword become that keyword only where the parser accepts it, as the contextual
lexer decides. Anything it cannot match is handed to lark's contextual lexer, so
errors are lark's own.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any

from lark.common import LexerConf
from lark.lexer import ContextualLexer, Lexer, LexerState

from dsl.scan import Scanner
from dsl.tokens import Token


class FastLexer(Lexer):
    __future_interface__ = 2  # lark passes (lexer_state, parser_state) to lex()

    def __init__(self, conf: LexerConf) -> None:
        self.conf = conf
        terminals = {t.name: t for t in conf.terminals}
        name_pattern = re.compile(terminals["NAME"].pattern.to_regexp())
        # String terminals that a NAME also matches are keywords: decided by parser state.
        self.keywords = {t.pattern.value: t.name for t in conf.terminals
                         if t.pattern.type == "str" and name_pattern.fullmatch(t.pattern.value)}
        tokens = [t for t in conf.terminals if t.name not in conf.ignore and t.name not in self.keywords.values()]
        ordered = sorted(tokens, key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
        skip = "|".join(terminals[name].pattern.to_regexp() for name in conf.ignore)
        self.names = [t.name for t in ordered]
        alternatives = "|".join(f"(?P<t{i}>{t.pattern.to_regexp()})" for i, t in enumerate(ordered))
        # (?=(X))\1 matches X atomically (never giving any back), so that a match
        # cannot end a comment early and read the rest of it as tokens.
        # Possessive: `(?:WS+)*` could split a run of n blanks 2^n ways before failing at `@`.
        self.scanner = Scanner(f"(?=((?:{skip})*))\\1(?:{alternatives})", f"(?:{skip})*+\\Z", conf.g_regex_flags,
                               self.names, self.keywords)
        self.fallback: ContextualLexer | None = None

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:  # type: ignore[override]  # dro's tokens
        counter = lexer_state.line_ctr
        place = (counter.char_pos, counter.line, counter.line_start_pos)
        pos, line, line_start, done = yield from self.scanner.scan(
            lexer_state.text.text, place, parser_state.parse_conf.states, parser_state.state_stack, lexer_state)
        if done:
            return
        # Something this lexer cannot read: let lark's own lexer say what, from here.
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1
        for token in self._fallback(parser_state).lex(lexer_state, parser_state):
            yield Token.like(token)  # the builder of dsl.parser knows dro's tokens only

    def _fallback(self, parser_state: Any) -> ContextualLexer:
        if self.fallback is None:
            states: dict[int, Collection[str]] = {
                state: list(actions) for state, actions in parser_state.parse_conf.states.items()}
            self.fallback = ContextualLexer(self.conf, states)
        return self.fallback
