"""Notes on third-party candidates: well-formed, and every cited package line exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from idlespec.conformance.api import file_stem
from idlespec.conformance.node.candidates import JS_CANDIDATES, node_modules
from idlespec.conformance.notes import NOTES_DIR, load_notes
from idlespec.conformance.rows import TableError, load_rows, rows_by_id

INDEX = rows_by_id(load_rows())
THIRD_PARTY = {name: source for name, (_, source, _) in JS_CANDIDATES.items() if source.package}


@pytest.mark.parametrize("name", sorted(THIRD_PARTY))
def test_every_third_party_candidate_has_notes_citing_lines_that_exist(name: str) -> None:
    notes = load_notes(name, INDEX)
    assert notes is not None, f"{NOTES_DIR}/{file_stem(name)}.toml is missing"
    assert notes.notes, "a notes file explains at least one verdict"
    folder = node_modules() / str(THIRD_PARTY[name].package)
    if not folder.is_dir():
        pytest.skip(f"{folder} is not installed (npm ci)")
    for note in notes.notes:
        assert not note.is_public_record, f"{name}: a package note cites its own lines"
        path = folder / note.file
        assert path.is_file(), f"{name}: {note.source}: no such file"
        first, last = note.lines
        count = len(path.read_text(encoding="utf-8").splitlines())
        assert 1 <= first <= last <= count, f"{name}: {note.source}: the file has {count} lines"


def test_no_notes_file_without_its_candidate() -> None:
    engines = {"chromium-live", "chromium-virtual", "firefox-esr-live"}
    stems = {file_stem(name) for name in THIRD_PARTY} | engines
    assert {p.stem for p in NOTES_DIR.glob("*.toml")} <= stems


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("summary = 1\n", "summary"),
        ('summary = "s"\nother = 1\n', "other"),
        ('summary = "s"\n[[note]]\nrows = []\nsource = "a.js:1"\ntext = "t"\n', "rows"),
        ('summary = "s"\n[[note]]\nrows = ["nope"]\nsource = "a.js:1"\ntext = "t"\n', "rows"),
        (
            'summary = "s"\n[[note]]\nrows = ["idl-handle-first-call-returns-one"]\n'
            'source = "a.js"\ntext = "t"\n',
            "source",
        ),
        (
            'summary = "s"\n[[note]]\nrows = ["idl-handle-first-call-returns-one"]\n'
            'source = "a.js:1-2"\ntext = ""\n',
            "text",
        ),
        ('summary = "s"\n[[note]]\nrows = ["x"]\n', "note 1"),
        ("summary = \n", "not valid TOML"),
    ],
)
def test_a_bad_notes_file_names_the_file_the_note_and_the_field(
    tmp_path: Path, text: str, field: str
) -> None:
    (tmp_path / "cand.toml").write_text(text, encoding="utf-8")
    with pytest.raises(TableError, match=field) as caught:
        load_notes("cand", INDEX, tmp_path)
    assert "cand.toml" in str(caught.value)


def test_a_good_notes_file_loads() -> None:
    assert load_notes("nobody", INDEX) is None
