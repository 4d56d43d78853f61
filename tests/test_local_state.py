"""``.genome/`` has one owner: its files named in one module, and ``next-due`` read one way by every
command (`genome-tick`'s not-due check, `genome tick`, `genome status`, `genome schedule
status`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from runner import due, fast, local_state, schedule, watch
from runner.status import gather

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def write_due(root: Path, text: str) -> None:
    local_state.state_dir(root)
    (root / ".genome" / "next-due").write_text(text)


def test_the_state_dir_ignores_itself_and_readers_create_nothing(tmp_path):
    assert local_state.next_due(tmp_path) is None and not (tmp_path / ".genome").exists()
    assert local_state.read_failures(tmp_path) == 0 and not (tmp_path / ".genome").exists()
    directory = local_state.state_dir(tmp_path)
    assert (directory / ".gitignore").read_text() == "*\n"
    local_state.write_failures(tmp_path, 3)
    assert local_state.read_failures(tmp_path) == 3
    (directory / "failures").write_text("lots\n")
    assert local_state.read_failures(tmp_path) == 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-23T03:30:00Z\n", datetime(2026, 11, 23, 3, 30, tzinfo=timezone.utc)),
        ("2026-11-23T03:30:00", datetime(2026, 11, 23, 3, 30, tzinfo=timezone.utc)),  # no zone: UTC
        ("2026-11-23T03:30", datetime(2026, 11, 23, 3, 30, tzinfo=timezone.utc)),
        (
            "2026-11-23 05:30:00+02:00",
            datetime(2026, 11, 23, 3, 30, tzinfo=timezone.utc),
        ),  # as it says
    ],
)
def test_next_due_is_read_in_utc_whatever_its_shape(tmp_path, text, expected):
    write_due(tmp_path, text)
    when, problem = local_state.read_next_due(tmp_path)
    assert (when, problem) == (expected, "") and when.tzinfo == timezone.utc
    assert due.read_next_due(tmp_path) == expected and schedule.read_next_due(tmp_path) == (
        expected,
        "",
    )
    assert due.is_due(tmp_path, expected) and not due.is_due(
        tmp_path, expected - timedelta(seconds=1)
    )


def test_an_unreadable_next_due_is_due_now_and_says_why(tmp_path):
    write_due(tmp_path, "tomorrow-ish")
    when, problem = local_state.read_next_due(tmp_path)
    assert when is None and "not an ISO-8601 time" in problem and "next-due" in problem
    assert due.is_due(tmp_path, NOW) and fast.is_due(str(tmp_path))


def test_what_the_tick_writes_is_what_the_fast_path_compares(tmp_path):
    when = due.record_outcome(tmp_path, NOW, 1800, "shipped")
    text = (tmp_path / ".genome" / "next-due").read_text().strip()
    assert text == when.strftime(local_state.STAMP) == when.strftime(fast.STAMP)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text)
    assert fast.is_due(str(tmp_path)) == (datetime.now(timezone.utc) >= when)


def genome_tick(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC")}
    code = (
        "import sys; from runner.fast import main; "
        "sys.argv = ['genome-tick', *sys.argv[1:]]; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_hand_written_time_without_z_is_the_same_time_for_tick_and_status(project):
    later = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    write_due(project, later.strftime("%Y-%m-%dT%H:%M:%S"))  # by hand, no zone
    done = genome_tick(project)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")  # not due yet: nothing runs
    genome = str(Path(sys.executable).parent / "genome")
    done = subprocess.run([genome, "tick"], cwd=project, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and f"not due until {later:%Y-%m-%d %H:%M}Z" in done.stdout
    assert gather(project).next_due == later
    earlier = later - timedelta(hours=6)
    write_due(project, earlier.strftime("%Y-%m-%dT%H:%M:%S"))
    assert fast.is_due(str(project)) and due.is_due(project, datetime.now(timezone.utc))
    assert gather(project).next_due == earlier


def test_every_file_under_the_state_dir_is_named_by_its_owner():
    """No other module spells a ``.genome/`` file name; the fast path keeps its own literals (it
    may import nothing) and is checked against the owner here. ("firings" and "paused" are also
    plain words elsewhere, so only their owner's constants are checked.)"""
    assert fast.STAMP == local_state.STAMP
    fast_source = (ROOT / "runner" / "fast.py").read_text()
    assert '".genome", "next-due"' in fast_source and '".genome", "firings"' in fast_source
    assert (local_state.STATE_DIR, local_state.NEXT_DUE) == (".genome", "next-due")
    assert local_state.FIRINGS == "firings" and watch.FIRINGS is local_state.FIRINGS
    spelled = []
    for path in sorted((ROOT / "runner").rglob("*.py")):
        if path.name in ("local_state.py", "fast.py"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(
                r"""["'](?:\.genome/)?(?:next-due|failures|tick\.lock|intent\.json|notify\.log|"""
                r"""all-blocked|recovered|record\.tmp|cron\.lock|tick\.log|trees|worktrees|baseline\.json|"""
                r"""day-checked|check\.log)["']""",
                code,
            ):
                spelled.append(f"{path.name}:{number}: {line.strip()}")
    assert spelled == []
