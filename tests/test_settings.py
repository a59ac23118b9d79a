"""Configuration: discovery, environment overrides, and errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker_bridge.bridge import Bridge
from tracker_bridge.errors import ConfigError
from tracker_bridge.settings import Settings


def test_defaults_are_the_local_tracker() -> None:
    s = Settings.load()
    assert s.tracker.kind == "local"
    assert s.tracker.path == Path(".bridge/bridge.db")
    assert s.conventions.observation_prefix == "Handle"


def test_reads_bridge_toml_in_cwd(tmp_path: Path) -> None:
    (tmp_path / "bridge.toml").write_text('[tracker]\nproject = "SRE"\n')
    assert Settings.load().tracker.project == "SRE"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text('[tracker]\nproject = "SRE"\n[conventions]\non_recurrence = "comment"\n')
    monkeypatch.setenv("BRIDGE_CONFIG", str(cfg))
    monkeypatch.setenv("BRIDGE_TRACKER__PROJECT", "OPS2")
    s = Settings.load()
    assert s.tracker.project == "OPS2"
    assert s.conventions.on_recurrence == "comment"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "bridge.toml"
    cfg.write_text('[tracker]\nprojekt = "x"\n[teams.plat]\nproject = "P"\ncolour = 1\n')
    with pytest.raises(ConfigError) as err:
        Settings.load(cfg)
    text = str(err.value)
    assert str(cfg) in text
    assert "unknown key [tracker] projekt" in text
    assert "unknown key [teams.plat] colour" in text


def test_bad_value_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "bridge.toml"
    cfg.write_text('[conventions]\non_recurrence = "explode"\n')
    with pytest.raises(ConfigError, match=r"\[conventions\] on_recurrence"):
        Settings.load(cfg)


@pytest.mark.parametrize("content", ["[tracker\nkind=", "kind = = 1"])
def test_invalid_toml(tmp_path: Path, content: str) -> None:
    cfg = tmp_path / "bridge.toml"
    cfg.write_text(content)
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(cfg)


def test_missing_and_unreadable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.load(tmp_path)  # a directory


def test_token_never_in_file(tmp_path: Path) -> None:
    cfg = tmp_path / "bridge.toml"
    cfg.write_text('[tracker]\nkind = "jira"\ntoken = "s3cret"\n')
    with pytest.raises(ConfigError) as err:
        Settings.load(cfg)
    assert "s3cret" not in str(err.value)
    assert "BRIDGE_TRACKER__TOKEN" in str(err.value)


def test_token_from_env_or_file_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN", "tok-123")
    s = Settings.load()
    assert s.tracker.secret() == "tok-123"
    assert "tok-123" not in repr(s) and "tok-123" not in str(s.model_dump())
    monkeypatch.delenv("BRIDGE_TRACKER__TOKEN")
    secret = tmp_path / "token"
    secret.write_text("tok-456\n")
    monkeypatch.setenv("BRIDGE_TRACKER__TOKEN_FILE", str(secret))
    assert Settings.load().tracker.secret() == "tok-456"


def test_example_config_loads() -> None:
    example = Path(__file__).parent.parent / "config" / "bridge.example.toml"
    s = Settings.load(example)
    assert s.tracker.kind == "local"
    assert "platform" in s.teams


def test_builds_memory_tracker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TRACKER__KIND", "memory")
    tracker = Bridge(Settings.load()).tracker
    assert tracker.name == "memory"
