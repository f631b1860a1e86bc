"""validate: `dro validate DIR` against check-jsonschema on the same 500 YAML files."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from common import (
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
    yield compare("validate", time_each(subjects, ctx.repeats()), "validate",
                  "check-jsonschema", TARGET)
