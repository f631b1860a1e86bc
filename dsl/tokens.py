"""The tokens of .dro text: lark's Token, without importing lark.

dro's lexer makes these for lark's parser and for dsl.lalr_tables alike, so that the
builder of dsl.parser sees one kind of token whichever loop parses; they have lark's
slots, equality and repr. A clean `dro validate FILE` then parses without loading lark.
"""

from __future__ import annotations

from typing import Any


class Token(str):
    __slots__ = ("column", "end_column", "end_line", "end_pos", "line", "start_pos", "type", "value")

    type: str
    start_pos: int | None
    value: Any
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    end_pos: int | None

    def __new__(cls, type: str, value: Any, start_pos: int | None = None, line: int | None = None,
                column: int | None = None, end_line: int | None = None, end_column: int | None = None,
                end_pos: int | None = None) -> Token:
        token = str.__new__(cls, value)
        token.type, token.value, token.start_pos, token.end_pos = type, value, start_pos, end_pos
        token.line, token.column, token.end_line, token.end_column = line, column, end_line, end_column
        return token

    @classmethod
    def like(cls, other: Any) -> Token:
        """One of these with the type, text and place of `other` (a token of lark's own lexer)."""
        return cls(other.type, other.value, other.start_pos, other.line, other.column, other.end_line,
                   other.end_column, other.end_pos)

    def __reduce__(self) -> Any:
        return (self.__class__, (self.type, self.value, self.start_pos, self.line, self.column))

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    def __deepcopy__(self, memo: Any) -> Token:
        return Token(self.type, self.value, self.start_pos, self.line, self.column)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Token) and self.type != other.type:
            return False
        return str.__eq__(self, other)

    __hash__ = str.__hash__
