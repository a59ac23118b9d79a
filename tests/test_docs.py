"""The docs keep up with the code: every command is documented and the README's commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tracker_bridge.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    out: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        out[prefix + name] = command
        if isinstance(command, click.Group):
            out.update(_commands(command, prefix + name + " "))
    return out


def test_every_command_is_in_the_readme() -> None:
    for name, command in _commands(cli).items():
        if isinstance(command, click.Group):
            continue
        assert f"bridge {name}" in README, name


def test_readme_commands_exist() -> None:
    known = set(_commands(cli))
    for match in re.finditer(r"(?:\$ |`)bridge ([a-z]+(?: [a-z]+)?)", README):
        words = match.group(1).split()
        assert words[0] in known or " ".join(words) in known, match.group(0)


def test_first_lines_install_run_and_test() -> None:
    first, second = README.splitlines()[:2]
    assert "pip install" in first and "bridge observe" in first
    assert "pip install" in second and "pytest" in second


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/pytest" in ci and "pip install -q -e '.[dev]'" in ci


def test_example_config_documents_every_section() -> None:
    example = (ROOT / "config" / "bridge.example.toml").read_text(encoding="utf-8")
    for section in ("[tracker]", "[conventions]", "[matching]", "[check]", "[teams."):
        assert section in example


def test_the_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    [example] = re.findall(r"```python\n(from tracker_bridge import Bridge.*?)```", README, re.S)
    Path("df.txt").write_text("/dev/sda1 100%\n")
    Path("app.log").write_text("ERROR No space left on device\n")
    Path("bridge.toml").write_text('[teams.platform]\nproject = "PLAT"\n')
    exec(compile(example, "README.md", "exec"), {})
    assert capsys.readouterr().out == "OPS-1 OPS-2 new\n"


def test_every_command_help_teaches_by_example() -> None:
    from click.testing import CliRunner

    runner = CliRunner()
    for name, command in _commands(cli).items():
        if isinstance(command, click.Group):
            continue
        result = runner.invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0, name
        text = result.output.split("\nOptions:")[0]
        assert re.search(r"\bExamples?:\n", text), f"bridge {name} --help has no Examples"
        assert f"bridge {name}" in text.split("Example")[1], name
