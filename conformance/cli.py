"""The ``idlespec`` command line: run, list, report, diff, export, demo."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import idlespec
from idlespec.reference import wall_clock

from .api import expectations_name, file_stem
from .candidates import available_candidates, builtin_candidates, resolve_candidate
from .connectors import connector_for
from .demo import run_demo
from .errors import IdlespecError, RawResultsError
from .reports import (
    RAW_DIR,
    TIMINGS_DIR,
    RawWriter,
    read_raw,
    requirement_coverage,
    suite_revision,
    summary_markdown,
    write_reports,
)
from .rows import AREAS, CASES_DIR, LEVELS, Row, load_rows, rows_by_id, table_files
from .runner import DEFAULT_WATCHDOG_S, Result, run_rows
from .skeletons import write_skeleton
from .verdicts import (
    EXPECTATIONS_DIR,
    MEANING,
    Verdict,
    apply_known_failures,
    fails_run,
    load_known_failures,
)
from .wpt import coverage_markdown, load_assertions

EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="idlespec",
        description="requestIdleCallback: the spec, executable, and a suite that judges others.",
    )
    parser.add_argument("--version", action="version", version=idlespec.__version__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run rows against candidates and write reports")
    run.add_argument(
        "--candidate",
        "-c",
        action="append",
        metavar="NAME",
        help="a built-in or entry-point name, or module:attribute "
        "(repeatable; default: every built-in)",
    )
    _add_filters(run)
    run.add_argument(
        "--out", "-o", type=Path, default=Path("reports"), help="report folder (default: reports)"
    )
    run.add_argument(
        "--expectations",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of <candidate>.toml known-failure files, added to idlespec's own "
        "(repeatable; a row listed twice keeps the later reason)",
    )
    run.add_argument("--strict", action="store_true", help="NON-STRICT verdicts fail the run too")
    run.add_argument(
        "--isolate",
        action="store_true",
        help="run Python candidates in a child process, killed if a row hangs",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted run in --out: rows already in raw/*.jsonl.partial are kept",
    )
    run.add_argument(
        "--refresh",
        action="store_true",
        help="rerun only the rows that changed since the finished run in --out (same candidate "
        "version); the others keep their results, judged against today's expectations",
    )
    run.add_argument(
        "--watchdog",
        type=float,
        default=DEFAULT_WATCHDOG_S,
        metavar="S",
        help="real seconds a row may take (default %(default)s)",
    )
    run.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on stderr (auto: on a terminal)",
    )

    listing = commands.add_parser(
        "list", help="list rows, candidates, requirements, or the WPT traceability table"
    )
    listing.add_argument("what", choices=("rows", "candidates", "requirements", "wpt"))
    _add_filters(listing)

    report = commands.add_parser("report", help="rebuild the reports from raw results")
    report.add_argument(
        "raw", nargs="+", type=Path, help="raw .jsonl files, or folders holding raw/*.jsonl"
    )
    report.add_argument("--out", "-o", type=Path, default=Path("reports"))
    report.add_argument(
        "--expectations",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of <candidate>.toml known-failure files, added to idlespec's own",
    )
    _add_cases(report)

    diff = commands.add_parser(
        "diff", help="compare two runs by row id: flips first, then failure deltas"
    )
    diff.add_argument("old", type=Path, help="a raw .jsonl file or a report folder")
    diff.add_argument("new", type=Path)

    export = commands.add_parser("export", help="write the tables as JSON")
    export.add_argument("--out", "-o", type=Path, help="file to write (default: stdout)")
    _add_cases(export)

    fuzz = commands.add_parser(
        "fuzz", help="random scenarios against invariants; a violation shrinks into a row"
    )
    fuzz.add_argument("--candidate", "-c", required=True, metavar="NAME")
    fuzz.add_argument(
        "--examples", type=int, default=300, help="scenarios to try (default %(default)s)"
    )

    commands.add_parser("demo", help="run a tour of spec behaviours on the reference")

    new = commands.add_parser("new-candidate", help="write a working candidate skeleton")
    new.add_argument("kind", choices=("userland", "native", "self-hosted", "js"))
    new.add_argument("file", type=Path, help="the file to write (.py, or .js for js)")
    return parser


def _add_cases(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cases",
        type=Path,
        default=CASES_DIR,
        metavar="DIR",
        help="the tables' folder (default: the tables idlespec ships)",
    )


def _rows(args: argparse.Namespace) -> list[Row]:
    return load_rows(table_files(args.cases))


def _add_filters(parser: argparse.ArgumentParser) -> None:
    _add_cases(parser)
    parser.add_argument(
        "-k", dest="keyword", metavar="TEXT", help="only rows whose id or description contains TEXT"
    )
    parser.add_argument(
        "--tag", action="append", default=[], help="only rows with this tag (repeatable: any)"
    )
    parser.add_argument(
        "--area", action="append", default=[], choices=AREAS, help="only rows of this area"
    )
    parser.add_argument(
        "--level", action="append", default=[], choices=LEVELS, help="only rows of this level"
    )


def select_rows(rows: Sequence[Row], args: argparse.Namespace) -> list[Row]:
    """The rows the filters keep, in table order."""
    keyword = (args.keyword or "").lower()
    return [
        row
        for row in rows
        if (not keyword or keyword in row.id or keyword in row.description.lower())
        and (not args.tag or set(args.tag) & set(row.tags))
        and (not args.area or row.area in args.area)
        and (not args.level or row.level in args.level)
    ]


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; return the exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        status = _command(args, out, err)
        out.flush()  # a closed pipe shows here, inside the handler, not at exit
        return status
    except KeyboardInterrupt:
        print(
            "idlespec: interrupted; the rows that finished are in raw/*.jsonl.partial",
            file=err,
        )
        return 130
    except BrokenPipeError:
        # `idlespec ... | head -1`: the reader left; that is not an error of ours. Point
        # stdout at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (IdlespecError, OSError) as error:
        print(f"idlespec: {error}", file=err)
        return EXIT_USAGE


def _command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the parsed command."""
    if args.command == "demo":
        return run_demo(lambda line: print(line, file=out))
    if args.command == "list":
        return _list(args, out)
    if args.command == "export":
        return _export(args, out)
    if args.command == "report":
        return _report(args, out)
    if args.command == "diff":
        return _diff(args, out)
    if args.command == "fuzz":
        return _fuzz(args, out)
    if args.command == "new-candidate":
        command = write_skeleton(args.kind, args.file)
        print(f"wrote {args.file}; run it with: {command}", file=out)
        return 0
    return _run(args, out, err)


def _list(args: argparse.Namespace, out: TextIO) -> int:
    if args.what == "candidates":
        for name, origin in available_candidates().items():
            print(f"{name}\t{origin}", file=out)
        return 0
    rows = _rows(args)
    if args.what == "wpt":
        out.write(coverage_markdown(rows, load_assertions()))
        return 0
    if args.what == "requirements":
        coverage = requirement_coverage(rows)
        for req, ids in coverage["covered_by"].items():
            print(f"{req}\t{len(ids)}\t{coverage['titles'][req]}", file=out)
        print(f"uncovered: {', '.join(coverage['uncovered']) or 'none'}", file=out)
        return 0
    for row in select_rows(rows, args):
        print(f"{row.id}\t{row.level}\t{row.area}\t{row.description}", file=out)
    return 0


def _export(args: argparse.Namespace, out: TextIO) -> int:
    rows = _rows(args)
    document = {
        "suite_revision": suite_revision(table_files(args.cases)),
        "idlespec_version": idlespec.__version__,
        "rows": [r.to_json() for r in rows],
    }
    text = json.dumps(document, indent=1) + "\n"
    if args.out is None:
        out.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    return 0


def _raw_files(paths: Sequence[Path]) -> list[Path]:
    """Raw results: files, or folders' raw/*.jsonl (and *.jsonl.partial of unfinished runs)."""
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        done = _in_run_order(path, sorted((path / RAW_DIR).glob("*.jsonl")))
        unfinished = [
            p
            for p in sorted((path / RAW_DIR).glob("*.jsonl.partial"))
            if p.with_suffix("") not in done
        ]
        files.extend(done + unfinished)
    if not files:
        raise RawResultsError(f"no raw results in {', '.join(map(str, paths))}")
    return files


def _in_run_order(folder: Path, files: list[Path]) -> list[Path]:
    """``files`` in the order the folder's summary.json lists their candidates, if it has one.

    So rebuilding a report from its folder keeps the order of the run that wrote it; files
    the summary does not list (or all of them, without a readable summary) follow by name.
    """
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        names = [entry["candidate"]["name"] for entry in summary["candidates"]]
    except (OSError, ValueError, KeyError, TypeError):
        return files
    rank = {f"{file_stem(name)}.jsonl": i for i, name in enumerate(names)}
    return sorted(files, key=lambda p: (rank.get(p.name, len(rank)), p.name))


def _report(args: argparse.Namespace, out: TextIO) -> int:
    """Rebuild the reports; the verdicts follow today's expectation files.

    A raw verdict is the measurement; XFAIL and XPASS are its reading against an
    expectation file, so a file written after the run applies when the reports are rebuilt.
    """
    rows = _rows(args)
    index = rows_by_id(rows)
    runs = [read_raw(path) for path in _raw_files(args.raw)]
    for run in runs:
        name = run.header["candidate"].get("expectations") or run.name
        known = load_known_failures(name, index, [EXPECTATIONS_DIR, *args.expectations])
        for record in run.results:
            raw = Verdict(record.get("raw_verdict", record["verdict"]))
            record["verdict"] = str(apply_known_failures(raw, record["row"], known))
            record["known_failure"] = known.get(record["row"])
    summary = write_reports(runs, rows, args.out)
    out.write(summary_markdown(summary, notes=False))
    return 0


def _diff(args: argparse.Namespace, out: TextIO) -> int:
    """Compare two runs row by row; exit 1 if a row newly fails (a regression)."""
    old = {
        r.name: {x["row"]: x["verdict"] for x in r.results}
        for r in map(read_raw, _raw_files([args.old]))
    }
    new = {
        r.name: {x["row"]: x["verdict"] for x in r.results}
        for r in map(read_raw, _raw_files([args.new]))
    }

    def failing(verdict: str | None) -> bool:
        return verdict is not None and MEANING[Verdict(verdict)].listed

    regressions = 0
    for name in sorted(old.keys() - new.keys()):
        print(f"{name}: only in {args.old} ({len(old[name])} rows)", file=out)
    for name in sorted(new.keys() - old.keys()):
        print(f"{name}: only in {args.new} ({len(new[name])} rows)", file=out)
    for name in sorted(old.keys() & new.keys()):
        before, after = old[name], new[name]
        flips = sorted(
            (
                (row, before.get(row), after.get(row))
                for row in before.keys() | after.keys()
                if before.get(row) != after.get(row)
            ),
            key=lambda f: (not failing(f[2]), f[0]),
        )
        worse = [f for f in flips if failing(f[2]) and not failing(f[1])]
        regressions += len(worse)
        gone = sum(1 for v in before.values() if failing(v))
        now = sum(1 for v in after.values() if failing(v))
        print(
            f"{name}: {len(flips)} rows changed; failures {gone} -> {now} ({now - gone:+d})",
            file=out,
        )
        for row, was, is_ in flips:
            mark = "  REGRESSION" if failing(is_) and not failing(was) else ""
            print(f"  {row}\t{was or 'absent'} -> {is_ or 'absent'}{mark}", file=out)
    print(f"{regressions} regression(s)", file=out)
    return EXIT_FAILED if regressions else 0


def _fuzz(args: argparse.Namespace, out: TextIO) -> int:
    from .fuzz import fuzz  # noqa: PLC0415 - hypothesis loads only for this command

    start = wall_clock()
    result = fuzz(resolve_candidate(args.candidate), examples=args.examples)
    took = wall_clock() - start
    if result.violation is None:
        rate = result.examples / took if took > 0 else float("inf")
        print(
            f"no invariant broken in {result.examples} scenarios "
            f"({took:.1f} s of real time, {rate:.0f} scenarios/s)",
            file=out,
        )
        return 0
    print(
        f"# invariant {result.violation.invariant!r} broken: {result.violation.message}", file=out
    )
    print(
        f"# shrunk after {result.examples} scenarios; the row below passes on the reference.",
        file=out,
    )
    out.write(result.row_toml)
    return EXIT_FAILED


class _Progress:
    def __init__(self, stream: TextIO, total: int, enabled: bool) -> None:
        self.stream, self.total, self.enabled, self.done = stream, total, enabled, 0

    def step(self, candidate: str, result: Result) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        line = (
            f"\r{candidate:<16} [{bar}] {self.done}/{self.total} "
            f"{result.verdict!s:<11} {result.row.id[:48]:<48}"
        )
        self.stream.write(line)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 120 + "\r")
            self.stream.flush()


def _isolated(spec: str, candidate: Any, cases: Path) -> Any:
    """``--isolate``: an in-process Python candidate moves to a child process."""
    from .isolate import IsolatedCandidate  # noqa: PLC0415 - multiprocessing, only if asked

    if not getattr(candidate, "in_process", True):
        return candidate  # JS and browsers already live in processes of their own
    return IsolatedCandidate(spec, candidate, str(cases))


def _finished_rows(out_dir: Path, name: str, revision: str) -> list[dict[str, Any]]:
    """The rows an interrupted run of ``name`` finished (its .partial file), for --resume.

    Raises:
        RawResultsError: the interrupted run was made with another suite revision.
    """
    partial = out_dir / RAW_DIR / f"{file_stem(name)}.jsonl.partial"
    if not partial.exists():
        return []
    run = read_raw(partial)
    if run.header["suite_revision"] != revision:
        raise RawResultsError(
            f"{partial}: made with suite revision {run.header['suite_revision']}, not "
            f"{revision}: it cannot be resumed (run again without --resume)"
        )
    return run.results


def _unchanged_rows(
    out_dir: Path, candidate: Any, rows: Sequence[Row], err: TextIO
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """For --refresh: the finished run's results whose row is unchanged, and what they are.

    A result is kept only if it names the row revision it was made under and that is the
    row's revision today, and the run was of the same candidate version: a new browser or
    package version reruns everything.
    """
    path = out_dir / RAW_DIR / f"{file_stem(candidate.name)}.jsonl"
    if not path.exists():
        return [], None
    run = read_raw(path)
    before = run.header["candidate"].get("version")
    provenance = getattr(candidate, "provenance", "")
    if run.footer is None or before != candidate.version:
        print(
            f"idlespec: {path}: {'unfinished' if run.footer is None else f'version {before}'}"
            f": rerunning every row of {candidate.name}",
            file=err,
        )
        return [], None
    if run.header["candidate"].get("provenance", "") != provenance:
        print(
            f"idlespec: {path}: made from {run.header['candidate'].get('provenance')!r}, not "
            f"{provenance!r}: rerunning every row of {candidate.name}",
            file=err,
        )
        return [], None
    current = {row.id: row.revision for row in rows}
    # A row the candidate now declares it cannot express runs again too (it becomes
    # UNSUPPORTED): the harness's reading of the row changed, though the row did not. (The
    # other way round cannot be told before the candidate opens: a self-hosted JS candidate
    # learns what it cannot do from its process.)
    connector = connector_for(candidate)
    refused = {row.id for row in rows if connector.unsupported(row) is not None}
    kept = [
        r
        for r in run.results
        if current.get(r["row"]) == r.get("row_revision")
        and (r["row"] not in refused or r["verdict"] == "UNSUPPORTED")
    ]
    carried_before = run.header.get("carried", {})
    # The first revision results were carried from, across successive refreshes.
    carried = {
        "rows": len(kept),
        "from_suite_revision": carried_before.get("from_suite_revision")
        or run.header["suite_revision"],
    }
    print(
        f"idlespec: {candidate.name}: {len(kept)} of {len(rows)} rows unchanged since "
        f"{path.name} (kept), {len(rows) - len(kept)} to run",
        file=err,
    )
    return kept, carried


def _selection(args: argparse.Namespace, ran: int, total: int) -> dict[str, Any] | None:
    """What a filtered run ran (None for the whole suite): said in every report."""
    filters = {
        key: value
        for key, value in (
            ("-k", args.keyword),
            ("--tag", args.tag),
            ("--area", args.area),
            ("--level", args.level),
        )
        if value
    }
    return None if not filters else {"rows": ran, "of": total, "filters": filters}


def _forget_other_runs(out_dir: Path, names: set[str]) -> None:
    """A report folder shows one run: drop raw results, badges and timings of others."""
    stems = {file_stem(name) for name in names}
    for folder, suffix in ((RAW_DIR, ".jsonl"), ("badges", ".json"), (TIMINGS_DIR, ".json")):
        for path in (out_dir / folder).glob(f"*{suffix}"):
            if path.name.removesuffix(suffix) not in stems:
                path.unlink()


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.resume and args.refresh:
        print("idlespec: --resume and --refresh cannot be combined", file=err)
        return EXIT_USAGE
    all_rows = _rows(args)
    rows = select_rows(all_rows, args)
    if not rows:
        print("idlespec: no row matches the filters", file=err)
        return EXIT_USAGE
    specs = args.candidate or list(builtin_candidates())
    candidates = [resolve_candidate(spec) for spec in specs]
    if args.isolate:
        candidates = [
            _isolated(spec, c, args.cases) for spec, c in zip(specs, candidates, strict=True)
        ]
    index = rows_by_id(all_rows)
    revision = suite_revision(table_files(args.cases))
    enabled = args.progress == "always" or (args.progress == "auto" and err.isatty())
    progress = _Progress(err, len(rows) * len(candidates), enabled)
    runs = []
    failed = False
    for candidate in candidates:
        known = load_known_failures(
            expectations_name(candidate), index, [EXPECTATIONS_DIR, *args.expectations]
        )
        info = {
            "name": candidate.name,
            "version": candidate.version,
            "kind": candidate.kind,
            "provenance": getattr(candidate, "provenance", ""),
            "expectations": expectations_name(candidate),
        }
        done = _finished_rows(args.out, candidate.name, revision) if args.resume else []
        carried = None
        if args.refresh:
            done, carried = _unchanged_rows(args.out, candidate, rows, err)
            for kept in done:
                raw = Verdict(kept.get("raw_verdict", kept["verdict"]))
                kept["verdict"] = str(apply_known_failures(raw, kept["row"], known))
                kept["known_failure"] = known.get(kept["row"])
        writer = RawWriter(args.out, info, revision, carried)
        for kept in done:
            writer.write(kept)
        finished = {kept["row"] for kept in done}
        todo = [row for row in rows if row.id not in finished]
        start = wall_clock()

        def record(result: Result, writer: RawWriter = writer, name: str = candidate.name) -> None:
            writer.write(result.to_json())
            progress.step(name, result)

        try:
            results = run_rows(todo, candidate, known, on_result=record, watchdog_s=args.watchdog)
        except BaseException:
            writer.abandon()
            raise
        path = writer.close(wall_clock() - start)
        runs.append(read_raw(path))
        failed = failed or any(fails_run(r.verdict, args.strict) for r in results)
        failed = failed or any(fails_run(Verdict(d["verdict"]), args.strict) for d in done)
    progress.finish()
    _forget_other_runs(args.out, {run.name for run in runs})
    selection = _selection(args, len(rows), len(all_rows))
    summary = write_reports(runs, all_rows, args.out, selection)
    out.write(summary_markdown(summary, notes=False))
    out.write(
        f"\nReports written to {args.out}/ "
        "(index.html, summary.json, summary.md, junit.xml, badges/, raw/).\n"
    )
    return EXIT_FAILED if failed else 0
