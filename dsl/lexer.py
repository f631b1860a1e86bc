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

from lark import Token
from lark.common import LexerConf
from lark.lexer import ContextualLexer, Lexer, LexerState


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
        self.token = re.compile(f"(?=((?:{skip})*))\\1(?:{alternatives})", conf.g_regex_flags)
        # Possessive: `(?:WS+)*` could split a run of n blanks 2^n ways before failing at `@`.
        self.trailing = re.compile(f"(?:{skip})*+\\Z", conf.g_regex_flags)
        self.fallback: ContextualLexer | None = None

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        text: str = lexer_state.text.text
        counter = lexer_state.line_ctr
        pos, line, line_start = counter.char_pos, counter.line, counter.line_start_pos
        match_token, names, keywords = self.token.match, self.names, self.keywords
        states = parser_state.parse_conf.states
        new_str = str.__new__
        while True:
            found = match_token(text, pos)
            if found is None:
                break
            group: str = found.lastgroup  # type: ignore[assignment]  # the pattern always ends in a named group
            start, end = found.start(group), found.end()
            newlines = text.count("\n", pos, start)
            if newlines:
                line += newlines
                line_start = text.rindex("\n", pos, start) + 1
            value = found.group(group)
            kind = names[int(group[1:])]
            if kind == "NAME" and value in keywords and keywords[value] in states[parser_state.position]:
                kind = keywords[value]
            end_line, end_col = line, end - line_start + 1
            if "\n" in value:  # a string over several lines
                end_line = line + value.count("\n")
                end_col = end - (text.rindex("\n", start, end) + 1) + 1
            # Token's own constructor costs four times these stores, for half a million tokens a catalog.
            token = new_str(Token, value)
            token.type, token.value, token.start_pos, token.end_pos = kind, value, start, end
            token.line, token.column, token.end_line, token.end_column = line, start - line_start + 1, end_line, end_col
            line, line_start, pos = end_line, (line_start if end_line == token.line else end - end_col + 1), end
            lexer_state.last_token = token
            yield token
        if self.trailing.match(text, pos):
            return
        # Something this lexer cannot read: let lark's own lexer say what, from here.
        counter.char_pos, counter.line, counter.line_start_pos = pos, line, line_start
        counter.column = pos - line_start + 1
        yield from self._fallback(parser_state).lex(lexer_state, parser_state)

    def _fallback(self, parser_state: Any) -> ContextualLexer:
        if self.fallback is None:
            states: dict[int, Collection[str]] = {
                state: list(actions) for state, actions in parser_state.parse_conf.states.items()}
            self.fallback = ContextualLexer(self.conf, states)
        return self.fallback
