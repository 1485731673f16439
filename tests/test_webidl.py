"""WebIDL conversions (reference/webidl.py), directly and through requestIdleCallback.

The Python stand-ins for JS values follow the table in the module docstring: UNDEFINED is
``undefined``, None is ``null``, a list is an Array, a Mapping is a plain object, an object
with ``__float__`` is an object whose ``valueOf`` returns that number, and anything else
(here a bare ``object()``) is a Symbol or BigInt, whose ``ToNumber`` throws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping

import pytest

from idlespec.reference import EventLoop, IdleDeadline, webidl
from idlespec.reference.webidl import (
    UNDEFINED,
    check_callback,
    convert_idle_request_options,
    string_to_number,
    to_long,
    to_number,
    to_unsigned_long,
)

NAN = math.nan
INF = math.inf


# Helpers ------------------------------------------------------------------------------------


class ValueOf:
    """An object whose ``valueOf`` returns ``number`` (stands for a JS object)."""

    def __init__(self, number: float) -> None:
        self.number = number

    def __float__(self) -> float:
        return self.number

    def __repr__(self) -> str:
        return f"ValueOf({self.number!r})"


class ThrowingValueOf:
    """An object whose ``valueOf`` throws."""

    def __repr__(self) -> str:
        return "ThrowingValueOf()"

    def __float__(self) -> float:
        raise ValueError("valueOf threw")


class RaisingGetter(Mapping[str, object]):
    """A plain object whose ``timeout`` getter throws."""

    def __getitem__(self, key: str) -> object:
        raise RuntimeError(f"getter for {key!r} threw")

    def __iter__(self) -> Iterator[str]:
        return iter(["timeout"])

    def __len__(self) -> int:
        return 1


class Calls:
    """Records each idle callback invocation as (label, virtual time, did_timeout)."""

    def __init__(self, loop: EventLoop) -> None:
        self.loop = loop
        self.seen: list[tuple[str, float, bool]] = []

    def callback(self, label: str) -> Callable[[IdleDeadline], None]:
        def run(deadline: IdleDeadline) -> None:
            self.seen.append((label, self.loop.now, deadline.did_timeout))

        return run

    @property
    def labels(self) -> list[str]:
        return [label for label, _, _ in self.seen]


def busy_chain(loop: EventLoop, until: float) -> list[float]:
    """Queue a self-reposting zero-delay task chain, 1 ms each, until virtual ``until``.

    Returns the list the chain appends each task's end time to.
    """
    ends: list[float] = []

    def task() -> None:
        loop.busy(1)
        ends.append(loop.now)
        if loop.now < until:
            loop.queue_task(task)

    loop.queue_task(task)
    return ends


def short_id(value: object) -> str:
    return ascii(value)[:24]


def is_negative_zero(x: float) -> bool:
    return x == 0 and math.copysign(1.0, x) < 0


def is_positive_zero(x: float) -> bool:
    return x == 0 and math.copysign(1.0, x) > 0


# UNDEFINED ----------------------------------------------------------------------------------


def test_undefined_is_a_falsy_singleton_distinct_from_none() -> None:
    assert webidl.UNDEFINED is UNDEFINED
    assert type(UNDEFINED)() is UNDEFINED
    assert UNDEFINED is not None
    assert not UNDEFINED
    assert repr(UNDEFINED) == "undefined"


# Appendix A, row by row ---------------------------------------------------------------------

APPENDIX_A: list[tuple[str, object, int]] = [
    # null, false, "", "abc", {}, NaN, +-Infinity, 0, -0, 0.4, 0.999, -0.5 -> 0
    ("null", None, 0),
    ("false", False, 0),
    ("empty string", "", 0),
    ("abc", "abc", 0),
    ("{}", {}, 0),
    ("NaN", NAN, 0),
    ("Infinity", INF, 0),
    ("-Infinity", -INF, 0),
    ("0", 0, 0),
    ("0.0", 0.0, 0),
    ("-0", -0.0, 0),
    ("0.4", 0.4, 0),
    ("0.999", 0.999, 0),
    ("-0.5", -0.5, 0),
    # true, 1, 1.9, "1" -> 1
    ("true", True, 1),
    ("1", 1, 1),
    ("1.9", 1.9, 1),
    ('"1"', "1", 1),
    # 50, "50", " 50 ", [50], 2**32 + 50, -(2**32) + 50 -> 50
    ("50", 50, 50),
    ('"50"', "50", 50),
    ('" 50 "', " 50 ", 50),
    ("[50]", [50], 50),
    ("2**32 + 50", 2**32 + 50, 50),
    ("-(2**32) + 50", -(2**32) + 50, 50),
    # the remaining rows
    ('"0x10"', "0x10", 16),
    ('"1e3"', "1e3", 1000),
    ("-1", -1, 4294967295),
    ("-50", -50, 4294967246),
    ("2**32", 2**32, 0),
    ("2**53", 2**53, 0),
    ("1e20", 1e20, 1661992960),
    ("-1e20", -1e20, 2632974336),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(value, expected) for _, value, expected in APPENDIX_A],
    ids=[label for label, _, _ in APPENDIX_A],
)
def test_appendix_a_to_unsigned_long(value: object, expected: int) -> None:
    result = to_unsigned_long(value)
    assert type(result) is int
    assert result == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(value, expected) for _, value, expected in APPENDIX_A],
    ids=[label for label, _, _ in APPENDIX_A],
)
def test_appendix_a_through_options(value: object, expected: int) -> None:
    assert convert_idle_request_options({"timeout": value}) == expected


@pytest.mark.parametrize(
    "stand_in", [object(), object, 1j, b"5"], ids=["object()", "object", "1j", "bytes"]
)
def test_appendix_a_symbol_or_bigint_throws(stand_in: object) -> None:
    with pytest.raises(TypeError):
        to_number(stand_in)
    with pytest.raises(TypeError):
        to_unsigned_long(stand_in)
    with pytest.raises(TypeError):
        convert_idle_request_options({"timeout": stand_in})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2**64 + 5, 0),  # an int is a Number: 2**64 + 5 rounds to 2**64 first
        (2**53 + 1, 0),  # rounds to 2**53 (ties to even)
        (2**53 + 3, 4),  # rounds to 2**53 + 4
        (10**400, 0),  # Infinity
        (-(10**400), 0),
        (4294967295.5, 4294967295),
        (-4294967295.5, 1),
        ("-0", 0),
        (" \t-1\n", 4294967295),
        ([], 0),
        ([[]], 0),
        ([None], 0),
        ([1, 2], 0),
        (ValueOf(7.9), 7),
        (ValueOf(-1.0), 4294967295),
    ],
    ids=repr,
)
def test_to_unsigned_long_more(value: object, expected: int) -> None:
    assert to_unsigned_long(value) == expected


# StringToNumber -----------------------------------------------------------------------------

STRING_TO_NUMBER: list[tuple[str, float]] = [
    # empty or all-whitespace -> 0
    ("", 0.0),
    ("   ", 0.0),
    ("\t\n\v\f\r", 0.0),
    # JS whitespace is trimmed at both ends
    ("\u00a07\u00a0", 7.0),
    ("\ufeff7\ufeff", 7.0),
    ("\u20287\u2029", 7.0),
    ("\u1680\u2000\u200a\u202f\u205f\u30007\u3000", 7.0),
    ("\r\n 12 \r\n", 12.0),
    # Python's str.isspace() characters that JS does not trim
    ("\x1c5", NAN),
    ("5\x1c", NAN),
    ("\x1f5", NAN),
    ("\x855", NAN),
    ("5\x85", NAN),
    ("\x85", NAN),
    ("\u180e5", NAN),  # Mongolian vowel separator: not Zs since Unicode 6.3
    ("\u200b5", NAN),  # zero width space is Cf, not whitespace
    # Infinity: exact spelling, optional sign
    ("Infinity", INF),
    ("+Infinity", INF),
    ("-Infinity", -INF),
    (" -Infinity ", -INF),
    ("infinity", NAN),
    ("INFINITY", NAN),
    ("inf", NAN),
    ("-inf", NAN),
    ("Inf", NAN),
    ("Infinityx", NAN),
    ("+-Infinity", NAN),
    ("nan", NAN),
    ("NaN", NAN),
    # decimal literals
    ("1_000", NAN),
    ("1 000", NAN),
    ("00", 0.0),
    ("010", 10.0),  # not octal
    ("007.5", 7.5),
    (".5", 0.5),
    ("5.", 5.0),
    ("-.5", -0.5),
    ("+.5e1", 5.0),
    ("1e3", 1000.0),
    ("1E3", 1000.0),
    ("1e+3", 1000.0),
    ("1e-3", 0.001),
    ("1e", NAN),
    ("1e+", NAN),
    ("e3", NAN),
    (".", NAN),
    ("+", NAN),
    ("-", NAN),
    (".e1", NAN),
    ("1.2.3", NAN),
    ("++1", NAN),
    ("1e1000", INF),
    ("-1e1000", -INF),
    ("1e-400", 0.0),
    ("9007199254740993", 9007199254740992.0),
    ("0.1", 0.1),
    ("1d", NAN),
    ("1f", NAN),
    ("\u0661", NAN),  # Arabic-Indic digit one: not a JS decimal digit
    ("\uff11", NAN),  # fullwidth digit one
    # non-decimal integer literals
    ("0x10", 16.0),
    ("0X1F", 31.0),
    ("0xff", 255.0),
    (" 0x10 ", 16.0),
    ("0x", NAN),
    ("0X", NAN),
    ("0xg", NAN),
    ("0x1_0", NAN),
    ("0x1.8", NAN),
    ("-0x10", NAN),
    ("+0x10", NAN),
    ("0b101", 5.0),
    ("0B101", 5.0),
    ("0b", NAN),
    ("0b102", NAN),
    ("0o17", 15.0),
    ("0O17", 15.0),
    ("0o", NAN),
    ("0o8", NAN),
    ("-0b1", NAN),
    ("-0o7", NAN),
    ("0x20000000000001", 9007199254740992.0),  # 2**53 + 1 rounds to even
    ("0x20000000000003", 9007199254740996.0),
    ("0x" + "f" * 300, INF),
]


@pytest.mark.parametrize(("text", "expected"), STRING_TO_NUMBER, ids=short_id)
def test_string_to_number(text: str, expected: float) -> None:
    result = string_to_number(text)
    assert isinstance(result, float)
    if math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == expected


@pytest.mark.parametrize(("text", "expected"), STRING_TO_NUMBER, ids=short_id)
def test_to_number_on_a_string_is_string_to_number(text: str, expected: float) -> None:
    result = to_number(text)
    if math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == expected


@pytest.mark.parametrize("text", ["-0", " -0 ", "-0.0", "-0e5", "-.0"])
def test_string_to_number_keeps_negative_zero(text: str) -> None:
    assert is_negative_zero(string_to_number(text))


@pytest.mark.parametrize("text", ["", " ", "0", "+0", "0x0", "0b0", "0o0", "1e-400"])
def test_string_to_number_positive_zero(text: str) -> None:
    assert is_positive_zero(string_to_number(text))


# ToNumber -----------------------------------------------------------------------------------

TO_NUMBER: list[tuple[str, object, float]] = [
    ("undefined", UNDEFINED, NAN),
    ("null", None, 0.0),
    ("true", True, 1.0),
    ("false", False, 0.0),
    ("int", 42, 42.0),
    ("negative int", -7, -7.0),
    ("float", 2.5, 2.5),
    ("NaN", NAN, NAN),
    ("huge int", 10**400, INF),
    ("huge negative int", -(10**400), -INF),
    ("2**1024", 2**1024, INF),
    ("largest double", 2**1024 - 2**971, 1.7976931348623157e308),
    ("just under the halfway point", 2**1024 - 2**970 - 1, 1.7976931348623157e308),
    ("halfway to 2**1024 rounds to even", 2**1024 - 2**970, INF),
    ("int rounds to a double", 2**53 + 1, 9007199254740992.0),
    ("string", "12.5", 12.5),
    ("[]", [], 0.0),
    ("()", (), 0.0),
    ("[None]", [None], 0.0),
    ("[UNDEFINED]", [UNDEFINED], 0.0),
    ("[True]", [True], NAN),
    ("[False]", [False], NAN),
    ('["7"]', ["7"], 7.0),
    ('[" 7 "]', [" 7 "], 7.0),
    ('[""]', [""], 0.0),
    ("[7]", [7], 7.0),
    ("(7,)", (7,), 7.0),
    ("[2.5]", [2.5], 2.5),
    ("[NaN]", [NAN], NAN),
    ("[[8]]", [[8]], 8.0),
    ("[[[8]]]", [[[8]]], 8.0),
    ("[[]]", [[]], 0.0),
    ("[[None]]", [[None]], 0.0),
    ("[[1, 2]]", [[1, 2]], NAN),
    ("[1, 2]", [1, 2], NAN),
    ("[None, None]", [None, None], NAN),  # "," is not a number
    ("(1, 2)", (1, 2), NAN),
    ("[object()]", [object()], NAN),
    ("[{}]", [{}], NAN),
    ('["abc"]', ["abc"], NAN),
    ("{}", {}, NAN),
    ('{"valueOf": 5}', {"valueOf": 5}, NAN),
    ("__float__ 3.5", ValueOf(3.5), 3.5),
    ("__float__ -inf", ValueOf(-INF), -INF),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(value, expected) for _, value, expected in TO_NUMBER],
    ids=[label for label, _, _ in TO_NUMBER],
)
def test_to_number(value: object, expected: float) -> None:
    result = to_number(value)
    assert isinstance(result, float)
    if math.isnan(expected):
        assert math.isnan(result)
    else:
        assert result == expected


def test_to_number_keeps_negative_zero() -> None:
    assert is_negative_zero(to_number(-0.0))
    assert is_positive_zero(to_number(0))
    assert is_positive_zero(to_number(None))
    assert is_positive_zero(to_number(False))


def test_to_number_array_of_negative_zero_is_positive_zero() -> None:
    assert is_positive_zero(to_number([-0.0]))


def test_to_number_array_of_string_negative_zero_stays_negative() -> None:
    # ["-0"].join() is "-0", and StringToNumber("-0") is -0.
    assert is_negative_zero(to_number(["-0"]))


def test_to_number_valueof_that_throws_propagates() -> None:
    with pytest.raises(ValueError, match="valueOf threw"):
        to_number(ThrowingValueOf())
    with pytest.raises(ValueError, match="valueOf threw"):
        to_unsigned_long(ThrowingValueOf())


def test_to_number_does_not_call_valueof_of_an_array_item() -> None:
    # [obj].join() calls obj.toString(), not valueOf: "[object Object]" is NaN.
    assert math.isnan(to_number([ThrowingValueOf()]))
    assert math.isnan(to_number([ValueOf(3.5)]))


def test_to_number_bare_object_error_names_the_type() -> None:
    with pytest.raises(TypeError, match="object"):
        to_number(object())


# ToInt32 (long) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2**31, -(2**31)),
        (2**32 - 1, -1),
        ("5", 5),
        (2**31 - 1, 2**31 - 1),
        (-(2**31), -(2**31)),
        (-(2**31) - 1, 2**31 - 1),
        (-1, -1),
        (-1.9, -1),
        (2**32, 0),
        (2**32 + 5, 5),
        (NAN, 0),
        (INF, 0),
        (UNDEFINED, 0),
        (None, 0),
        (True, 1),
        ("0xffffffff", -1),
        ([2**31], -(2**31)),
    ],
    ids=repr,
)
def test_to_long(value: object, expected: int) -> None:
    result = to_long(value)
    assert type(result) is int
    assert result == expected


def test_to_long_throws_like_to_number() -> None:
    with pytest.raises(TypeError):
        to_long(object())


# Callback functions -------------------------------------------------------------------------


class CallableInstance:
    def __call__(self, deadline: IdleDeadline) -> None:
        return None


@pytest.mark.parametrize(
    "callback",
    [lambda d: None, print, CallableInstance(), CallableInstance, len],
    ids=["lambda", "builtin", "instance", "class", "len"],
)
def test_check_callback_accepts_callables(callback: object) -> None:
    assert check_callback(callback) is None


@pytest.mark.parametrize(
    "value",
    [5, None, UNDEFINED, "f", {}, [], 1.5, True, object()],
    ids=[*map(repr, [5, None, UNDEFINED, "f", {}, [], 1.5, True]), "object()"],
)
def test_check_callback_rejects_non_callables(value: object) -> None:
    with pytest.raises(TypeError):
        check_callback(value)


# IdleRequestOptions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [None, UNDEFINED, {}, {"timeout": UNDEFINED}, {"other": 5}, {"Timeout": 5}],
    ids=repr,
)
def test_options_without_timeout_member(options: object) -> None:
    assert convert_idle_request_options(options) is None


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"timeout": None}, 0),
        ({"timeout": 0}, 0),
        ({"timeout": 100}, 100),
        ({"timeout": "100"}, 100),
        ({"timeout": -1}, 4294967295),
        ({"timeout": NAN}, 0),
        ({"timeout": 100, "other": ThrowingValueOf()}, 100),
    ],
    ids=repr,
)
def test_options_timeout_member(options: object, expected: int) -> None:
    assert convert_idle_request_options(options) == expected


@pytest.mark.parametrize(
    "options",
    [5, "x", True, False, 0, 1.5, "", object()],
    ids=[*map(repr, [5, "x", True, False, 0, 1.5, ""]), "object()"],
)
def test_options_that_are_not_objects_throw(options: object) -> None:
    with pytest.raises(TypeError):
        convert_idle_request_options(options)


# WebIDL #es-dictionary: an Array or any other Object converts; it has no timeout member.
@pytest.mark.parametrize(
    "options",
    [[1], (), ValueOf(5.0), print, lambda: 5],
    ids=["list", "tuple", "valueOf", "builtin function", "lambda"],
)
def test_options_that_are_js_objects_convert(options: object) -> None:
    assert convert_idle_request_options(options) is None


def test_options_raising_getter_propagates() -> None:
    with pytest.raises(RuntimeError, match="getter for 'timeout' threw"):
        convert_idle_request_options(RaisingGetter())


def test_options_timeout_conversion_error_propagates() -> None:
    with pytest.raises(TypeError):
        convert_idle_request_options({"timeout": object()})
    with pytest.raises(ValueError, match="valueOf threw"):
        convert_idle_request_options({"timeout": ThrowingValueOf()})


def test_options_reads_timeout_once() -> None:
    reads: list[str] = []

    class Counting(Mapping[str, object]):
        def __getitem__(self, key: str) -> object:
            reads.append(key)
            return 25

        def __iter__(self) -> Iterator[str]:
            return iter(["timeout"])

        def __len__(self) -> int:
            return 1

    assert convert_idle_request_options(Counting()) == 25
    assert reads == ["timeout"]


# Through the public API ---------------------------------------------------------------------


def _ok(_: IdleDeadline) -> None:
    return None


BAD_REQUESTS: list[tuple[str, object, object, type[Exception]]] = [
    ("callback 5", 5, None, TypeError),
    ("callback None", None, None, TypeError),
    ("callback str", "f", None, TypeError),
    ("options 5", _ok, 5, TypeError),
    ("options str", _ok, "x", TypeError),
    ("options True", _ok, True, TypeError),
    ("timeout symbol", _ok, {"timeout": object()}, TypeError),
    ("timeout valueOf throws", _ok, {"timeout": ThrowingValueOf()}, ValueError),
    ("raising getter", _ok, RaisingGetter(), RuntimeError),
    ("callback checked first", 5, RaisingGetter(), TypeError),
]


@pytest.mark.parametrize(
    ("callback", "options", "error"),
    [(cb, opts, err) for _, cb, opts, err in BAD_REQUESTS],
    ids=[label for label, *_ in BAD_REQUESTS],
)
def test_failed_request_consumes_no_handle(
    callback: object, options: object, error: type[Exception]
) -> None:
    loop = EventLoop()
    w = loop.window
    calls = Calls(loop)
    with pytest.raises(error):
        w.request_idle_callback(callback, options)
    assert w.idle_callback_identifier == 0
    assert not w.list_of_idle_request_callbacks
    assert w.request_idle_callback(calls.callback("a")) == 1
    assert w.request_idle_callback(calls.callback("b")) == 2
    loop.run()
    assert calls.labels == ["a", "b"]


def test_failed_request_between_good_ones_consumes_no_handle() -> None:
    loop = EventLoop()
    w = loop.window
    assert w.request_idle_callback(_ok) == 1
    with pytest.raises(TypeError):
        w.request_idle_callback(_ok, {"timeout": object()})
    with pytest.raises(RuntimeError):
        w.request_idle_callback(_ok, RaisingGetter())
    assert w.request_idle_callback(_ok) == 2
    assert list(w.list_of_idle_request_callbacks) == [1, 2]


@pytest.mark.parametrize(
    "handle",
    ["1", 1 + 2**32, 1.0, 1.9, " 1 ", "0x1", [1], True, 1 - 2**32],
    ids=repr,
)
def test_cancel_converts_handle_as_unsigned_long(handle: object) -> None:
    loop = EventLoop()
    w = loop.window
    calls = Calls(loop)
    assert w.request_idle_callback(calls.callback("one")) == 1
    assert w.request_idle_callback(calls.callback("two")) == 2
    assert w.cancel_idle_callback(handle) is None
    loop.run()
    assert calls.labels == ["two"]


@pytest.mark.parametrize("handle", [0, NAN, "abc", UNDEFINED, None, INF, 2**32, -0.0], ids=repr)
def test_cancel_of_handle_converting_to_zero_is_a_no_op(handle: object) -> None:
    loop = EventLoop()
    w = loop.window
    calls = Calls(loop)
    assert w.request_idle_callback(calls.callback("one")) == 1
    assert w.cancel_idle_callback(handle) is None
    assert list(w.list_of_idle_request_callbacks) == [1]
    loop.run()
    assert calls.labels == ["one"]


def test_cancel_with_unconvertible_handle_throws_and_cancels_nothing() -> None:
    loop = EventLoop()
    w = loop.window
    calls = Calls(loop)
    w.request_idle_callback(calls.callback("one"))
    with pytest.raises(TypeError):
        w.cancel_idle_callback(object())
    loop.run()
    assert calls.labels == ["one"]


def test_request_with_stringly_timeout_arms_it() -> None:
    loop = EventLoop()
    w = loop.window
    calls = Calls(loop)
    w.request_idle_callback(calls.callback("a"), {"timeout": " 0x10 "})
    busy_chain(loop, 1000)
    loop.run()
    assert len(calls.seen) == 1
    (_, when, did_timeout) = calls.seen[0]
    assert did_timeout is True
    assert 16 <= when <= 18  # queued at 16, run right after the chain task then running


@pytest.mark.parametrize(
    ("timeout", "fires"),
    [
        (2**32, False),  # -> 0: not positive
        (NAN, False),  # -> 0
        ("abc", False),  # -> 0
        (None, False),  # null -> 0
        (UNDEFINED, False),  # not present
        (0.999, False),  # -> 0
        (-(2**32), False),  # -> 0
        # positive controls: the same chain does let a real timeout fire
        (50, True),
        (2**32 + 50, True),  # -> 50
        ("1e2", True),  # -> 100
        ([50], True),  # -> 50
    ],
    ids=repr,
)
def test_timeout_armed_only_when_positive(timeout: object, fires: bool) -> None:
    loop = EventLoop()
    w = loop.window
    calls = Calls(loop)
    w.request_idle_callback(calls.callback("a"), {"timeout": timeout})
    chain = busy_chain(loop, 1000)
    loop.run()
    assert chain[-1] >= 1000
    assert len(calls.seen) == 1
    (_, when, did_timeout) = calls.seen[0]
    assert did_timeout is fires
    if fires:
        assert when < 1000  # ran while the chain kept the loop busy
    else:
        assert when >= chain[-1]  # waited for the chain to end, then ran in an idle period


def test_timeout_minus_one_arms_the_maximum_and_does_not_fire_early() -> None:
    loop = EventLoop()
    w = loop.window
    calls = Calls(loop)
    w.request_idle_callback(calls.callback("a"), {"timeout": -1})
    chain = busy_chain(loop, 100)
    loop.run()
    assert calls.seen == [("a", calls.seen[0][1], False)]
    assert calls.seen[0][1] >= chain[-1]
    # The wait is not cancelled by the run: its no-op task is the loop's last event,
    # at posted time (0) + 4294967295 ms.
    assert loop.now == 4294967295


def test_timeout_minus_fifty_arms_4294967246() -> None:
    loop = EventLoop()
    w = loop.window
    calls = Calls(loop)
    w.request_idle_callback(calls.callback("a"), {"timeout": "-50"})
    loop.run()
    assert calls.labels == ["a"]
    assert calls.seen[0][2] is False
    assert loop.now == 4294967246
