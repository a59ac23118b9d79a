"""Workflows: one function per operation, taking a ``Tracker`` and values, returning a value.

Nothing here prints or imports click; the CLI renders what these return.
"""
