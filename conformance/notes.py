"""Notes on candidates: why a third-party candidate gets the verdicts it gets.

``notes/<file_stem(name)>.toml`` holds, for one candidate (by its expectations name), a
``summary`` of how it works and a ``[[note]]`` for each surprising verdict: the ``rows`` it
explains, the ``source`` that shows the cause and a short ``text``. For a package the source
is the line that causes it (``file:line`` or ``file:first-last``, relative to the package's
folder), checked by hand against the published files (a test checks that every cited line
exists); for an engine it is the public record: a bug tracker URL, or ``wpt:`` and the path
of the WPT test or expectation file that shows the same behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .api import file_stem
from .rows import Row, TableError, read_toml

NOTES_DIR: Final = Path(__file__).parent / "notes"
SOURCE: Final = re.compile(r"^(?P<file>[^:\s]+):(?P<first>\d+)(?:-(?P<last>\d+))?$")
PUBLIC: Final = re.compile(r"^(https://\S+|wpt:\S+)$")


@dataclass(frozen=True)
class Note:
    """One explained verdict."""

    rows: tuple[str, ...]
    source: str
    text: str

    @property
    def is_public_record(self) -> bool:
        """Whether the source is a URL or a WPT path rather than a package line."""
        return PUBLIC.match(self.source) is not None

    @property
    def file(self) -> str:
        """The cited file, relative to the package's folder."""
        return self.source.rpartition(":")[0]

    @property
    def lines(self) -> tuple[int, int]:
        """The cited lines, first and last."""
        match = SOURCE.match(self.source)
        assert match is not None  # checked when loaded
        first = int(match["first"])
        return first, int(match["last"] or first)


@dataclass(frozen=True)
class CandidateNotes:
    """Everything said of one candidate."""

    summary: str
    notes: tuple[Note, ...]

    def to_json(self) -> dict[str, Any]:
        """For summary.json."""
        return {
            "summary": self.summary,
            "notes": [
                {"rows": list(n.rows), "source": n.source, "text": n.text} for n in self.notes
            ],
        }


def load_notes(
    candidate: str, rows: Mapping[str, Row], directory: Path = NOTES_DIR
) -> CandidateNotes | None:
    """The notes on ``candidate``, or None if it has none.

    Raises:
        TableError: the file is not valid TOML, or a field is missing or wrong (names the
            file, the note and the field).
    """
    path = directory / f"{file_stem(candidate)}.toml"
    if not path.exists():
        return None
    data = read_toml(path)
    extra = set(data) - {"summary", "note"}
    if extra:
        raise TableError(
            path, None, ", ".join(sorted(extra)), "only summary and [[note]] are allowed"
        )
    summary = data.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise TableError(path, None, "summary", "a non-empty string is required")
    notes = []
    for number, raw in enumerate(data.get("note", []), 1):
        where = f"note {number}"
        if not isinstance(raw, dict) or set(raw) != {"rows", "source", "text"}:
            raise TableError(path, where, "", "a note has exactly rows, source and text")
        ids = raw["rows"]
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise TableError(path, where, "rows", "a non-empty list of row ids is required")
        for row_id in ids:
            if row_id not in rows:
                raise TableError(path, where, "rows", f"no row has the id {row_id!r}")
        source = raw["source"]
        if not isinstance(source, str) or not (SOURCE.match(source) or PUBLIC.match(source)):
            raise TableError(
                path, where, "source", "file:line, file:first-last, an https URL or wpt:PATH"
            )
        if not isinstance(raw["text"], str) or not raw["text"].strip():
            raise TableError(path, where, "text", "a non-empty string is required")
        notes.append(Note(tuple(ids), raw["source"], raw["text"].strip()))
    return CandidateNotes(summary.strip(), tuple(notes))
