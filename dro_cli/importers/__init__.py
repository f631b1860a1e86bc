"""Importers: other systems' configurations turned into dro catalogs."""
