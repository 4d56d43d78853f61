"""Before the model is called, the gates run on the start tree; `setup:` prepares the runner's
worktrees."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from genome.levers import LeverDoc
from runner.errors import ENVIRONMENT, EnvironmentBroken
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import commit_all, git, set_config

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
GREEN = [
    tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
    text_reply("done"),
    tool_reply("reflect", {}),
]


def tick(root, script=GREEN):
    model = ScriptedModel(list(script))
    return run_tick(root, make_model=lambda config: model, now=NOW), model


def no_model(config):
    raise AssertionError("the model must not be called")


@pytest.mark.parametrize(
    "gate, says",
    [
        ("test -e never-there.txt", "already red before any change"),
        ("no-such-gate-command --check", "cannot run (exit 127"),
    ],
)
def test_a_gate_red_or_missing_before_any_change_stops_without_spend_or_blame(project, gate, says):
    set_config(project, "run: git diff --check HEAD", f"run: {gate}")
    head = git(project, "rev-parse", "HEAD")
    with pytest.raises(EnvironmentBroken, match="diff-check") as stop:
        run_tick(project, make_model=no_model, now=NOW)
    assert stop.value.exit_code == ENVIRONMENT == 6 and says in stop.value.message
    lever = LeverDoc.parse((project / "levers.md").read_text()).get("L-001")
    assert lever.status == "open" and "(attempt" not in " ".join(lever.log)
    journal = (project / "journal/2026/11/23.md").read_text()
    assert "environment: gate diff-check" in journal
    assert git(project, "rev-parse", "HEAD~1") == head  # one record commit, said once
    with pytest.raises(EnvironmentBroken):
        run_tick(project, make_model=no_model, now=NOW)
    assert git(project, "rev-parse", "HEAD~1") == head  # not said again for the same tree


def test_the_cli_exits_6_and_names_the_gate(project):
    set_config(project, "run: git diff --check HEAD", "run: echo 'the database is down' && false")
    tick_command = Path(sys.executable).with_name("genome-tick")
    done = subprocess.run(
        [str(tick_command), "--now"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "ANTHROPIC_API_KEY": "sk-ant-test-unused"},
        timeout=120,
    )
    assert done.returncode == 6, done.stderr
    assert "gate diff-check" in done.stderr and "the database is down" in done.stderr


def test_a_green_baseline_is_remembered_per_tree(project, tmp_path):
    # counts its runs in a file outside the project: only an unsandboxed gate can write there
    set_config(project, "\nmodel:", "\nsandbox: off\nmodel:")
    runs = tmp_path / "runs"
    set_config(project, "run: git diff --check HEAD", f"run: echo ran >> {runs}")
    (project / "levers.md").write_text(
        (project / "levers.md")
        .read_text()
        .replace("- [ ] L-002", "- [ ] L-003 Something else\n  check: false\n- [ ] L-002")
    )
    commit_all(project, "a lever that fails")
    result, _ = tick(
        project,
        [text_reply("nothing to do"), text_reply("still nothing"), tool_reply("reflect", {})],
    )
    assert (
        result.outcome == "failed" and runs.read_text().count("ran") == 1
    )  # baseline only: no change
    result, _ = tick(
        project, [text_reply("nothing"), text_reply("nothing"), tool_reply("reflect", {})]
    )
    # the record commit changed only levers.md and the journal: the same code, not checked again
    assert runs.read_text().count("ran") == 1
    (project / "src.txt").write_text("new code\n")
    commit_all(project, "a person's change")
    result, _ = tick(
        project, [text_reply("nothing"), text_reply("nothing"), tool_reply("reflect", {})]
    )
    assert runs.read_text().count("ran") == 2  # new code: checked once more


def test_a_shipped_tree_is_green_without_a_baseline_run(project, tmp_path):
    # counts its runs in a file outside the project: only an unsandboxed gate can write there
    set_config(project, "\nmodel:", "\nsandbox: off\nmodel:")
    runs = tmp_path / "runs"
    set_config(project, "run: git diff --check HEAD", f"run: echo ran >> {runs}")
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            tool_reply("reflect", {}),
        ],
    )
    assert (
        result.outcome == "shipped" and runs.read_text().count("ran") == 2
    )  # baseline, then the gate
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
            text_reply("done"),
            tool_reply("reflect", {}),
        ],
    )
    assert result.outcome == "shipped" and runs.read_text().count("ran") == 3  # the gate only


@pytest.mark.slow
def test_setup_makes_a_real_virtualenv_once_and_again_when_its_inputs_change(project, tmp_path):
    # counts its runs in a file outside the project: only an unsandboxed gate can write there
    set_config(project, "\nmodel:", "\nsandbox: off\nmodel:")
    log = tmp_path / "setup-runs"
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + ".venv/\n")
    (project / "requirements.txt").write_text("# nothing yet\n")
    commit_all(project, "requirements")
    set_config(
        project,
        "gates:",
        f'setup: ["python3 -m venv --without-pip .venv", "echo setup >> {log}"]\n'
        'setup_when: ["requirements*.txt"]\ngates:',
    )
    set_config(
        project,
        "run: git diff --check HEAD",
        "run: .venv/bin/python -c 'import sys; assert sys.prefix != sys.base_prefix'",
    )
    result, _ = tick(project)
    assert result.outcome == "shipped"
    setups = log.read_text().count("setup")
    assert setups == 2  # once in the gate worktree, once in the act worktree
    assert not (project / ".venv").exists() and ".venv" not in git(
        project, "log", "--all", "--name-only", "--format="
    )
    tick(
        project,
        [
            tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
            text_reply("done"),
            tool_reply("reflect", {}),
        ],
    )
    assert log.read_text().count("setup") == setups  # nothing it depends on changed
    (project / "requirements.txt").write_text("# still nothing, but new\n")
    commit_all(project, "requirements changed")
    (project / "levers.md").write_text(
        (project / "levers.md").read_text() + "- [ ] L-003 A third file\n"
        "  check: test -e third.txt\n"
    )
    commit_all(project, "a third lever")
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "third.txt", "content": "3\n"}),
            text_reply("done"),
            tool_reply("reflect", {}),
        ],
    )
    assert result.outcome == "shipped" and log.read_text().count("setup") == setups + 2


def test_a_failing_setup_is_an_environment_failure_with_its_output_in_the_journal(project):
    set_config(
        project, "gates:", 'setup: ["echo pip could not reach the index >&2; exit 1"]\ngates:'
    )
    with pytest.raises(EnvironmentBroken, match="setup command"):
        run_tick(project, make_model=no_model, now=NOW)
    journal = (project / "journal/2026/11/23.md").read_text()
    assert "pip could not reach the index" in journal
