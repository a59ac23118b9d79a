"""Link ids between trackers: made and parsed in one place, round-tripping."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracker_bridge.domain import links
from tracker_bridge.domain.tickets import RemoteLink

TEAM = st.text(st.characters(blacklist_characters=":", blacklist_categories=("Cs",)), min_size=1)
KEY = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1)


@given(team=TEAM, key=KEY)
def test_delegate_ids_round_trip(team: str, key: str) -> None:
    link = RemoteLink(url="u", title="t", global_id=links.delegate_link_id(team, key))
    parsed = links.parse_delegate(link)
    assert parsed is not None and (parsed.team, parsed.key) == (team, key)
    assert links.is_delegate_link(link)
    assert links.parse_defect(link) is None


@given(key=KEY)
def test_defect_ids_round_trip(key: str) -> None:
    link = RemoteLink(url="u", title="t", global_id=links.defect_link_id(key))
    assert links.parse_defect(link) == key
    assert links.parse_delegate(link) is None


def test_other_and_malformed_links_are_not_delegations() -> None:
    found = links.delegated(
        [
            RemoteLink("u", "t", "gid-1"),
            RemoteLink("u", "t", "bridge-delegate:"),
            RemoteLink("u", "t", "bridge-delegate:team-only"),
            RemoteLink("u", "t", "bridge-delegate:platform:PLAT-7"),
        ]
    )
    assert [(d.team, d.key) for d in found] == [("platform", "PLAT-7")]
