"""The CI entry points run exactly the envs tox.ini lists (.ci/test, tox.ini)."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.replace("\n", ",").split(",") if name.strip()]


def test_the_two_groups_of_ci_test_are_env_list_in_order() -> None:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini", encoding="utf-8")
    env_list = _names(tox["tox"]["env_list"])
    labels = {
        name.strip(): _names(envs)
        for name, _, envs in (
            line.partition("=") for line in tox["tox"]["labels"].splitlines() if line.strip()
        )
    }
    assert set(labels) == {"side-by-side", "one-at-a-time"}
    assert labels["side-by-side"] + labels["one-at-a-time"] == env_list
    # The engines and coverage run one at a time: nothing else competes with the browsers'
    # real time, and coverage combines what py313 measured.
    assert {"py313", "coverage", "browsers"} <= set(labels["one-at-a-time"])
    script = (ROOT / ".ci" / "test").read_text(encoding="utf-8")
    assert "run-parallel -m side-by-side -p 2" in script
    assert "run -m one-at-a-time" in script
