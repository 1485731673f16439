"""What tests that drive Node need: the engine and the npm packages, or a clear reason."""

from __future__ import annotations

import os

import pytest

from idlespec.conformance.node.bridge import find_node
from idlespec.conformance.node.candidates import node_modules


def require_node() -> None:
    """Without Node or the npm packages the JS candidates cannot run; in CI that is a failure."""
    missing = None
    if find_node() is None:
        missing = "Node.js is not installed"
    elif not (node_modules() / "ric" / "package.json").is_file():
        missing = f"the npm packages are not installed in {node_modules()} (npm ci)"
    if missing and os.environ.get("CI"):
        pytest.fail(f"{missing}: .ci/run must install it")
    if missing:
        pytest.skip(missing)
