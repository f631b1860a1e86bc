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


# path -> (its file's identity, the templates read from it): a process that amends many orders (`dro tick`,
# `dro serve`, `dro test`) reads and checks each catalog version once; the planner's own caches follow
# the same templates object
_read: dict[Path, tuple[tuple[int, ...], dict[str, Any]]] = {}


def read_pinned(state_dir: Path, templates_hash: str) -> dict[str, Any] | None:
    """The pinned templates of that hash; None if they are not kept, or are not what the hash says."""
    path = pinned_path(state_dir, templates_hash)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    known = _read.get(path)
    if known is not None and known[0] == identity:
        return known[1]
    templates = _checked(path, templates_hash)
    if templates is not None:
        _read[path] = (identity, templates)
    return templates


def _checked(path: Path, templates_hash: str) -> dict[str, Any] | None:
    from dsl.compiler import content_hash

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
