"""The local host: runs plans with the engine, journals every event, and runs step handlers (DESIGN 5).

`dro run` and the operator's acts (`api`), the runner and its handlers, `dro tick`,
the status of orders and the scans across them, and the clock the host reads. May
import the journal, planning, the engine, `dro_cli.errors` and `dsl`; never diff,
output or the commands (lint-imports checks).
"""
