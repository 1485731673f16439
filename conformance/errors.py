"""The errors idlespec reports to its user: bad input, named where it is.

Every mistake a user can make (a table, an expectation or notes file, a raw results file, a
candidate name, a missing optional dependency) raises an :class:`IdlespecError`; the command
line prints it in one line and exits with status 2. Anything else is a bug of idlespec's and
keeps its traceback.
"""

from __future__ import annotations


class IdlespecError(Exception):
    """A user's mistake, in one line that names the file, row and field, or the name."""


class CandidateError(IdlespecError, LookupError):
    """A candidate name or ``module:attribute`` that does not resolve to a candidate."""


class RawResultsError(IdlespecError, ValueError):
    """A file that is not raw results (names the file and line)."""


class MissingExtra(IdlespecError, ImportError):
    """An optional dependency is not installed (names the extra to install)."""
