"""The engine: a pure state machine that decides what happens next to a plan, from its events and the time.

It reads no clock and touches no file, thread or socket, so any host can drive it: the
local runner, the scenario tests' virtual clock, a distributed workflow. It may import
the standard library's pure modules, `dro_cli.errors` and `dsl.diagnostics`; never
planning, the journal, a host, output, click or jinja2 (checked by lint-imports).
"""
