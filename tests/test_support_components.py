"""A missing real component skips a test on a workstation and fails it in CI."""

from __future__ import annotations

import pytest

from support import components


def test_missing_component_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(components, "REQUIRED", False)
    with pytest.raises(pytest.skip.Exception, match="Debian package nothing-here"):
        components.need_binary("/nonexistent/tool", "nothing-here")


def test_missing_component_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(components, "REQUIRED", True)
    with pytest.raises(pytest.fail.Exception, match="BRIDGE_REQUIRE_COMPONENTS=1"):
        components.need_binary("/nonexistent/tool", "nothing-here")


def test_present_binary_is_returned() -> None:
    assert components.need_binary("/bin/sh", "dash") == "/bin/sh"
