"""idlespec: the W3C requestIdleCallback spec, executable, and a suite that judges others.

``idlespec.reference`` is the executable spec, ``idlespec.shims`` the userland fallbacks and
``idlespec.conformance`` the conformance suite.
"""

__version__ = "0.1.0"
