"""Auto steps with a `command`: run a process (no shell) in the catalog directory; a JSON object on stdout is outputs.

The process gets a small documented environment (command_env.py), never the runner's
whole one: DRO_ORDER, DRO_STEP, DRO_ATTEMPT, DRO_IDEMPOTENCY_KEY, DRO_ATTEMPT_ID and the
variables the step lists in `env`. It runs in a session of its own, marked with
DRO_ATTEMPT_ID, so that a timeout ends it with everything it started, and so that an
attempt sent again after its runner died first ends what the dead runner's command left
running (processes.py): two copies of one attempt never run at once.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
from collections.abc import Iterable, Mapping
from typing import Any

from dro_cli.runtime.handlers.base import Invocation, Outcome, failure, success
from dro_cli.runtime.handlers.command_env import command_environment
from dro_cli.runtime.handlers.processes import MARK, attempt_processes, end
from dro_cli.runtime.handlers.render import render
from dro_cli.runtime.handlers.secrets import Redactor

DEFAULT_TIMEOUT = 300.0
STDERR_LINES = 10
MESSAGE_LIMIT = 2000


def run_command(invocation: Invocation, redactor: Redactor) -> Outcome:
    config = invocation.step["config"]
    command = config["command"]
    if isinstance(command, str) or not command:
        return failure("bad_config", f"step {invocation.step.get('id')}: command must be a non-empty list of strings",
                       retryable=False)
    argv = [str(arg) for arg in render(list(command), invocation.context, "command")]
    timeout = config.get("timeout")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        timeout = DEFAULT_TIMEOUT
    listed = config.get("env") or []
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        return failure("bad_config", f"step {invocation.step.get('id')}: env must be a list of variable names",
                       retryable=False)
    env, passed = command_environment(invocation, listed, {
        "DRO_ORDER": _order_id(invocation),
        "DRO_STEP": str(invocation.step.get("id", "")),
        "DRO_ATTEMPT": str(invocation.attempt),
        "DRO_IDEMPOTENCY_KEY": invocation.idempotency_key,
        MARK: invocation.attempt_id,
    })
    notes: tuple[str, ...] = ()
    if invocation.restarted:
        left = attempt_processes(invocation.attempt_id)
        if left:
            stuck = end(left)
            if stuck:
                return failure("command_still_running",
                               f"step {invocation.step.get('id')}: the command of attempt {invocation.attempt} that "
                               f"a runner which died left running (pids {_pids(stuck)}) did not end on SIGKILL; "
                               "it is not started again while it runs", retryable=False)
            notes = (f"step {invocation.step.get('id')}, attempt {invocation.attempt}: ended what its command, left "
                     f"running by a runner that died, still ran (pids {_pids(p.pid for p in left)}) before running "
                     "it again",)
    if passed:
        redactor = redactor.joined(passed)
    outcome = redactor.outcome(_run(argv, invocation, env, float(timeout), redactor)) if passed \
        else _run(argv, invocation, env, float(timeout), redactor)
    return dataclasses.replace(outcome, notes=notes) if notes else outcome


def _pids(pids: Iterable[int]) -> str:
    return ", ".join(map(str, pids))


def _run(argv: list[str], invocation: Invocation, env: dict[str, str], timeout: float,
         redactor: Redactor) -> Outcome:
    try:
        process = subprocess.Popen(argv, cwd=invocation.catalog_dir, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        return failure("command_not_found", f"cannot run {argv[0]!r}: {exc.strerror or exc}", retryable=False)
    except OSError as exc:  # out of processes or memory: may pass
        return failure("command_start_error", f"cannot start {argv[0]!r}: {exc}")
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process, invocation.attempt_id)
        return failure("timeout", f"command {argv[0]!r} did not finish within {timeout:g} s and was killed")
    except BaseException:  # KeyboardInterrupt: take the process down with us
        _kill(process, invocation.attempt_id)
        raise
    code = process.returncode
    if code != 0:
        return _exited(argv[0], code, stderr, redactor)
    return success(_outputs(stdout))


def _order_id(invocation: Invocation) -> str:
    order = invocation.context.get("order")
    return str(order.get("id", "")) if isinstance(order, Mapping) else ""


def _kill(process: subprocess.Popen[bytes], attempt_id: str) -> None:
    """SIGKILL the command's process group, then whatever else of its session or with its mark lives on.
    The tree is read before anything dies: a child that left the session without the mark is found
    only through its parent, and once the parent is killed it is reparented and lost."""
    tree = attempt_processes(attempt_id, leader=process.pid)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    tree += attempt_processes(attempt_id, leader=process.pid)  # and any started since (duplicates are harmless)
    end({found.pid: found for found in tree}.values(), grace=0)
    try:
        process.communicate(timeout=5)  # reaps it and closes the pipes
    except subprocess.TimeoutExpired:  # a grandchild left its own session and holds the pipes
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        process.wait()


def _exited(program: str, code: int, stderr: bytes, redactor: Redactor) -> Outcome:
    if code < 0:  # killed by a signal: the shell's convention, 128 + n
        what = f"was killed by {_signal_name(-code)}"
        code = 128 - code
    else:
        what = f"exited with {code}"
    tail = "\n".join(stderr.decode("utf-8", "replace").rstrip().splitlines()[-STDERR_LINES:])
    tail = redactor.text(tail)
    if len(tail) > MESSAGE_LIMIT:
        tail = "..." + tail[-MESSAGE_LIMIT:]
    message = f"command {program!r} {what}" + (f"; stderr:\n{tail}" if tail else "")
    return failure(f"exit_{code}", message)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _outputs(stdout: bytes) -> dict[str, Any]:
    text = stdout.strip()
    if not text.startswith(b"{"):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
