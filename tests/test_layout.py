"""The test tree's own rules: it mirrors src/, and its modules can be collected side by side."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).parent
SRC = TESTS.parent / "src" / "tracker_bridge"


def test_test_module_names_are_unique() -> None:
    """pytest imports test modules by basename (no __init__.py files), so two must not share one."""
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []


def test_test_modules_import_helpers_from_support_not_each_other() -> None:
    importing = re.compile(r"^\s*(?:from|import) (test_\w+|contract)\b", re.M)
    offenders = [
        str(p.relative_to(TESTS)) for p in TESTS.rglob("*.py") if importing.search(p.read_text())
    ]
    assert offenders == []


def test_every_test_folder_names_a_source_package() -> None:
    folders = {p.parent.relative_to(TESTS) for p in TESTS.rglob("test_*.py")} - {Path()}
    assert folders, "tests are grouped by package"
    for folder in folders:
        source = SRC / folder
        assert source.is_dir() or source.with_suffix(".py").is_file(), f"tests/{folder}: no source"
