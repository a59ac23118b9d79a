"""The tracker contract against a real Jira site: opt in with ``pytest -m live``.

Skipped unless these are set (use a sandbox project; the tests create tickets and leave them):

    BRIDGE_LIVE_JIRA_URL        https://example.atlassian.net or https://jira.example.com
    BRIDGE_LIVE_JIRA_PROJECT    a sandbox project key
    BRIDGE_LIVE_JIRA_TOKEN      Cloud: API token; Data Center: personal access token
    BRIDGE_LIVE_JIRA_EMAIL      Cloud only: the account e-mail
    BRIDGE_LIVE_JIRA_DEPLOYMENT cloud | datacenter | auto (default auto)
    BRIDGE_LIVE_JIRA_RECORD     optional: a directory to record vcrpy cassettes into

Every test uses labels and markers unique to the run, so an old project does not look "empty"
to the contract. Recorded cassettes have the Authorization header removed and the token, the
e-mail and the site's host replaced in every request and response.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.contract import TrackerContract
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.trackers.jira import JiraTracker

ENV = {
    name: os.environ.get(f"BRIDGE_LIVE_JIRA_{name.upper()}", "")
    for name in ("url", "project", "token", "email", "deployment", "record")
}
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (ENV["url"] and ENV["project"] and ENV["token"]),
        reason="set BRIDGE_LIVE_JIRA_URL, _PROJECT and _TOKEN (and _EMAIL for Cloud) to run",
    ),
]
RUN = uuid.uuid4().hex[:8]


def scrub(text: str) -> str:
    """Replace every credential and the site's identity in recorded text."""
    from urllib.parse import urlsplit

    host = urlsplit(ENV["url"]).hostname or ""
    for secret, stand_in in (
        (ENV["token"], "REDACTED-TOKEN"),
        (ENV["email"], "bot@example.invalid"),
        (host, "jira.example.invalid"),
    ):
        if secret:
            text = text.replace(secret, stand_in)
    return text


def _scrub_request(request: Any) -> Any:
    request.uri = scrub(request.uri)
    if request.body:
        body = (
            request.body
            if isinstance(request.body, str)
            else request.body.decode("utf-8", "replace")
        )
        request.body = scrub(body)
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {}).get("string")
    if isinstance(body, bytes):
        response["body"]["string"] = scrub(body.decode("utf-8", "replace")).encode()
    for name in list(response.get("headers", {})):
        if name.lower() in ("set-cookie", "x-aaccountid", "atl-traceid"):
            del response["headers"][name]
    return response


@pytest.fixture
def conventions() -> Conventions:
    return Conventions(
        defect_label=f"bridge-defect-{RUN}",
        observation_label=f"bridge-observation-{RUN}",
        remediation_label=f"bridge-remediation-{RUN}",
        fingerprint_label_prefix=f"bridge-fp-{RUN}-",
        event_label_prefix=f"bridge-ev-{RUN}-",
    )


class TestLiveJiraContract(TrackerContract):
    @pytest.fixture
    def tracker(
        self, conventions: Conventions, request: pytest.FixtureRequest
    ) -> Iterator[JiraTracker]:
        tracker = JiraTracker(
            url=ENV["url"],
            project=ENV["project"],
            conventions=conventions,
            deployment=ENV["deployment"] or "auto",
            email=ENV["email"],
            token=ENV["token"],
        )
        if not ENV["record"]:
            yield tracker
            tracker.close()
            return
        import vcr

        recorder = vcr.VCR(
            cassette_library_dir=str(Path(ENV["record"])),
            record_mode="all",
            filter_headers=["authorization", "cookie"],
            before_record_request=_scrub_request,
            before_record_response=_scrub_response,
            decode_compressed_response=True,
        )
        with recorder.use_cassette(f"{request.node.name}.yaml"):
            yield tracker
        tracker.close()


def test_scrub_removes_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    text = f"Basic {ENV['token']} {ENV['email']} {ENV['url']}"
    cleaned = scrub(text)
    assert ENV["token"] not in cleaned
    assert not ENV["email"] or ENV["email"] not in cleaned
