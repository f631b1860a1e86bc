"""Decode the string literals of the .dro language: escapes, and dedented \"\"\" text."""

from __future__ import annotations

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "/": "/"}


def decode(raw: str) -> tuple[str, str | None, tuple[int, int, int]]:
    """The value of a string literal (quotes included), a message if an escape is bad, and where
    the value starts relative to the literal: (lines down, column, indentation of later lines).
    """
    triple = raw.startswith('"""')
    body = raw[3:-3] if triple else raw[1:-1]
    if "\\" not in body:
        value = body
    else:
        out: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
            elif nxt == "u" and _is_hex(body[i + 2:i + 6]):
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
            else:
                return body, f"invalid escape '\\{nxt}' in string", (0, 1, 0)
        value = "".join(out)
    if not triple:
        return value, None, (0, 1, 0)
    # """ text: a first line break is dropped and the common indentation removed.
    starts_below = value.startswith("\n")
    value = value.removeprefix("\n")
    indents = [len(line) - len(line.lstrip(" ")) for line in value.split("\n") if line.strip()]
    indent = min(indents, default=0)
    import textwrap  # for """ text only

    value = textwrap.dedent(value)
    return value, None, ((1, indent, indent) if starts_below else (0, 3, indent))


def _is_hex(text: str) -> bool:
    return len(text) == 4 and all(c in "0123456789abcdefABCDEF" for c in text)
