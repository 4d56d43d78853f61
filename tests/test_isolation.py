"""The tick works in the runner's own worktrees: the person's tree, index, refs and ignored files are
never written by it, the person may work during a tick, and the work lands where `deliver:` says."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from genome.levers import LeverDoc
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
    """A scripted step that first lets the person act (the test's callback), then answers ``then``."""
    def step(request):
        action()
        return then
    return step


def persons_things(root):
    """What a tick must never write: every file (ignored ones too), every ref but the branch the
    work lands on and the runner's own genome/ refs, the index, the stash."""
    refs = [line for line in git(root, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
            if not line.startswith(("refs/heads/main ", "refs/heads/genome/"))]
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
    result = tick(root, write("greeting.txt"), write(".env", "TOKEN=the model's\n"),
                  tool_reply("run_command", {"command": "rm -rf build .env"}))
    assert result.outcome == "shipped"
    after, refs_after, _ = persons_things(root)
    landed = {"greeting.txt", "levers.md", "journal/2026/11/23.md"}
    assert {k: v for k, v in after.items() if k not in landed} == {k: v for k, v in files.items() if k not in landed}
    assert refs_after == refs and git(root, "stash", "list").count("\n") == 1

    files, refs, _ = persons_things(root)
    result = tick(root, write("farewell.txt", "not bye\n"))               # its check fails: red
    assert result.outcome == "failed"
    after, refs_after, _ = persons_things(root)
    assert {k: v for k, v in after.items() if k not in landed} == {k: v for k, v in files.items() if k not in landed}
    assert refs_after == refs and not (root / "farewell.txt").exists()


def test_the_person_committing_during_a_tick_gets_the_work_replayed_and_gated_again(project, tmp_path):
    runs = tmp_path / "gate-runs"
    set_config(project, "run: git diff --check HEAD", f"run: echo ran >> {runs}")

    def person_commits():
        (project / "theirs.txt").write_text("the person's commit\n")
        commit_all(project, "the person's work")

    result = tick(project, meanwhile(person_commits, write("greeting.txt")))
    assert result.outcome == "shipped"
    subjects = git(project, "log", "--format=%s", "-4").splitlines()
    assert subjects[:3] == ["genome: L-001 shipped", "L-001 Add a greeting file", "the person's work"]
    assert (project / "greeting.txt").read_text() == "hello\n" and (project / "theirs.txt").exists()
    assert git(project, "status", "--porcelain") == ""
    # on the start tree before the model (the baseline), on the candidate, again on the replayed result
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
    git(project, "checkout", "-q", "--", "tests/test_core.sh")        # the person is done
    result = tick(project, write("farewell.txt", "bye\n"))
    assert result.outcome == "shipped" and (project / "greeting.txt").read_text() == "hello\n"
    assert (project / "farewell.txt").read_text() == "bye\n"
    assert git(project, "branch", "--list", "genome/*") == ""        # nothing waits any more


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
    seen = tmp_path / "seen"
    set_config(project, "run: git diff --check HEAD",
               f"run: git write-tree > {seen} && echo by-product >> tests/test_core.sh && touch stray.o")
    result = tick(project, write("greeting.txt"))
    assert result.outcome == "shipped"
    assert git(project, "rev-parse", "HEAD~1^{tree}").strip() == seen.read_text().strip()
    assert (project / "tests/test_core.sh").read_text() == "test 1 -eq 1\n" and not (project / "stray.o").exists()
