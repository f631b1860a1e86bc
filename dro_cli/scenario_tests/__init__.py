"""Scenario tests (`dro test`): plan facts and simulated runs of a catalog, written in *.test.yaml files.

A host of its own beside the runtime: it plans with planning, runs the engine on a
virtual clock with the handlers' rendering and judging, and reports with output's
reporters. May import every package but the commands (lint-imports checks).
"""
