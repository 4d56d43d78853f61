"""Ways a model (or the world) could get past the runner's rules, each closed and checked in a real
tick."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from genome.levers import LeverDoc
from runner import due, feedback
from runner.errors import BudgetSpent, Refused
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.session import STOP
from runner.tick import run_tick
from tests.conftest import commit_all, git, set_config, tree_state

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def unsandboxed(project):
    """The runner's own checks, tried where no sandbox holds git's files read-only (a container
    with `sandbox: off`); tests/test_sandbox.py tries the same writes inside the sandbox."""
    set_config(project, "\nmodel:", "\nsandbox: off\nmodel:")


def tick(root, *steps, **kwargs):
    model = ScriptedModel([*steps, text_reply("done"), tool_reply("reflect", {})])
    return run_tick(root, make_model=lambda config: model, now=NOW, **kwargs), model


def write(path, content="hello\n"):
    return tool_reply("write_file", {"path": path, "content": content})


def shell(command):
    return tool_reply("run_command", {"command": command})


def test_what_a_gate_writes_is_never_committed(project):
    (project / "check.sh").write_text("true\n")
    set_config(project, "run: git diff --check HEAD", "run: bash check.sh")
    before = tree_state(project)
    result, _ = tick(
        project,
        write("greeting.txt"),
        write(
            "check.sh",
            "echo true > tests/test_core.sh\ntouch tests/core.pyc\ngrep -qx hello greeting.txt\n",
        ),
    )
    # the gates ran on the candidate in their own worktree; their by-products are not the change
    assert result.outcome == "shipped"
    assert git(project, "diff", "--name-only", "HEAD~2", "HEAD~1").split() == [
        "check.sh",
        "greeting.txt",
    ]
    assert (project / "tests/test_core.sh").read_bytes() == before["tests/test_core.sh"]
    assert not (project / "tests/core.pyc").exists()


def test_an_index_flag_cannot_hide_a_change_from_the_candidate(project):
    result, _ = tick(
        project,
        write("greeting.txt"),
        shell(
            "git update-index --assume-unchanged tests/test_core.sh && echo true > "
            "tests/test_core.sh"
        ),
    )
    assert result.outcome == "failed" and "tests/test_core.sh" in result.record.reason
    assert (project / "tests/test_core.sh").read_text() == "test 1 -eq 1\n"
    assert git(project, "ls-files", "-v", "tests/test_core.sh").startswith("H ")


def test_a_planted_git_hook_fails_the_tick_and_is_removed(project):
    result, _ = tick(
        project,
        write("greeting.txt"),
        shell(
            "hooks=$(git rev-parse --git-common-dir)/hooks && "
            "printf '#!/bin/sh\\necho hooked > hooked.txt\\n' > $hooks/post-commit && "
            "chmod +x $hooks/post-commit"
        ),
    )
    assert result.outcome == "failed" and ".git/" in result.record.reason
    assert (
        not (project / ".git/hooks/post-commit").exists() and not (project / "hooked.txt").exists()
    )
    assert git(project, "status", "--porcelain") == ""


def test_a_nested_repository_fails_the_tick_and_the_folder_is_removed(project):
    result, _ = tick(
        project,
        write("greeting.txt"),
        shell(
            "git init -q vendorlib && cd vendorlib && echo x > a && git add a && "
            "git -c user.name=x -c user.email=x@x commit -qm x"
        ),
    )
    assert (
        result.outcome == "failed" and "nested git repository at vendorlib" in result.record.reason
    )
    assert not (project / "vendorlib").exists() and git(project, "status", "--porcelain") == ""


def test_the_checked_out_branch_cannot_be_deleted_from_the_act_worktree(project):
    head = git(project, "rev-parse", "HEAD")
    result, model = tick(
        project, write("greeting.txt"), shell("git checkout -q --detach && git branch -D main")
    )
    assert "checked out at" in tool_results_text(model)
    assert result.outcome == "shipped"
    assert git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert (
        git(project, "rev-parse", "HEAD~2") == head
    )  # the code commit and the record commit on top


def tool_results_text(model):
    return "".join(
        str(b.get("content"))
        for request in model.requests
        for message in request["messages"]
        if isinstance(message["content"], list)
        for b in message["content"]
        if isinstance(b, dict) and b.get("type") == "tool_result"
    )


def test_the_persons_ignored_files_are_out_of_the_models_reach(project):
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + ".env\n")
    (project / ".env").write_text("PASSWORD=the person's\n")
    commit_all(project, "ignore .env")
    result, model = tick(project, write(".env", "PASSWORD=overwritten\n"), write("greeting.txt"))
    # the act worktree has no .env of the person's: the write lands there, ignored, and goes nowhere
    assert (
        project / ".env"
    ).read_text() == "PASSWORD=the person's\n" and result.outcome == "shipped"
    assert "PASSWORD" not in git(project, "log", "-p", "--all")


@pytest.mark.slow
def test_many_thousands_of_new_files_do_not_overflow_a_command_line(project):
    command = (
        "mkdir -p node_modules/pkg && cd node_modules/pkg && seq 1 25000 | "
        "sed 's/.*/file-with-a-rather-long-name-so-the-paths-add-up-past-the-limit-&.js/' | xargs "
        "touch"
    )
    result, _ = tick(
        project, shell(command)
    )  # red: the lever's check fails, so all of it goes back
    assert result.outcome == "failed"
    assert not (project / "node_modules").exists() and git(project, "status", "--porcelain") == ""


def test_a_signal_before_the_act_is_an_interruption_not_a_failed_attempt(project):
    STOP.set()
    try:
        result, model = tick(project, write("greeting.txt"))
    finally:
        STOP.clear()
    assert result.outcome == "interrupted" and len(model.requests) == 0
    lever = LeverDoc.parse((project / "levers.md").read_text()).get("L-001")
    assert lever.status == "open" and lever.log[-1].endswith("(not counted)")


def test_notes_wait_for_a_working_tick_when_every_lever_is_blocked(project):
    (project / "levers.md").write_text("- [!] L-001 Too hard\n")
    commit_all(project, "blocked")
    feedback.store(project, "Try L-001 again with smaller steps.")
    result, _ = tick(project)
    assert result.outcome == "blocked"
    assert [note.text for note in feedback.pending(project)] == [
        "Try L-001 again with smaller steps."
    ]


def test_crossing_the_tick_budget_backs_off_like_a_red_tick_not_until_tomorrow(project):
    set_config(project, "tick_usd: 1.0", "tick_usd: 0.1")
    usage = {"input_tokens": 200_000, "output_tokens": 1000}
    with pytest.raises(BudgetSpent, match="tick budget"):
        run_tick(
            project,
            now=NOW,
            make_model=lambda config: ScriptedModel(
                [
                    tool_reply(
                        "write_file", {"path": "greeting.txt", "content": "hello\n"}, usage=usage
                    )
                ]
            ),
        )
    assert due.read_next_due(project) == NOW + timedelta(minutes=60) - timedelta(
        seconds=due.slack_seconds(1800)
    )


def test_an_unreachable_remote_refuses_the_tick_with_gits_words(project, tmp_path):
    git(project, "remote", "add", "origin", str(tmp_path / "gone.git"))
    git(project, "config", "branch.main.remote", "origin")
    git(project, "config", "branch.main.merge", "refs/heads/main")
    with pytest.raises(Refused, match="could not fetch from origin"):
        tick(project, write("greeting.txt"), push=True)
    assert git(project, "status", "--porcelain") == ""


def test_an_unexpected_error_restores_the_tree_and_the_next_tick_records_the_spend(
    project, monkeypatch
):
    import runner.tick as phases

    usage = {"input_tokens": 10_000, "output_tokens": 100}

    def broken_gates(specs, cwd, env=None, **kwargs):
        raise RuntimeError("a bug in the runner")

    monkeypatch.setattr(phases, "run_gates", broken_gates)
    with pytest.raises(RuntimeError):
        tick(
            project,
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}, usage=usage),
        )
    assert (
        git(project, "status", "--porcelain") == ""
        and (project / ".genome" / "intent.json").exists()
    )
    monkeypatch.undo()
    result, _ = tick(project, write("greeting.txt"))
    assert result.outcome == "shipped"
    interrupted = git(project, "log", "--format=%B", "-n", "1", "HEAD~2")
    assert "Outcome: interrupted" in interrupted
    spent = float(interrupted.split("Cost-USD: ")[1].split()[0])
    assert spent >= 0.021  # at least the first turn's $0.021 (10k in, 100 out at Sonnet 5.5 prices)
