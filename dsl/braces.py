"""Where a block lost a brace: guesses from the indentation of the canonical layout, each tried by parsing.

A parser notices a lost '{' or '}' only where the text stops making sense, often many
lines later (a step without its '{' lets the group close early, and the group's own '}'
is then the one that is unexpected). The layout of `dro fmt` says more: a line is
indented deeper than the one before only after an opening bracket, and a closing one
starts a line at the indentation of the line that opened it. Where the text breaks that
rule is where a brace went missing, as rustc guesses from indentation for unclosed
delimiters. Each guess is repaired in a copy of the text and parsed again; one is
believed only if the repaired text parses, or parses further than the original (a '}'
taken out must let the whole text parse).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from dsl.diagnostics import Diagnostic, Span, error

Position = tuple[int, int]  # (line, column), 1-based
END: Position = (1 << 30, 0)  # where the parser fails when the file ends early
# Where the parse of a text fails (END at the end of the file), or None when it parses.
Reparse = Callable[[str], Position | None]

_CLOSER = {"{": "}", "[": "]", "(": ")"}
_IN_STRING = '"\n'  # Line.last of a line that ends inside a string that goes on
_MAX_TRIES = 12  # parses a diagnosis may cost, however broken the file


class Line(NamedTuple):
    """A line with code, as the layout rule sees it: strings and comments left out."""

    number: int
    indent: int
    first: str  # its first character of code
    first_col: int
    last: str  # its last character of code (_IN_STRING when it ends inside a string)
    end_col: int  # the column just after its last character of code
    # The first bracket the line opens and leaves open, if it does not end with an opening one: `{ a: 1,`
    unclosed: tuple[str, int] | None = None


@dataclass(frozen=True)
class LostBrace:
    # "open": a block has no '{'; "close": a '{' has no '}'; "stray": a '}' closes nothing;
    # "inline": a '{' or '[' that a one-line value opens is not closed on its line.
    kind: str
    line: Line  # the block's line ("open", "close", "inline"), or the stray '}''s line
    col: int  # where the '{' is ("close", "inline") or the '}' ("stray"); for "open", where the '{' belongs
    before: int | None = None  # "close": the line the block most likely ends before (None: the end of the file)
    last_body: Line | None = None  # "close": the block's last line


def describe_lost_brace(path: str, text: str, failed_at: Position, at_closing_brace: bool, noticed: Diagnostic,
                        reparse: Reparse) -> Diagnostic | None:
    """The diagnostic of the brace lost where the layout says, if a repair there confirms it.

    `noticed` is what the parser says at `failed_at`; a '}' there (`at_closing_brace`) may
    be one too many.
    """
    guess = find_lost_brace(text, failed_at, reparse)
    if guess is None:
        if at_closing_brace and stray_closing_brace(text, failed_at, reparse):
            return _stray(path, *failed_at, "")
        return None
    line, stopped = guess.line, _stopped(guess, failed_at, noticed)
    if guess.kind == "stray":
        return _stray(path, line.number, guess.col, stopped)
    if guess.kind == "inline":
        bracket = line.unclosed[0] if line.unclosed else "{"
        noun = {"{": "map", "[": "list", "(": "call"}[bracket]
        return error("DRO102" if bracket == "{" else "DRO101", f"unclosed '{bracket}'",
                     Span.point(path, line.number, guess.col),
                     detail=f"This {noun} is not closed on its line{stopped}.",
                     hint=f"add '{_CLOSER[bracket]}' at the end of the {noun}")
    if guess.kind == "open":
        return error("DRO110", "block without '{'", Span(path, line.number, line.first_col, line.number, line.end_col),
                     detail=f"The lines below are indented as this block's body, but it has no '{{'{stopped}.",
                     hint="add '{' at the end of this line")
    where = Span.point(path, line.number, guess.col)
    last_body = guess.last_body.number if guess.last_body else line.number
    if guess.before is None:
        return error("DRO102", "unclosed block", where, detail="The file ends before this '{' is closed.",
                     hint=f"add the missing '}}' after line {last_body}, indented like this line")
    return error("DRO102", "unclosed block", where,
                 detail=f"No '}}' closes this '{{': line {guess.before} is not indented as the block's body, "
                        f"so the block most likely ends after line {last_body}{stopped}.",
                 hint=f"add '}}' on a line of its own after line {last_body}, indented like this line")


def _stopped(guess: LostBrace, failed_at: Position, noticed: Diagnostic) -> str:
    """Where the parser noticed, when it is elsewhere: the reader may have looked there first."""
    if failed_at == END:
        return "; the parser only noticed at the end of the file"
    if failed_at[0] == guess.line.number:
        return ""
    return f"; the parser only noticed at line {failed_at[0]} ({noticed.summary})"


def _stray(path: str, line: int, col: int, stopped: str) -> Diagnostic:
    return error("DRO111", "unmatched '}'", Span.point(path, line, col),
                 detail=f"No block is open for this '}}' to close{stopped}.",
                 hint="remove it, or add the '{' of the block it should close")


def find_lost_brace(text: str, failed_at: Position, reparse: Reparse) -> LostBrace | None:
    """The lost brace that explains a parse failure at `failed_at`, if the layout points at one."""
    lines = code_lines(text)
    if not _laid_out(lines):
        return None  # indentation that does not follow the layout says nothing about braces
    for tries, guess in enumerate(_guesses(lines)):
        if tries == _MAX_TRIES:
            break
        if guess.line.number > failed_at[0]:
            break  # a guess after the failure cannot be its cause
        outcome = reparse(_repaired(text, guess))
        if outcome is None or (guess.kind != "stray" and outcome > failed_at) or (
                failed_at == END == outcome and guess.kind == "close"):
            return guess
    return None


def stray_closing_brace(text: str, at: Position, reparse: Reparse) -> bool:
    """Whether removing the '}' at `at` lets the text parse.

    Parsing further is not enough here: without a '}', the parser reads on to the next
    one, as in `duration` followed by its block's '}' (a value is missing, not a block).
    """
    line, col = at
    rows = text.split("\n")
    if not 0 < line <= len(rows) or rows[line - 1][col - 1: col] != "}":
        return False
    rows[line - 1] = rows[line - 1][: col - 1] + " " + rows[line - 1][col:]
    return reparse("\n".join(rows)) is None


def _laid_out(lines: list[Line]) -> bool:
    """Whether every line that ends with an opening bracket is followed by a deeper one, or by its closing one."""
    for line, following in itertools.pairwise(lines):
        if line.last in _CLOSER and following.indent <= line.indent and not (
                following.indent == line.indent and following.first == _CLOSER[line.last]):
            return False
    return True


def _guesses(lines: list[Line]) -> Iterator[LostBrace]:
    """Every break of the layout rule, in the order of the lines it concerns."""
    found: list[LostBrace] = []
    stack: list[tuple[Line, str]] = []  # lines that end with an opening bracket, and that bracket
    for i, line in enumerate(lines):
        while stack and line.indent <= stack[-1][0].indent:
            opener, bracket = stack[-1]
            if line.first == _CLOSER[bracket] and line.indent == opener.indent:
                break
            if bracket == "{":
                found.append(LostBrace("close", opener, opener.end_col - 1, line.number, lines[i - 1]))
            stack.pop()
        if line.first in "}])":
            if stack and line.indent == stack[-1][0].indent and line.first == _CLOSER[stack[-1][1]]:
                stack.pop()
            elif line.first == "}":
                found.append(LostBrace("stray", line, line.first_col))
        following = lines[i + 1] if i + 1 < len(lines) else None
        if line.unclosed is not None:
            found.append(LostBrace("inline", line, line.unclosed[1]))
        if line.last in _CLOSER:
            stack.append((line, line.last))
        elif (following is not None and following.indent > line.indent and line.first.isalpha()
              and line.last != _IN_STRING):
            found.append(LostBrace("open", line, line.end_col))
    for opener, bracket in stack:
        if bracket == "{":
            found.append(LostBrace("close", opener, opener.end_col - 1, None, lines[-1]))
    yield from sorted(found, key=lambda guess: guess.line.number)


def _repaired(text: str, guess: LostBrace) -> str:
    """`text` with the guessed brace put back (or the stray one taken out), its lines where they were."""
    rows = text.split("\n")
    if guess.kind == "open":
        row = rows[guess.line.number - 1]
        rows[guess.line.number - 1] = row[: guess.col - 1] + " {" + row[guess.col - 1:]
    elif guess.kind == "stray":
        row = rows[guess.line.number - 1]
        rows[guess.line.number - 1] = row[: guess.col - 1] + " " + row[guess.col:]
    elif guess.kind == "inline":
        row, end = rows[guess.line.number - 1], guess.line.end_col
        at = end - 2 if guess.line.last == "," else end - 1  # an element of a list: its comma comes after
        closer = _CLOSER[guess.line.unclosed[0]] if guess.line.unclosed else "}"
        rows[guess.line.number - 1] = row[:at] + " " + closer + row[at:]
    elif guess.before is None or guess.last_body is None:
        rows.append("}")
    else:
        last = guess.last_body
        row = rows[last.number - 1]
        rows[last.number - 1] = row[: last.end_col - 1] + " }" + row[last.end_col - 1:]
    return "\n".join(rows)


def code_lines(text: str) -> list[Line]:
    """The lines that hold code, skipping blank and comment lines and those inside a string."""
    lines: list[Line] = []
    quote = ""  # the string being read: '"', '"""' or nothing
    for number, row in enumerate(text.split("\n"), 1):
        starts_in_string = bool(quote)
        first = last = ""
        first_col = end_col = 0
        opened: list[tuple[str, int]] = []  # brackets opened on this line and not closed yet
        i = 0
        while i < len(row):
            ch = row[i]
            if quote:
                if ch == "\\":
                    i += 2
                    continue
                if row.startswith(quote, i):
                    i += len(quote)
                    quote, last, end_col = "", '"', i + 1
                    continue
                i += 1
                continue
            if ch == "#":
                break
            if not ch.isspace():
                if not first:
                    first, first_col = ch, i + 1
                last, end_col = ch, i + 2
                if ch in _CLOSER:
                    opened.append((ch, i + 1))
                elif opened and ch == _CLOSER[opened[-1][0]]:
                    opened.pop()
                if ch == '"':
                    quote = '"""' if row.startswith('"""', i) else '"'
                    i += len(quote)
                    last, end_col = _IN_STRING, len(row) + 1  # unless the string closes on this line
                    continue
            i += 1
        if quote == '"':
            quote = ""  # a one-line string left open: the lexer says so; the next line is code again
        if first and not starts_in_string:
            indent = len(row) - len(row.lstrip(" \t"))
            unclosed = opened[0] if opened and last not in _CLOSER and not quote else None
            lines.append(Line(number, indent, first, first_col, last, end_col, unclosed))
    return lines
