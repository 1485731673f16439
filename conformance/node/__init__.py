"""The Node bridge: JavaScript candidates (npm packages as published, and idlespec's JS twins)."""
