"""validate: `dro validate DIR` on 500 YAML files, against libyaml plus dro's own schema check of the same
files (the fair floor: the same parser and the same check, none of dro's other checks), and against
check-jsonschema (a pure-Python YAML parser: a comparison users make, not a floor); and the start-up of
`dro validate FILE` on one small file against importing click."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from bytecode import write_bytecode
from common import (
    ROOT,
    SCHEMA,
    BenchmarkError,
    Context,
    Result,
    catalog_files,
    command,
    compare,
    console_script,
    dro_command,
    time_each,
)

TARGET = 0.5           # dro validate <= 0.5x check-jsonschema (which checks the schema only)
TARGET_FILE = 2.0      # dro validate FILE <= 2x `python -c "import click"`
REPEAT_FILE = 11       # short processes: more rounds for a stable median
# What pre-commit hooks and editors run on one file: small, clean, no templates (jinja loads only for those).
SMALL_FILE = ROOT / "catalogs" / "fiber" / "products.dro"
CLICK = 'python -c "import click"'
TARGET_FLOOR = 2.5     # dro validate <= 2.5x parsing with libyaml and checking the schema, in a fresh process
FLOOR_NAME = "libyaml+schema"
# The floor, in a fresh process as dro is: each file parsed by libyaml and checked by dro's compiled
# schema check (dsl/fast_schema.py); what dro adds beyond it is references, graphs, settings,
# expressions, templates and the report.
FLOOR = """
import sys, yaml
from dsl.schemas import fast_check
check = fast_check("catalog")
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        if not check(yaml.load(f.read(), Loader=yaml.CSafeLoader)):
            sys.exit(f"{path}: not valid")
"""


def check_jsonschema_command() -> list[str]:
    script = console_script("check-jsonschema")
    if script:
        return [script]
    try:
        import check_jsonschema  # noqa: F401
    except ImportError as e:
        raise BenchmarkError("check-jsonschema is not installed: pip install -e '.[bench]'") \
            from e
    return [sys.executable, "-m", "check_jsonschema"]


def run(ctx: Context) -> Iterator[Result]:
    """`dro validate DIR` (subprocess) vs. libyaml plus dro's schema check, and vs. check-jsonschema."""
    directory = ctx.catalog("yaml")
    files = [str(f) for f in catalog_files(directory)]
    subjects = {
        "validate": command([*dro_command(), "validate", str(directory)]),
        FLOOR_NAME: command([sys.executable, "-c", FLOOR, *files]),
        "check-jsonschema": command([*check_jsonschema_command(), "--schemafile", str(SCHEMA),
                                     *files]),
    }
    ctx.log(f"validate: {len(files)} files, {ctx.repeats()} rounds")
    timings = time_each(subjects, ctx.repeats())
    yield compare("validate", timings, "validate", FLOOR_NAME, TARGET_FLOOR,
                  notes=[f"{len(files)} files; the floor parses each with yaml.CSafeLoader and checks it with "
                         "dsl.schemas.fast_check, in one fresh process"])
    yield compare("validate-vs-cj", timings, "validate", "check-jsonschema", TARGET,
                  notes=["check-jsonschema parses YAML in pure Python (ruamel): most of the gap is the parser"])
    yield validate_file(ctx)


def validate_file(ctx: Context) -> Result:
    """`dro validate FILE` on one small clean file (subprocess) vs. `python -c "import click"`."""
    write_bytecode()
    subjects = {
        "validate-file": command([*dro_command(), "validate", str(SMALL_FILE)]),
        CLICK: command([sys.executable, "-c", "import click"]),
    }
    ctx.log(f"validate-file: {SMALL_FILE.name}, {ctx.repeats(REPEAT_FILE)} rounds")
    return compare("validate-file", time_each(subjects, ctx.repeats(REPEAT_FILE)), "validate-file",
                   CLICK, TARGET_FILE, [f"file: {SMALL_FILE.relative_to(ROOT)}"])
