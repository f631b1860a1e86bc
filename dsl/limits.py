"""The limits on what catalogs and orders may hold, in one place for every check that enforces them.

Each limit keeps a hostile or broken file from costing unbounded time or memory, or
from reaching code that cannot represent it (datetime's years, JSON's numbers). They
sit far above what real catalogs and orders need; docs/language.md and docs/orders.md
document each with the diagnostic that reports it.
"""

from __future__ import annotations

import math

from dsl.diagnostics import Diagnostic, Span, error

# Input files (DRO005-DRO008, usage errors: exit 2), catalogs and orders alike.
MAX_FILE_BYTES = 10 * 1024 * 1024  # DRO005
MAX_DEPTH = 100  # DRO006: lists, maps, blocks and expressions inside each other
MAX_ALIAS_EXPANSION = 100_000  # DRO007: values that YAML aliases repeat, in one file
MAX_TEXT_LENGTH = 100_000  # DRO008: characters in one string (a template, a description)
# At run time: what one template may render to (the step fails, as for any template error), and
# what `*` may repeat in a template.
MAX_RENDERED_LENGTH = 1_000_000
MAX_LOOP_ITERATIONS = 1_000_000  # of all `{% for %}` loops in one rendering: nested loops multiply
MAX_RENDER_SECONDS = 2.0  # one rendering; templates take microseconds, and the order's lock is held

# Values (catalogs: DRO211, DRO212; orders: DRO509-DRO512).
MAX_DURATION_SECONDS = 3650 * 86400  # DRO211: ten years
MAX_DURATION_TEXT = "3650d"
MAX_SAFE_INTEGER = 2**53 - 1  # DRO212, DRO511: the largest integer every JSON reader keeps exact
# (and numbers are finite: no NaN, no infinity)
MAX_RETRIES = 100  # DRO212
MAX_FACTOR = 100  # DRO212: an exponential retry's factor
MAX_QUANTITY = 1_000_000  # DRO509 (and DRO212 for a rule's quantity, DRO506 for a computed one)
MAX_ITEMS = 10_000  # DRO510: line items in one order file (the planner itself is benchmarked on more)
MAX_BUNDLE_ITEMS = 1_000  # DRO510: items in one bundle (its root and every item below it)
# DRO512: what `dro plan` and `dro run` write and show of one plan. Dependencies inside a bundle
# grow with the square of its items, plan-wide ones with the square of the plan's.
MAX_PLAN_STEPS = 100_000  # step instances
MAX_PLAN_DEPENDENCIES = 2_000_000  # entries of `after`, summed over the plan's steps
MAX_ID_LENGTH = 100  # DRO206: an order or item id (it names a directory, it is part of step ids)
# A requested date's year: far from the ends of datetime's range, so that a time zone or a
# day added to it never leaves it.
MIN_YEAR, MAX_YEAR = 1970, 9998

# Integers written with more characters are not converted (Python refuses over 4,300
# digits, and converting is quadratic): any of them is far beyond MAX_SAFE_INTEGER anyway.
MAX_INTEGER_DIGITS = 20


def read_integer(text: str) -> int | float:
    """The integer written in `text`; infinity (of its sign) when it has too many digits to be in range.

    Infinity says "out of range" to the range checks, which report it, without the cost (or
    the ValueError) of converting thousands of digits.
    """
    if len(text.lstrip("+-")) > MAX_INTEGER_DIGITS:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


def number_problem(value: object) -> str | None:
    """Why a number cannot be kept (NaN, infinite, an integer beyond what JSON readers keep exact), or None."""
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return "NaN is not a number" if math.isnan(value) else "the number is too large"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        return "the number is too large"
    return None


def duration_too_long(seconds: float | None) -> bool:
    return seconds is not None and seconds > MAX_DURATION_SECONDS


# ---- the diagnostics that more than one reader gives --------------------------------------


def too_deep(span: Span | None) -> Diagnostic:
    """Data nested past MAX_DEPTH, in a YAML or JSON file."""
    return error("DRO006", f"data nested more than {MAX_DEPTH} levels deep", span,
                 detail=f"Lists and maps inside each other are read to a depth of {MAX_DEPTH}; "
                        "deeper data is most likely broken or hostile.",
                 hint="flatten the structure")


def text_too_long(span: Span | None, length: int) -> Diagnostic:
    """A string of more than MAX_TEXT_LENGTH characters, in any kind of file."""
    return error("DRO008", f"text of {length:,} characters is longer than {MAX_TEXT_LENGTH:,}", span,
                 detail=f"A string (a template, a description, a value) holds at most {MAX_TEXT_LENGTH:,} "
                        "characters.",
                 hint="shorten it, or keep large content in a file a flow reads")


def number_out_of_range(name: str, problem: str, span: Span | None, code: str = "DRO212",
                        owner: str | None = None) -> Diagnostic:
    """A number that is not finite, or a whole number past MAX_SAFE_INTEGER; DRO212 in catalogs, DRO511 in orders.

    `name` is what holds it (an attribute's name, or the number as written).
    """
    shown = name if len(name) <= 24 else name[:20] + "..."
    where = f"In {owner}: n" if owner else "N"
    return error(code, f"{shown} is out of range: {problem}", span,
                 detail=f"{where}umbers are finite, and whole numbers at most {MAX_SAFE_INTEGER:,} (2^53 - 1) in "
                        "size: plans are JSON, and that is the largest integer every JSON reader keeps exact.",
                 hint="write a smaller number, or quote it to keep it as text")
