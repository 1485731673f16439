"""Rows: the conformance tables, loaded and validated before anything runs.

A table is ``conformance/cases/<area>.toml``: ``[[row]]`` tables whose shape is
``conformance/cases/schema.json`` (JSON Schema). On top of the schema the loader checks what a
schema cannot: ids unique across every table, the area matching the file, the spec anchor
and covered requirements known (``conformance/cases/spec.toml``), every label an expectation
or a cancel names defined by the row, every window used opened, ``sample`` and ``repost``
only inside an idle callback's body. A bad table raises :class:`TableError`, naming the
file, the row id and the field.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .errors import IdlespecError
from .tomlcache import parse_toml, recall, remember
from .wpt import load_assertions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by the py310 env only
    import tomli as tomllib

if TYPE_CHECKING:
    import jsonschema

CASES_DIR: Final = Path(__file__).parent / "cases"
SCHEMA_PATH: Final = CASES_DIR / "schema.json"
SPEC_PATH: Final = CASES_DIR / "spec.toml"
AREAS: Final = (
    "idl",
    "fifo",
    "idle-periods",
    "deadlines",
    "timeouts",
    "cancellation",
    "exceptions",
    "event-loop",
    "windows",
    "binding",
)
LEVELS: Final = ("must", "should", "ref")
MAIN_WINDOW: Final = "main"

#: Step actions that define a label (the label of the callback they create).
LABELLING_ACTIONS: Final = ("post", "timer", "raf", "task", "microtask", "chain")
ACTIONS: Final = (
    *LABELLING_ACTIONS,
    "repost",
    "cancel",
    "cancel_handle",
    "clear_timer",
    "cancel_raf",
    "busy",
    "open_window",
    "deactivate",
    "activate",
    "raise",
    "sample",
    "return",
    "binding",
)
#: Predicates that relate two observations (left key -> right key), not one to a constant.
RELATIONS: Final = ("remaining_le", "period_end_ge")
#: The fields of a row that decide its verdict (a row's revision digests these).
REVISION_FIELDS: Final = (
    "level",
    "tolerance",
    "run_until",
    "budget_ms",
    "steps",
    "later",
    "expect",
)
#: The ``binding`` step's checks: facts about the JavaScript binding that the scenario
#: language cannot state (WPT's idlharness and basic tests check them). Only a JS realm can
#: answer them: conformance/browsers/page/binding_checks.js implements each for the page
#: runner and the Node bridge; on the Python host a binding row is UNSUPPORTED. A check
#: whose name starts with ``deadline-`` reads the IdleDeadline its idle callback was given,
#: so it belongs in the body of a post.
BINDING_CHECKS: Final = {
    "requestIdleCallback-typeof": "typeof of the requestIdleCallback the candidate provides",
    "cancelIdleCallback-typeof": "typeof of its cancelIdleCallback",
    "requestIdleCallback-length": "requestIdleCallback.length (WebIDL: required arguments)",
    "cancelIdleCallback-length": "cancelIdleCallback.length",
    "requestIdleCallback-name": "requestIdleCallback.name (WebIDL: the identifier)",
    "cancelIdleCallback-name": "cancelIdleCallback.name",
    "requestIdleCallback-global-property": "the global's own property requestIdleCallback: "
    "its flags ('writable enumerable configurable'), 'accessor' or 'missing'",
    "cancelIdleCallback-global-property": "the same for cancelIdleCallback",
    "cancelIdleCallback-result": "cancelIdleCallback(0) (an unknown handle): 'returned <typeof "
    "its result>' or 'throws <ErrorName>'",
    "IdleDeadline-typeof": "typeof the global IdleDeadline (the interface object)",
    "IdleDeadline-global-property": "the global's own property IdleDeadline, as above",
    "IdleDeadline-construct": "new IdleDeadline(): 'returned object' or 'throws <ErrorName>'",
    "IdleDeadline-call": "IdleDeadline() called as a function, the same way",
    "IdleDeadline-prototype-to-string": "Object.prototype.toString of IdleDeadline.prototype",
    "timeRemaining-on-prototype": "IdleDeadline.prototype's own timeRemaining: typeof its "
    "value, 'accessor' or 'missing'",
    "timeRemaining-length": "IdleDeadline.prototype.timeRemaining.length",
    "didTimeout-on-prototype": "IdleDeadline.prototype's own didTimeout: 'getter only', "
    "'getter and setter', 'data property' or 'missing'",
    "deadline-class-string": "Object.prototype.toString of the callback's deadline",
    "deadline-instanceof-IdleDeadline": "the callback's deadline instanceof IdleDeadline",
    "deadline-own-property-count": "how many own properties the callback's deadline has",
    "deadline-timeRemaining-unbound-call": "the deadline's timeRemaining method called on a "
    "plain object: 'returned <typeof>' or 'throws <ErrorName>'",
}
#: An expectation key: a label, optionally its n-th run (``a@2``) and a sample (``a.s``).
LABEL_KEY = re.compile(
    r"^(?P<label>[A-Za-z0-9_-]+)(?:@(?P<n>[0-9]+))?(?:\.(?P<sample>[A-Za-z0-9_-]+))?$"
)


class TableError(IdlespecError, ValueError):
    """A table that cannot run: names the file, the row (id or index) and the field."""

    def __init__(self, file: Path | str, row: str | None, fieldpath: str, message: str) -> None:
        self.file = str(file)
        self.row = row
        self.field = fieldpath
        where = f"{self.file}: row {row!r}" if row is not None else self.file
        super().__init__(f"{where}: {fieldpath or '(table)'}: {message}")


@dataclass(frozen=True)
class Row:
    """One row of a conformance table (see ``schema.json`` for each field)."""

    id: str
    description: str
    spec: str
    level: str
    area: str
    tags: tuple[str, ...]
    covers: tuple[str, ...]
    steps: tuple[Mapping[str, Any], ...]
    expect: Mapping[str, Any]
    file: str
    source: str | None = None
    tolerance: float = 0.001
    run_until: float | None = None
    budget_ms: float = 600_000.0
    later: tuple[Mapping[str, Any], ...] = ()
    actions: frozenset[str] = field(default=frozenset())
    wpt: tuple[str, ...] = ()
    wpt_adapted: tuple[str, ...] = ()

    @cached_property
    def revision(self) -> str:
        """A digest of what decides the row's verdict: its scenario, expectation and level.

        A result made under another revision of the row is stale; ``idlespec run --refresh``
        reruns those rows only. Wording and provenance (description, spec anchor, tags,
        covers, source) are left out: rewording a row does not make its results stale.
        """
        spelled = self.to_json()
        judged = {key: spelled.get(key) for key in REVISION_FIELDS}
        text = json.dumps(judged, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def anchor(self) -> str:
        """The spec anchor the row cites, without the step."""
        return self.spec.split(" ", 1)[0]

    def to_json(self) -> dict[str, Any]:
        """The row as the tables spell it (what ``idlespec export`` writes)."""
        out: dict[str, Any] = {
            "id": self.id,
            "description": self.description,
            "spec": self.spec,
            "level": self.level,
            "area": self.area,
            "tags": list(self.tags),
            "covers": list(self.covers),
        }
        if self.source is not None:
            out["source"] = self.source
        out["tolerance"] = self.tolerance
        if self.run_until is not None:
            out["run_until"] = self.run_until
        out["budget_ms"] = self.budget_ms
        out["steps"] = list(self.steps)
        if self.later:
            out["later"] = list(self.later)
        out["expect"] = dict(self.expect)
        if self.wpt:
            out["wpt"] = list(self.wpt)
        if self.wpt_adapted:
            out["wpt_adapted"] = list(self.wpt_adapted)
        return out


@dataclass(frozen=True)
class SpecVocabulary:
    """Known anchors (with their base URLs), requirements and cited ids, from ``spec.toml``."""

    bases: Mapping[str, str]
    anchors: Mapping[str, str]
    requirements: Mapping[str, str]
    #: The other ids the code and docs cite: F-xx freedoms, N-xx traps, T-xx assertions,
    #: each ``{"spec": anchor and step, "title": ..., "text": ...}``. Rows do not use them.
    freedoms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    traps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    assertions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def url(self, anchor: str) -> str:
        """The full URL of a known anchor."""
        prefix, _, fragment = anchor.partition("#")
        return f"{self.bases[prefix + '#']}#{fragment}"


@cache
def spec_vocabulary(path: Path = SPEC_PATH) -> SpecVocabulary:
    """Load ``spec.toml``."""
    data = parse_toml(path.read_text(encoding="utf-8"))
    return SpecVocabulary(
        data["bases"],
        data["anchors"],
        data["requirements"],
        data.get("freedoms", {}),
        data.get("traps", {}),
        data.get("assertions", {}),
    )


@cache
def _validator() -> jsonschema.Draft202012Validator:
    # Imported here: a run whose tables are all known valid (tomlcache) never needs it.
    import jsonschema  # noqa: PLC0415

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@cache
def _schema_key() -> bytes:
    """What a table's validation depends on besides its text: the schema and the validator."""
    return SCHEMA_PATH.read_bytes() + f"\0jsonschema {_jsonschema_version()}\0".encode()


def _jsonschema_version() -> str:
    """The installed jsonschema's version, without importing it or ``importlib.metadata``.

    Both cost more than the validation they would let a run skip (about 40 ms each). The
    version is the name of the distribution's metadata folder beside the package
    (``jsonschema-4.26.0.dist-info``); where there is none (an unusual install), the
    metadata answers after all.
    """
    spec = importlib.util.find_spec("jsonschema")
    if spec is not None and spec.origin is not None:
        site = Path(spec.origin).parent.parent
        found = sorted(site.glob("jsonschema-*.dist-info"))
        if len(found) == 1:
            return found[0].name.removeprefix("jsonschema-").removesuffix(".dist-info")
    from importlib.metadata import version  # noqa: PLC0415

    return version("jsonschema")


def read_toml(path: Path, text: str | None = None) -> Any:
    """A data file's TOML (``text``, or read from ``path``), parsed once per content.

    Raises:
        TableError: the text is not TOML (naming the file), never a parser traceback.
    """
    try:
        return parse_toml(path.read_text(encoding="utf-8") if text is None else text)
    except tomllib.TOMLDecodeError as error:
        raise TableError(path, None, "", f"not valid TOML: {error}") from None


def _valid_table(path: Path, text: str) -> Any:
    """The table's data, parsed and validated against the schema.

    Validating 240 rows against the schema cost about a third of a reference-only run. A
    table whose exact text (with this schema and this jsonschema) has passed once is
    remembered by its digest in the cache folder (:mod:`.tomlcache`) and not validated
    again; within a process, :func:`load_table` keeps the rows built from it. A table with
    errors is never remembered.

    Raises:
        TableError: the TOML does not parse, or the first schema error, by place.
    """
    data = read_toml(path, text)
    digest = hashlib.sha256(_schema_key() + text.encode()).hexdigest()
    if recall("valid-tables", digest) is not None:
        return data
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise _schema_error(path, data, errors[0])
    remember("valid-tables", digest, "")
    return data


def table_files(cases_dir: Path = CASES_DIR) -> list[Path]:
    """Every table file, in area order (unknown areas are an error at load time).

    Raises:
        TableError: ``cases_dir`` is not a folder, or holds no table.
    """
    if not cases_dir.is_dir():
        raise TableError(cases_dir, None, "", "no such folder of tables")
    files = sorted(
        (p for p in cases_dir.glob("*.toml") if p.name != SPEC_PATH.name),
        key=lambda p: (AREAS.index(p.stem) if p.stem in AREAS else len(AREAS), p.name),
    )
    if not files:
        raise TableError(
            cases_dir, None, "", f"no table in it (one <area>.toml per area: {', '.join(AREAS)})"
        )
    return files


def load_rows(files: Iterable[Path] | None = None) -> list[Row]:
    """Load and validate every table (default: all of ``conformance/cases``).

    Raises:
        TableError: the first problem found, naming file, row and field.
    """
    paths = list(files) if files is not None else table_files()
    rows: list[Row] = []
    seen: dict[str, str] = {}
    for path in paths:
        for row in load_table(path):
            if row.id in seen:
                raise TableError(path, row.id, "id", f"duplicate id (also in {seen[row.id]})")
            seen[row.id] = str(path)
            rows.append(row)
    return rows


#: Rows already built from a table's exact text, by (path, text): a process that loads the
#: same tables twice (the CLI, the pytest plugin: once to index, once to collect) parses,
#: validates and builds them once. Rows are frozen, so sharing them is safe.
_BUILT: dict[tuple[str, str], tuple[Row, ...]] = {}


def load_table(path: Path) -> list[Row]:
    """Load and validate one table file."""
    if path.stem not in AREAS:
        raise TableError(
            path, None, "", f"unknown area {path.stem!r}; areas are {', '.join(AREAS)}"
        )
    text = path.read_text(encoding="utf-8")
    key = (str(path), text)
    if key not in _BUILT:
        data = _valid_table(path, text)
        vocabulary = spec_vocabulary()
        _BUILT[key] = tuple(_check_row(path, raw, vocabulary) for raw in data["row"])
    return list(_BUILT[key])


def _schema_error(
    path: Path, data: Mapping[str, Any], error: jsonschema.ValidationError
) -> TableError:
    where = list(error.absolute_path)
    row: str | None = None
    if len(where) >= 2 and where[0] == "row" and isinstance(where[1], int):
        raw = data["row"][where[1]]
        row = raw.get("id") if isinstance(raw.get("id"), str) else f"#{where[1] + 1}"
        where = where[2:]
    fieldpath = ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in where)
    fieldpath = fieldpath.replace(".[", "[")
    message = error.message
    # A step: schema.json's anyOf has one alternative per action.
    step = error.instance
    if error.validator == "anyOf" and isinstance(step, Mapping):
        keys = [k for k in step if k in ACTIONS]
        message = (
            f"not a valid step {dict(step)!r}: a step has exactly one action "
            f"({', '.join(ACTIONS)}) and only that action's fields"
            if len(keys) != 1
            else f"not a valid {keys[0]!r} step: {dict(step)!r} (see schema.json)"
        )
    return TableError(path, row, fieldpath, message)


def _check_row(path: Path, raw: Mapping[str, Any], vocabulary: SpecVocabulary) -> Row:
    row_id = raw["id"]

    def fail(fieldpath: str, message: str) -> TableError:
        return TableError(path, row_id, fieldpath, message)

    if raw["area"] != path.stem:
        raise fail("area", f"{raw['area']!r} does not match the table {path.stem!r}")
    anchor = raw["spec"].split(" ", 1)[0]
    if anchor not in vocabulary.anchors:
        raise fail("spec", f"unknown anchor {anchor!r} (known anchors are in spec.toml)")
    for requirement in raw["covers"]:
        if requirement not in vocabulary.requirements:
            raise fail("covers", f"unknown requirement {requirement!r}")
    for key in ("wpt", "wpt_adapted"):
        for assertion in raw.get(key, ()):
            if assertion not in load_assertions():
                raise fail(key, f"unknown WPT assertion {assertion!r} (see conformance/wpt/)")
        if len(set(raw.get(key, ()))) != len(raw.get(key, ())):
            raise fail(key, "an assertion is named twice")

    labels: dict[str, str] = {}
    windows = {MAIN_WINDOW}
    actions: set[str] = set()
    checks: set[str] = set()  # the binding checks its steps make
    blocks = [("steps", raw["steps"])] + [
        (f"later[{i}].steps", block["steps"]) for i, block in enumerate(raw.get("later", []))
    ]
    for where, steps in blocks:
        _walk(
            steps,
            where,
            None,
            labels=labels,
            windows=windows,
            actions=actions,
            checks=checks,
            fail=fail,
        )
    _check_references(raw, labels, windows, fail)
    _check_expect(raw["expect"], "expect", _Defined(labels, windows, checks), fail)
    return Row(
        id=row_id,
        description=raw["description"],
        spec=raw["spec"],
        level=raw["level"],
        area=raw["area"],
        tags=tuple(raw["tags"]),
        covers=tuple(raw["covers"]),
        steps=tuple(raw["steps"]),
        expect=raw["expect"],
        file=str(path),
        source=raw.get("source"),
        tolerance=float(raw.get("tolerance", 0.001)),
        run_until=raw.get("run_until"),
        budget_ms=float(raw.get("budget_ms", 600_000.0)),
        later=tuple(raw.get("later", ())),
        actions=frozenset(actions),
        wpt=tuple(raw.get("wpt", ())),
        wpt_adapted=tuple(raw.get("wpt_adapted", ())),
    )


def action_of(step: Mapping[str, Any]) -> str:
    """The action of a validated step (its one action key)."""
    (action,) = (key for key in step if key in ACTIONS)
    return action


def _walk(
    steps: Sequence[Mapping[str, Any]],
    where: str,
    enclosing: tuple[str, str] | None,
    *,
    labels: dict[str, str],
    windows: set[str],
    actions: set[str],
    checks: set[str],
    fail: Any,
) -> None:
    for index, step in enumerate(steps):
        here = f"{where}[{index}]"
        action = action_of(step)
        actions.add(action)
        if action in LABELLING_ACTIONS:
            label = step[action]
            if label in labels and labels[label] != action:
                raise fail(here, f"label {label!r} is already a {labels[label]!r} label")
            labels[label] = action
            if action == "chain":
                labels[f"{label}-end"] = action  # the chain's last task
        if "id" in step:
            if step["id"] in labels:
                raise fail(f"{here}.id", f"id {step['id']!r} is already a label of this row")
            labels[step["id"]] = "id"
        if action == "open_window":
            windows.add(step["open_window"])
        if action == "return" and enclosing is None:
            raise fail(here, "'return' belongs in the body of a callback")
        retained = action == "sample" and "of" in step
        if retained and enclosing is None:
            raise fail(here, "'sample' with 'of' belongs in the body of a callback")
        if (
            action in ("sample", "repost")
            and not retained
            and (enclosing is None or enclosing[0] != "post")
        ):
            raise fail(here, f"{action!r} belongs in the body of an idle callback (a post)")
        if action == "binding":
            if step["binding"] not in BINDING_CHECKS:
                raise fail(
                    f"{here}.binding",
                    f"unknown check {step['binding']!r}; checks are {', '.join(BINDING_CHECKS)}",
                )
            if step["binding"].startswith("deadline-") and (
                enclosing is None or enclosing[0] != "post"
            ):
                raise fail(here, f"{step['binding']!r} belongs in the body of an idle callback")
            checks.add(step["binding"])
        if action == "repost" and enclosing is not None and step["repost"] != enclosing[1]:
            raise fail(here, f"repost names {step['repost']!r} inside the body of {enclosing[1]!r}")
        if "body" in step:
            _walk(
                step["body"],
                f"{here}.body",
                (action, step[action]),
                labels=labels,
                windows=windows,
                actions=actions,
                checks=checks,
                fail=fail,
            )


def _check_references(
    raw: Mapping[str, Any], labels: Mapping[str, str], windows: set[str], fail: Any
) -> None:
    def visit(steps: Sequence[Mapping[str, Any]], where: str) -> None:
        for index, step in enumerate(steps):
            here = f"{where}[{index}]"
            action = action_of(step)
            wanted = {"cancel": "post", "clear_timer": "timer", "cancel_raf": "raf"}.get(action)
            if wanted is not None and labels.get(step[action]) != wanted:
                raise fail(here, f"{action} names {step[action]!r}, which no {wanted} step defines")
            if action == "sample" and "of" in step and labels.get(step["of"]) != "post":
                raise fail(f"{here}.of", f"{step['of']!r} is not an idle callback of this row")
            for key in ("window", "deactivate", "activate"):
                if key in step and step[key] not in windows:
                    raise fail(f"{here}.{key}", f"window {step[key]!r} is never opened")
            if "body" in step:
                visit(step["body"], f"{here}.body")

    visit(raw["steps"], "steps")
    for i, block in enumerate(raw.get("later", [])):
        visit(block["steps"], f"later[{i}].steps")


@dataclass(frozen=True)
class _Defined:
    """What a row's steps define, for its expectation to name."""

    labels: Mapping[str, str]  # label -> the action that defines it
    windows: set[str]
    checks: set[str]  # binding checks


def _check_expect(expect: Mapping[str, Any], where: str, defined: _Defined, fail: Any) -> None:
    labels = defined.labels
    for key, value in expect.items():
        here = f"{where}.{key}"
        if key == "any_of":
            for i, alternative in enumerate(value):
                _check_expect(alternative, f"{here}[{i}]", defined, fail)
            continue
        if key == "binding":
            for name in value:
                if name not in defined.checks:
                    raise fail(f"{here}.{name}", f"no binding step of this row checks {name!r}")
            continue
        if key in ("window", "reported_windows"):
            named = value.values() if isinstance(value, Mapping) else value
            for window in named:
                if window not in defined.windows:
                    raise fail(here, f"window {window!r} is never opened")
            if key == "reported_windows":
                continue
        if key == "quiescent":
            continue
        if key in RELATIONS:
            for right in value.values():
                match = LABEL_KEY.match(right)
                if match is None or match["label"] not in labels:
                    raise fail(here, f"{right!r} names no label of this row")
        names: Iterable[str] = ()
        if key == "sequence" and value and isinstance(value[0], list):
            names = [name for group in value for name in group]
        elif (isinstance(value, list) and key != "reported") or isinstance(value, Mapping):
            names = value
        for name in names:
            match = LABEL_KEY.match(name)
            if match is None or match["label"] not in labels:
                raise fail(here, f"{name!r} names no label of this row")
            if match["sample"] and key not in (
                "remaining",
                "remaining_min",
                "remaining_max",
                "did_timeout",
                *RELATIONS,
            ):
                raise fail(here, f"{name!r}: a .sample key only fits remaining predicates")


def rows_by_id(rows: Iterable[Row]) -> dict[str, Row]:
    """Index rows by id."""
    return {row.id: row for row in rows}
