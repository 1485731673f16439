"""WebIDL argument conversions, applied to Python values that stand for JS values.

The reference's rIC methods take Python values; these functions convert them the way a
browser's bindings convert JS values *before* any method step runs (spec.toml R-04,
T-05). The stand-ins:

=======================  ==========================================================
Python value             JS value it stands for
=======================  ==========================================================
:data:`UNDEFINED`        ``undefined``
``None``                 ``null`` (as ``options``: "no members", like undefined)
``bool``                 a boolean
``int``, ``float``       a Number (an ``int`` is rounded to the nearest double)
``str``                  a string (``ToNumber`` parses it as JS ``StringToNumber``)
``list``, ``tuple``      an Array (``ToNumber`` joins it, as JS does: ``[50]`` is 50)
a callable               a function
a ``Mapping``            a plain object (as ``options``, its keys are its properties)
has ``__float__``        an object whose ``valueOf`` returns that number (or throws)
anything else            a value whose ``ToNumber`` throws (a Symbol, a BigInt)
=======================  ==========================================================
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final

_TWO_32: Final = 2**32
_TWO_31: Final = 2**31


class _Undefined:
    """The type of :data:`UNDEFINED`."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


#: Stands for JS ``undefined`` (``None`` stands for ``null``).
UNDEFINED: Final = _Undefined()

# ECMAScript StrWhiteSpaceChar: WhiteSpace and LineTerminator (not Python's str.isspace set,
# which also holds U+001C..U+001F and U+0085).
_JS_WHITESPACE: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL: Final = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)", re.ASCII)
_NON_DECIMAL: Final = {
    "0x": re.compile(r"0[xX][0-9a-fA-F]+", re.ASCII),
    "0o": re.compile(r"0[oO][0-7]+", re.ASCII),
    "0b": re.compile(r"0[bB][01]+", re.ASCII),
}
_RADIX: Final = {"0x": 16, "0o": 8, "0b": 2}


def string_to_number(text: str) -> float:
    """ECMAScript ``StringToNumber``: the Number a JS string converts to (NaN if none)."""
    text = text.strip(_JS_WHITESPACE)
    if not text:
        return 0.0
    prefix = text[:2].lower()
    if prefix in _NON_DECIMAL:
        if _NON_DECIMAL[prefix].fullmatch(text):
            return _int_to_number(int(text[2:], _RADIX[prefix]))
        return math.nan
    if not _DECIMAL.fullmatch(text):
        return math.nan
    if text.endswith("Infinity"):
        return -math.inf if text.startswith("-") else math.inf
    # The grammar above is a subset of what float() accepts, and both round correctly.
    return float(text)


def _int_to_number(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def to_number(value: object) -> float:
    """ECMAScript ``ToNumber`` on a Python stand-in for a JS value (see the module table).

    Raises:
        TypeError: for a value whose ``ToNumber`` throws.
    """
    if value is UNDEFINED:
        return math.nan
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int):
        return _int_to_number(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return string_to_number(value)
    if isinstance(value, (list, tuple)):
        return _array_to_number(value)
    if isinstance(value, Mapping):
        return math.nan  # ToPrimitive gives "[object Object]"
    if hasattr(value, "__float__"):
        return float(value)  # valueOf; may raise, and that propagates
    raise TypeError(f"cannot convert {type(value).__name__} to a number")


def _array_to_number(items: list[object] | tuple[object, ...]) -> float:
    # ToPrimitive(array) is items.join(","): more than one item always leaves a comma (NaN),
    # none leaves "" (0), and one item converts as its own string form.
    if not items:
        return 0.0
    if len(items) > 1:
        return math.nan
    (item,) = items
    if item is None or item is UNDEFINED:
        return 0.0  # join writes null and undefined as ""
    if isinstance(item, bool):
        return math.nan  # "true" / "false"
    if isinstance(item, (int, float)):
        # ToNumber(ToString(n)) == n for every Number but -0, which prints as "0".
        return to_number(item) + 0.0
    if isinstance(item, (str, list, tuple)):
        return to_number(item)
    return math.nan


def to_unsigned_long(value: object) -> int:
    """WebIDL ``unsigned long`` with no extended attributes (``ConvertToInt(V, 32, unsigned)``).

    NaN, +-0 and +-Infinity give 0; anything else is truncated toward zero and taken
    modulo 2**32.
    """
    if type(value) is int and 0 <= value < _TWO_32:
        return value  # already an unsigned long: the steps below would return it as is
    x = to_number(value)
    if math.isnan(x) or math.isinf(x) or x == 0:
        return 0
    return math.trunc(x) % _TWO_32


def to_long(value: object) -> int:
    """WebIDL ``long`` with no extended attributes: like unsigned long, then signed 32-bit."""
    x = to_unsigned_long(value)
    return x - _TWO_32 if x >= _TWO_31 else x


def _is_js_object(value: object) -> bool:
    """Whether ``value`` stands for a JS Object (see the module table)."""
    if isinstance(value, (list, tuple, Mapping)) or callable(value):
        return True  # an Array, a plain object, a function
    return not isinstance(value, (bool, int, float, str)) and hasattr(value, "__float__")


def check_callback(callback: object) -> None:
    """WebIDL callback function conversion: a value that is not callable is a TypeError."""
    if not callable(callback):
        raise TypeError(f"{type(callback).__name__} is not a callable callback")


def convert_idle_request_options(options: object) -> int | None:
    """Convert ``options`` to an ``IdleRequestOptions`` dictionary; return its ``timeout``.

    Returns ``None`` when the ``timeout`` member is not present (``options`` is
    undefined or null, has no ``timeout`` key, or its value is undefined).

    WebIDL ``#es-dictionary``: undefined and null mean no members; an Object has its
    members read; any other type throws. So a stand-in for a JS object that is not a mapping
    (an Array, a function, an object with ``valueOf``) converts to a dictionary with no
    ``timeout``.

    Raises:
        TypeError: ``options`` stands for a primitive (number, string, boolean, Symbol,
            BigInt), or its ``timeout`` cannot be converted.
    """
    if options is None or options is UNDEFINED:
        return None
    if type(options) is not dict and not isinstance(options, Mapping):
        if _is_js_object(options):
            return None  # an Object without a timeout property
        raise TypeError(f"IdleRequestOptions must be an object, not {type(options).__name__}")
    try:
        value = options["timeout"]  # one [[Get]]: a raising lookup propagates
    except KeyError:
        return None
    if value is UNDEFINED:
        return None
    return to_unsigned_long(value)
