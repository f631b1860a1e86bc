"""digest.json, version 7: its hash is of the bytes as written (as since version 6), and its summary holds the
order's revision. A version 5 digest (its hash of the content encoded again as canonical JSON) and a version 6
one (no revision) are still genuine, and made again once as version 7; a version 7 digest whose
bytes were changed is ignored, like a forged one, and made again from the journal."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from test_fallout_queues import Lab, into_fallout

from dro_cli.journal import digest
from dro_cli.journal.digest import DIGEST_FILE
from dro_cli.journal.records import canonical


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    """ORD-1 in fallout; ORD-2 waiting on its check."""
    lab = Lab(tmp_path)
    into_fallout(lab, "ORD-1")
    lab.stock(down=False)
    assert lab.start("ORD-2").exit_code == 0
    return lab


def _path(lab: Lab, order_id: str) -> Path:
    return lab.state / "orders" / order_id / DIGEST_FILE


def _as_v5(lab: Lab, order_id: str) -> dict[str, Any]:
    """Rewrite the order's digest as version 5 wrote it: flat JSON, the hash of the other keys as canonical
    JSON after the last checksum, last."""
    data = json.loads(_path(lab, order_id).read_bytes())
    assert data["schema_version"] == digest.VERSION
    content = {key: value for key, value in data.items() if key != "digest_sha256"}
    content["schema_version"] = 5
    sha = hashlib.sha256(content["last_checksum"].encode() + canonical(content)).hexdigest()
    old = {**content, "digest_sha256": sha}
    _path(lab, order_id).write_text(json.dumps(old, separators=(",", ":"), ensure_ascii=False))
    return old


def test_a_v7_digest_begins_with_the_hash_of_the_bytes_after_it(lab: Lab) -> None:
    data = _path(lab, "ORD-1").read_bytes()
    head = b'{"digest_sha256":"'
    assert data.startswith(head) and data[82:84] == b'",'
    parsed = json.loads(data)
    assert parsed["digest_sha256"] == data[18:82].decode()
    assert hashlib.sha256(parsed["last_checksum"].encode() + b"{" + data[84:]).hexdigest() == parsed["digest_sha256"]
    assert digest.load(_path(lab, "ORD-1").parent) == parsed


def test_a_v5_digest_is_still_genuine_and_is_made_again_as_v7(lab: Lab) -> None:
    before = lab.dro("status", "--format", "json")
    old = _as_v5(lab, "ORD-1")
    folder = _path(lab, "ORD-1").parent
    assert digest.read_genuine(folder) == old  # its last record still a high-water mark
    assert digest.load(folder) is None  # not used by a scan: made again
    after = lab.dro("status", "--format", "json")
    assert (after.exit_code, after.output) == (before.exit_code, before.output)
    again = json.loads(_path(lab, "ORD-1").read_bytes())
    assert again["schema_version"] == digest.VERSION and digest.load(folder) == again
    assert {key: value for key, value in again.items() if key not in ("digest_sha256", "schema_version")} \
        == {key: value for key, value in old.items() if key not in ("digest_sha256", "schema_version")}


def _as_v6(lab: Lab, order_id: str) -> dict[str, Any]:
    """Rewrite the order's digest as version 6 wrote it: hashed as version 7 is, its summary without the revision."""
    data = json.loads(_path(lab, order_id).read_bytes())
    content = {key: value for key, value in data.items() if key != "digest_sha256"}
    content["schema_version"] = 6
    del content["summary"]["revision"]
    body = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()[1:]
    sha = hashlib.sha256(content["last_checksum"].encode() + b"{" + body).hexdigest()
    _path(lab, order_id).write_bytes(b'{"digest_sha256":"%s",%s' % (sha.encode(), body))
    return {"digest_sha256": sha, **content}


def test_a_v6_digest_is_still_genuine_and_is_made_again_as_v7_with_the_revision(lab: Lab) -> None:
    before = lab.dro("status", "--format", "json")
    old = _as_v6(lab, "ORD-1")
    folder = _path(lab, "ORD-1").parent
    assert digest.read_genuine(folder) == old  # its last record still a high-water mark
    assert digest.load(folder) is None  # without the revision a summary needs: made again
    after = lab.dro("status", "--format", "json")
    assert (after.exit_code, after.output) == (before.exit_code, before.output)
    again = json.loads(_path(lab, "ORD-1").read_bytes())
    assert again["schema_version"] == 7 and again["summary"]["revision"] == 1 and digest.load(folder) == again
    verified = lab.dro("verify", "ORD-1")
    assert verified.exit_code == 0, verified.output


def test_a_v5_digest_with_a_wrong_hash_is_not_genuine(lab: Lab) -> None:
    old = _as_v5(lab, "ORD-1")
    old["state"] = "completed"
    _path(lab, "ORD-1").write_text(json.dumps(old, separators=(",", ":")))
    assert digest.read_genuine(_path(lab, "ORD-1").parent) is None
    assert lab.json("status")["orders"][0]["state"] == "in_progress"


def test_a_v5_digests_last_record_still_tells_a_journal_cut_short(lab: Lab) -> None:
    _as_v5(lab, "ORD-2")
    journal = lab.state / "orders" / "ORD-2" / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-1]))  # a whole record off the end: the chain still verifies
    shown = lab.dro("status", "ORD-2")
    assert shown.exit_code == 1 and "DRO517" in shown.output and "digest.json saw record" in shown.output, \
        shown.output


@pytest.mark.parametrize("change", [
    (b'"state":"in_progress"', b'"state":"completed"'),   # what status lists
    (b'"fallout":[{', b'"fallout":[ {'),                  # the same JSON, other bytes
])
def test_a_v7_digest_whose_bytes_were_changed_is_ignored_and_made_again(lab: Lab,
                                                                          change: tuple[bytes, bytes]) -> None:
    before = lab.dro("status", "--format", "json")
    fallout = lab.json("fallout")
    path = _path(lab, "ORD-1")
    data = path.read_bytes()
    assert data.count(change[0]) == 1
    path.write_bytes(data.replace(*change))  # the journal unchanged: only the hash tells
    assert digest.read_genuine(path.parent) is None
    after = lab.dro("status", "--format", "json")
    assert (after.exit_code, after.output) == (before.exit_code, before.output)
    assert path.read_bytes() == data  # made again from the journal
    path.write_bytes(data.replace(*change))
    verified = lab.dro("verify", "ORD-1")
    assert verified.exit_code == 0 and "digest.json is damaged or was changed by hand" in verified.output, \
        verified.output
    path.write_bytes(data.replace(*change))
    assert lab.json("fallout") == fallout and path.read_bytes() == data
