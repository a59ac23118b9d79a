"""The Jira tracker on every site profile: the contract, and each deviation of issue 13."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.jira import FakeJira
from fakes.profiles import JIRA_PROFILES
from support.contract import TrackerContract
from support.trackers import make_tracker
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.trackers.jira import JiraTracker

DEVIANT = sorted(name for name, p in JIRA_PROFILES.items() if not p.standard)


@pytest.fixture
def conventions() -> Conventions:
    return Conventions()


class TestContractOnEveryProfile(TrackerContract):
    @pytest.fixture(params=DEVIANT)
    def tracker(
        self, request: pytest.FixtureRequest, conventions: Conventions
    ) -> Iterator[JiraTracker]:
        with FakeJira(profile=request.param) as site:
            tracker = make_tracker(site, conventions, deployment="auto")
            yield tracker
            tracker.close()
            assert site.violations == []
