"""The diagnostic codes: one stable code per kind of problem, by category."""

from __future__ import annotations

# DRO0xx input files (exit 2), DRO1xx syntax, DRO2xx schema, DRO3xx references
# and graph, DRO4xx expressions and templates, DRO5xx orders and runtime, DRO6xx
# scenario test files.
# docs/language.md documents each with a bad example and the fix; docs/orders.md
# documents the DRO5xx codes of order files, docs/testing.md the DRO6xx codes.
CODES: dict[str, str] = {
    "DRO001": "path does not exist",
    "DRO002": "file is not UTF-8",
    "DRO003": "no catalog files found",
    "DRO004": "file cannot be read",
    "DRO005": "file too large",
    "DRO006": "data nested too deeply",
    "DRO007": "YAML aliases expand too far",
    "DRO008": "text too long",
    "DRO101": "syntax error",
    "DRO102": "unclosed block",
    "DRO103": "unterminated string",
    "DRO104": "unexpected character",
    "DRO105": "invalid escape in string",
    "DRO106": "YAML syntax error",
    "DRO107": "duplicate key",
    "DRO108": "unsupported YAML feature",
    "DRO109": "block in the wrong place",
    "DRO110": "block without an opening brace",
    "DRO111": "unmatched closing brace",
    "DRO201": "unknown attribute or declaration",
    "DRO202": "missing required attribute",
    "DRO203": "wrong type of value",
    "DRO204": "bad duration",
    "DRO205": "value not allowed",
    "DRO206": "bad id",
    "DRO207": "attribute does not apply to this step type",
    "DRO208": "invalid value",
    "DRO209": "credential written in the catalog",
    "DRO210": "unknown function",
    "DRO211": "duration too long",
    "DRO212": "number out of range",
    "DRO213": "callout path could leave its endpoint",
    "DRO214": "bad URL",
    "DRO215": "bad HTTP header",
    "DRO216": "bad environment variable name",
    "DRO217": "environment variable dro sets itself",
    "DRO301": "unknown lane",
    "DRO302": "unknown endpoint",
    "DRO303": "unknown group or step in scenario",
    "DRO304": "unknown step in after",
    "DRO305": "duplicate id",
    "DRO306": "dependency cycle",
    "DRO307": "decomposition cycle",
    "DRO308": "jeopardy threshold not below duration",
    "DRO309": "inconsistent retry settings",
    "DRO310": "duplicate dependency",
    "DRO311": "lane never used",
    "DRO312": "endpoint never used",
    "DRO313": "group never added",
    "DRO314": "step never added",
    "DRO315": "scenario adds nothing",
    "DRO316": "rule matches no step",
    "DRO317": "ambiguous rules",
    "DRO318": "flow module not found",
    "DRO319": "command program not found",
    "DRO320": "catalog files outside every catalog root",
    "DRO321": "several catalogs checked as one",
    "DRO322": "unknown group or step in compensate or on_amend",
    "DRO323": "compensation cycle",
    "DRO324": "compensation step with its own compensation",
    "DRO325": "point of no return on a step that never starts",
    "DRO401": "expression syntax error",
    "DRO402": "unknown root in expression",
    "DRO403": "unknown function in expression",
    "DRO404": "template syntax error",
    "DRO405": "unknown root in template",
    "DRO406": "unknown field in template",
    "DRO501": "duplicate item id",
    "DRO502": "unknown parent item",
    "DRO503": "parent cycle",
    "DRO504": "no scenario for product",
    "DRO505": "order file cannot be used",
    "DRO506": "bad decomposed quantity",
    "DRO507": "templates file cannot be used",
    "DRO508": "item decomposes into nothing",
    "DRO509": "quantity too large",
    "DRO510": "too many items",
    "DRO511": "number out of range",
    "DRO512": "plan too large",
    "DRO515": "order plans no step",
    "DRO516": "plan changed after planning",
    "DRO517": "journal shorter than once seen",
    "DRO520": "order journal missing",
    "DRO521": "last journal record damaged",
    "DRO522": "state file not a regular file",
    "DRO530": "revision of another order",
    "DRO531": "order line changed product",
    "DRO532": "change past a point of no return",
    "DRO533": "order finished: nothing to amend",
    "DRO534": "plan frozen while a step runs",
    "DRO535": "templates of the order not found",
    "DRO601": "test file cannot be used",
    "DRO602": "no test files found",
    "DRO603": "a test file is a link that leads outside",
}

# Problems with the input files themselves are usage errors (exit 2), not
# catalog errors (exit 1): one that cannot be read, or that is past a limit
# of dsl/limits.py on what a file may hold.
USAGE_CODES: frozenset[str] = frozenset(
    {"DRO001", "DRO002", "DRO003", "DRO004", "DRO005", "DRO006", "DRO007", "DRO008"})

# Diagnostics that need every declaration of the catalog: a name unknown or unused in the
# files read may be declared or used in a file that could not be read or parsed. They are
# held back while one cannot (duplicates, cycles and per-declaration checks stay true).
NEEDS_EVERY_FILE: frozenset[str] = frozenset({
    "DRO301", "DRO302", "DRO303", "DRO304", "DRO311", "DRO312", "DRO313", "DRO314", "DRO315", "DRO316",
    "DRO322", "DRO325"})
