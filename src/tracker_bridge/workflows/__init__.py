"""Workflows: one function per operation, taking a tracker and settings, returning a value.

Nothing here prints or imports click; the CLI renders what these return.
"""
