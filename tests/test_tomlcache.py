"""TOML files and tables are parsed and validated once per content, and never wrongly kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from idlespec.conformance import rows, tomlcache
from idlespec.conformance.rows import TableError, load_table


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("IDLESPEC_CACHE_DIR", str(folder))
    monkeypatch.setattr(tomlcache, "_PARSED", {})
    _new_process(monkeypatch)
    return folder


def _new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the rows this process built: only the disk cache remains."""
    monkeypatch.setattr(rows, "_BUILT", {})


def test_a_parse_is_kept_on_disk_and_read_back_as_a_fresh_copy(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = 'a = 1\nb = [1.5, "x"]\n[t]\nc = true\n'
    first = tomlcache.parse_toml(text)
    assert first == {"a": 1, "b": [1.5, "x"], "t": {"c": True}}
    assert len(list((cache / "toml").iterdir())) == 1
    first["a"] = 2  # a caller's change does not reach the next caller
    monkeypatch.setattr(tomlcache, "_PARSED", {})  # a new process: from disk
    monkeypatch.setattr(tomlcache.tomllib, "loads", _never)
    again = tomlcache.parse_toml(text)
    assert again == {"a": 1, "b": [1.5, "x"], "t": {"c": True}}
    assert isinstance(again["b"][0], float) and isinstance(again["a"], int)


def test_a_damaged_entry_is_parsed_again(cache: Path) -> None:
    text = "a = 1\n"
    tomlcache.parse_toml(text)
    (entry,) = (cache / "toml").iterdir()
    entry.write_text("{not json", encoding="utf-8")
    tomlcache._PARSED.clear()
    assert tomlcache.parse_toml(text) == {"a": 1}


def test_text_that_is_not_toml_raises_and_is_not_kept(cache: Path) -> None:
    with pytest.raises(tomlcache.tomllib.TOMLDecodeError):
        tomlcache.parse_toml("a = \n")
    assert not (cache / "toml").exists()


def test_an_empty_cache_dir_turns_the_disk_cache_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDLESPEC_CACHE_DIR", "")
    assert tomlcache.cache_dir() is None
    assert tomlcache.recall("toml", "x") is None
    tomlcache.remember("toml", "x", "y")  # nowhere to keep it: nothing happens
    assert tomlcache.parse_toml("a = 3\n") == {"a": 3}


def test_the_default_cache_is_the_users(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("IDLESPEC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tomlcache.cache_dir() == tmp_path / "idlespec"


def test_an_unwritable_cache_only_costs_the_speed_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("IDLESPEC_CACHE_DIR", str(blocker / "below-a-file"))
    monkeypatch.setattr(tomlcache, "_PARSED", {})
    assert tomlcache.parse_toml("a = 4\n") == {"a": 4}


def _table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fifo.toml"
    path.write_text(text, encoding="utf-8")
    return path


_ROW = """
[[row]]
id = "fifo-cache-probe"
description = "Two callbacks posted in turn run in the order they were posted."
spec = "#the-requestidlecallback-method step 5"
level = "must"
area = "fifo"
tags = ["ordering"]
covers = ["R-05"]
steps = [{ post = "a" }, { post = "b" }]
[row.expect]
order = ["a", "b"]
"""


def test_a_valid_table_is_validated_once(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _table(tmp_path, _ROW)
    assert [row.id for row in load_table(path)] == ["fifo-cache-probe"]
    _new_process(monkeypatch)  # the marker on disk says the table is valid
    monkeypatch.setattr(rows, "_validator", _never)
    assert [row.id for row in load_table(path)] == ["fifo-cache-probe"]


def test_an_invalid_table_fails_on_every_load(cache: Path, tmp_path: Path) -> None:
    path = _table(tmp_path, _ROW.replace('level = "must"', 'level = "maybe"'))
    for _ in range(2):
        with pytest.raises(TableError, match="level"):
            load_table(path)
    assert not (cache / "valid-tables").exists()


def test_a_changed_schema_validates_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _table(tmp_path, _ROW)
    load_table(path)
    _new_process(monkeypatch)
    monkeypatch.setattr(rows, "_schema_key", lambda: b"another schema")
    calls = []
    real = rows._validator
    monkeypatch.setattr(rows, "_validator", lambda: calls.append(1) or real())
    load_table(path)
    assert calls == [1]


def test_a_table_is_built_once_per_process_and_again_when_its_text_changes(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _table(tmp_path, _ROW)
    first = load_table(path)
    real = rows._check_row
    monkeypatch.setattr(rows, "_check_row", _never)
    again = load_table(path)
    assert again == first and again is not first  # the same rows, in a list of its own
    again.clear()
    assert load_table(path) == first
    monkeypatch.setattr(rows, "_check_row", real)
    changed = _ROW.replace("fifo-cache-probe", "fifo-cache-probe-2")
    path.write_text(path.read_text(encoding="utf-8").replace(_ROW, changed), encoding="utf-8")
    assert [row.id for row in load_table(path)] == ["fifo-cache-probe-2"]


def _never(*args: object) -> object:
    raise AssertionError("should have come from the cache")


def test_the_validation_key_names_the_installed_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import version

    assert rows._jsonschema_version() == version("jsonschema")
    # Without a single .dist-info folder beside the package, the metadata answers.
    monkeypatch.setattr(rows.importlib.util, "find_spec", lambda name: None)
    assert rows._jsonschema_version() == version("jsonschema")
