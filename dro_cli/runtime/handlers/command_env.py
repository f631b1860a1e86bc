"""The environment a command step runs with: a small documented base, what dro sets, what the step lists.

A command never gets the runner's whole environment, where its credentials are. It
gets the variables that say where things are and how to write them (BASE and every
LC_*), DRO_NOW when dro runs with it, the variables dro sets for the attempt, and those
the step names in `env`, each of which must be set. Values passed through `env` may be
credentials, and dro cannot tell which, so each is masked in what the command gives back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dro_cli.runtime.handlers.base import Invocation
from dro_cli.runtime.handlers.secrets import MissingEnv

BASE = ("PATH", "HOME", "TMPDIR", "TZ", "LANG")  # and every LC_*: paths and locale, never a secret
PASSED_DRO = ("DRO_NOW",)  # the injected clock, so a command sees the time dro sees


def command_environment(invocation: Invocation, listed: Sequence[str],
                        extra: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The command's environment, and the values it got through `listed`, the step's `env` (to be masked).

    `extra` are dro's own variables for this attempt (DRO_ORDER, ...). Raises MissingEnv for a
    variable the step lists that is not set (an empty one is set)."""
    environ = invocation.environ
    env = {name: value for name, value in environ.items()
           if name in BASE or name.startswith("LC_") or name in PASSED_DRO}
    passed: list[str] = []
    for name in listed:
        value = environ.get(name)
        if value is None:
            raise MissingEnv(name, f"step {invocation.step.get('id')}, env")
        env[name] = value
        passed.append(value)
    env.update(extra)
    return env, passed

