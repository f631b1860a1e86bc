"""The scanning loop of dro's lexer, free of lark: the parse without lark (dsl.lalr_tables) and
dsl.lexer's FastLexer (for lark's parser) both run it, so they cut text into the same tokens."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from dsl.tokens import Token


class Scanner:
    """One regex for every token (skipping blanks and comments before it), names that spell a
    keyword, and the regex of what may end the text. dsl.lexer builds them from the grammar."""

    def __init__(self, token: str, trailing: str, flags: int, names: list[str], keywords: dict[str, str]) -> None:
        self.parts = (token, trailing, flags, names, keywords)  # what dsl.lalr_tables caches
        self.token = re.compile(token, flags)
        self.trailing = re.compile(trailing, flags)
        self.names = names
        self.keywords = keywords
        # Each token's terminal by the number of its group: match.lastindex is cheaper than lastgroup.
        self.kinds: list[str | None] = [None] * (self.token.groups + 1)
        for group, index in self.token.groupindex.items():
            self.kinds[index] = names[int(group[1:])]

    def scan(self, text: str, place: tuple[int, int, int], states: Any, stack: list[Any],
             last: Any) -> Generator[Token, None, tuple[int, int, int, bool]]:
        """The tokens of `text` from `place` (offset, line, offset of that line's start). A name
        that spells a keyword is that keyword where the state on top of `stack` accepts it. Each
        token is also left in `last.last_token`. Returns where it stopped, and whether only blanks
        and comments follow."""
        pos, line, line_start = place
        match_token, kinds, keywords = self.token.match, self.kinds, self.keywords
        new_str, count = str.__new__, text.count
        while True:
            found = match_token(text, pos)
            if found is None:
                break
            index: int = found.lastindex  # type: ignore[assignment]  # the pattern always ends in a named group
            start, end = found.end(1), found.end()  # group 1: the blanks and comments before the token
            if start != pos:
                newlines = count("\n", pos, start)
                if newlines:
                    line += newlines
                    line_start = text.rindex("\n", pos, start) + 1
            value = found.group(index)
            kind: str = kinds[index]  # type: ignore[assignment]
            if kind == "NAME" and value in keywords and keywords[value] in states[stack[-1]]:
                kind = keywords[value]
            # Token's own constructor costs four times these stores, for half a million tokens a catalog.
            token = new_str(Token, value)
            token.type, token.value, token.start_pos, token.end_pos = kind, value, start, end
            token.line, token.column = line, start - line_start + 1
            if "\n" in value:  # a string over several lines
                line += value.count("\n")
                line_start = text.rindex("\n", start, end) + 1
            token.end_line, token.end_column = line, end - line_start + 1
            pos = end
            last.last_token = token
            yield token
        return pos, line, line_start, self.trailing.match(text, pos) is not None
