"""A user's mistakes get one line naming what is wrong, exit status 2, and no traceback."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from idlespec.conformance.cli import main
from idlespec.conformance.errors import IdlespecError, MissingExtra
from idlespec.conformance.rows import load_rows, rows_by_id
from idlespec.conformance.verdicts import EXPECTATIONS_DIR, load_known_failures


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def _one_line_error(argv: list[str], *needles: str) -> None:
    status, _, err = _run(argv)
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("idlespec: "), err
    for needle in needles:
        assert needle in err, err


CANDIDATE = """
class NeedsArgs:
    name = "needs"; version = "1"; kind = "userland"
    def __init__(self, x): pass
    def install(self, host): return host

class WrongKind:
    name = "wrong"; version = "1"; kind = "polyfill"
    def install(self, host): return host

class NoBinding:
    name = "nobinding"; version = "1"; kind = "userland"
    def install(self, host): return object()

good = NoBinding()
wrong = WrongKind()
"""


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "mine.py").write_text(textwrap.dedent(CANDIDATE), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    monkeypatch.delitem(sys.modules, "mine", raising=False)
    return tmp_path


def test_a_module_beside_the_user_is_importable(here: Path) -> None:
    status, out, _ = _run(
        ["run", "-c", "mine:good", "-k", "fifo-seven", "--out", "r", "--progress", "never"]
    )
    # The binding lacks its methods: every row is ERROR naming the missing one, exit 1.
    assert status == 1
    raw = (here / "r" / "raw" / "nobinding.jsonl").read_text(encoding="utf-8")
    assert "install() returned object, which has no request_idle_callback()" in raw
    assert "ERROR" in out


def test_candidate_mistakes_name_the_field(here: Path) -> None:
    _one_line_error(["run", "-c", "mine:NeedsArgs"], "mine:NeedsArgs", "no arguments")
    _one_line_error(["run", "-c", "mine:wrong"], "`kind` is 'polyfill'", "'native'")
    _one_line_error(["run", "-c", ":x"], "module:attribute, both non-empty")
    _one_line_error(["run", "-c", "nope_module:x"], "cannot import 'nope_module'")


def test_a_missing_folder_of_tables_is_an_error(tmp_path: Path) -> None:
    _one_line_error(["list", "rows", "--cases", str(tmp_path / "nope")], "no such folder")
    _one_line_error(["run", "--cases", str(tmp_path)], "no table in it")


def test_report_files_are_readable_by_everyone(tmp_path: Path) -> None:
    status, _, _ = _run(
        [
            "run",
            "-c",
            "reference",
            "-k",
            "fifo-seven",
            "--out",
            str(tmp_path),
            "--progress",
            "never",
        ]
    )
    assert status == 0
    umask = os.umask(0)
    os.umask(umask)
    for name in ("index.html", "summary.json", "summary.md", "junit.xml", "badges/reference.json"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))


def test_a_closed_pipe_is_not_an_error() -> None:
    shell = f"{sys.executable} -m idlespec list rows | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("idl-") and "Broken pipe" not in done.stderr


def test_user_expectations_add_to_idlespecs_own(tmp_path: Path) -> None:
    rows = rows_by_id(load_rows())
    own = load_known_failures("settimeout-shim", rows)
    (tmp_path / "settimeout-shim.toml").write_text(
        '[known-failures]\n"idl-handle-first-call-returns-one" = "mine"\n', encoding="utf-8"
    )
    both = load_known_failures("settimeout-shim", rows, [EXPECTATIONS_DIR, tmp_path])
    assert both == {**own, "idl-handle-first-call-returns-one": "mine"}
    fifo = {k: v for k, v in rows.items() if v.area == "idl"}
    only = load_known_failures("settimeout-shim", fifo, [EXPECTATIONS_DIR])
    assert only and set(only) <= set(fifo)


def test_missing_extras_are_user_errors() -> None:
    assert issubclass(MissingExtra, IdlespecError)


def test_a_rerun_writes_the_same_report_bytes(tmp_path: Path) -> None:
    """Timings are kept out of the committed artifacts: a rerun changes nothing."""
    for out in ("a", "b"):
        status, _, _ = _run(
            [
                "run",
                "-c",
                "reference",
                "-c",
                "settimeout-shim",
                "-k",
                "fifo",
                "--out",
                str(tmp_path / out),
                "--progress",
                "never",
            ]
        )
        assert status == 0
    files = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    reports = [f for f in files if f.parts[0] != "timings"]
    assert {"index.html", "summary.json", "summary.md", "junit.xml"} <= {str(f) for f in reports}
    for name in reports:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "timings" / "reference.json").is_file()


def test_report_reads_the_verdicts_against_todays_expectation_files(tmp_path: Path) -> None:
    status, _, _ = _run(
        [
            "run",
            "-c",
            "settimeout-shim",
            "-k",
            "idl-callback-nullish",
            "--out",
            str(tmp_path),
            "--expectations",
            str(tmp_path / "none"),
            "--progress",
            "never",
        ]
    )
    assert status == 0  # idlespec's own file lists the row: XFAIL
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "settimeout-shim.toml").write_text("[known-failures]\n", encoding="utf-8")
    raw = tmp_path / "raw" / "settimeout-shim.jsonl"
    text = raw.read_text(encoding="utf-8").replace('"verdict": "XFAIL"', '"verdict": "FAIL"')
    raw.write_text(text, encoding="utf-8")
    status, _, _ = _run(["report", str(tmp_path), "--out", str(tmp_path / "again")])
    assert status == 0
    counts = json.loads((tmp_path / "again" / "summary.json").read_text())["candidates"][0][
        "counts"
    ]
    assert counts["FAIL"] == 0 and counts["XFAIL"] >= 1, counts
    summary = (tmp_path / "again" / "summary.md").read_text(encoding="utf-8")
    assert "No row failed that an expectation file does not list" in summary


def test_a_filtered_run_says_so_and_shows_only_its_own_candidates(tmp_path: Path) -> None:
    whole = [
        "run",
        "-c",
        "reference",
        "-c",
        "settimeout-shim",
        "-k",
        "fifo-seven",
        "--out",
        str(tmp_path),
        "--progress",
        "never",
    ]
    assert _run(whole)[0] == 0
    status, out, _ = _run(
        [
            "run",
            "-c",
            "reference",
            "-k",
            "fifo-seven",
            "--out",
            str(tmp_path),
            "--progress",
            "never",
        ]
    )
    assert status == 0
    assert {p.name for p in (tmp_path / "raw").iterdir()} == {"reference.jsonl"}
    assert {p.name for p in (tmp_path / "badges").iterdir()} == {"reference.json"}
    total = len(load_rows())
    assert f"**Filtered run: 1 of {total} rows (-k fifo-seven).**" in out
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["selection"] == {"rows": 1, "of": total, "filters": {"-k": "fifo-seven"}}
    assert f"Filtered run: 1 of {total} rows" in (tmp_path / "index.html").read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize("kind", ["userland", "native", "self-hosted", "js"])
def test_every_skeleton_runs_as_written(here: Path, kind: str) -> None:
    file = here / ("skeleton.js" if kind == "js" else f"sk_{kind.replace('-', '_')}.py")
    status, out, _ = _run(["new-candidate", kind, str(file)])
    assert status == 0 and "run it with: " in out
    spec = f"js:{file}" if kind == "js" else f"{file.stem}:candidate"
    status, out, err = _run(
        ["run", "-c", spec, "-k", "fifo-seven", "--out", "r", "--progress", "never"]
    )
    assert status == 0, (out, err)
    assert "| 1 | 0 |" in out  # PASS 1, FAIL 0
    _one_line_error(["new-candidate", kind, str(file)], "exists")


def test_fuzz_without_hypothesis_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_hypothesis(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("hypothesis"):
            raise ImportError("No module named 'hypothesis'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_hypothesis)
    _one_line_error(["fuzz", "-c", "reference"], "pip install 'idlespec[fuzz]'")
