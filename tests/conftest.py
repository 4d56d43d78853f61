"""Shared fixtures: every test runs with a private HOME, git config and Anthropic config dir, and no
API credentials from the machine it runs on."""

from __future__ import annotations

import difflib
import re
import subprocess
from pathlib import Path

import pytest

from runner.init import init_project

LEVERS = """\
# Levers

- [ ] L-001 Add a greeting file
  check: grep -qx 'hello' greeting.txt
- [ ] L-002 Add a farewell file
  check: grep -qx 'bye' farewell.txt
"""


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test Person\n\temail = person@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))  # the commands' HOME lives here
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))  # and the runner's record key
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(home / ".anthropic"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CUSTOM_HEADERS",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def commit_all(root: Path, message: str = "edit") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def tree_state(root: Path) -> dict[str, bytes]:
    """Every file under root except .git/ and .genome/, with its bytes: to prove nothing changed."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not p.is_symlink()
        and p.relative_to(root).parts[0] not in (".git", ".genome")
    }


@pytest.fixture
def project(tmp_path) -> Path:
    """A git repository set up by `genome init`, with two levers and a tests/ file to protect."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q")
    init_project(root)
    (root / "levers.md").write_text(LEVERS)
    (root / "tests").mkdir()
    (root / "tests" / "test_core.sh").write_text("test 1 -eq 1\n")
    commit_all(root, "levers and a test")
    return root


def set_config(root: Path, old: str, new: str) -> None:
    """Edit loop-prompt.md's frontmatter and commit it (the tick reads config from HEAD)."""
    path = root / "loop-prompt.md"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    commit_all(root, "config")


def lines_of(text: str) -> list[str]:
    """Lines split at line feeds only, endings kept, so a diff sees every stray byte."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def changes(before: str, after: str) -> list[tuple[str, list[str], list[str]]]:
    """Every differing run of lines between two texts, so a test sees any stray byte."""
    old, new = lines_of(before), lines_of(after)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return [
        (tag, old[i1:i2], new[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def pytest_collection_modifyitems(items):
    """Property tests run hundreds of generated examples each: they belong to the full run, not to
    the fast tier (`-m "not slow"`)."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)
