"""Corrections (move, merge), rebuilding from the tracker, alignment, and observe's use of them."""

from __future__ import annotations

import random
from contextlib import closing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker_bridge.domain.alignment import common, containment, resource_state, words, wrapped
from tracker_bridge.domain.conventions import Conventions
from tracker_bridge.domain.fingerprint import fingerprint
from tracker_bridge.domain.matching import Matcher
from tracker_bridge.journal.sqlite import SqliteJournal
from tracker_bridge.trackers.local import LocalTracker
from tracker_bridge.workflows import observe

TIMEOUT = "upstream timed out while reading response header from upstream"
REFUSED = "connect() failed (111: Connection refused) while connecting to upstream"


def test_a_moved_message_lands_on_its_new_defect_next_time() -> None:
    matcher = Matcher()
    matcher.add("DEF-1", TIMEOUT)
    matcher.add("DEF-2", REFUSED)
    typed = "upstream timed out again while reading response header from upstream"
    first = matcher.match(typed)
    assert first.key is None or first.key == "DEF-1"
    keys = matcher.move(typed, "DEF-1", "DEF-2")
    assert fingerprint(typed).key in keys
    assert matcher.match(typed).key == "DEF-2"
    assert matcher.match(typed).matched_by == "fingerprint"


def test_a_merged_duplicate_resolves_to_the_survivor() -> None:
    matcher = Matcher()
    matcher.add("DEF-1", "Readiness probe failed: HTTP probe failed with statuscode: 503")
    matcher.add("DEF-7", "readiness check failing on checkout pods")
    matcher.merge("DEF-7", "DEF-1")
    result = matcher.match("readiness check failing on checkout pods")
    assert result.key == "DEF-1"
    assert [c.key for c in result.candidates].count("DEF-1") == 1
    with pytest.raises(ValueError, match="already merged"):
        matcher.merge("DEF-1", "DEF-7")


def test_matching_state_rebuilds_from_what_the_tracker_holds() -> None:
    live = Matcher()
    live.add("DEF-1", TIMEOUT)
    seen = (
        "upstream timed out (110: Connection timed out) while reading response header from upstream"
    )
    live.learn("DEF-1", seen)
    live.add("DEF-2", REFUSED)
    live.add("DEF-3", "connect failed while connecting to upstream")
    live.merge("DEF-3", "DEF-2")
    # What a tracker keeps: first message, fingerprint keys, observations, the merge.
    rebuilt = Matcher()
    rebuilt.add("DEF-1", TIMEOUT, [fingerprint(seen).key], examples=[seen])
    rebuilt.add("DEF-2", REFUSED, [fingerprint(REFUSED).key])
    rebuilt.add("DEF-3", "connect failed while connecting to upstream", same_as="DEF-2")
    for message in (seen, TIMEOUT, REFUSED, "connect failed while connecting to upstream"):
        assert rebuilt.match(message).key == live.match(message).key, message


def test_common_subsequence_agrees_with_dynamic_programming() -> None:
    def slow(a: list[str], b: list[str]) -> int:
        previous = [0] * (len(a) + 1)
        for word in b:
            current = [0]
            for i, other in enumerate(a):
                current.append(
                    previous[i] + 1 if other == word else max(previous[i + 1], current[i])
                )
            previous = current
        return previous[-1]

    rng = random.Random(7)
    for _ in range(500):
        a = [rng.choice("abcdef") for _ in range(rng.randint(0, 15))]
        b = [rng.choice("abcdef") for _ in range(rng.randint(0, 80))]
        assert common(a, b) == slow(a, b) == common(b, a)


def test_alignment_scores() -> None:
    phrase = words(fingerprint("could not obtain lock on relation ledger").tokens)
    behind = words(
        fingerprint(
            "psycopg.errors.LockNotAvailable: could not obtain lock on relation ledger"
        ).tokens
    )
    assert wrapped(phrase, behind)
    assert containment(phrase, behind) > 0.8
    other = words(fingerprint("could not obtain lock on relation journal").tokens)
    assert containment(phrase, other) <= 0.5
    assert containment(phrase, words(fingerprint("lock").tokens)) == 0.0
    assert "connection" in words(fingerprint("connect ECONNREFUSED 10.0.0.1:6379").tokens)
    disk = words(fingerprint("mkdir /x/y: no space left on device").tokens)
    assert (
        resource_state(disk, words(fingerprint("write /z: no space left on device").tokens)) > 0.8
    )
    assert (
        resource_state(
            disk, words(fingerprint("dial tcp 10.0.0.1:5432: no space left on device").tokens)
        )
        == 0.0
    )


@pytest.fixture
def tracker() -> LocalTracker:
    return LocalTracker(":memory:")


def record(tracker: LocalTracker, message: str) -> observe.Result:
    with closing(SqliteJournal(":memory:")) as journal:
        request = observe.Request(message=message, instance="node-1")
        return observe.run(tracker, Conventions(), request, journal=journal)


def test_observe_titles_a_stack_trace_by_its_exception_line(tracker: LocalTracker) -> None:
    trace = (
        "2024-03-02T10:11:12Z ERROR [main] app - job crashed\n"
        "java.lang.IllegalStateException: ledger closed\n"
        "\tat com.example.Ledger.post(Ledger.java:10)"
    )
    result = record(tracker, trace)
    defect = tracker.get(result.defect or "")
    assert defect.title == "java.lang.IllegalStateException: ledger closed"


def test_observe_sends_each_line_of_one_event_to_one_defect(tracker: LocalTracker) -> None:
    three = (
        "ledger.service: Main process exited, code=exited, status=1/FAILURE\n"
        "ledger.service: Failed with result 'exit-code'.\n"
        "Failed to start Ledger writer."
    )
    first = record(tracker, three)
    for line in (
        "Failed to start Ledger writer.",
        "ledger.service: Failed with result 'exit-code'.",
    ):
        again = record(tracker, line)
        assert (again.defect, again.matched_by) == (first.defect, "fingerprint")
    other = record(tracker, "Failed to start Journal shipper.")
    assert other.defect != first.defect


def test_observe_finds_a_known_phrase_behind_a_wrapper(tracker: LocalTracker) -> None:
    first = record(tracker, "FATAL:  sorry, too many clients already")
    wrapped_message = "org.postgresql.util.PSQLException: FATAL: sorry, too many clients already"
    again = record(tracker, wrapped_message)
    assert (again.defect, again.matched_by) == (first.defect, "similar")
    assert record(tracker, wrapped_message).matched_by == "fingerprint"
    redis = record(tracker, "dial tcp 10.0.0.5:6379: connect: connection refused")
    postgres = record(tracker, "dial tcp 10.0.0.5:5432: connect: connection refused")
    assert redis.defect != postgres.defect
    assert postgres.candidates and postgres.candidates[0].key == redis.defect


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=6), st.text(max_size=80))
def test_any_text_matches_without_error(known: list[str], message: str) -> None:
    matcher = Matcher()
    for i, text in enumerate(known):
        matcher.add(f"DEF-{i}", text)
    result = matcher.match(message)
    assert 0.0 <= result.score <= 1.0
    assert all(0.0 <= c.score <= 1.0 for c in result.candidates)
    assert result.key is None or result.key.startswith("DEF-")


def test_a_whole_sentence_is_found_with_a_note_appended() -> None:
    matcher = Matcher()
    matcher.add("DEF-1", "0/6 nodes are available: 6 Insufficient cpu.")
    matcher.add("DEF-2", "0/6 nodes are available: 6 Insufficient memory.")
    matcher.add("DEF-3", "ECC error detected and corrected")
    matcher.add("DEF-4", "Job prod/reindex-29 failed to complete.")
    noted = (
        "0/9 nodes are available: 9 Insufficient cpu. preemption: 0/9 nodes are available: "
        "9 No preemption victims found for incoming pod."
    )
    assert (matcher.match(noted).key, matcher.match(noted).matched_by) == ("DEF-1", "similar")
    alert = (
        "KubeJobFailed: Job prod/reindex-31 failed to complete. Removing the failed job after "
        "investigation should clear this alert."
    )
    assert matcher.match(alert).key == "DEF-4"
    # another resource in the sentence: no match
    other = noted.replace("Insufficient cpu.", "Insufficient ephemeral-storage.")
    assert matcher.match(other).key is None
    # words appended without a full stop: another event, listed at most just under the threshold
    longer = matcher.match("ECC error detected and corrected over 30 seconds")
    assert longer.key is None and longer.candidates[0].key == "DEF-3"
    assert longer.candidates[0].score < matcher.threshold
    reason = matcher.why(matcher.match(noted), matcher.match(noted).candidates[0])
    assert reason.shape == "sentence"
