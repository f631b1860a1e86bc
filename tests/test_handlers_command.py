"""Auto steps with a command: real processes, their exit codes, JSON outputs, timeouts and environment."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dro_cli.runtime.handlers import Invocation, Outcome, run_step

PY = sys.executable


def run_command(tmp_path: Path, command: list[str], *, timeout: float | None = None,
                environ: dict[str, str] | None = None, endpoints: dict[str, Any] | None = None,
                env: list[str] | None = None, attempt_id: str | None = None, restarted: bool = False) -> Outcome:
    config: dict[str, Any] = {"command": command}
    if timeout is not None:
        config["timeout"] = timeout
    if env is not None:
        config["env"] = env
    step = {"id": "create_account", "step": "create_account", "title": "Create account", "type": "auto",
            "lane": "billing", "scope": "plan", "run_as": None, "config": config}
    context = {"order": {"id": "ORD-3", "account": "ACME", "attributes": {"country": "DE"}}, "item": None,
               "bundle": None, "plan": {"id": "ORD-3"}, "step": {"id": "create_account", "attempt": 1},
               "outputs": {}}
    invocation = Invocation(step, 1, "ORD-3/create_account/1", context, endpoints or {}, tmp_path,
                            {"PATH": os.environ.get("PATH", ""), **(environ or {})}, restarted=restarted)
    if attempt_id is not None:
        invocation = dataclasses.replace(invocation, attempt_id=attempt_id)
    return run_step(invocation)


def test_a_json_object_on_stdout_is_the_outputs(tmp_path: Path) -> None:
    script = ("import json, os; print('progress...', file=__import__('sys').stderr); "
              "print(json.dumps({k: os.environ[k] for k in ('DRO_ORDER', 'DRO_STEP', 'DRO_ATTEMPT', "
              "'DRO_IDEMPOTENCY_KEY', 'REGION')} | {'cwd': os.getcwd()}))")
    outcome = run_command(tmp_path, [PY, "-c", script], environ={"REGION": "eu"}, env=["REGION"])
    assert outcome == Outcome({"DRO_ORDER": "ORD-3", "DRO_STEP": "create_account", "DRO_ATTEMPT": "1",
                               "DRO_IDEMPOTENCY_KEY": "ORD-3/create_account/1", "REGION": "eu",
                               "cwd": str(tmp_path)})


def test_arguments_are_rendered_and_never_go_through_a_shell(tmp_path: Path) -> None:
    script = "import json, sys; print(json.dumps({'argv': sys.argv[1:]}))"
    outcome = run_command(tmp_path, [PY, "-c", script, "--account", "{{ order.account }}",
                                     "{{ order.attributes.country | lower }}", "$HOME; rm -rf /"])
    assert outcome.outputs == {"argv": ["--account", "ACME", "de", "$HOME; rm -rf /"]}


@pytest.mark.parametrize("stdout", ["plain text", "[1, 2]", "{not json", ""])
def test_other_stdout_gives_no_outputs(tmp_path: Path, stdout: str) -> None:
    outcome = run_command(tmp_path, [PY, "-c", f"print({stdout!r})"])
    assert outcome == Outcome()


def test_a_nonzero_exit_is_a_retryable_failure_with_the_end_of_stderr(tmp_path: Path) -> None:
    script = ("import sys\nfor i in range(30): print(f'line {i}', file=sys.stderr)\n"
              "print('{\"ignored\": true}')\nsys.exit(3)")
    outcome = run_command(tmp_path, [PY, "-c", script])
    assert (outcome.error, outcome.retryable, outcome.outputs) == ("exit_3", True, {})
    assert "exited with 3" in outcome.message
    assert "line 29" in outcome.message and "line 20" in outcome.message
    assert "line 19" not in outcome.message


def test_a_process_killed_by_a_signal(tmp_path: Path) -> None:
    outcome = run_command(tmp_path, [PY, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert (outcome.error, outcome.retryable) == ("exit_137", True)
    assert "SIGKILL" in outcome.message


@pytest.mark.parametrize("program", ["no-such-program-7d1e", "./missing.sh"])
def test_a_program_that_does_not_exist(tmp_path: Path, program: str) -> None:
    outcome = run_command(tmp_path, [program, "x"])
    assert (outcome.error, outcome.retryable) == ("command_not_found", False)
    assert program in outcome.message


def test_a_file_that_is_not_executable(tmp_path: Path) -> None:
    (tmp_path / "script.sh").write_text("#!/bin/sh\necho hi\n")
    outcome = run_command(tmp_path, ["./script.sh"])
    assert (outcome.error, outcome.retryable) == ("command_not_found", False)


def test_a_script_in_the_catalog_directory(tmp_path: Path) -> None:
    script = tmp_path / "provision.sh"
    script.write_text('#!/bin/sh\necho "{\\"order\\": \\"$DRO_ORDER\\", \\"arg\\": \\"$1\\"}"\n')
    script.chmod(0o755)
    assert run_command(tmp_path, ["./provision.sh", "{{ order.id }}"]) == Outcome({"order": "ORD-3", "arg": "ORD-3"})


def test_a_command_that_runs_too_long_is_killed_with_its_children(tmp_path: Path) -> None:
    marker = tmp_path / "child-survived"
    (tmp_path / "child.py").write_text(f"import time\ntime.sleep(1)\nopen({str(marker)!r}, 'w').close()\n")
    (tmp_path / "parent.py").write_text("import subprocess, sys, time\n"
                                        "subprocess.Popen([sys.executable, 'child.py'])\ntime.sleep(30)\n")
    started = time.monotonic()
    outcome = run_command(tmp_path, [PY, "parent.py"], timeout=0.5)
    assert (outcome.error, outcome.retryable) == ("timeout", True)
    assert time.monotonic() - started < 5
    time.sleep(1.5)
    assert not marker.exists()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finding an attempt's processes needs /proc")
@pytest.mark.parametrize("child_env", ["inherited", "cleared"])
def test_a_timeout_ends_the_whole_tree_a_child_that_left_the_session_included(tmp_path: Path, child_env: str) -> None:
    """The child leaves the command's session and process group; `cleared`: it also starts without
    the command's environment (env -i setsid ...), so no mark says whose it is but its parent."""
    pids, marker = tmp_path / "pids", tmp_path / "survived"
    environment = ", env={'PATH': os.environ['PATH']}" if child_env == "cleared" else ""
    (tmp_path / "child.py").write_text("import os, sys, time\n"
                                       "os.setsid()  # its own session and process group: killpg misses it\n"
                                       f"open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
                                       f"time.sleep(1.5)\nopen({str(marker)!r}, 'w').close()\n")
    (tmp_path / "parent.py").write_text("import os, subprocess, sys, time\n"
                                        f"open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
                                        "subprocess.Popen([sys.executable, 'child.py'], stdout=subprocess.DEVNULL,"
                                        f" stderr=subprocess.DEVNULL{environment})\ntime.sleep(30)\n")
    started = time.monotonic()
    outcome = run_command(tmp_path, [PY, "parent.py"], timeout=0.8)
    assert outcome.error == "timeout"
    assert time.monotonic() - started < 5
    tree = [int(pid) for pid in pids.read_text().split()]
    assert len(tree) == 2
    time.sleep(1.5)
    assert not marker.exists()
    assert not [pid for pid in tree if Path(f"/proc/{pid}").exists()
                and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]


def test_a_template_error_in_an_argument(tmp_path: Path) -> None:
    outcome = run_command(tmp_path, [PY, "-c", "pass", "{{ order.nope }}"])
    assert (outcome.error, outcome.retryable) == ("template_error", False)
    assert "command[3]" in outcome.message


def test_credentials_on_stderr_are_redacted(tmp_path: Path) -> None:
    endpoints = {"crm": {"url": {"env": None, "default": "http://127.0.0.1:9"}, "timeout": None, "headers": {},
                         "auth": {"basic": {"username": {"env": "CRM_USER"}, "password": {"env": "CRM_PASSWORD"}}},
                         "title": None}}
    script = "import os, sys; print('login', os.environ['CRM_USER'], os.environ['CRM_PASSWORD'], file=sys.stderr); " \
             "sys.exit(1)"
    outcome = run_command(tmp_path, [PY, "-c", script], environ={"CRM_USER": "svc-user", "CRM_PASSWORD": "hunter2!"},
                          endpoints=endpoints, env=["CRM_USER", "CRM_PASSWORD"])
    assert outcome.error == "exit_1"
    assert "login *** ***" in outcome.message


def test_outputs_with_credentials_are_redacted(tmp_path: Path) -> None:
    endpoints = {"crm": {"url": {"env": None, "default": "http://127.0.0.1:9"}, "timeout": None, "headers": {},
                         "auth": {"header": {"name": "X-Key", "value": {"env": "CRM_KEY"}}}, "title": None}}
    script = "import json, os; print(json.dumps({'echo': 'key=' + os.environ['CRM_KEY'], 'n': 1}))"
    outcome = run_command(tmp_path, [PY, "-c", script], environ={"CRM_KEY": "k-9914321"}, endpoints=endpoints,
                          env=["CRM_KEY"])
    assert json.dumps(outcome.outputs) == json.dumps({"echo": "key=***", "n": 1})


# ---- the environment a command gets ---------------------------------------------------------------

ENVIRON_SCRIPT = "import json, os; print(json.dumps(dict(os.environ)))"


def test_a_command_gets_only_its_documented_environment(tmp_path: Path) -> None:
    """PATH, HOME, TMPDIR, TZ, LANG and LC_*, DRO_NOW, what dro sets for the attempt, and what the step lists
    in `env`; never the rest of the runner's environment, where its credentials are."""
    runner = {"PATH": os.environ.get("PATH", ""), "HOME": "/home/ops", "TMPDIR": "/var/tmp", "TZ": "UTC",
              "LANG": "C.UTF-8", "LC_TIME": "en_GB.UTF-8", "DRO_NOW": "2026-12-01T10:00:00Z",
              "REGION": "eu-central-1", "EMPTY": "", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-K7MDENG",
              "WMS_TOKEN": "tok-12345678", "DRO_STATE_DIR": "/srv/dro", "PYTHONPATH": "/opt/lib",
              "SSH_AUTH_SOCK": "/tmp/agent.sock"}
    outcome = run_command(tmp_path, [PY, "-c", ENVIRON_SCRIPT], environ=runner, env=["REGION", "EMPTY"])
    assert outcome.ok, outcome.message
    got = dict(outcome.outputs)
    assert got.pop("DRO_ATTEMPT_ID").startswith("local:")  # the attempt's mark on its processes (a runner sets it)
    got.pop("LC_CTYPE", None)  # the interpreter may set it itself (PEP 538)
    assert got == {"PATH": runner["PATH"], "HOME": "/home/ops", "TMPDIR": "/var/tmp", "TZ": "UTC", "LANG": "C.UTF-8",
                   "LC_TIME": "en_GB.UTF-8", "DRO_NOW": "2026-12-01T10:00:00Z", "REGION": "***", "EMPTY": "",
                   "DRO_ORDER": "ORD-3", "DRO_STEP": "create_account", "DRO_ATTEMPT": "1",
                   "DRO_IDEMPOTENCY_KEY": "ORD-3/create_account/1"}  # REGION is masked: see below


def test_a_variable_the_step_lists_that_is_not_set_fails_before_the_command_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    outcome = run_command(tmp_path, [PY, "-c", f"open({str(marker)!r}, 'w').close()"], env=["API_KEY"])
    assert (outcome.error, outcome.retryable) == ("missing_env", False)
    assert outcome.message == "environment variable API_KEY is not set (step create_account, env)"
    assert not marker.exists()


def test_values_passed_through_env_are_masked_in_what_the_command_gives_back(tmp_path: Path) -> None:
    script = ("import json, os, sys; key = os.environ['DEPLOY_KEY']; print('using', key, file=sys.stderr); "
              "print(json.dumps({'echo': 'key=' + key, 'short': os.environ['ZONE']})); sys.exit(0 if key else 1)")
    environ = {"DEPLOY_KEY": "dk-0123456789", "ZONE": "eu"}
    ok = run_command(tmp_path, [PY, "-c", script], environ=environ, env=["DEPLOY_KEY", "ZONE"])
    assert ok.outputs == {"echo": "key=***", "short": "eu"}  # 'eu' is too short to mask (secrets.py)
    failing = run_command(tmp_path, [PY, "-c", script.replace("sys.exit(0 if key else 1)", "sys.exit(2)")],
                          environ=environ, env=["DEPLOY_KEY", "ZONE"])
    assert failing.error == "exit_2" and "using ***" in failing.message and "dk-0123456789" not in failing.message


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finding an attempt's processes needs /proc")
def test_an_attempt_sent_again_ends_its_own_survivors_and_nobody_elses(tmp_path: Path) -> None:
    """Processes marked with the attempt's DRO_ATTEMPT_ID are ended (SIGTERM) before the command runs again;
    those of another order directory's same attempt, or of the attempt before, are left alone."""
    mine = "a1b2c3d4e5f6:ORD-3/create_account/1"
    sleepers = {mark: subprocess.Popen([PY, "-c", "import time; time.sleep(60)"], env={"DRO_ATTEMPT_ID": mark},
                                       start_new_session=True)
                for mark in (mine, "ffffffffffff:ORD-3/create_account/1", "a1b2c3d4e5f6:ORD-3/create_account/0")}
    try:
        time.sleep(0.2)  # their environment is in place once the interpreter runs
        outcome = run_command(tmp_path, [PY, "-c", "print('{\"ran\": 1}')"], attempt_id=mine, restarted=True)
        assert outcome.outputs == {"ran": 1}
        assert outcome.notes and f"pids {sleepers[mine].pid}" in outcome.notes[0]
        assert sleepers[mine].wait(5) == -15  # SIGTERM, within the grace
        assert all(process.poll() is None for mark, process in sleepers.items() if mark != mine)
    finally:
        for process in sleepers.values():
            process.kill()
            process.wait()
