"""Matching that generalises (issue 17): one test per general weakness, with messages written here.

Each weakness is shown both ways: what must now reach one defect, and the hard negative beside it
that must stay apart.
"""

from __future__ import annotations

import pytest

from tracker_bridge.domain.fingerprint import fingerprint
from tracker_bridge.domain.matching import DEFAULT_THRESHOLD, Matcher, StreamGrouper


def groups(*messages: str) -> list[str]:
    grouper = StreamGrouper()
    return [grouper.group(m) for m in messages]


def one_group(*messages: str) -> bool:
    return len(set(groups(*messages))) == 1


def decision(known: str, message: str) -> tuple[str | None, float]:
    matcher = Matcher()
    matcher.add("DEF-1", known)
    result = matcher.match(message)
    return result.key, result.score


# --- variables without digits -------------------------------------------------------------------


@pytest.mark.parametrize(
    "family",
    [
        ["backup failed for user alice after retries", "backup failed for user bob after retries"],
        [
            "lock wait on table orders_archive exceeded limit",
            "lock wait on table invoices exceeded limit",
        ],
        [
            "consumer lag high on topic payments for group billing",
            "consumer lag high on topic refunds for group billing",
        ],
        ["cache refresh finished with retry=true", "cache refresh finished with retry=false"],
    ],
)
def test_names_without_digits_generalise(family: list[str]) -> None:
    assert one_group(*family)


def test_different_event_words_stay_apart() -> None:
    assert not one_group(
        "volume snapshot started for tenant acme", "volume snapshot paused for tenant acme"
    )


# --- a slot that is a value in one message and a word in the next --------------------------------


def test_value_slot_accepts_a_word_and_a_value_of_another_shape() -> None:
    assert one_group(
        "agent chdir(/srv/app) failed: No such file or directory",
        "agent chdir(pwd) failed: No such file or directory",
    )
    assert one_group(
        "mount of scratch volume failed on ionode17, retrying later",
        "mount of scratch volume failed on 10.4.0.9, retrying later",
    )


def test_an_enum_after_equals_is_not_a_value() -> None:
    # "tty=ssh" and "tty=:0" are different login paths: a bare word after "=" is kept.
    assert fingerprint("login refused tty=ssh reason=locked").template == (
        "login refused tty=ssh reason=locked"
    )
    assert not one_group(
        "login refused tty=ssh reason=locked", "login refused tty=:0 reason=locked"
    )


# --- punctuation glued to a variable; heuristics that misfired ------------------------------------


@pytest.mark.parametrize(
    ("message", "template"),
    [
        (
            "assert failed at cfg.retries:180, giving up",
            "assert failed at cfg.retries:<*>, giving up",
        ),
        ("loaded view from Panel.Editor.mm ok", "loaded view from Panel.Editor.mm ok"),
        ("option mapred.tip.id is deprecated", "option mapred.tip.id is deprecated"),
        ("mirror ftp.example.ac.jp unreachable", "mirror <*> unreachable"),
        ("timer fired (cb=0x7f3a12) after 20ms;", "timer fired (cb=<*>) after <*>"),
        ("peer [fe80::1]:5432 closed", "peer <*>:5432 closed"),
    ],
)
def test_glued_punctuation_and_misfiring_heuristics(message: str, template: str) -> None:
    assert fingerprint(message).template == template


# --- quoted values after '=' ----------------------------------------------------------------------


def test_quoted_values_after_equals_are_masked_whole() -> None:
    one = 'request rejected reason="quota exceeded for project" code=429'
    two = 'request rejected reason="rate limited" code=503'
    assert fingerprint(one).template == 'request rejected reason="<*>" code=<*>'
    assert fingerprint(one).key == fingerprint(two).key


def test_a_quoted_name_elsewhere_is_kept() -> None:
    orders = 'ERROR: duplicate key value violates unique constraint "orders_pkey"'
    emails = 'ERROR: duplicate key value violates unique constraint "users_email_key"'
    assert fingerprint(orders).template.endswith('"orders_pkey"')
    key, _ = decision(orders, emails)
    assert key is None


# --- different token counts ------------------------------------------------------------------------


def test_a_phrase_behind_a_wrapper_is_found_across_token_counts() -> None:
    known = "ERROR:  canceling statement due to statement timeout"
    wrapped = "psycopg2.errors.QueryCanceled: canceling statement due to statement timeout"
    key, score = decision(known, "sqlalchemy.exc.OperationalError: (x.y.Z) " + wrapped)
    assert key == "DEF-1" and score >= DEFAULT_THRESHOLD
    key, score = decision(
        known, "failed to reconcile 42: canceling statement due to statement timeout"
    )
    assert key == "DEF-1"


def test_appended_words_are_a_candidate_not_a_decision() -> None:
    matcher = Matcher()
    matcher.add("DEF-1", "raid scrub detected and corrected 3 errors")
    result = matcher.match("raid scrub detected and corrected 3 errors over 60 seconds")
    assert result.matched_by == "new"
    assert result.candidates[0].key == "DEF-1" and result.close


def test_a_resource_state_reaches_its_defect_whatever_the_operation() -> None:
    matcher = Matcher()
    matcher.add("DEF-1", "write /var/lib/registry/blob.tmp: no space left on device")
    for message in (
        "No space left on device (errno 28)",
        "cp: error writing '/backup/x.tar': No space left on device",
        "OSError: [Errno 28] No space left on device: '/data/out.csv'",
    ):
        assert matcher.match(message).key == "DEF-1", message


def test_a_different_word_across_token_counts_stays_apart() -> None:
    matcher = Matcher()
    matcher.add("DEF-1", "0/9 nodes are available: 9 Insufficient memory. preemption: not helpful")
    result = matcher.match("0/5 nodes are available: 5 Insufficient cpu.")
    assert result.key is None


# --- constants that contain a digit ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("socket bound on IPV4 wildcard address", "socket bound on IPV6 wildcard address"),
        ("link flapping on eth0 carrier lost", "link flapping on wlan0 carrier lost"),
        (
            "EXT4-fs error (device sdb1): ext4_find_entry:1453: inode corrupted",
            "EXT4-fs error (device sdb1): ext4_readdir:210: inode corrupted",
        ),
        ("state moved to 'Active' for slot", "state moved to 'Inactive' for slot"),
        (
            "dial tcp 10.1.2.3:6379: connect: connection refused",
            "dial tcp 10.1.2.3:5432: connect: connection refused",
        ),
    ],
)
def test_constants_with_digits_stay_apart(a: str, b: str) -> None:
    assert not one_group(a, b)


def test_numbered_names_and_client_ports_still_vary() -> None:
    assert one_group("link flapping on eth0 carrier lost", "link flapping on eth3 carrier lost")
    assert one_group(
        "read tcp 10.0.0.1:51234->10.0.0.2:443: read: connection reset by peer",
        "read tcp 10.0.0.7:60001->10.0.0.9:443: read: connection reset by peer",
    )
    # A web target's port is a value; a data service's port names the dependency.
    assert one_group(
        "tunnel to cdn.example.com:80 closed early", "tunnel to cdn.example.com:443 closed early"
    )


def test_a_workload_name_inside_a_pod_name_is_kept() -> None:
    api = "Back-off restarting failed container app in pod api-7c9f8d6b54-x2x9k_prod(1b2c)"
    worker = "Back-off restarting failed container app in pod worker-5d8b7c9f4-qq7zp_prod(3d4e)"
    api_again = "Back-off restarting failed container app in pod api-66f7c9d8b5-m4n8p_prod(9a8b)"
    assert groups(api, worker, api_again) == [groups(api)[0], groups(worker)[0], groups(api)[0]]


def test_a_prefix_naming_a_data_service_is_no_wrapper() -> None:
    matcher = Matcher()
    matcher.add("DEF-1", "Error: read ECONNRESET")
    assert matcher.match("[pool] Error: read ECONNRESET").key == "DEF-1"
    result = matcher.match("read tcp 10.0.0.1:5432: read: connection reset by peer")
    assert result.key is None
    assert result.candidates[0].key == "DEF-1"


def test_a_lone_oom_killer_line_lists_the_kill_of_its_process() -> None:
    matcher = Matcher()
    matcher.add("DEF-1", "Out of memory: Killed process 4242 (clamd) total-vm:99kB, UID:0")
    result = matcher.match(
        "clamd invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE), order=0"
    )
    assert result.key is None
    assert [c.key for c in result.candidates] == ["DEF-1"]
