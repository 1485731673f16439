"""Every id the repository cites is defined in it: R-, F-, N- and T-ids in spec.toml.

Code, tables and docs cite requirements (R-xx), freedoms (F-xx), traps (N-xx) and testable
assertions (T-xx), singly or as ranges (``T-22..T-29``). Each must resolve in
``conformance/cases/spec.toml``, read through the row loader, and no file may point at
documents the repository does not hold ("DESIGN principle n", "spec-digest R-xx").
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import pytest

from idlespec.conformance.rows import spec_vocabulary

ROOT = Path(__file__).resolve().parents[1]
EXCLUDED = ("reports/", "node_modules/")
ID = re.compile(r"\b([RFNT])-(\d{2})\b")
RANGE = re.compile(r"\b([RFNT])-(\d{2})\.\.\1-(\d{2})\b")
#: Ids cited on purpose although undefined, and the files allowed to cite them.
DELIBERATELY_UNKNOWN = {"R-99": {"tests/test_rows.py", "tests/test_cited_ids.py"}}
#: A row's provenance tag (``source = "spec-digest:T-10"``, the schema's ``source`` pattern)
#: is data: rows and reports carry it. Its id must still resolve.
SOURCE_TAG = re.compile(r"spec-digest:(?=[RFNT]-\d{2}\b)")
SCHEMA_SOURCE_PATTERN = "|spec-digest):"
#: This file names the phrases it looks for.
THIS_FILE = "tests/test_cited_ids.py"


@cache
def tracked_text_files() -> dict[str, str]:
    """Every tracked text file outside reports/ and node_modules/, by repository path."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    texts: dict[str, str] = {}
    for name in filter(None, listed.split("\0")):
        path = ROOT / name
        if name.startswith(EXCLUDED) or not path.is_file():
            continue
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def cited_ids(text: str) -> set[str]:
    """The ids a text cites, with ranges expanded."""
    ids = {f"{kind}-{number}" for kind, number in ID.findall(text)}
    for kind, first, last in RANGE.findall(text):
        ids.update(f"{kind}-{n:02d}" for n in range(int(first), int(last) + 1))
    return ids


def catalogue() -> dict[str, Mapping[str, str] | str]:
    """Every id spec.toml defines, with its entry."""
    vocabulary = spec_vocabulary()
    return {
        **vocabulary.requirements,
        **vocabulary.freedoms,
        **vocabulary.traps,
        **vocabulary.assertions,
    }


def test_the_catalogue_loads_every_kind() -> None:
    vocabulary = spec_vocabulary()
    for kind, table in (
        ("R", vocabulary.requirements),
        ("F", vocabulary.freedoms),
        ("N", vocabulary.traps),
        ("T", vocabulary.assertions),
    ):
        assert table, kind
        assert all(re.fullmatch(rf"{kind}-\d{{2}}", key) for key in table), kind


@pytest.mark.parametrize("table", ["freedoms", "traps", "assertions"])
def test_each_entry_has_a_known_anchor_a_title_and_a_text(table: str) -> None:
    vocabulary = spec_vocabulary()
    for key, entry in getattr(vocabulary, table).items():
        assert set(entry) == {"spec", "title", "text"}, key
        assert entry["spec"].split(" ", 1)[0] in vocabulary.anchors, key
        assert entry["title"].strip() and "\n" not in entry["title"], key
        assert entry["text"].strip(), key


def test_every_cited_id_is_defined() -> None:
    known = set(catalogue())
    undefined = sorted(
        f"{name}: {ident}"
        for name, text in tracked_text_files().items()
        for ident in cited_ids(text) - known
        if name not in DELIBERATELY_UNKNOWN.get(ident, set())
    )
    assert not undefined


def test_the_catalogue_defines_the_ids_its_own_texts_cite() -> None:
    known = set(catalogue())
    for key, entry in catalogue().items():
        text = entry if isinstance(entry, str) else " ".join(entry.values())
        assert cited_ids(text) <= known, key


def test_no_file_points_at_documents_outside_the_repository() -> None:
    offending = []
    for name, text in tracked_text_files().items():
        if name == THIS_FILE:
            continue
        rest = SOURCE_TAG.sub("", text)
        if name == "conformance/cases/schema.json":
            rest = rest.replace(SCHEMA_SOURCE_PATTERN, "")
        for number, line in enumerate(rest.splitlines(), start=1):
            offending += [
                f"{name}:{number}: {phrase}"
                for phrase in ("DESIGN principle", "spec-digest")
                if phrase in line
            ]
    assert not offending


def test_ranges_and_single_ids_are_read() -> None:
    assert cited_ids("(R-22..R-24; T-10, N-05)") == {"R-22", "R-23", "R-24", "T-10", "N-05"}
    assert cited_ids('source = "spec-digest:T-10"') == {"T-10"}
    assert not SOURCE_TAG.sub("", 'source = "spec-digest:T-10"').count("spec-digest")
