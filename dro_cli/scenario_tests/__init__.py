"""Scenario tests (`dro test`): plan facts and simulated runs of a catalog, written in *.test.yaml files."""
