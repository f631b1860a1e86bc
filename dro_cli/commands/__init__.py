"""The commands: one module per `dro` command, each imported only when that command runs.

A command parses its options, calls one function of a stage's API and renders the
result. The top layer: it may import every package of dro_cli, and none of them
imports it.
"""
