"""`genome revert`, `retry`, `drop` and `promote` on a real history: a repository in which the real
tick shipped L-001, failed L-002 until it was blocked, and shipped L-003 on top of L-001's file.
After each command the tree, HEAD and the branch are checked: one commit, or exactly as before."""

from __future__ import annotations

import fcntl
import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from genome.levers import LeverDoc
from genome.loop_prompt import LoopPromptDoc
from runner import feedback, settle
from runner.cli import cli
from runner.errors import Refused, UsageError
from runner.init import init_project
from runner.lock import LOCK_FILE
from runner.review import build_review, render_html, render_markdown, render_text
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import commit_all, git, tree_state

T0 = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
LEVERS = """\
# Levers

- [ ] L-001 Add a greeting file
  check: grep -qx 'hello' greeting.txt
- [ ] L-002 Add a farewell file
  check: grep -qx 'bye' farewell.txt
- [ ] L-003 Sign the greeting
  check: grep -q 'signed' greeting.txt
- [ ] L-004 Write a changelog
"""


def write(path, content):
    return tool_reply("write_file", {"path": path, "content": content})


def reflect():
    return tool_reply("reflect", {"lesson": None, "genome": None, "levers": []})


STORY = [
    ("shipped", [write("greeting.txt", "hello\n"), text_reply("Wrote greeting.txt."), reflect()]),
    (
        "failed",
        [
            write("farewell.txt", "ciao\n"),
            text_reply("Wrote it."),
            text_reply("Unsure."),
            reflect(),
        ],
    ),
    (
        "failed",
        [
            write("farewell.txt", "adieu\n"),
            text_reply("Wrote it."),
            text_reply("Unsure."),
            reflect(),
        ],
    ),
    (
        "shipped",
        [
            write("greeting.txt", "hello\nsigned\n"),
            write("sign.txt", "signature\n"),
            text_reply("Signed it."),
            reflect(),
        ],
    ),
]


@pytest.fixture(scope="module")
def history_template(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("settle-home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Person\n\temail = person@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in (
            ("HOME", home),
            ("XDG_CONFIG_HOME", home / ".config"),
            ("GIT_CONFIG_GLOBAL", home / ".gitconfig"),
            ("ANTHROPIC_CONFIG_DIR", home / ".a"),
        ):
            monkeypatch.setenv(name, str(value))
        monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        root = tmp_path_factory.mktemp("settle") / "project"
        root.mkdir()
        git(root, "init", "-q")
        init_project(root)
        (root / "levers.md").write_text(LEVERS)
        text = (root / "loop-prompt.md").read_text()
        (root / "loop-prompt.md").write_text(
            text.replace("max_attempts: 3", "max_attempts: 2").replace(
                "repair_rounds: 1", "repair_rounds: 0"
            )
        )
        commit_all(root, "four levers; block after two failures")
        for index, (expected, script) in enumerate(STORY):
            result = run_tick(
                root,
                make_model=lambda config, s=script: ScriptedModel(s),
                now=T0 + timedelta(minutes=30 * index),
            )
            assert result.outcome == expected, index
    return root


@pytest.fixture
def repo(history_template, tmp_path) -> Path:
    """A private copy of the history, so each test may settle (or fail to) on its own."""
    root = tmp_path / "project"
    shutil.copytree(history_template, root, symlinks=True)
    return root


def refs(root: Path) -> tuple[str, str, str]:
    return (
        git(root, "rev-parse", "HEAD").strip(),
        git(root, "symbolic-ref", "HEAD").strip(),
        git(root, "status", "--porcelain", "--untracked-files=all"),
    )


def levers(root: Path) -> dict[str, str]:
    return {
        lever.id: lever.status for lever in LeverDoc.parse((root / "levers.md").read_text()).levers
    }


def trailers(root: Path, rev: str = "HEAD") -> str:
    return git(root, "log", "-1", "--format=%(trailers:only,unfold)", rev)


def assert_untouched(root: Path, before_refs, before_tree) -> None:
    assert refs(root) == before_refs and tree_state(root) == before_tree


# ------------------------------------------------------------------------------------------- revert


def test_revert_undoes_the_lever_in_one_gated_commit_and_reopens_it(repo):
    head = git(repo, "rev-parse", "HEAD").strip()
    code = (
        git(repo, "log", "--format=%H", "--grep=^L-003 ", "-1").strip()
        or git(repo, "log", "--format=%H %s").splitlines()[1].split()[0]
    )
    done = settle.revert(repo, "L-003", reason="the signature belongs in the footer")
    assert done.sha and git(repo, "rev-parse", "HEAD^").strip() == head  # one commit, on top
    assert (repo / "greeting.txt").read_text() == "hello\n" and not (repo / "sign.txt").exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith(
        "genome: revert L-003 Sign the greeting\n\n> the signature belongs in the footer\n"
    )
    assert "Decision: revert" in trailers(repo) and "Lever: L-003" in trailers(repo)
    reverted = [
        line.split(": ")[1] for line in trailers(repo).splitlines() if line.startswith("Reverts: ")
    ]
    assert git(repo, "log", "-1", "--format=%s", reverted[0]).startswith("L-003 ")
    assert code
    assert levers(repo)["L-003"] == "open"
    log = LeverDoc.parse((repo / "levers.md").read_text()).get("L-003").log
    assert log[-1].endswith(
        f"reverted {reverted[0][:7]} and reopened by a person: the signature belongs in the footer"
    )
    lessons = LoopPromptDoc.parse((repo / "loop-prompt.md").read_text()).lessons
    assert (
        lessons[-1].text
        == "L-003 Sign the greeting was reverted by a person: the signature belongs in the footer"
    )
    [note] = feedback.pending(repo)
    assert (
        note.text == f"L-003 Sign the greeting was reverted ({reverted[0][:7]}): "
        "the signature belongs in the footer"
    )
    changed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == ["greeting.txt", "levers.md", "loop-prompt.md", "sign.txt"]


def test_revert_with_drop_drops_the_lever(repo):
    settle.revert(repo, "L-003", drop=True)
    assert levers(repo)["L-003"] == "dropped"
    assert "reverted" in LeverDoc.parse((repo / "levers.md").read_text()).get("L-003").log[-1]
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        "greeting.txt",
        "levers.md",
        "sign.txt",
    ]


def test_revert_is_refused_when_later_work_changes_the_same_files(repo):
    before = refs(repo), tree_state(repo)
    with pytest.raises(
        Refused, match=r"later commits change the files L-001 shipped \([0-9a-f]+ L-003 Sign"
    ):
        settle.revert(repo, "L-001", reason="no")
    assert_untouched(repo, *before)
    assert feedback.pending(repo) == []


def test_a_reverted_lever_cannot_be_reverted_again(repo):
    settle.revert(repo, "L-003")
    before = refs(repo), tree_state(repo)
    with pytest.raises(UsageError, match=r"what L-003 shipped \([0-9a-f]{8}\) is reverted already"):
        settle.revert(repo, "L-003")
    assert_untouched(repo, *before)
    settle.revert(repo, "L-001")  # with L-003 undone, nothing builds on L-001 any more
    assert not (repo / "greeting.txt").exists() and levers(repo)["L-001"] == "open"


def test_revert_of_a_blocked_or_unknown_lever_says_what_to_do_instead(repo):
    before = refs(repo), tree_state(repo)
    with pytest.raises(
        UsageError, match=r"L-002 is blocked and shipped nothing to revert; `genome retry L-002`"
    ):
        settle.revert(repo, "L-002")
    with pytest.raises(UsageError, match=r"levers.md has no lever L-099"):
        settle.revert(repo, "L-099")
    with pytest.raises(UsageError, match=r"L-004 has no code commit on this branch"):
        settle.revert(repo, "L-004")
    assert_untouched(repo, *before)


def test_a_red_gate_after_the_revert_commits_nothing(repo):
    text = (repo / "loop-prompt.md").read_text()
    (repo / "loop-prompt.md").write_text(
        text.replace(
            "gates:                         # shell",
            "gates:\n  - name: signed\n"
            "    run: printf 'looking\\n'; grep -q signed greeting.txt\n  # shell",
            1,
        )
    )
    commit_all(repo, "a gate that needs the signature")
    before = refs(repo), tree_state(repo)
    with pytest.raises(settle.GatesRed, match=r"gate signed failed\n  signed: \$ printf") as raised:
        settle.revert(repo, "L-003")
    assert raised.value.exit_code == 1 and "looking" in raised.value.message
    assert_untouched(repo, *before)


# ------------------------------------------------------------------------- retry, drop, promote


def test_retry_reopens_a_blocked_lever_with_a_hint_and_fresh_attempts(repo):
    settle.retry(repo, "L-002", hint="the check wants exactly 'bye'")
    assert levers(repo)["L-002"] == "open"
    assert "Decision: retry" in trailers(repo)
    assert (
        LeverDoc.parse((repo / "levers.md").read_text())
        .get("L-002")
        .log[-1]
        .endswith("reopened by a person: hint: the check wants exactly 'bye'")
    )
    assert [n.text for n in feedback.pending(repo)] == [
        "L-002 Add a farewell file: the check wants exactly 'bye'"
    ]
    settle.promote(repo, "L-002")
    model = ScriptedModel([write("farewell.txt", "ciao\n"), text_reply("Wrote it."), reflect()])
    result = run_tick(repo, make_model=lambda config: model, now=T0 + timedelta(hours=3))
    assert result.outcome == "failed" and result.record.lever == "L-002"
    assert levers(repo)["L-002"] == "open"  # attempt 1 of 2 again, not 3: still open
    prompt = str(model.requests[0])
    assert "the check wants exactly 'bye'" in prompt  # in the lever's log and in the note


def test_retry_drop_and_promote_refuse_levers_in_the_wrong_state(repo):
    before = refs(repo), tree_state(repo)
    for call, pattern in [
        (lambda: settle.retry(repo, "L-001"), r"L-001 is done, not blocked.*`genome revert L-001`"),
        (
            lambda: settle.retry(repo, "L-004"),
            r"L-004 is open, not blocked.*`genome promote L-004`",
        ),
        (
            lambda: settle.drop(repo, "L-001"),
            r"L-001 is done already; it shipped: `genome revert L-001`",
        ),
        (
            lambda: settle.promote(repo, "L-002"),
            r"L-002 is blocked: only an open lever is promoted; `genome retry",
        ),
    ]:
        with pytest.raises(UsageError, match=pattern):
            call()
    assert_untouched(repo, *before)


def test_drop_and_promote_each_make_one_commit(repo):
    head = git(repo, "rev-parse", "HEAD").strip()
    settle.drop(repo, "L-002", reason="not needed")
    assert levers(repo)["L-002"] == "dropped" and "Decision: drop" in trailers(repo)
    assert git(repo, "log", "-1", "--format=%b").startswith("> not needed\n")  # quoted
    before_promote = (repo / "levers.md").read_text()
    settle.promote(repo, "L-004")
    after = (repo / "levers.md").read_text()
    assert [lever.id for lever in LeverDoc.parse(after).levers] == [
        "L-004",
        "L-001",
        "L-002",
        "L-003",
    ]
    assert sorted(after.splitlines()) == sorted(
        before_promote.splitlines() + [after.splitlines()[3]]
    )
    assert git(repo, "rev-list", "--count", f"{head}..HEAD").strip() == "2"
    again = settle.promote(repo, "L-004")
    assert again.sha == "" and "already the top lever" in again.message
    assert git(repo, "rev-list", "--count", f"{head}..HEAD").strip() == "2"


# ----------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "command", [["revert", "L-003"], ["retry", "L-002"], ["drop", "L-004"], ["promote", "L-004"]]
)
def test_each_command_refuses_a_dirty_tree_and_a_running_tick_writing_nothing(
    repo, monkeypatch, command
):
    monkeypatch.chdir(repo)
    (repo / "greeting.txt").write_text("my own edit\n")
    before = refs(repo), tree_state(repo)
    dirty = CliRunner().invoke(cli, command)
    assert dirty.exit_code == 3 and "uncommitted changes (greeting.txt)" in dirty.stderr
    assert f"then run `genome {command[0]} {command[1]}` again" in dirty.stderr
    assert "tick again" not in dirty.stderr
    assert_untouched(repo, *before)
    git(repo, "checkout", "greeting.txt")
    before = refs(repo), tree_state(repo)
    fd = os.open(repo / ".genome" / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        locked = CliRunner().invoke(cli, command)
    finally:
        os.close(fd)
    assert locked.exit_code == 3 and "another tick is running" in locked.stderr
    assert_untouched(repo, *before)
    assert feedback.pending(repo) == []


def test_cli_exit_codes_and_messages(repo, monkeypatch):
    monkeypatch.chdir(repo)
    runner = CliRunner()
    unknown = runner.invoke(cli, ["retry", "L-042"])
    assert unknown.exit_code == 2 and "levers.md has no lever L-042" in unknown.stderr
    dependent = runner.invoke(cli, ["revert", "L-001"])
    assert (
        dependent.exit_code == 3
        and "later commits change the files L-001 shipped" in dependent.stderr
    )
    done = runner.invoke(cli, ["revert", "L-003", "--reason", "too early"])
    assert done.exit_code == 0 and "gate diff-check ok" in done.stdout
    assert "revert L-003 Sign the greeting: committed " in done.stdout


# --------------------------------------------------------------------------------------- the review


def test_the_review_prints_a_command_per_decision_and_shows_what_was_settled(repo):
    review = build_review(repo, "24h")
    commands = {d.lever: d.commands for d in review.decisions}
    assert commands == {
        "L-002": ["genome retry L-002", "genome drop L-002"],
        "L-001": ["genome revert L-001"],
        "L-003": ["genome revert L-003"],
    }
    for out in (render_text(review), render_markdown(review), render_html(review)):
        for command in (
            "genome retry L-002",
            "genome drop L-002",
            "genome revert L-001",
            "genome revert L-003",
        ):
            assert command in out
    assert render_html(review).count('<button type="button" class="copy" data-copy="genome ') == 4
    settle.revert(repo, "L-003", reason="later")
    after = build_review(repo, "24h")
    assert [s.lever for s in after.shipped] == ["L-001"]  # what was reverted no longer counts
    assert [(s.lever, s.decision) for s in after.settled] == [("L-003", "revert")]
    assert "L-003" not in {d.lever for d in after.decisions}
    assert "revert L-003 Sign the greeting" in render_markdown(after)


@pytest.mark.parametrize("command", [["retry", "L-002", "--hint"], ["revert", "L-003", "--reason"]])
def test_a_note_too_long_to_keep_commits_nothing_and_exits_2(repo, monkeypatch, command):
    monkeypatch.chdir(repo)
    before = refs(repo), tree_state(repo)
    result = CliRunner().invoke(cli, [*command, "x" * (feedback.MAX_NOTE_CHARS + 10)])
    assert result.exit_code == 2, result.output
    assert "the note for the next tick cannot be kept, so nothing was committed" in result.stderr
    assert isinstance(result.exception, SystemExit)  # said, not a traceback
    assert_untouched(repo, *before)
    assert feedback.pending(repo) == []


def test_a_note_that_cannot_be_written_commits_nothing_and_exits_2(repo, monkeypatch):
    monkeypatch.chdir(repo)
    blocker = repo / ".genome" / "feedback"
    if blocker.is_dir():
        shutil.rmtree(blocker)
    blocker.write_text("a file where the notes folder goes\n")
    before = refs(repo), tree_state(repo)
    result = CliRunner().invoke(cli, ["retry", "L-002", "--hint", "use the v2 endpoint"])
    assert result.exit_code == 2, result.output
    assert "nothing was committed" in result.stderr
    assert_untouched(repo, *before)


def test_revert_runs_the_sealed_gates_too(repo):
    from runner import sealed

    path = sealed.gates_file(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("gates:\n  - name: holdout\n    run: 'false'\n")
    before = refs(repo), tree_state(repo)
    with pytest.raises(settle.GatesRed, match="a sealed gate is red after the revert"):
        settle.revert(repo, "L-003")
    assert_untouched(repo, *before)
    assert [r.gate for r in sealed.read_results(repo)] == ["holdout"]
