"""The command line through click's CliRunner, `genome init`, and the fast not-due path."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import cli
from tests.conftest import git, tree_state

BIN = Path(sys.executable).parent


def invoke(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd:
            os.chdir(cwd)
        return runner.invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def test_help_teaches_the_day_and_lists_every_exit_code():
    result = invoke("--help")
    assert result.exit_code == 0
    for text in (
        "genome init",
        "genome tick --now",
        "genome schedule install --every 30m",
        "genome review",
    ):
        assert text in result.output
    for code in range(6):
        assert f"  {code}  " in result.output
    for command in ("init", "tick", "run", "status", "review", "feedback", "schedule", "demo"):
        assert command in result.output


@pytest.mark.parametrize("command", ["init", "tick", "demo"])
def test_each_command_has_help_with_an_example_or_explanation(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and len(result.output.splitlines()) > 8
    assert "Exit codes:" in result.output


def test_init_creates_the_files_and_commits_them(tmp_path):
    git(tmp_path, "init", "-q")
    result = invoke("init", str(tmp_path))
    assert result.exit_code == 0, result.output
    for name in ("genome.md", "levers.md", "loop-prompt.md"):
        assert f"created {name}" in result.output and (tmp_path / name).exists()
    assert ".genome/" in (tmp_path / ".gitignore").read_text().splitlines()
    assert git(tmp_path, "log", "--format=%s") == "genome: start the loop\n"
    assert sorted(git(tmp_path, "show", "--name-only", "--format=", "HEAD").split()) == [
        ".gitignore",
        "genome.md",
        "levers.md",
        "loop-prompt.md",
    ]
    assert git(tmp_path, "status", "--porcelain") == ""


def test_init_twice_changes_nothing_and_says_so(tmp_path):
    git(tmp_path, "init", "-q")
    invoke("init", str(tmp_path))
    before, head = tree_state(tmp_path), git(tmp_path, "rev-parse", "HEAD")
    result = invoke("init", str(tmp_path))
    assert result.exit_code == 0
    assert "nothing to do" in result.output and "kept genome.md" in result.output
    assert tree_state(tmp_path) == before and git(tmp_path, "rev-parse", "HEAD") == head


def test_init_never_overwrites_and_commits_only_what_it_created(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "genome.md").write_text("my own genome\n")
    (tmp_path / "wip.txt").write_text("uncommitted work\n")
    result = invoke("init", str(tmp_path))
    assert "kept genome.md" in result.output and "created levers.md" in result.output
    assert (tmp_path / "genome.md").read_text() == "my own genome\n"
    committed = git(tmp_path, "show", "--name-only", "--format=", "HEAD").split()
    assert "wip.txt" not in committed and "genome.md" not in committed and "levers.md" in committed


def test_init_outside_a_git_repo_explains_how_to_start_one(tmp_path):
    result = invoke("init", str(tmp_path / "new"))
    assert result.exit_code == 0
    assert "not a git repository" in result.output and "git init" in result.output
    assert (tmp_path / "new" / "levers.md").exists()


@pytest.mark.slow
def test_genome_tick_exits_at_once_when_not_due_without_touching_anything(project):
    due = datetime.now(timezone.utc) + timedelta(hours=1)
    (project / ".genome").mkdir(exist_ok=True)
    (project / ".genome" / "next-due").write_text(due.strftime("%Y-%m-%dT%H:%M:%SZ") + "\n")
    before = tree_state(project)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    done = subprocess.run(
        [str(BIN / "genome-tick")], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    assert tree_state(project) == before
    # the same project with the time passed: due, so it really ticks (and says it needs a key)
    (project / ".genome" / "next-due").write_text("2020-01-01T00:00:00Z\n")
    done = subprocess.run(
        [str(BIN / "genome-tick")], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 5 and "ANTHROPIC_API_KEY" in done.stderr


def test_the_not_due_path_imports_nothing_heavy(project):
    (project / ".genome").mkdir(exist_ok=True)
    (project / ".genome" / "next-due").write_text("2999-01-01T00:00:00Z\n")
    probe = (
        "import sys, runpy; sys.argv = ['genome-tick']\n"
        "try:\n    from runner.fast import main; main()\n"
        "except SystemExit as e:\n"
        "    heavy = [m for m in ('anthropic', 'git', 'click', 'yaml', 'httpx2', 'runner.watch', "
        "'runner.due',\n"
        "                         'datetime', 'json') if m in sys.modules]\n"
        "    print(e.code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=project, capture_output=True, text=True
    )
    assert done.stdout.strip() == "0 []", done.stderr
    # the firing is accounted for, with os-level calls only
    [line] = (project / ".genome" / "firings").read_text().splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ not-due", line)


def test_demo_runs_a_whole_tick_with_a_scripted_model():
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "SCRIPTED model" in result.output
    assert "L-001 Add a hello script" in result.output and "Outcome: shipped" in result.output


def test_init_leaves_what_the_person_staged_staged_and_out_of_its_commit(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "staged.txt").write_text("the person's staged work\n")
    git(tmp_path, "add", "staged.txt")
    invoke("init", str(tmp_path))
    assert "staged.txt" not in git(tmp_path, "show", "--name-only", "--format=", "HEAD")
    assert git(tmp_path, "status", "--porcelain") == "A  staged.txt\n"


def test_init_inside_a_repository_points_to_its_top_and_writes_nothing(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "sub").mkdir()
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "sub")])
    assert result.exit_code == 2 and f"genome init {tmp_path.resolve()}" in result.stderr
    assert list((tmp_path / "sub").iterdir()) == []


def test_init_refuses_a_bare_repository_before_writing(tmp_path):
    git(tmp_path, "init", "-q", "--bare", "origin.git")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "origin.git")])
    assert result.exit_code == 2 and "bare repository" in result.stderr
    assert not (tmp_path / "origin.git" / "genome.md").exists()


def test_init_does_not_commit_the_persons_uncommitted_gitignore_edits(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("build/\n")
    git(tmp_path, "add", ".gitignore")
    git(tmp_path, "commit", "-qm", "ignore build")
    (tmp_path / ".gitignore").write_text("build/\nsecret-local-stuff/\n")
    result = invoke("init", str(tmp_path))
    assert "not in the commit" in result.output
    assert ".gitignore" not in git(tmp_path, "show", "--name-only", "--format=", "HEAD")
    assert (tmp_path / ".gitignore").read_text() == "build/\nsecret-local-stuff/\n.genome/\n"
