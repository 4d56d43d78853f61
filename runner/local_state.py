"""``.genome/``: the runner's local state, and the one module that names its files and reads them.

The folder is git-ignored (it ignores itself with its own ``.gitignore``), so nothing in it ever
makes the tree dirty. Nothing in it is needed to review the project: git holds that. Its files:

- ``next-due``: when the next tick is due, one ISO-8601 UTC time (``2026-11-23T03:30:00Z``);
  written by the tick, read by ``genome-tick``'s not-due check, ``genome status``, ``genome run``;
- ``failures``: how many red ticks ran in a row (the back-off);
- ``tick.lock``: the lock one running tick holds; ``cron.lock`` and ``tick.log``: the cron line's;
- ``intent.json``: what a tick in flight has done, so a killed one can be undone;
- ``feedback/`` (and ``feedback/read/``): the person's notes for the next tick;
- ``notify.log``: what the ``notify`` command said when it failed;
- ``all-blocked``: the levers file a "every lever is blocked" notice was given for;
- ``recovered/``: files an interrupted tick left that no record explains, kept for the person;
- ``record.tmp``: a record file on its way into place;
- ``trees/``: metric gates' numbers remembered per code tree;
- ``firings``: one line per timer firing (``genome-tick`` writes the not-due ones itself);
- ``paused``: why and since when the loop is paused; ``day-checked``: the last budget day judged;
- ``check.log``: what the daily ``genome check`` said;
- ``environment``: the start-tree gate failure a record was already made for;
- ``worktrees/``: the tick's own worktrees (the candidate and its gates).

Stdlib only, and cheap to import.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

STATE_DIR = ".genome"
NEXT_DUE = "next-due"
FAILURES = "failures"
LOCK = "tick.lock"
CRON_LOCK = "cron.lock"
CRON_LOG = "tick.log"
INTENT = "intent.json"
FEEDBACK = "feedback"
NOTIFY_LOG = "notify.log"
ALL_BLOCKED = "all-blocked"
RECOVERED = "recovered"
RECORD_TMP = "record.tmp"
TREES = "trees"
FIRINGS = "firings"
PAUSED = "paused"
DAY_CHECKED = "day-checked"
CHECK_LOG = "check.log"
ENVIRONMENT = "environment"
WORKTREES = "worktrees"

STAMP = "%Y-%m-%dT%H:%M:%SZ"  # how next-due is written


def state_dir(root: Path) -> Path:
    """``.genome/``, created self-ignored so it never dirties the tree, whatever .gitignore says."""
    path = root / STATE_DIR
    if not (path / ".gitignore").exists():
        path.mkdir(exist_ok=True)
        (path / ".gitignore").write_text("*\n")
    return path


def path_of(root: Path, name: str) -> Path:
    """Where ``name`` lives under ``.genome/``, without creating anything (for readers)."""
    return root / STATE_DIR / name


# ------------------------------------------------------------------------------- next due


def read_next_due(root: Path) -> tuple[datetime | None, str]:
    """The time in ``.genome/next-due`` (in UTC) and a problem when the file cannot be read.

    Every reader reads it here. A time written by hand without a zone (``2026-11-23T03:30``) is
    UTC, like the times the tick writes; one with an offset means what it says. No file: (None, "").
    An unreadable one: (None, what is wrong); the tick treats both as due now."""
    path = path_of(root, NEXT_DUE)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None, ""
    except (OSError, UnicodeDecodeError) as error:
        return None, f"{path} cannot be read ({error})"
    try:
        # Python 3.10's fromisoformat does not take the `Z` suffix.
        moment = datetime.fromisoformat(re.sub(r"[zZ]$", "+00:00", text))
    except ValueError:
        return None, f"{path} holds {text[:60]!r}, not an ISO-8601 time"
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc), ""
    return moment.astimezone(timezone.utc), ""


def next_due(root: Path) -> datetime | None:
    """When the next tick is due; None (due now) when no readable time is recorded."""
    return read_next_due(root)[0]


def write_next_due(root: Path, when: datetime) -> None:
    write_atomic(state_dir(root) / NEXT_DUE, when.astimezone(timezone.utc).strftime(STAMP) + "\n")


# ------------------------------------------------------------------------------- failures


def read_failures(root: Path) -> int:
    """Red ticks in a row so far (0 without a readable count)."""
    try:
        return max(int(path_of(root, FAILURES).read_text().strip()), 0)
    except (OSError, ValueError):
        return 0


def write_failures(root: Path, count: int) -> None:
    write_atomic(state_dir(root) / FAILURES, f"{count}\n")


def write_atomic(path: Path, text: str) -> None:
    """Whole or not at all: written beside, then renamed into place."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
