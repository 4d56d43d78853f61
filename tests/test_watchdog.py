"""Unattended operation seen from outside: `genome status` on long histories, the firings log, the
watchdog (`genome check`), and pausing on streaks."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

from runner import status as status_module
from runner.status import gather, render
from tests.conftest import git

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def fast_import_commits(root: Path, messages: list[str], start: datetime) -> None:
    """Append one empty-tree commit per message on top of HEAD, one minute apart, in one process."""
    head = git(root, "rev-parse", "HEAD").strip()
    stream = []
    for index, message in enumerate(messages):
        data = message.encode()
        when = int((start + timedelta(minutes=index)).timestamp())
        stream.append(f"commit refs/heads/main\ncommitter T <t@example.com> {when} +0000\n"
                      f"data {len(data)}\n".encode() + data + b"\n")
        if index == 0:
            stream.append(f"from {head}\n".encode())
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(stream), check=True)
    git(root, "reset", "-q", "--hard", "main")


def test_status_before_any_tick_this_week_looks_back_a_bounded_number_of_commits(project):
    record = "genome: L-001 shipped\n\nLever: L-001\nOutcome: shipped\nCost-USD: 0.0100\n"
    old = NOW - timedelta(days=30)
    fast_import_commits(project, [record] + [f"person's commit {n}" for n in range(20)], old)
    found = gather(project, now=NOW)
    assert found.last_tick is not None and found.last_tick.outcome == "shipped"

    limit = status_module.LAST_TICK_SEARCH
    fast_import_commits(project, [f"more work {n}" for n in range(limit)], old + timedelta(days=1))
    found = gather(project, now=NOW)
    assert found.last_tick is None and found.search_bounded
    assert f"none in the last {limit:,} commits" in render(found, now=NOW)
