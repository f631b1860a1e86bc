"""Output: what dro shows people and programs: diagnostics, plans, status, queues, diffs, the dashboard.

Reporters for diagnostics, views of plans and journals, the terminal's colours, how
an error is shown, `dro serve`. May import the runtime, diff, the journal, planning,
the engine, `dro_cli.errors` and `dsl`; never the scenario tests or the commands
(lint-imports checks).
"""
