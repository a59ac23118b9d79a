"""Known-defect matching: exact, similar, new; candidates, closeness, learning, streaming."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker_bridge.domain.fingerprint import fingerprint
from tracker_bridge.domain.matching import (
    DEFAULT_THRESHOLD,
    Candidate,
    Match,
    Matcher,
    StreamGrouper,
    similarity,
)

DISK = "write /var/lib/app/data.db: No space left on device"


@pytest.fixture
def matcher() -> Matcher:
    m = Matcher()
    m.add("DEF-1", DISK)
    m.add("DEF-2", "connection refused by 10.0.0.1:5432 after 3 retries")
    m.add("DEF-3", "session opened for user alice by (uid=1000)")
    m.add("DEF-4", "[instance: 4e1b] VM Started (Lifecycle Event)")
    return m


def test_exact_match_by_fingerprint(matcher: Matcher) -> None:
    result = matcher.match("write /tmp/x: No space left on device")
    assert result.key == "DEF-1"
    assert result.matched_by == "fingerprint"
    assert result.score == 1.0
    assert not result.close
    assert result.candidates[0] == Candidate("DEF-1", "write <*> No space left on device", 1.0)


def test_recorded_fingerprints_match_exactly() -> None:
    m = Matcher()
    other = fingerprint("disk quota exceeded for volume data")
    m.add("DEF-9", DISK, [other.key])
    result = m.match("disk quota exceeded for volume data")
    assert (result.key, result.matched_by) == ("DEF-9", "fingerprint")


def test_similar_match_lists_a_scored_candidate(matcher: Matcher) -> None:
    result = matcher.match("session opened for user bob by (uid=1001)")
    assert result.matched_by == "similar"
    assert result.key == "DEF-3"
    assert DEFAULT_THRESHOLD <= result.score < 1.0
    assert result.candidates[0].key == "DEF-3"
    assert result.candidates[0].score == result.score


def test_a_different_event_word_is_new_but_listed(matcher: Matcher) -> None:
    result = matcher.match("[instance: 77aa] VM Paused (Lifecycle Event)")
    assert result.matched_by == "new"
    assert result.key is None
    assert result.candidates[0].key == "DEF-4"
    assert 0 < result.candidates[0].score < DEFAULT_THRESHOLD
    assert result.close  # one word apart: a person should have a look


def test_unrelated_message_is_new_without_candidates(matcher: Matcher) -> None:
    result = matcher.match("certificate for mail.example.com expired")
    assert result.matched_by == "new"
    assert result.candidates == ()
    assert not result.close


def test_learning_keeps_every_fingerprint(matcher: Matcher) -> None:
    message = "session opened for user bob by (uid=1001)"
    first = matcher.match(message)
    assert first.matched_by == "similar"
    matcher.learn("DEF-3", message)
    again = matcher.match("session opened for user bob by (uid=4242)")
    assert (again.key, again.matched_by) == ("DEF-3", "fingerprint")
    # The persisted state (first message + fingerprint keys) gives the same answer.
    fresh = Matcher()
    fresh.add("DEF-3", "session opened for user alice by (uid=1000)", [first.fingerprint.key])
    assert fresh.match(message).matched_by == "fingerprint"


def test_learning_generalises_the_template() -> None:
    m = Matcher()
    m.add("D", "login failed for user alice from console")
    m.learn("D", "login failed for user bob from console")
    result = m.match("login failed for user carol from console")
    assert result.matched_by == "similar"
    assert result.score == 1.0
    assert result.candidates[0].template == "login failed for user <*> from console"


def test_close_when_two_candidates_are_near() -> None:
    fp = fingerprint("x")
    near = Match(
        key="A",
        matched_by="similar",
        fingerprint=fp,
        score=0.95,
        candidates=(Candidate("A", "a", 0.95), Candidate("B", "b", 0.9)),
    )
    clear = Match("A", "similar", fp, 0.95, (Candidate("A", "a", 0.95),))
    assert near.close
    assert not clear.close


def test_add_twice_learns(matcher: Matcher) -> None:
    size = len(matcher)
    matcher.add("DEF-3", "session opened for user bob by (uid=7)")
    assert len(matcher) == size
    assert matcher.match("session opened for user bob by (uid=8)").matched_by == "fingerprint"


def test_threshold_is_validated() -> None:
    with pytest.raises(ValueError, match="threshold"):
        Matcher(threshold=1.5)


def test_explain_says_why(matcher: Matcher) -> None:
    lines = matcher.explain("[instance: 9] VM Paused (Lifecycle Event)\n  more detail")
    text = "\n".join(lines)
    assert "fingerprint:" in text
    assert "DEF-4" in text
    assert "decision: new" in text
    assert "close call" in text
    assert any(line.startswith("masked:") for line in lines)


def test_similarity_rules() -> None:
    t = fingerprint("open through proxy HTTPS").tokens
    assert similarity(t, t) == 1.0
    assert similarity(t, fingerprint("open through proxy SOCKS5").tokens) < DEFAULT_THRESHOLD
    assert similarity(t, fingerprint("open proxy HTTPS").tokens) == 0.0


FAMILIES = {
    "disk": [
        "write /var/lib/a.db: No space left on device",
        "write /srv/cache/tmp/9f: No space left on device",
        "write /data/x: No space left on device",
    ],
    "refused": [
        "connection refused by 10.0.0.1:5432 after 3 retries",
        "connection refused by db.internal.example.com:5432 after 12 retries",
        "connection refused by [2001:db8::1]:5432 after 1 retries",
    ],
    "timeout": [
        "request 9f1c2e3a-1111-4a4a-8b8b-0123456789ab timed out after 30s",
        "request 00000000-0000-0000-0000-000000000000 timed out after 1500 ms",
    ],
    "session": [
        "session opened for user alice by (uid=1000)",
        "session opened for user bob by (uid=0)",
        "session opened for user carol by (uid=33)",
    ],
    "session-closed": ["session closed for user alice", "session closed for user bob"],
    "vm-started": ["[instance: 1a] VM Started (Lifecycle Event)", "[instance: 2b] VM Started"],
    "vm-paused": ["[instance: 3c] VM Paused (Lifecycle Event)"],
    "java": [
        "java.io.IOException: Broken pipe\n\tat a.B.c(B.java:1)",
        "java.io.IOException: Broken pipe\n\tat x.Y.z(Y.java:99)",
    ],
}


def test_stream_groups_families_and_keeps_them_apart() -> None:
    grouper = StreamGrouper()
    seen: dict[str, set[str]] = {}
    for family, messages in FAMILIES.items():
        seen[family] = {grouper.group(m) for m in messages}
    assert seen["disk"] != seen["refused"]
    for family in ("disk", "refused", "timeout", "session", "session-closed", "java"):
        assert len(seen[family]) == 1, family
    keys = [next(iter(v)) for f, v in seen.items() if f != "vm-started"]
    assert len(set(keys)) == len(keys)


def test_stream_keys_are_fingerprint_keys_of_the_founder() -> None:
    grouper = StreamGrouper()
    key = grouper.group(DISK)
    assert key == fingerprint(DISK).key
    assert grouper.group("write /x: No space left on device") == key


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=20))
def test_stream_is_deterministic_and_well_formed(messages: list[str]) -> None:
    first = [StreamGrouper().group(m) for m in messages]
    a, b = StreamGrouper(), StreamGrouper()
    assert [a.group(m) for m in messages] == [b.group(m) for m in messages]
    for key in first:
        assert len(key) == 16
    for m in messages:
        result = a.matcher.match(m)
        assert result.matched_by == "fingerprint"
        assert 0.0 <= result.score <= 1.0
