"""help: start-up time of the CLI, `dro --help`, against importing click alone."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from common import Context, Result, command, compare, dro_command, time_each

TARGET = 1.5           # dro --help <= 1.5x `python -c "import click"`
REPEAT = 11            # short processes: more rounds for a stable median


def run(ctx: Context) -> Iterator[Result]:
    """`dro --help` (subprocess) vs. `python -c "import click"`."""
    subjects = {
        "help": command([*dro_command(), "--help"]),
        'python -c "import click"': command([sys.executable, "-c", "import click"]),
    }
    yield compare("help", time_each(subjects, ctx.repeats(REPEAT)), "help",
                  'python -c "import click"', TARGET)
