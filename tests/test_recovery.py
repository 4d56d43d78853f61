"""A tick killed with SIGKILL at each phase, in a real process on a real repository, then the next
tick: nothing left over, nothing of the person's lost, the interrupted attempt recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from genome.levers import LeverDoc
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import commit_all, git, tree_state

pytestmark = pytest.mark.slow  # kills real tick processes at each phase

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)

DRIVER = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime, timezone
    from pathlib import Path
    from runner import deliver, tick as T
    from runner.gitops import Git
    from runner.scripted import ScriptedModel, text_reply, tool_reply

    root, phase = Path(sys.argv[1]), sys.argv[2]
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    write = tool_reply("write_file", {"path": "greeting.txt", "content": "hello\\n"})
    extra = tool_reply("write_file", {"path": "src/extra.txt", "content": "made by the tick\\n"})
    script = [write, extra, text_reply("done"), tool_reply("reflect", {"lesson": "x"})]
    if phase == "model":
        script = [write, extra, die]
    if phase == "reflect":
        script = [write, extra, text_reply("done"), die]
    commits = []
    real_commit_tree = Git.commit_tree
    def commit_tree(self, tree, parent, message, author):
        commits.append(message)
        if phase == "commit" and len(commits) == 1:
            die()                                           # gated, killed before the code commit is made
        if phase == "record" and len(commits) == 2:
            die()                                           # the code commit made, the record not
        return real_commit_tree(self, tree, parent, message, author)
    Git.commit_tree = commit_tree
    real_land = deliver.land_on_branch
    def land_on_branch(git, branch, expected, tip):
        if phase == "deliver":
            die()                                           # both commits made, the branch not moved
        return real_land(git, branch, expected, tip)
    deliver.land_on_branch = land_on_branch
    T.run_tick(root, make_model=lambda config: ScriptedModel(script),
               now=datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc))
""")  # noqa: E501


def killed_tick(root: Path, phase: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(root), phase],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -9, done.stderr


def lever(root: Path, lever_id: str = "L-001"):
    return LeverDoc.parse((root / "levers.md").read_text()).get(lever_id)


@pytest.fixture
def person_files(project):
    """An ignored scratch file and a committed file the tick must never lose."""
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + "scratch.txt\n")
    (project / "scratch.txt").write_text("ignored notes\n")
    commit_all(project, "ignore scratch")
    return project


EXPECTED_PHASE = {"model": "act", "gate": "gate", "commit": "gate"}


@pytest.mark.parametrize("phase", ["model", "gate", "commit"])
def test_a_tick_killed_before_its_work_landed_leaves_the_tree_as_it_was_and_the_next_tick_ships(
    person_files, phase, tmp_path
):
    root = person_files
    armed = tmp_path / "armed"  # while it exists, the lever's check kills the tick running it
    if phase == "gate":
        armed.touch()
        (root / "levers.md").write_text(
            (root / "levers.md")
            .read_text()
            .replace(
                "check: grep -qx 'hello' greeting.txt",
                f"check: grep -qx 'hello' greeting.txt && {{ test ! -e {armed} || kill -9 $PPID; "
                f"}}",
                1,
            )
        )
        # only an unsandboxed check can see its runner to kill it
        (root / "loop-prompt.md").write_text(
            (root / "loop-prompt.md").read_text().replace("\nmodel:", "\nsandbox: off\nmodel:", 1)
        )
        commit_all(root, "a check that can kill its runner")
    (root / "wip.txt").write_text("the person's untracked work\n")
    head = git(root, "rev-parse", "HEAD").strip()
    before, refs = tree_state(root), git(root, "for-each-ref")
    killed_tick(root, phase)
    armed.unlink(missing_ok=True)
    assert (root / ".genome" / "intent.json").exists()
    assert tree_state(root) == before and git(root, "for-each-ref") == refs
    assert (root / "scratch.txt").read_text() == "ignored notes\n"

    result = run_tick(
        root,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply("done"),
                tool_reply("reflect", {"lesson": None}),
            ]
        ),
        now=NOW,
    )

    assert result.outcome == "shipped" and result.record.lever == "L-001"
    assert git(root, "status", "--porcelain") == "?? wip.txt\n"
    assert not (root / ".genome" / "intent.json").exists()
    assert not (root / "src").exists()  # the dead tick's extra file went nowhere
    assert (root / "scratch.txt").read_text() == "ignored notes\n"
    subjects = git(root, "log", "--format=%s", f"{head}..HEAD").splitlines()
    assert subjects[-1] == "genome: L-001 interrupted"  # the recovery's own record comes first
    first = lever(root)
    assert first.log[0].endswith(f"interrupted during {EXPECTED_PHASE[phase]} (not counted)")
    assert first.status == "done" and "(attempt" not in " ".join(first.log)


@pytest.mark.parametrize("phase", ["record", "reflect", "deliver"])
def test_a_tick_killed_after_its_code_commit_delivers_the_commit_and_records_it(
    person_files, phase
):
    root = person_files
    killed_tick(root, phase)
    left = json.loads(
        json.loads((root / ".genome" / "intent.json").read_text())["record"]
    )  # signed
    code = left["commit"]
    assert code and git(root, "log", "-1", "--format=%s", code).startswith("L-001 ")
    assert not (root / "greeting.txt").exists()  # nothing landed in the person's tree yet
    result = run_tick(
        root,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
                text_reply("done"),
                tool_reply("reflect", {"lesson": None}),
            ]
        ),
        now=NOW,
    )
    first = lever(root)
    assert first.status == "done" and first.log[0].endswith(f"shipped {code[:7]}")
    assert result.record.lever == "L-002" and result.outcome == "shipped"
    assert (
        git(root, "status", "--porcelain") == ""
        and (root / "greeting.txt").read_text() == "hello\n"
    )
    assert code in git(root, "rev-list", "HEAD")
    assert (root / "src" / "extra.txt").exists()  # it shipped with the code commit
    assert not (root / ".genome" / "intent.json").exists()


def test_the_person_working_after_a_killed_tick_is_never_touched(person_files):
    root = person_files
    killed_tick(root, "model")
    (root / "greeting.txt").write_text("the person wrote it by hand\n")
    commit_all(root, "the person's own greeting")
    (root / "notes.txt").write_text("uncommitted\n")
    head = git(root, "rev-parse", "HEAD")
    result = run_tick(
        root,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
                text_reply("done"),
                tool_reply("reflect", {"lesson": None}),
            ]
        ),
        now=NOW,
    )
    assert git(root, "log", "--format=%s", f"{head.strip()}~1..HEAD").count("interrupted") == 1
    assert (root / "greeting.txt").read_text() == "the person wrote it by hand\n"
    assert (root / "notes.txt").read_text() == "uncommitted\n"
    assert result.outcome in ("shipped", "failed")
    assert git(root, "rev-parse", "HEAD~2") == head or git(root, "rev-parse", "HEAD~3") == head


@pytest.mark.parametrize("later", [0, 600])
def test_only_the_dead_merges_lock_is_removed_from_the_persons_tree(person_files, later):
    """Killed while landing: the lock its git left is removed; a lock made long after the tick died
    is the person's own git at work, and stays."""
    import io
    import os

    from runner.gitops import Git
    from runner.progress import Printer
    from runner.recovery import recover

    root = person_files
    killed_tick(root, "deliver")
    record = root / ".genome" / "intent.json"
    lock = root / ".git" / "index.lock"
    lock.write_bytes(b"")
    written = record.stat().st_mtime
    os.utime(lock, (written + later, written + later))
    said = io.StringIO()
    with Git(root) as repo:
        recover(root, repo, NOW, Printer(said, live=False))
    if later:
        assert lock.exists() and "left in place" in said.getvalue()
    else:
        assert not lock.exists()
