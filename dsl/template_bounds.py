"""How large a template operation's result would be, judged before it is computed.

The sandbox stops attribute escapes; it does not stop `'a' * 10**9`, `'x'|center(10**9)`,
`'%999999999s' % x` or `s.replace('a', s)`, each a gigabyte from a short template whose
operands may come from an order. Each check here returns why an operation is refused, or
None; dsl/templates.py raises it as a SecurityError, which fails the attempt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from string import Formatter
from typing import Any

from dsl.limits import MAX_RENDERED_LENGTH, MAX_TEXT_LENGTH

MAX_POWER_BITS = 4096  # far beyond any number a plan holds (dsl/limits.py: MAX_SAFE_INTEGER)
# printf conversions (`%-10.3f`, `%*d`) and str.format specs (`>20`, `.5`): their numbers
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_SPEC_NUMBER = re.compile(r"\d+")
_TOO_WIDE = f"a width or precision larger than {MAX_TEXT_LENGTH:,}"
_TOO_LONG = f"the result would be longer than {MAX_RENDERED_LENGTH:,} characters"


def binop_problem(operator: str, left: Any, right: Any) -> str | None:
    """Why `left OPERATOR right` would be too large to compute, or None."""
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, (str, list, tuple)) and isinstance(times, int) \
                    and len(sequence) * times > MAX_TEXT_LENGTH:
                return f"repeating makes more than {MAX_TEXT_LENGTH:,} characters or items"
    if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 \
            and abs(left) > 1 and right * abs(left).bit_length() > MAX_POWER_BITS:
        return f"the power is larger than 2^{MAX_POWER_BITS:,}"
    if operator == "%" and isinstance(left, str):
        return printf_problem(left, right)
    return None


def printf_problem(text: str, values: Any) -> str | None:
    """Why `text % values` would be too large: a width or precision in it, or taken by `*` from values."""
    for match in _PRINTF.finditer(text):
        for number in match.groups():
            if number and number != "*" and int(number) > MAX_TEXT_LENGTH:
                return _TOO_WIDE
        if "*" in match.groups():
            given = values if isinstance(values, tuple) else (values,)
            if any(isinstance(v, int) and abs(v) > MAX_TEXT_LENGTH for v in given):
                return _TOO_WIDE
    return None


def format_problem(text: str) -> str | None:
    """Why `text.format(...)` would be too large: a width or precision in a field's spec, or a spec
    taken from a value (`{:{width}}`), which is refused, as its size cannot be known beforehand."""
    try:
        fields = [spec for _, _, spec, _ in Formatter().parse(text) if spec]
    except ValueError:
        return None  # str.format itself says what is wrong
    for spec in fields:
        if "{" in spec:
            return "a format spec taken from a value ({:{width}}): write the width in the template"
        if any(int(n) > MAX_TEXT_LENGTH for n in _SPEC_NUMBER.findall(spec)):
            return _TOO_WIDE
    return None


def call_problem(name: str, subject: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str | None:
    """Why `subject.name(*args)` (a str method) or `subject|name(*args)` (a filter) would be too large."""
    if not isinstance(subject, str):
        return None
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        return _TOO_WIDE if isinstance(width, int) and width > MAX_RENDERED_LENGTH else None
    if name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        grows = isinstance(size, int) and size * subject.count("\t") > MAX_RENDERED_LENGTH
        return _TOO_LONG if grows else None
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        times = subject.count(args[0]) if args[0] else len(subject) + 1
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            times = min(times, args[2])
        return _TOO_LONG if len(subject) + times * len(args[1]) > MAX_RENDERED_LENGTH else None
    if name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        prefix = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        return _TOO_LONG if prefix * (subject.count("\n") + 1) > MAX_RENDERED_LENGTH else None
    if name == "format":
        return printf_problem(subject, tuple(args))
    return None
