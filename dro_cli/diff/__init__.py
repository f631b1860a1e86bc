"""Diff: what a catalog change does to the plans of sample orders, and to the templates (`dro diff`).

Catalog revisions (a directory or `git:REV:path`), the plan diff and the template diff.
May import the journal, planning, the engine, `dro_cli.errors` and `dsl` (it uses
planning alone); never the runtime, output or the commands (lint-imports checks).
"""
