"""What unattended ticks rely on: next-due arithmetic, sleeping when every lever is blocked,
`genome run` stopping cleanly on SIGTERM, and several machines racing on one remote."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from runner import due
from runner.errors import Refused
from runner.fake_api import FakeMessagesServer
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import commit_all, git

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def reflect():
    return tool_reply("reflect", {"lesson": None})


@pytest.mark.parametrize(
    "outcome, failures, expected",
    [
        ("shipped", 0, timedelta(minutes=30)),
        ("failed", 1, timedelta(minutes=60)),
        ("failed", 2, timedelta(minutes=120)),
        ("failed", 3, timedelta(minutes=240)),
        ("failed", 9, timedelta(minutes=240)),  # capped at 8x
        ("idle", 0, timedelta(minutes=120)),
        ("blocked", 0, timedelta(minutes=120)),
    ],
)
def test_next_due_backs_off_after_failures_and_sleeps_when_idle(outcome, failures, expected):
    assert due.next_due(NOW, 1800, outcome, failures) - NOW == expected


def test_a_spent_budget_sleeps_until_the_next_utc_midnight():
    assert due.next_due(NOW.replace(hour=17), 1800, "budget", 0) == datetime(
        2026, 11, 24, tzinfo=timezone.utc
    )


def test_a_spent_budget_is_due_at_midnight_exactly_without_slack(tmp_path):
    """A firing before midnight would only find the day's budget spent."""
    midnight = datetime(2026, 11, 24, tzinfo=timezone.utc)
    assert due.record_outcome(tmp_path, NOW.replace(hour=17), 1800, "budget") == midnight
    assert not due.is_due(tmp_path, midnight - timedelta(seconds=1)) and due.is_due(
        tmp_path, midnight
    )


def test_red_ticks_in_a_row_double_the_wait_and_a_green_one_resets_it(tmp_path):
    waits = []
    for outcome in ("failed", "failed", "failed", "shipped", "failed"):
        waits.append(due.record_outcome(tmp_path, NOW, 600, outcome) - NOW)
    assert [(w.total_seconds() + 60) / 600 for w in waits] == [2, 4, 8, 1, 2]  # less 60 s of slack
    assert due.read_next_due(tmp_path) == NOW + timedelta(seconds=1200 - 60)
    assert not due.is_due(tmp_path, NOW) and due.is_due(
        tmp_path, NOW + timedelta(seconds=1200 - 60)
    )


@pytest.mark.parametrize(
    "cadence, slack", [(60, 60), (600, 60), (1200, 60), (1800, 90), (86_400, 4320)]
)
def test_a_firing_up_to_the_slack_early_ticks_and_one_a_second_earlier_does_not(
    tmp_path, monkeypatch, cadence, slack
):
    assert due.slack_seconds(cadence) == slack == max(60, cadence // 20)
    due.record_outcome(tmp_path, NOW, cadence, "shipped")
    boundary = NOW + timedelta(seconds=cadence - slack)
    assert due.is_due(tmp_path, boundary)
    assert not due.is_due(tmp_path, boundary - timedelta(seconds=1))
    # the timer's own path reads the same file the same way
    from runner import fast

    for moment, expected in ((boundary, True), (boundary - timedelta(seconds=1), False)):
        monkeypatch.setattr(fast.time, "gmtime", lambda moment=moment: moment.utctimetuple())
        assert fast.is_due(str(tmp_path)) is expected


def test_a_timer_firing_exactly_at_the_cadence_ticks_every_time(tmp_path):
    """cron fires on the minute; the tick starts (and stamps its record) a second or two later."""
    fired = NOW
    ticks = 0
    for _ in range(9):
        if due.is_due(tmp_path, fired):
            due.record_outcome(tmp_path, fired + timedelta(seconds=2), 1800, "shipped")
            ticks += 1
        fired += timedelta(seconds=1800)
    assert ticks == 9


def test_when_every_lever_is_blocked_the_tick_says_so_once_and_spends_nothing(project):
    (project / "levers.md").write_text("- [!] L-001 Too hard\n- [x] L-002 Done\n")
    commit_all(project, "all blocked")
    heads = []
    for _ in range(3):
        model = ScriptedModel([text_reply("never")])
        result = run_tick(project, make_model=lambda config, model=model: model, now=NOW)
        assert result.outcome == "blocked" and result.exit_code == 0 and model.requests == []
        assert "every lever is blocked (L-001)" in result.message
        heads.append(git(project, "rev-parse", "HEAD"))
    assert heads[0] == heads[1] == heads[2]  # one record commit, then silence
    assert "blocked" in git(project, "log", "-1", "--format=%s")
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.slow
def test_genome_run_stops_cleanly_on_sigterm_in_the_middle_of_a_tick(project):
    proc = None

    def terminate_then_write(request):
        os.kill(proc.pid, signal.SIGTERM)  # arrives while the tick is in its act phase
        time.sleep(0.2)
        return tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"})

    with FakeMessagesServer(
        [terminate_then_write], default=text_reply("should not be asked")
    ) as server:
        env = {
            **os.environ,
            "ANTHROPIC_BASE_URL": server.url,
            "ANTHROPIC_API_KEY": "test-key-123456",
        }
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "genome"), "run", "--poll", "1"],
            cwd=project,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopping after the current phase" in err and "stopped" in err
    assert len(server.requests) == 1  # no more model calls after the signal
    assert git(project, "status", "--porcelain") == ""
    assert "Outcome: shipped" in git(project, "log", "-1", "--format=%B")


@pytest.fixture
def two_machines(project, tmp_path):
    """The project pushes to a bare remote; a second clone stands for another machine."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "fetch", "-q", "origin")
    git(project, "branch", "-q", "-u", "origin/main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    return project, origin, other


def test_push_with_a_lease_ships_to_the_remote(two_machines):
    project, origin, _ = two_machines
    run_tick(
        project,
        push=True,
        now=NOW,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply("done"),
                reflect(),
            ]
        ),
    )
    assert git(origin, "rev-parse", "main") == git(project, "rev-parse", "HEAD")


def test_losing_the_push_race_drops_the_local_tick_and_leaves_a_clean_tree(two_machines):
    project, origin, other = two_machines
    start = git(project, "rev-parse", "HEAD")

    def the_other_machine_pushes(request):
        (other / "theirs.txt").write_text("pushed meanwhile\n")
        commit_all(other, "another machine's tick")
        git(other, "push", "-q", "origin", "main")
        return tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"})

    with pytest.raises(Refused, match="lost the race"):
        run_tick(
            project,
            push=True,
            now=NOW,
            make_model=lambda config: ScriptedModel(
                [the_other_machine_pushes, text_reply("done"), reflect()]
            ),
        )
    assert git(project, "rev-parse", "HEAD") == start
    assert git(project, "status", "--porcelain") == ""
    assert git(origin, "log", "-1", "--format=%s", "main").strip() == "another machine's tick"
    # the next tick starts from theirs and wins
    result = run_tick(
        project,
        push=True,
        now=NOW,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply("done"),
                reflect(),
            ]
        ),
    )
    assert result.outcome == "shipped" and (project / "theirs.txt").exists()
    assert git(origin, "rev-parse", "main") == git(project, "rev-parse", "HEAD")
