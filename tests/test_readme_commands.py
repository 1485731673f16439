"""The README's commands are real: every idlespec command line in it parses, and the extras
and files it names exist."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from idlespec.conformance.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)
COMMANDS = [
    line.split("#")[0].strip()
    for block in BLOCKS
    for line in block.splitlines()
    if line.strip().startswith("idlespec ")
]


def test_the_readme_shows_idlespec_commands() -> None:
    assert len(COMMANDS) >= 8


@pytest.mark.parametrize("command", COMMANDS)
def test_every_idlespec_command_in_the_readme_parses(command: str) -> None:
    argv = shlex.split(command)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as stop:  # argparse exits 2 on a bad command line
        pytest.fail(f"{command!r} does not parse (exit {stop.code})")


def test_no_tracked_file_is_named_like_the_quick_starts_venv() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", ".venv"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    assert tracked == ""


def test_the_extras_the_readme_names_exist() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for extra in re.findall(r"idlespec\[(\w+)\]", README):
        assert extra in extras, extra
    assert {"fuzz", "browsers", "pytest"} <= set(extras)
