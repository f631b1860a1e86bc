"""Diff: what a catalog change does to the plans of sample orders, and to the templates (`dro diff`).

Catalog revisions (a directory or `git:REV:path`), the plan diff and the template diff.
It may import planning, `dro_cli.errors` and `dsl`; never the engine's hosts, the
journal or output.
"""
