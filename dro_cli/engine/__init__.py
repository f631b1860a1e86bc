"""The engine: a pure state machine that decides what happens next to a plan, from its events and the time.

It reads no clock and touches no file, thread or socket, so any host can drive it: the
local runner, the scenario tests' virtual clock, a distributed workflow. May import
`dro_cli.errors`, `dsl.diagnostics` and the standard library's pure modules; never
another package of dro_cli, nor I/O, threads, click or jinja2 (lint-imports checks).
"""
