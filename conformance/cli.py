"""The ``idlespec`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import idlespec

from .demo import run_demo


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="idlespec", description="requestIdleCallback: the spec, executable."
    )
    parser.add_argument("--version", action="version", version=idlespec.__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run a tour of spec behaviours on the reference")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        return run_demo()
    raise AssertionError(f"unhandled command {args.command}")  # pragma: no cover
