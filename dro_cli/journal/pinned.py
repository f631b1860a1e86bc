"""Pinned templates: `<state-dir>/templates/<sha256>.json`, the templates each order was planned with.

An amendment plans the revised order with the templates its order was planned with, not whatever the
catalog holds by then. They are kept by content hash, written once per catalog version (the first
order planned with it), and shared by every order planned with that version.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dro_cli.journal.file import STATE_ELSEWHERE
from dro_cli.journal.files import read_regular, write_file
from dro_cli.journal.path_errors import about_path

TEMPLATES_DIR = "templates"


def pinned_path(state_dir: Path, templates_hash: str) -> Path:
    digest = templates_hash.removeprefix("sha256:")
    if not digest.isalnum():
        raise ValueError(f"not a templates hash: {templates_hash!r}")
    return state_dir / TEMPLATES_DIR / f"{digest}.json"


def pin(state_dir: Path, templates: Mapping[str, Any]) -> None:
    """Keep `templates` under their hash, unless they are kept already."""
    path = pinned_path(state_dir, templates["hash"])
    if os.path.exists(path):
        return
    with about_path(path.parent, "create", elsewhere=STATE_ELSEWHERE):
        path.parent.mkdir(parents=True, exist_ok=True)
    from dsl.compiler import dumps

    write_file(path, dumps({k: v for k, v in templates.items() if k != "sources"}),
               then="nothing was journaled", elsewhere=STATE_ELSEWHERE)


def read_pinned(state_dir: Path, templates_hash: str) -> dict[str, Any] | None:
    """The pinned templates of that hash; None if they are not kept, or are not what the hash says."""
    from dsl.compiler import content_hash

    path = pinned_path(state_dir, templates_hash)
    if not os.path.exists(path):
        return None
    with about_path(path, "read", elsewhere=None):
        data = read_regular(path)
    try:
        templates = json.loads(data)
    except ValueError:
        return None
    if not isinstance(templates, dict) or templates.get("hash") != templates_hash \
            or content_hash(templates) != templates_hash:
        return None
    return templates
