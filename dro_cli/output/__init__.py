"""Output: what dro shows people and programs: diagnostics, plans, status, queues, diffs, the dashboard.

Reporters for diagnostics, views of plans and journals, the terminal's colours,
`dro serve`. It may import the runtime, the journal, the engine, diff, planning and
`dsl`; never the commands.
"""
