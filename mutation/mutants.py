"""What a mutant is, in words that outlive line numbers: shared by the run and its test.

cosmic-ray names a mutant by (module, operator, occurrence): the n-th place in the module
where the operator applies. Occurrences shift whenever the module changes, so the committed
lists name a mutant by its module, operator and the source line before and after the
mutation instead (``Mutant.key``); a test checks that each listed mutant is still one the
tool generates.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from cosmic_ray.ast import ast_nodes, get_ast_from_path
from cosmic_ray.mutating import mutate_code
from cosmic_ray.plugins import get_operator

HERE = Path(__file__).resolve().parent
#: The repository root, which is the ``idlespec`` package.
ROOT = HERE.parent
CONFIG = HERE / "cosmic-ray.toml"
EQUIVALENT = HERE / "equivalent.toml"
RESULTS = HERE / "results.json"


@dataclass(frozen=True)
class Mutant:
    """One mutation of one line of the reference."""

    module: str  # relative to the repository root, e.g. "reference/idle.py"
    operator: str
    occurrence: int
    line: int
    before: str
    after: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What names the mutant in the committed lists: no line number, no occurrence."""
        return (self.module, self.operator, self.before, self.after)


def config() -> dict[str, object]:
    """The committed cosmic-ray configuration (its ``[cosmic-ray]`` table)."""
    with CONFIG.open("rb") as handle:
        table: dict[str, object] = tomllib.load(handle)["cosmic-ray"]
    return table


def mutated_modules() -> list[str]:
    """The modules mutated, relative to the root: the configured folder's, less the excluded."""
    table = config()
    folder = ROOT / str(table["module-path"])
    excluded = {str(name) for name in table.get("excluded-modules", [])}  # type: ignore[attr-defined]
    return [
        path.relative_to(ROOT).as_posix()
        for path in sorted(folder.glob("*.py"))
        if path.relative_to(ROOT).as_posix() not in excluded
    ]


def sources_digest(modules: list[str]) -> str:
    """A digest of the mutated modules' text: the results are stale when it changes."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(module.encode())
        digest.update((ROOT / module).read_bytes())
    return digest.hexdigest()[:16]


@cache
def _source(module: str) -> str:
    return (ROOT / module).read_text(encoding="utf-8")


def describe(module: str, operator: str, occurrence: int) -> Mutant:
    """The mutant cosmic-ray makes for (module, operator, occurrence), with its lines."""
    source = _source(module)
    mutated = mutate_code(source, get_operator(operator)(), occurrence)
    if mutated is None:
        raise LookupError(f"{module}: {operator} has no occurrence {occurrence}")
    before_lines = source.split("\n")
    after_lines = mutated.split("\n")
    matcher = difflib.SequenceMatcher(a=before_lines, b=after_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            before = "\n".join(line.strip() for line in before_lines[i1:i2])
            after = "\n".join(line.strip() for line in after_lines[j1:j2])
            return Mutant(module, operator, occurrence, i1 + 1, before, after)
    raise LookupError(f"{module}: {operator} occurrence {occurrence} changes nothing")


@cache
def annotation_spans(module: str) -> tuple[tuple[tuple[int, int], tuple[int, int]], ...]:
    """Where the module's annotations are: ((line, col), (end line, end col)) each.

    Every reference module starts with ``from __future__ import annotations``, so an
    annotation is a string Python never evaluates: a mutant inside one cannot change
    behaviour, and the run skips it rather than spend a test run on it.
    """
    tree = ast.parse(_source(module))
    future = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    if not future:
        return ()
    spans = []
    for node in ast.walk(tree):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None and annotation.end_lineno is not None:
                start = (annotation.lineno, annotation.col_offset)
                end = (annotation.end_lineno, annotation.end_col_offset or 0)
                spans.append((start, end))
    return tuple(spans)


def in_annotation(module: str, position: tuple[int, int]) -> bool:
    """Whether a mutation at ``position`` (line 1-based, column 0-based) is in an annotation."""
    return any(start <= position < end for start, end in annotation_spans(module))


def equivalent_entries() -> list[dict[str, str]]:
    """The committed list of equivalent mutants, each with its reason."""
    with EQUIVALENT.open("rb") as handle:
        entries: list[dict[str, str]] = tomllib.load(handle).get("equivalent", [])
    return entries


def entry_key(entry: dict[str, str]) -> tuple[str, str, str, str]:
    """An equivalent entry's mutant key."""
    return (entry["module"], entry["operator"], entry["before"], entry["after"])


@cache
def _nodes(module: str) -> tuple[Any, ...]:
    """The module's parso nodes, in the order ``cosmic-ray init`` walks them (parsed once)."""
    return tuple(ast_nodes(get_ast_from_path(ROOT / module)))


@cache
def positions(module: str, operator: str) -> tuple[tuple[int, int], ...]:
    """Where ``operator`` applies in ``module``, in occurrence order (as ``cosmic-ray init``)."""
    instance = get_operator(operator)()
    return tuple(start for node in _nodes(module) for start, _ in instance.mutation_positions(node))


def find(entry: dict[str, str]) -> Mutant | None:
    """The mutant an equivalent entry names, if the tool still generates it."""
    module, operator, before, after = entry_key(entry)
    lines = _source(module).split("\n")
    # The first line the entry's text names (a removed decorator's diff starts blank).
    first = next((text for text in before.split("\n") if text), "")
    for occurrence, (line, _) in enumerate(positions(module, operator)):
        if lines[line - 1].strip() != first:
            continue  # only a mutant on the entry's line can be it: describe() is costly
        mutant = describe(module, operator, occurrence)
        if mutant.key == (module, operator, before, after):
            return mutant
    return None
