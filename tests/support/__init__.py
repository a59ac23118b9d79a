"""Helpers for tests that use real components (binaries, services) and local processes."""
