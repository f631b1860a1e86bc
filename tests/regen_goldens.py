"""Regenerate every golden file: `python tests/regen_goldens.py`. Review the diff before committing."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from goldens import ROOT, regenerate

if __name__ == "__main__":
    for path in regenerate():
        print(path.relative_to(ROOT))
