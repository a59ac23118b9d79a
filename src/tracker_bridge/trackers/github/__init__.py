"""GitHub Issues as a ``Tracker``.

``tracker`` holds ``GitHubTracker``; the modules beside it are its parts: ``client`` (the one road
to the REST API, retries and error translation), ``issues`` and ``mapping`` (tickets <-> issues),
``body`` (what lives in an issue body), ``marks`` (labels and issue types), ``parents``
(sub-issues and the label fallback), ``evidence`` and ``branch`` (evidence in comments and on a
branch).
"""

from tracker_bridge.trackers.github.tracker import (
    DEFAULT_API,
    SUB_ISSUE_LIMIT,
    UPLOAD_LIMIT,
    GitHubTracker,
    build,
)

__all__ = ["DEFAULT_API", "SUB_ISSUE_LIMIT", "UPLOAD_LIMIT", "GitHubTracker", "build"]
