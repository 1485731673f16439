"""Userland implementations of requestIdleCallback built only on host primitives."""
