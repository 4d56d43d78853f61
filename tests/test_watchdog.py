"""Unattended operation seen from outside: `genome status` on long histories, the firings log, the
watchdog (`genome check`), and pausing on streaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from runner import due, watch
from runner import status as status_module
from runner.cli import cli, run_one_tick
from runner.lock import TickLock
from runner.progress import Printer
from runner.scripted import ScriptedModel, error_reply, text_reply, tool_reply
from runner.status import gather, render
from tests.conftest import commit_all, git, set_config

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def fast_import_commits(root: Path, messages: list[str], start: datetime) -> None:
    """Append one empty-tree commit per message on top of HEAD, one minute apart, in one process."""
    head = git(root, "rev-parse", "HEAD").strip()
    stream = []
    for index, message in enumerate(messages):
        data = message.encode()
        when = int((start + timedelta(minutes=index)).timestamp())
        stream.append(
            f"commit refs/heads/main\ncommitter T <t@example.com> {when} +0000\n"
            f"data {len(data)}\n".encode()
            + data
            + b"\n"
        )
        if index == 0:
            stream.append(f"from {head}\n".encode())
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(stream), check=True)
    git(root, "reset", "-q", "--hard", "main")


def test_status_before_any_tick_this_week_looks_back_a_bounded_number_of_commits(project):
    record = (
        "genome: L-001 shipped\n\nLever: L-001\nOutcome: shipped\nTick-Version: v001\n"
        "Genome-Version: v001\nTokens: 100\nCost-USD: 0.0100\n"
    )
    old = NOW - timedelta(days=30)
    fast_import_commits(project, [record] + [f"person's commit {n}" for n in range(20)], old)
    found = gather(project, now=NOW)
    assert found.last_tick is not None and found.last_tick.outcome == "shipped"

    limit = status_module.LAST_TICK_SEARCH
    fast_import_commits(project, [f"more work {n}" for n in range(limit)], old + timedelta(days=1))
    found = gather(project, now=NOW)
    assert found.last_tick is None and found.search_bounded
    assert f"none in the last {limit:,} commits" in render(found, now=NOW)


# ---------------------------------------------------------------------------------------- firings


def green_script():
    return [
        tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
        text_reply("done"),
        tool_reply("reflect", {"lesson": None}),
    ]


def down_script():
    return [error_reply(529, "overloaded_error", "Overloaded")]


def tick_once(root, script):
    model = ScriptedModel(script)
    return run_one_tick(root, Printer(), make_model=lambda config: model), model


def genome_tick(root: Path) -> subprocess.CompletedProcess:
    """The installed console script, the way a timer runs it."""
    tick = Path(sys.executable).with_name("genome-tick")
    return subprocess.run([str(tick)], cwd=root, capture_output=True, text=True, timeout=120)


def test_every_firing_leaves_a_line_and_status_sums_up_the_day(project, capsys):
    code, _ = tick_once(project, green_script())
    assert code == 0
    for _ in range(3):  # a timer waking while nothing is due
        result = genome_tick(project)
        assert result.returncode == 0 and result.stdout == ""
    with TickLock(project):  # another tick holds the lock
        (project / ".genome" / "next-due").unlink()
        code, model = tick_once(project, green_script())
        assert code == 3 and model.requests == []
    kinds = [what for _, what in watch.read_firings(project, NOW - timedelta(days=3650))]
    assert kinds == ["tick:shipped", "not-due", "not-due", "not-due", "locked"]
    summary = watch.firings_summary(project, datetime.now(timezone.utc))
    assert summary == "last 24 h: 5 firings, 1 ticks, 3 not due, 1 locked"
    assert f"firings     {summary}" in render(gather(project))


def test_the_firings_log_stays_small(project):
    path = project / ".genome" / "firings"
    path.parent.mkdir(exist_ok=True)
    path.write_text("2026-11-23T03:00:00Z not-due\n" * (watch.FIRINGS_MAX_BYTES // 29 + 10))
    (project / ".genome" / "next-due").write_text("2999-01-01T00:00:00Z\n")
    assert genome_tick(project).returncode == 0
    data = path.read_bytes()
    assert len(data) <= watch.FIRINGS_MAX_BYTES // 2 + 40 and data.endswith(b" not-due\n")
    assert all(line.endswith(b"not-due") for line in data.splitlines())


# ------------------------------------------------------------------------------------------- pause


def test_pause_spends_nothing_until_resume(project, monkeypatch):
    monkeypatch.chdir(project)
    runner = CliRunner()
    said = runner.invoke(cli, ["pause", "--reason", "reviewing the night's work"])
    assert said.exit_code == 0 and "paused since" in said.output
    head = git(project, "rev-parse", "HEAD")
    code, model = tick_once(project, green_script())
    assert code == 0 and model.requests == [] and git(project, "rev-parse", "HEAD") == head
    assert watch.read_firings(project, NOW - timedelta(days=3650))[-1][1] == "paused"
    assert "paused since" in render(gather(project)) and "reviewing the night's work" in render(
        gather(project)
    )
    checked = runner.invoke(cli, ["check"])
    assert (
        checked.exit_code == 1 and "paused since" in checked.output and "by you" in checked.output
    )
    assert "resumed" in runner.invoke(cli, ["resume"]).output
    code, model = tick_once(project, green_script())
    assert code == 0 and len(model.requests) == 3
    assert "not paused" in runner.invoke(cli, ["resume"]).output


def test_the_loop_pauses_itself_after_a_streak_and_says_so_once(project):
    set_config(project, 'notify: ""', 'notify: "cat >> .genome/heard.jsonl"')
    set_config(project, "max_attempts: 3", "max_attempts: 3\npause_after: 2")
    for expected_paused in (False, True):
        (project / ".genome" / "next-due").unlink(missing_ok=True)
        code, _ = tick_once(project, down_script())
        assert code == 5
        assert (watch.read_pause(project) is not None) is expected_paused
    found = watch.read_pause(project)
    assert (
        found.by == "loop"
        and "2 ticks in a row failed, could not reach the model or could not run" in found.reason
    )
    assert git(project, "log", "-1", "--format=%s") == "genome: paused\n"
    assert git(project, "status", "--porcelain") == ""
    heard = [
        json.loads(line) for line in (project / ".genome" / "heard.jsonl").read_text().splitlines()
    ]
    paused = [h for h in heard if h["outcome"] == "paused"]
    assert (
        len(paused) == 1 and paused[0]["needs_person"] and "pause_after: 2" in paused[0]["message"]
    )
    head = git(project, "rev-parse", "HEAD")
    code, model = tick_once(project, green_script())  # spends nothing, says nothing new
    assert code == 0 and model.requests == [] and git(project, "rev-parse", "HEAD") == head
    assert len((project / ".genome" / "heard.jsonl").read_text().splitlines()) == len(heard)
    watch.resume(project)
    code, model = tick_once(project, green_script())
    assert code == 0 and model.requests


def test_a_day_that_spent_money_and_shipped_nothing_pauses_the_loop(project):
    day = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    record = (
        "genome: L-001 failed\n\nLever: L-001\nOutcome: failed\nTick-Version: v001\n"
        "Genome-Version: v001\nTokens: 100\nCost-USD: 0.4200\n"
    )
    fast_import_commits(project, [record, record], day + timedelta(hours=10))
    (project / ".genome" / "next-due").unlink(missing_ok=True)
    code, _ = tick_once(project, down_script())
    found = watch.read_pause(project)
    assert (
        found is not None
        and f"{day:%Y-%m-%d} spent $0.84 over 2 ticks and shipped nothing" in found.reason
    )
    watch.resume(project)  # judged once: resuming does not pause again for the same day
    assert watch.pause_if_needed(project) is None


# ---------------------------------------------------------------------------------------- watchdog


def install_timer(project: Path) -> None:
    from runner.schedule import Host, systemd_paths

    service, timer = systemd_paths(project, Host.from_environ())
    timer.parent.mkdir(parents=True, exist_ok=True)
    timer.write_text("[Timer]\nOnCalendar=*:0/30\n")
    service.write_text("[Service]\n")


def test_the_watchdog_sees_a_gap_in_the_history(project, monkeypatch):
    monkeypatch.chdir(project)
    now = datetime.now(timezone.utc)
    stamp = (now - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", stamp)
    monkeypatch.setenv("GIT_AUTHOR_DATE", stamp)
    code, _ = tick_once(project, green_script())
    assert code == 0
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    due.record_outcome(project, now - timedelta(hours=5), 1800, "shipped")  # due 4.5 h ago
    assert "overdue" not in render(gather(project))  # no timer: nothing is late
    install_timer(project)
    text = render(gather(project))
    assert "attention" in text and "overdue: a tick was due" in text and "the last tick was" in text
    checked = CliRunner().invoke(cli, ["check"])
    assert checked.exit_code == 1
    assert [line.split(":")[0] for line in checked.output.splitlines()] == ["overdue"]

    due.record_outcome(
        project, now - timedelta(minutes=50), 1800, "shipped"
    )  # due 20 min ago: fine
    checked = CliRunner().invoke(cli, ["check"])
    assert checked.exit_code == 0 and checked.output == "ok: nothing needs you\n"


def test_check_names_every_reason_one_line_each_and_notifies(project, monkeypatch):
    monkeypatch.chdir(project)
    set_config(project, 'notify: ""', 'notify: "cat > .genome/check.json"')
    set_config(project, "day_usd: 10", "day_usd: 0.5")
    (project / "levers.md").write_text("- [!] L-001 Too hard\n- [!] L-002 Also too hard\n")
    commit_all(project, "all blocked")
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    record = (
        "genome: L-001 failed\n\nLever: L-001\nOutcome: failed\nTick-Version: v001\n"
        "Genome-Version: v001\nTokens: 100\nCost-USD: 0.6000\n"
    )
    fast_import_commits(project, [record], today - timedelta(hours=20))
    fast_import_commits(
        project, [record], min(today + timedelta(minutes=5), datetime.now(timezone.utc))
    )
    watch.pause(project, "a test")
    checked = CliRunner().invoke(cli, ["check", "--notify"])
    assert checked.exit_code == 1
    lines = checked.output.splitlines()
    assert [line.split(" ")[0] for line in lines] == ["paused", "all", "budget"]
    assert "all levers blocked (2)" in lines[1] and "2 days running" in lines[2]
    sent = json.loads((project / ".genome" / "check.json").read_text())
    assert sent["needs_person"] and sent["reasons"] == lines


def test_required_sandbox_that_does_not_work_is_a_reason(monkeypatch):
    from dataclasses import dataclass

    from genome.loop_prompt import Config

    @dataclass(frozen=True)
    class Required(Config):
        sandbox: str = "required"

    fake = type(sys)("runner.sandbox")
    fake.probe = lambda: (None, "user namespaces are off")
    monkeypatch.setitem(sys.modules, "runner.sandbox", fake)
    import runner

    monkeypatch.setattr(runner, "sandbox", fake, raising=False)
    assert (
        watch._unsandboxed(Required())
        == "unsandboxed: `sandbox: required` but bubblewrap does not work here "
        "(user namespaces are off)"
    )
    assert watch._unsandboxed(Config()) is None
    fake.probe = lambda: ("/usr/bin/bwrap", "")
    assert watch._unsandboxed(Required()) is None


def test_ticks_whose_gates_cannot_run_count_toward_the_pause(project):
    set_config(project, "run: git diff --check HEAD", "run: exit 127")
    set_config(project, "max_attempts: 3", "max_attempts: 3\npause_after: 2")
    codes = []
    for _ in range(2):
        (project / ".genome" / "next-due").unlink(missing_ok=True)
        code, model = tick_once(project, green_script())
        codes.append(code)
        assert model.requests == []
    assert codes == [6, 6]
    assert [what for _, what in watch.read_firings(project, NOW - timedelta(days=3650))] == [
        "gates-broken",
        "gates-broken",
    ]
    found = watch.read_pause(project)
    assert found is not None and "could not run their gates (pause_after: 2)" in found.reason


def test_a_timer_that_never_fired_is_overdue_once_its_file_is_old(project, monkeypatch):
    monkeypatch.chdir(project)
    install_timer(project)
    from runner.schedule import Host, systemd_paths

    _, timer = systemd_paths(project, Host.from_environ())
    checked = CliRunner().invoke(cli, ["check"])
    assert checked.exit_code == 0, checked.output  # just installed: not late yet
    hours_ago = (datetime.now(timezone.utc) - timedelta(hours=3)).timestamp()
    os.utime(timer, (hours_ago, hours_ago))
    checked = CliRunner().invoke(cli, ["check"])
    assert checked.exit_code == 1
    assert "overdue: a tick was due" in checked.output and "no tick has run yet" in checked.output
    assert "no firing was logged" in checked.output
