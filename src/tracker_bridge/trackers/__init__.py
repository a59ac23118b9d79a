"""Trackers: the ``Tracker`` protocol and one module per backend.

Only modules in this package import ``jira``, ``github`` or ``sqlite3``; vendor objects and
exceptions never leave it.
"""
