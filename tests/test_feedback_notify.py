"""`genome feedback` notes for the next tick, and the notify command a tick's summary is piped
to."""

from __future__ import annotations

import io
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from genome.journal import TickRecord
from runner import feedback, notify
from runner.cli_review import feedback as feedback_command
from runner.progress import Printer
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import git

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


# ----------------------------------------------------------------------------------------- feedback


def test_feedback_is_stored_outside_git_and_does_not_dirty_the_tree(project, monkeypatch):
    monkeypatch.chdir(project / "tests")  # from a folder inside the project
    result = CliRunner().invoke(feedback_command, ["focus", "on", "the", "farewell", "check"])
    assert result.exit_code == 0, result.output
    [note] = feedback.pending(project)
    assert note.text == "focus on the farewell check"
    assert note.path.parent == project / ".genome" / "feedback"
    assert result.stdout == f"noted for the next tick: {note.path.relative_to(project)}\n"
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    # the tick refuses a dirty tree; a note must not make it refuse
    shipped = run_tick(
        project,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply("done"),
                tool_reply("reflect", {"lesson": None, "genome": None, "levers": []}),
            ]
        ),
        now=NOW,
        printer=Printer(io.StringIO()),
    )
    assert shipped.outcome == "shipped"


def test_feedback_reads_stdin_for_a_dash_or_no_text(project, monkeypatch):
    monkeypatch.chdir(project)
    runner = CliRunner()
    assert runner.invoke(feedback_command, ["-"], input="line one\nline two\n").exit_code == 0
    second = runner.invoke(feedback_command, [], input="from a pipe\n")
    assert second.exit_code == 0 and second.stdout.endswith("; 1 other note waiting too\n")
    assert [n.text for n in feedback.pending(project)] == ["line one\nline two", "from a pipe"]


def test_an_empty_note_is_refused_with_an_example(project, monkeypatch):
    monkeypatch.chdir(project)
    result = CliRunner().invoke(feedback_command, ["-"], input="  \n\n")
    assert result.exit_code == 2
    assert "the note is empty" in result.stderr and 'genome feedback "L-004' in result.stderr
    assert feedback.pending(project) == []


def test_pending_notes_come_oldest_first_and_mark_read_moves_them(project):
    first = feedback.store(project, "first", now=NOW)
    second = feedback.store(project, "second", now=NOW)  # same instant: a distinct file
    third = feedback.store(project, "third", now=NOW.replace(hour=4))
    assert first.path != second.path
    notes = feedback.pending(project)
    assert [n.text for n in notes] == ["first", "second", "third"] and notes[0].time == NOW
    moved = feedback.mark_read(project, notes[:2])
    assert [n.path.parent for n in moved] == [project / ".genome" / "feedback" / "read"] * 2
    assert [n.path.read_text() for n in moved] == ["first\n", "second\n"]
    assert feedback.pending(project) == [third]
    assert feedback.mark_read(project, notes[:2]) == []  # already read: nothing to move


def test_pending_without_any_note_creates_nothing(project):
    assert feedback.pending(project) == [] and not (project / ".genome" / "feedback").exists()


def test_a_note_dropped_in_by_hand_is_read_with_its_file_time(project):
    directory = project / ".genome" / "feedback"
    directory.mkdir(parents=True)
    (directory / "from-my-phone.md").write_text("check the logs\n")
    [note] = feedback.pending(project)
    assert note.text == "check the logs" and abs(time.time() - note.time.timestamp()) < 60


# ------------------------------------------------------------------------------------------- notify


def record(**changes) -> TickRecord:
    base = dict(
        time="2026-11-23T03:00:00Z",
        outcome="shipped",
        lever="L-004",
        title="Add retries",
        version="v003",
        new_version="v004",
        gates="tests ok 2.0s",
        tokens_in=1000,
        tokens_out=200,
        cache_read=300,
        cost_usd=0.01234,
        commit="a1b2c3d4e5f6",
    )
    return TickRecord(**{**base, **changes})


def test_summary_from_a_record_has_the_documented_keys():
    summary = notify.summary_from(record(), "shipped: L-004 Add retries", needs_person=False)
    assert summary == {
        "lever": "L-004",
        "title": "Add retries",
        "outcome": "shipped",
        "version": "v004",
        "gates": "tests ok 2.0s",
        "tokens": 1500,
        "cost_usd": 0.0123,
        "commit": "a1b2c3d4e5f6",
        "message": "shipped: L-004 Add retries",
        "needs_person": False,
    }
    unchanged = notify.summary_from(
        record(new_version="", outcome="budget"), "budget", needs_person=True
    )
    assert unchanged["version"] == "v003" and unchanged["needs_person"] is True


def test_notify_pipes_the_summary_as_json_to_the_command(project, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-not-for-notify")
    warnings = []
    result = run_tick(
        project,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply("Wrote it."),
                tool_reply(
                    "reflect", {"lesson": None, "genome": {"What's proven": "hello"}, "levers": []}
                ),
            ]
        ),
        now=NOW,
        printer=Printer(io.StringIO()),
    )
    summary = notify.summary_from(result.record, result.message, needs_person=False)
    notify.notify(
        "cat > .genome/received.json; pwd > .genome/cwd; env > .genome/env",
        summary,
        project,
        warnings.append,
    )
    assert warnings == []
    received = json.loads((project / ".genome" / "received.json").read_text())
    assert received == summary
    assert (
        received["outcome"] == "shipped"
        and received["lever"] == "L-001"
        and received["version"] == "v002"
    )
    assert received["commit"] == git(project, "rev-parse", "HEAD~1").strip()[:12]
    assert (project / ".genome" / "cwd").read_text().strip() == str(project)
    assert "sk-ant-not-for-notify" not in (project / ".genome" / "env").read_text()
    assert not (project / ".genome" / "notify.log").exists()


def test_a_failing_command_is_logged_and_warned_about_never_raised(project):
    warnings = []
    notify.notify(
        "echo 'webhook said 500' >&2; exit 3", {"outcome": "failed"}, project, warnings.append
    )
    assert warnings == ["notify command failed with exit 3 (see .genome/notify.log)"]
    log = (project / ".genome" / "notify.log").read_text()
    assert "notify command failed with exit 3: echo 'webhook said 500' >&2; exit 3" in log
    assert "    webhook said 500" in log
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_hanging_command_is_stopped_with_its_whole_process_group(project, monkeypatch, tmp_path):
    monkeypatch.setattr(notify, "TIMEOUT_SECONDS", 1)
    warnings = []
    started = time.monotonic()
    notify.notify(f"sleep 30 & echo $! > {tmp_path}/child; wait", {}, project, warnings.append)
    assert time.monotonic() - started < 10
    assert warnings == [
        "notify command timed out after 1 s and was stopped (see .genome/notify.log)"
    ]
    assert not _alive(int((tmp_path / "child").read_text()))
    assert "notify command timed out after 1 s" in (project / ".genome" / "notify.log").read_text()


def test_a_command_leaving_a_background_job_does_not_hold_the_tick(project, tmp_path):
    warnings = []
    started = time.monotonic()
    notify.notify(f"sleep 30 & echo $! > {tmp_path}/child; echo sent", {}, project, warnings.append)
    assert time.monotonic() - started < 10 and warnings == []
    assert not _alive(int((tmp_path / "child").read_text()))


def test_no_command_runs_nothing_and_an_impossible_one_only_warns(project, tmp_path):
    warnings = []
    notify.notify("  ", {"outcome": "shipped"}, project, warnings.append)
    assert warnings == [] and not (project / ".genome").exists()
    notify.notify("true", {}, tmp_path / "no-such-project", warnings.append)
    assert len(warnings) == 1 and warnings[0].startswith("notify command could not run it: ")


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent to reap it counts as ended)."""
    stat = Path(f"/proc/{pid}/stat")
    for _ in range(50):
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state == "Z":
            return False
        time.sleep(0.05)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
