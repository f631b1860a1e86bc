"""JSON Schemas of dro's files: catalog, plan templates, diagnostics."""
