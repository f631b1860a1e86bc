"""validate: `dro validate DIR` against check-jsonschema on the same 500 YAML files, and the
start-up of `dro validate FILE` on one small file against importing click."""

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
    best_of_each,
    catalog_files,
    command,
    compare,
    console_script,
    dro_command,
)

TARGET = 0.5           # dro validate <= 0.5x check-jsonschema (which checks the schema only)
TARGET_FILE = 2.0      # dro validate FILE <= 2x `python -c "import click"`
REPEAT_FILE = 10       # short processes: more rounds for a stable figure
# What pre-commit hooks and editors run on one file: small, clean, no templates (jinja loads only for those).
SMALL_FILE = ROOT / "catalogs" / "fiber" / "products.dro"
CLICK = 'python -c "import click"'


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
    """`dro validate DIR` (subprocess) vs. `check-jsonschema --schemafile ... FILES...`."""
    directory = ctx.catalog("yaml")
    files = [str(f) for f in catalog_files(directory)]
    subjects = {
        "validate": command([*dro_command(), "validate", str(directory)]),
        "check-jsonschema": command([*check_jsonschema_command(), "--schemafile", str(SCHEMA),
                                     *files]),
    }
    ctx.log(f"validate: {len(files)} files, {ctx.repeats()} rounds")
    yield compare("validate", best_of_each(subjects, ctx.repeats()), "validate",
                  "check-jsonschema", TARGET)
    yield validate_file(ctx)


def validate_file(ctx: Context) -> Result:
    """`dro validate FILE` on one small clean file (subprocess) vs. `python -c "import click"`."""
    write_bytecode()
    subjects = {
        "validate-file": command([*dro_command(), "validate", str(SMALL_FILE)]),
        CLICK: command([sys.executable, "-c", "import click"]),
    }
    ctx.log(f"validate-file: {SMALL_FILE.name}, {ctx.repeats(REPEAT_FILE)} rounds")
    return compare("validate-file", best_of_each(subjects, ctx.repeats(REPEAT_FILE)), "validate-file",
                   CLICK, TARGET_FILE, [f"file: {SMALL_FILE.relative_to(ROOT)}"])

