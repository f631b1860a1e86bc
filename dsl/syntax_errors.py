"""Turn lark's parse errors into diagnostics a designer can act on."""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dsl.braces import END, Position, Reparse, describe_lost_brace
from dsl.diagnostics import Diagnostic, Span, TextOrigin, error
from dsl.grammar import is_keyword, terminal_text

# How terminals read in a message; literal terminals show themselves.
_TERMINALS = {
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "DURATION": "a duration",
    "COMPARE": "a comparison",
    "$END": "the end of the file",
}
_VALUE_TERMINALS = {"STRING", "NUMBER", "DURATION", "NAME", "LSQB", "LBRACE", "TRUE", "FALSE", "NULL"}


def describe_syntax_error(exc: UnexpectedInput, path: str, text: str, reparse: Reparse | None = None) -> Diagnostic:
    """The diagnostic of a parse failure; with `reparse`, a lost brace is looked for where the layout says."""
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_character(exc, path, text)
    if isinstance(exc, UnexpectedToken):
        noticed = _unexpected_end(exc, path, text) if exc.token.type == "$END" else _unexpected_token(exc, path)
        if reparse is None:
            return noticed
        tok: Token = exc.token
        failed_at: Position = END if tok.type == "$END" else (tok.line or 1, tok.column or 1)
        return describe_lost_brace(path, text, failed_at, tok.type == "RBRACE", noticed, reparse) or noticed
    line, col = getattr(exc, "line", 1), getattr(exc, "column", 1)
    return error("DRO101", "syntax error", Span.point(path, line, col))


def describe_expression_error(exc: UnexpectedCharacters | UnexpectedToken, text: str,
                      origin: TextOrigin) -> Diagnostic:
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        stripped = text.rstrip()
        where = origin.at(stripped.count("\n"), len(stripped) - (stripped.rfind("\n") + 1), 1)
        summary = "expression ends too early"
        hint = "complete the comparison, e.g. `item.attributes.color == \"red\"`"
    else:
        line, col = exc.line - 1, exc.column - 1
        found = exc.token if isinstance(exc, UnexpectedToken) else text[exc.pos_in_stream or 0]
        where = origin.at(line, col, len(str(found)))
        summary = f"unexpected '{found}' in expression"
        hint = ("expressions use paths (item.attributes.x), literals, == != < <= > >= in, "
                "and, or, not, parentheses and exists(path)")
    return error("DRO401", summary, where, hint=hint)


def _unexpected_character(exc: UnexpectedCharacters, path: str, text: str) -> Diagnostic:
    pos = exc.pos_in_stream or 0
    char = text[pos]
    span = Span.point(path, exc.line, exc.column)
    if text[max(pos - 2, 0):pos + 1] == '"""' and pos >= 2:  # lark stops at the third quote
        span = Span.point(path, exc.line, exc.column - 2, 3)
        return error("DRO103", "unterminated string", span,
                     detail='This """ string has no closing """.',
                     hint='close it with """')
    if char == '"':
        return error("DRO103", "unterminated string", span,
                     detail="This string has no closing quote on its line.",
                     hint='close it with " on the same line, or use """ ... """ for text over several lines')
    if char == "=":
        return error("DRO104", "unexpected character '='", span,
                     detail="Attributes are written as a name and a value, without '='.",
                     hint="write `lane billing`, not `lane = billing`")
    shown = f"'{char}'" if char.isprintable() and not char.isspace() else repr(char)
    return error("DRO104", f"unexpected character {shown}", span,
                 hint="remove it; comments start with '#'")


def _unexpected_end(exc: UnexpectedToken, path: str, text: str) -> Diagnostic:
    opening = _unclosed_brace(text)
    if opening is not None:
        line, col = opening
        return error("DRO102", "unclosed block", Span.point(path, line, col),
                     detail="The file ends before this '{' is closed.",
                     hint="add the missing '}' (in this block or in a block inside it)")
    lines = text.splitlines() or [""]
    return error("DRO101", "unexpected end of file", Span.point(path, len(lines), len(lines[-1]) + 1),
                 detail=f"The file ends where {_expected(exc)} was expected.",
                 hint="complete the last declaration")


def _unexpected_token(exc: UnexpectedToken, path: str) -> Diagnostic:
    tok: Token = exc.token
    span = Span(path, tok.line or 1, tok.column or 1, tok.end_line or tok.line or 1,
                tok.end_column or (tok.column or 1) + 1)
    shown = _show(tok)
    expected = set(exc.expected)
    if tok.type == "COLON" and "NAME" in expected:
        return error("DRO101", "unexpected ':'", span,
                     detail="In .dro files an attribute's value follows its name directly.",
                     hint="write `lane billing`, not `lane: billing` (that is the YAML form)")
    if tok.type == "LBRACE" and expected <= {"NAME", "STRING"}:
        return error("DRO101", "a block needs an id", span,
                     detail="A block is written `KIND ID [\"Title\"] { ... }`.",
                     hint='write `scenario laptop "Laptop bundle" { ... }`')
    if expected and expected <= _VALUE_TERMINALS | {"LPAR", "MINUS"} and "STRING" in expected:
        return error("DRO101", f"expected a value, found {shown}", span,
                     hint="give the attribute a value: a string, number, duration, name, list or map")
    if tok.type == "RBRACE" and "NAME" in expected and "LBRACE" in expected:
        return error("DRO101", f"unexpected {shown}", span,
                     detail="A block needs an id after its kind.",
                     hint="write `step reserve \"Reserve\" { ... }`")
    if tok.type in {"NAME", "STRING", "NUMBER", "DURATION"} and {"NAME", "RBRACE"} <= expected:
        return error("DRO101", f"unexpected {shown}", span,
                     detail="This looks like a second value on one line.",
                     hint="an attribute takes one value; use a list `[a, b]` for several")
    return error("DRO101", f"unexpected {shown}", span,
                 detail=f"Expected {_expected(exc)} here.")


def _show(tok: Token) -> str:
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type == "STRING":
        return "string"
    return f"'{tok}'"


def _expected(exc: UnexpectedToken) -> str:
    expected = set(exc.expected)
    if "NAME" in expected:  # keywords are names too: "a name" says it
        expected = {t for t in expected if not is_keyword(t)}
    names = sorted({_TERMINALS.get(t) or terminal_text(t) for t in expected})
    if len(names) > 6:
        return "a name, a value or a closing bracket"
    return " or ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " or " + names[-1]


def _unclosed_brace(text: str) -> tuple[int, int] | None:
    """Where the block left open at the end of `text` begins.

    When a closing brace is indented unlike the line of the brace it closes, the
    brace it closes is likely the one missing its own '}', so that one is named.
    """
    stack: list[tuple[int, int, int]] = []
    suspect: tuple[int, int] | None = None
    lines = text.splitlines()
    for line_no, col, char in _braces(text):
        if char == "{":
            indent = len(lines[line_no - 1]) - len(lines[line_no - 1].lstrip())
            stack.append((line_no, col, indent))
        elif stack:
            open_line, open_col, indent = stack.pop()
            starts_line = lines[line_no - 1][: col - 1].strip() == ""
            if starts_line and col - 1 != indent and open_line != line_no and suspect is None:
                suspect = (open_line, open_col)
    if not stack:
        return None
    return suspect or stack[0][:2]


def _braces(text: str) -> list[tuple[int, int, str]]:
    """The braces of `text` outside strings and comments, with line and column."""
    found: list[tuple[int, int, str]] = []
    in_string = in_comment = False
    line, col, i = 1, 0, 0
    while i < len(text):
        ch = text[i]
        col += 1
        if ch == "\n":
            line, col, in_comment = line + 1, 0, False
        elif in_comment:
            pass
        elif in_string:
            if ch == "\\":
                i, col = i + 1, col + 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            in_comment = True
        elif ch in "{}":
            found.append((line, col, ch))
        i += 1
    return found
