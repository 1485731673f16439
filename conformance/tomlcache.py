"""TOML parsed once per content: the suite reads the same tables on every run.

Python's TOML parser is pure Python, and a run reads about 40 files (the tables, spec.toml,
the expectation and note files, the WPT catalogue): parsing them was a third of a
reference-only run. A file's parse is kept by the digest of its text, in this process and
as JSON in the cache folder (``IDLESPEC_CACHE_DIR``, else the user's cache folder; ``""``
turns the disk cache off), so a file is parsed again only when its text changes. Each call
decodes its own copy, so no two callers share mutable data. A file that does not parse is
never kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["cache_dir", "parse_toml"]

#: Parses this process has made or read, by digest, as JSON.
_PARSED: dict[str, str] = {}


def cache_dir() -> Path | None:
    """idlespec's cache folder, or None when ``IDLESPEC_CACHE_DIR=""`` turns it off."""
    chosen = os.environ.get("IDLESPEC_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "idlespec"


def remember(folder: str, digest: str, text: str) -> None:
    """Keep ``text`` as ``<cache>/<folder>/<digest>`` (atomically; a read-only home is fine)."""
    base = cache_dir()
    if base is None:
        return
    kept = base / folder / digest
    with contextlib.suppress(OSError):
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f"{digest}.{os.getpid()}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(kept)


def recall(folder: str, digest: str) -> str | None:
    """What :func:`remember` kept, or None."""
    base = cache_dir()
    if base is None:
        return None
    try:
        return (base / folder / digest).read_text(encoding="utf-8")
    except OSError:
        return None


def parse_toml(text: str) -> Any:
    """``tomllib.loads(text)``, from the cache when this exact text was parsed before.

    Raises:
        tomllib.TOMLDecodeError: the text is not TOML.
    """
    digest = hashlib.sha256(text.encode()).hexdigest()
    kept = _PARSED.get(digest) or recall("toml", f"{digest}.json")
    if kept is not None:
        with contextlib.suppress(ValueError):  # a damaged entry: parse again
            data = json.loads(kept)
            _PARSED[digest] = kept
            return data
    data = tomllib.loads(text)
    _PARSED[digest] = json.dumps(data)
    remember("toml", f"{digest}.json", _PARSED[digest])
    return data
