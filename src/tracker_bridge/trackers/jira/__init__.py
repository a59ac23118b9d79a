"""Jira (Cloud and Data Center) as a ``Tracker``.

``tracker`` holds ``JiraTracker``; the modules beside it are its parts: ``session`` (the one road
to the REST API, retries and error translation), ``setup`` (what the project allows, checked
once), ``fields`` and ``markup`` (tickets <-> issue fields and wiki markup), ``jql`` (quoting),
``edits`` (transitions, labels, links) and ``evidence`` (attachments and indexes).
"""

from tracker_bridge.trackers.jira.tracker import JiraTracker, build

__all__ = ["JiraTracker", "build"]
