"""The installed distribution: names, version, command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import idlespec
from idlespec.conformance.cli import main


def test_no_top_level_reference_shims_or_conformance(tmp_path: Path) -> None:
    # Run from an empty folder so the source tree is not on sys.path.
    code = (
        "import importlib.util as u, idlespec.reference as r, idlespec.shims, "
        "idlespec.conformance; "
        "print([u.find_spec(n) is None for n in ('reference', 'shims', 'conformance')], "
        "r.EventLoop.__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[True, True, True] EventLoop"


def test_package_is_typed() -> None:
    assert (Path(idlespec.__file__).parent / "py.typed").is_file()


def test_demo_runs_and_prints_observations(capsys: object) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "observed:  at 0 ms, timeRemaining 50" in out
    assert "observed:  C@50, B@90, A@100" in out


def test_python_dash_m_idlespec_version(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "idlespec", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == idlespec.__version__
