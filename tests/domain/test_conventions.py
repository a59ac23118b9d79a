"""The observation title convention: format, parse, and their round trip for every string."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker_bridge.domain.conventions import (
    TITLE_LIMIT,
    clip,
    format_title,
    is_observation_title,
    normalize,
    parse_title,
)


def test_canonical_title() -> None:
    title = format_title("No space left on device", "replica-2")
    assert title == 'Handle: "No space left on device" on "replica-2"'
    parsed = parse_title(title)
    assert parsed is not None
    assert (parsed.message, parsed.instance, parsed.canonical) == (
        "No space left on device",
        "replica-2",
        True,
    )


@pytest.mark.parametrize(
    ("title", "message", "instance"),
    [
        ('Handle: "X "on "Y"', "X", "Y"),
        ('Handle: X on Y"', "X", "Y"),
        ('Handle: "X" on Y', "X", "Y"),
        ("handle:  Disk full   on  db-1", "Disk full", "db-1"),
        ('HANDLE : "a on b" on "c"', "a on b", "c"),
    ],
)
def test_sloppy_variants_parse(title: str, message: str, instance: str) -> None:
    parsed = parse_title(title)
    assert parsed is not None
    assert (parsed.message, parsed.instance, parsed.canonical) == (message, instance, False)


@pytest.mark.parametrize("title", ["Fix the disk alerts", "Handle: nothing here", "", "Handle:"])
def test_not_observation_titles(title: str) -> None:
    assert parse_title(title) is None


def test_is_observation_title() -> None:
    assert is_observation_title('  handle : "x" on "y"')
    assert not is_observation_title("Handled it")
    assert is_observation_title('Observed: "x" on "y"', prefix="Observed")


@pytest.mark.parametrize(
    ("message", "instance"),
    [
        ('say "hi" on "there"', "host"),
        ("x", 'we" on "ird'),
        ("C:\\Program Files\\app", "win\\box"),
        ("ошибка — שגיאה 🚒 \u200f", "שרת-1"),
        ('ends with quote"', "ends with backslash\\"),
        ("a\nmultiline\r\n\tmessage\x00with\x1bcontrols", "h\x07ost"),
    ],
)
def test_round_trip_awkward(message: str, instance: str) -> None:
    parsed = parse_title(format_title(message, instance))
    assert parsed is not None and parsed.canonical
    assert (parsed.message, parsed.instance) == (normalize(message), normalize(instance))


def test_clips_message_never_instance() -> None:
    instance = "very-long-instance-name-" * 4
    title = format_title("m" * 10_000, instance)
    assert len(title) == TITLE_LIMIT
    parsed = parse_title(title)
    assert parsed is not None
    assert parsed.instance == instance.strip()
    assert parsed.message.endswith("…")


@pytest.mark.parametrize(
    ("message", "instance"), [("", "h"), ("  \n ", "h"), ("m", ""), ("m", "x" * 200)]
)
def test_refuses_empty_or_unkeepable(message: str, instance: str) -> None:
    with pytest.raises(ValueError, match=r"empty|longer"):
        format_title(message, instance)


def test_clip() -> None:
    assert clip("abc", 5) == "abc"
    assert clip("abcdef", 4) == "abc…"


_text = st.text(min_size=1, max_size=300).filter(lambda s: normalize(s) != "")


@given(
    message=_text, instance=st.text(min_size=1, max_size=100).filter(lambda s: normalize(s) != "")
)
def test_format_then_parse_round_trips(message: str, instance: str) -> None:
    try:
        title = format_title(message, instance)
    except ValueError:
        # only an instance that cannot be kept whole is refused
        assert len(normalize(instance).replace("\\", "\\\\").replace('"', '\\"')) > 128
        return
    assert len(title) <= TITLE_LIMIT
    parsed = parse_title(title)
    assert parsed is not None and parsed.canonical
    assert parsed.instance == normalize(instance)
    if parsed.message != normalize(message):
        # clipped: to the limit, or one short where the next character needed an escape
        assert parsed.message.endswith("…") and len(title) >= TITLE_LIMIT - 1
        assert normalize(message).startswith(parsed.message[:-1].rstrip())
    else:
        assert parsed.message == normalize(message)
    assert format_title(parsed.message, parsed.instance) == title


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[31mERROR\x1b[0m disk full", "ERROR disk full"),
        ("\x1b[1;38;5;196mboom\x1b[m", "boom"),
        ("\x1b]0;pwned\x07title", "title"),
        ("\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x9b31mred", "red"),
        ("access \u202eexe.txt\u202c denied", "access exe.txt denied"),
        ("\u2066isAdmin\u2069 \u200ftrue\u200e", "isAdmin true"),
        ("lone \x1b escape", "lone escape"),
    ],
)
def test_titles_lose_terminal_escapes_and_bidi_controls(raw: str, clean: str) -> None:
    assert normalize(raw) == clean
    parsed = parse_title(format_title(raw, f"host-{raw}"))
    assert parsed is not None and parsed.canonical
    assert parsed.message == clean
    assert parsed.instance == f"host-{clean}"


def test_quotes_are_escaped_alike_in_message_and_instance() -> None:
    title = format_title('open "/var/log" failed: \\x', 'rack "b"')
    assert title == 'Handle: "open \\"/var/log\\" failed: \\\\x" on "rack \\"b\\""'
    parsed = parse_title(title)
    assert parsed is not None and parsed.canonical
    assert (parsed.message, parsed.instance) == ('open "/var/log" failed: \\x', 'rack "b"')


def test_clipping_never_splits_an_escape() -> None:
    title = format_title("x" * 200 + '"' * 100, "h")
    assert len(title) <= TITLE_LIMIT
    parsed = parse_title(title)
    assert parsed is not None and parsed.canonical and parsed.message.endswith("…")
