"""Reliability tests: the running app against its own contracts (schemas, limits)."""
