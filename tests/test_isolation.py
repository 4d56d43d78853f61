"""The tick works in the runner's own worktrees: the person's tree, index, refs and ignored files
are never written by it, the person may work during a tick, and the work lands where `deliver:`
says."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from genome.levers import LeverDoc
from runner.progress import Printer
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import commit_all, git, set_config, tree_state

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def write(path, content="hello\n"):
    return tool_reply("write_file", {"path": path, "content": content})


def tick(root, *steps):
    model = ScriptedModel([*steps, text_reply("done"), tool_reply("reflect", {})])
    return run_tick(root, make_model=lambda config: model, now=NOW)


def meanwhile(action, then):
    """A scripted step that first lets the person act (the test's callback), then answers
    ``then``."""

    def step(request):
        action()
        return then

    return step


def persons_things(root):
    """What a tick must never write: every file (ignored ones too), every ref but the branch the
    work lands on and the runner's own genome/ refs, the index, the stash."""
    refs = [
        line
        for line in git(root, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
        if not line.startswith(("refs/heads/main ", "refs/heads/genome/"))
    ]
    return tree_state(root), refs, (root / ".git" / "index").read_bytes()


@pytest.fixture
def lived_in(project):
    """A repository with the person's things around: a tag, a branch, a stash, ignored files."""
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + ".env\nbuild/\n")
    commit_all(project, "ignore .env and build/")
    (project / ".env").write_text("TOKEN=the person's own\n")
    (project / "build").mkdir()
    (project / "build" / "out.bin").write_bytes(b"\x00\x01person")
    git(project, "tag", "v1.0")
    git(project, "branch", "experiment")
    (project / "tests" / "test_core.sh").write_text("test 3 -eq 3\n")
    git(project, "stash", "-q")
    return project


def test_green_and_red_ticks_leave_the_persons_files_refs_and_stash_as_they_were(lived_in):
    root = lived_in
    (root / "notes.txt").write_text("untracked, the person's\n")
    files, refs, _ = persons_things(root)
    result = tick(
        root,
        write("greeting.txt"),
        write(".env", "TOKEN=the model's\n"),
        tool_reply("run_command", {"command": "rm -rf build .env"}),
    )
    assert result.outcome == "shipped"
    after, refs_after, _ = persons_things(root)
    landed = {"greeting.txt", "levers.md", "journal/2026/11/23.md"}
    assert {k: v for k, v in after.items() if k not in landed} == {
        k: v for k, v in files.items() if k not in landed
    }
    assert refs_after == refs and git(root, "stash", "list").count("\n") == 1

    files, refs, _ = persons_things(root)
    result = tick(root, write("farewell.txt", "not bye\n"))  # its check fails: red
    assert result.outcome == "failed"
    after, refs_after, _ = persons_things(root)
    assert {k: v for k, v in after.items() if k not in landed} == {
        k: v for k, v in files.items() if k not in landed
    }
    assert refs_after == refs and not (root / "farewell.txt").exists()


def test_the_person_committing_during_a_tick_gets_the_work_replayed_and_gated_again(
    project, tmp_path
):
    # counts its runs in a file outside the project: only an unsandboxed gate can write there
    set_config(project, "\nmodel:", "\nsandbox: off\nmodel:")
    runs = tmp_path / "gate-runs"
    set_config(project, "run: git diff --check HEAD", f"run: echo ran >> {runs}")

    def person_commits():
        (project / "theirs.txt").write_text("the person's commit\n")
        commit_all(project, "the person's work")

    result = tick(project, meanwhile(person_commits, write("greeting.txt")))
    assert result.outcome == "shipped"
    subjects = git(project, "log", "--format=%s", "-4").splitlines()
    assert subjects[:3] == [
        "genome: L-001 shipped",
        "L-001 Add a greeting file",
        "the person's work",
    ]
    assert (project / "greeting.txt").read_text() == "hello\n" and (project / "theirs.txt").exists()
    assert git(project, "status", "--porcelain") == ""
    # on the start tree before the model (the baseline), on the candidate, again on the replayed
    # result
    assert runs.read_text().count("ran") == 3


def test_a_replay_that_conflicts_waits_on_the_genome_branch_and_lands_later(project):
    def person_writes_the_same_file():
        (project / "greeting.txt").write_text("the person's greeting\n")
        commit_all(project, "the person's greeting")

    result = tick(project, meanwhile(person_writes_the_same_file, write("greeting.txt")))
    assert result.outcome == "shipped"
    assert (project / "greeting.txt").read_text() == "the person's greeting\n"
    assert git(project, "show", "genome/main~1:greeting.txt") == "hello\n"
    assert git(project, "log", "-1", "--format=%s", "main").strip() == "the person's greeting"
    # the next tick builds on the waiting work (L-001 is done there), not on a lever done twice
    result = tick(project, write("farewell.txt", "bye\n"))
    assert result.record.lever == "L-002"
    assert git(project, "show", "genome/main:levers.md").count("[x]") == 2


def test_a_person_on_another_branch_sees_their_branch_untouched_and_main_moves(project):
    def person_switches():
        git(project, "switch", "-q", "-c", "feature")
        (project / "feature.txt").write_text("work in progress\n")

    result = tick(project, meanwhile(person_switches, write("greeting.txt")))
    assert result.outcome == "shipped"
    assert git(project, "branch", "--show-current").strip() == "feature"
    assert not (project / "greeting.txt").exists() and (project / "feature.txt").exists()
    assert git(project, "show", "main~1:greeting.txt") == "hello\n"


def test_a_persons_edit_during_the_tick_makes_the_work_wait_then_the_next_tick_lands_it(project):
    def person_edits():
        (project / "tests" / "test_core.sh").write_text("test 4 -eq 4\n")

    start = git(project, "rev-parse", "main")
    result = tick(project, meanwhile(person_edits, write("greeting.txt")))
    assert result.outcome == "shipped" and git(project, "rev-parse", "main") == start
    assert (project / "tests" / "test_core.sh").read_text() == "test 4 -eq 4\n"
    assert git(project, "rev-parse", "--verify", "genome/main")
    git(project, "checkout", "-q", "--", "tests/test_core.sh")  # the person is done
    result = tick(project, write("farewell.txt", "bye\n"))
    assert result.outcome == "shipped" and (project / "greeting.txt").read_text() == "hello\n"
    assert (project / "farewell.txt").read_text() == "bye\n"
    assert git(project, "branch", "--list", "genome/*") == ""  # nothing waits any more


def test_deliver_branch_always_waits_on_the_genome_branch(project):
    set_config(project, "gates:", "deliver: branch\ngates:")
    start = git(project, "rev-parse", "main")
    result = tick(project, write("greeting.txt"))
    assert result.outcome == "shipped" and git(project, "rev-parse", "main") == start
    assert git(project, "show", "genome/main~1:greeting.txt") == "hello\n"
    assert not (project / "greeting.txt").exists()
    levers = LeverDoc.parse(git(project, "show", "genome/main:levers.md"))
    assert levers.get("L-001").status == "done"


def test_the_commits_tree_is_the_tree_the_gates_ran_on(project, tmp_path):
    # writes outside the project and git's index: only an unsandboxed gate can
    set_config(project, "\nmodel:", "\nsandbox: off\nmodel:")
    seen = tmp_path / "seen"
    set_config(
        project,
        "run: git diff --check HEAD",
        f"run: git write-tree > {seen} && echo by-product >> tests/test_core.sh && touch stray.o",
    )
    result = tick(project, write("greeting.txt"))
    assert result.outcome == "shipped"
    assert git(project, "rev-parse", "HEAD~1^{tree}").strip() == seen.read_text().strip()
    assert (project / "tests/test_core.sh").read_text() == "test 1 -eq 1\n" and not (
        project / "stray.o"
    ).exists()


def genome(root, *args):
    command = Path(sys.executable).with_name("genome")
    return subprocess.run(
        [str(command), *args], cwd=root, capture_output=True, text=True, timeout=120
    )


def test_genome_land_brings_waiting_work_over_with_the_gates_run_again(project, tmp_path):
    # only an unsandboxed command can write git's refs or files outside the project
    set_config(project, "\nmodel:", "\nsandbox: off\nmodel:")
    runs = tmp_path / "gate-runs"
    set_config(project, "gates:", "deliver: branch\ngates:")
    set_config(project, "run: git diff --check HEAD", f"run: echo ran >> {runs}")
    tick(project, write("greeting.txt"))
    assert not (project / "greeting.txt").exists()
    (project / "theirs.txt").write_text("the person's commit\n")
    commit_all(project, "the person's work meanwhile")
    (project / "notes.txt").write_text("untracked\n")
    before = runs.read_text().count("ran")
    done = genome(project, "land")
    assert done.returncode == 0, done.stderr
    assert "landed on main" in done.stdout
    assert runs.read_text().count("ran") == before + 1  # the gates ran on the replayed result
    assert (project / "greeting.txt").read_text() == "hello\n" and (project / "theirs.txt").exists()
    assert (project / "notes.txt").read_text() == "untracked\n"
    assert git(project, "branch", "--list", "genome/*") == ""
    assert genome(project, "land").stdout.strip() == "nothing waits on genome/main"


def test_genome_land_refuses_over_uncommitted_changes_and_keeps_the_commits(project):
    set_config(project, "gates:", "deliver: branch\ngates:")
    tick(project, write("greeting.txt"))
    waiting = git(project, "rev-parse", "genome/main")
    (project / "tests" / "test_core.sh").write_text("test 5 -eq 5\n")
    done = genome(project, "land")
    assert done.returncode == 3 and "uncommitted changes" in done.stderr
    assert git(project, "rev-parse", "genome/main") == waiting
    assert (project / "tests" / "test_core.sh").read_text() == "test 5 -eq 5\n"


def stand_in_gh(tmp_path, monkeypatch, *, logged_in=True):
    """A `gh` on PATH that logs its arguments and answers as the GitHub CLI does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "gh.log"
    (bin_dir / "gh").write_text(f"""#!/bin/sh
echo "$*" >> {log}
case "$1 $2" in
  "auth status") {"exit 0" if logged_in else 'echo "You are not logged into any GitHub hosts" >&2; exit 1'} ;;
  "pr view") if [ -e {tmp_path}/opened ]; then echo '{{"url": "https://example.test/pr/1", "state": "OPEN"}}'; exit 0; fi
             echo 'no pull requests found' >&2; exit 1 ;;
  "pr create") touch {tmp_path}/opened; echo https://example.test/pr/1 ;;
  "pr edit") echo https://example.test/pr/1 ;;
esac
""")  # noqa: E501
    (bin_dir / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return log


@pytest.fixture
def with_origin(project, tmp_path):
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "fetch", "-q", "origin")
    git(project, "branch", "-q", "-u", "origin/main")
    set_config(project, "gates:", "deliver: pr\ngates:")
    return project, origin


def test_deliver_pr_pushes_the_branch_and_opens_then_updates_one_draft(
    with_origin, tmp_path, monkeypatch
):
    project, origin = with_origin
    log = stand_in_gh(tmp_path, monkeypatch)
    tick(project, write("greeting.txt"))
    assert git(origin, "rev-parse", "genome/main") == git(project, "rev-parse", "genome/main")
    calls = log.read_text().splitlines()
    create = next(line for line in calls if line.startswith("pr create"))
    assert "--draft" in create and "--base main" in create and "--head genome/main" in create
    tick(project, write("farewell.txt", "bye\n"))
    calls = log.read_text().splitlines()
    assert sum(line.startswith("pr create") for line in calls) == 1
    assert any(line.startswith("pr edit genome/main") for line in calls)
    assert git(origin, "rev-parse", "genome/main") == git(project, "rev-parse", "genome/main")


def test_deliver_pr_without_a_login_says_so_and_keeps_the_commits(
    with_origin, tmp_path, monkeypatch
):
    project, origin = with_origin
    stand_in_gh(tmp_path, monkeypatch, logged_in=False)
    out = io.StringIO()
    model = ScriptedModel([write("greeting.txt"), text_reply("done"), tool_reply("reflect", {})])
    result = run_tick(
        project, make_model=lambda config: model, now=NOW, printer=Printer(out, live=False)
    )
    assert result.outcome == "shipped"
    assert "`gh` is not logged in: run `gh auth login`" in out.getvalue()
    assert git(project, "show", "genome/main~1:greeting.txt") == "hello\n"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    if shutil.which("gh") is None:
        tick(project, write("farewell.txt", "bye\n"))
        assert git(project, "show", "genome/main~1:farewell.txt") == "bye\n"


@pytest.fixture
def with_submodule(project, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    git(library, "init", "-q")
    (library / "lib.txt").write_text("the library\n")
    commit_all(library, "library")
    git(
        project,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(library),
        "vendor/lib",
    )
    commit_all(project, "a submodule")
    return project


def test_a_submodule_is_out_of_reach_and_the_loop_never_stalls_on_it(with_submodule):
    project = with_submodule
    pointer = git(project, "ls-files", "-s", "vendor/lib")
    before = (project / "vendor/lib/lib.txt").read_bytes()
    model = ScriptedModel(
        [
            tool_reply("write_file", {"path": "vendor/lib/lib.txt", "content": "changed\n"}),
            write("greeting.txt"),
            tool_reply(
                "run_command", {"command": "mkdir -p vendor/lib && echo x > vendor/lib/new.txt"}
            ),
            text_reply("done"),
            tool_reply("reflect", {}),
        ]
    )
    result = run_tick(project, make_model=lambda config: model, now=NOW)
    refusal = model.requests[1]["messages"][-1]["content"][0]
    assert refusal["is_error"] and "inside the submodule vendor/lib" in refusal["content"]
    assert result.outcome == "failed" and "submodule vendor/lib" in result.record.reason
    assert (project / "vendor/lib/lib.txt").read_bytes() == before and git(
        project, "ls-files", "-s", "vendor/lib"
    ) == pointer
    assert not (project / ".genome/worktrees/act/vendor/lib/new.txt").exists()  # put back
    result = run_tick(
        project,
        now=NOW,
        make_model=lambda config: ScriptedModel(
            [write("greeting.txt"), text_reply("done"), tool_reply("reflect", {})]
        ),
    )
    assert result.outcome == "shipped" and git(project, "status", "--porcelain") == ""


def test_genome_status_says_what_waits_and_how_to_land_it(project):
    set_config(project, "gates:", "deliver: branch\ngates:")
    tick(project, write("greeting.txt"))
    done = genome(project, "status")
    assert done.returncode == 0, done.stderr
    assert "2 commits on genome/main not yet on main: `genome land` brings them over" in done.stdout


def test_a_commit_adding_a_file_the_person_keeps_ignored_waits_instead_of_overwriting_it(project):
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + "greeting.txt\n")
    commit_all(project, "ignore greeting.txt")
    (project / "greeting.txt").write_text("the person's own\n")
    start = git(project, "rev-parse", "main")
    # the change stops ignoring the path and adds it: a fast-forward would write over their file
    gitignore = (project / ".gitignore").read_text().replace("greeting.txt\n", "")
    result = tick(project, write(".gitignore", gitignore), write("greeting.txt"))
    assert result.outcome == "shipped", result.record.reason
    assert (project / "greeting.txt").read_text() == "the person's own\n"
    assert git(project, "rev-parse", "main") == start
    assert git(project, "show", "genome/main~1:greeting.txt") == "hello\n"
