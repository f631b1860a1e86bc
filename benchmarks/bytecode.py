"""Write dro's bytecode before timing fresh processes, as installing dro does."""

from __future__ import annotations

import compileall

from common import ROOT


def write_bytecode() -> None:
    """dro's modules compiled to __pycache__, as pip does at install (the libraries' bytecode was
    written when they were installed): with PYTHONDONTWRITEBYTECODE set, each fresh process would
    otherwise compile dro from source and time that too."""
    for package in ("dsl", "dro_cli", "schemas"):
        compileall.compile_dir(ROOT / package, quiet=2)
