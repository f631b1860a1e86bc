"""The journal: an order's plan and checksummed records on disk, and the caches folded from them (DESIGN 6).

The state directory, one order's lock, its append-only journal, the snapshot and the
digest; files written atomically. May import the engine (to fold records into state),
`dro_cli.errors` and `dsl`; never planning, a host, diff or output (lint-imports checks).
"""
