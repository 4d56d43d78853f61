"""When the next tick is due. Stdlib only: ``genome-tick`` reads this before importing anything
heavy.

``.genome/next-due`` holds one ISO-8601 UTC time, the earliest a firing ticks: the due time less a
slack, so a timer firing at the cadence (a second early for the tick that wrote it, or moved by a
randomized delay) still ticks. ``.genome/failures`` holds how many red ticks ran in a row.
The arithmetic lives here; the files are read and written by ``runner.local_state``, the one owner
of ``.genome/``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from runner import local_state

MAX_BACKOFF = 8
IDLE_FACTOR = 4
MIN_SLACK_SECONDS = 60
SLACK_SHARE = 0.05


def slack_seconds(cadence_seconds: int) -> int:
    """How early a firing may come and still tick: max(60 s, 5% of the cadence)."""
    return max(MIN_SLACK_SECONDS, int(cadence_seconds * SLACK_SHARE))


def read_next_due(root: Path) -> datetime | None:
    """When the next tick is due (UTC; a time written without a zone is UTC); None: due now."""
    return local_state.next_due(root)


def is_due(root: Path, now: datetime) -> bool:
    due = read_next_due(root)
    return due is None or now >= due


def next_due(now: datetime, cadence_seconds: int, outcome: str, failures: int) -> datetime:
    """Green: one cadence. Red: doubling per failure in a row, capped at 8x. Nothing to do: 4x.
    Budget spent: the start of the next budget day (UTC midnight)."""
    if outcome == "budget":
        return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if outcome in ("idle", "blocked"):
        factor = IDLE_FACTOR
    elif failures > 0:
        factor = min(2**failures, MAX_BACKOFF)
    else:
        factor = 1
    return now + timedelta(seconds=cadence_seconds * factor)


def record_outcome(root: Path, now: datetime, cadence_seconds: int, outcome: str) -> datetime:
    """Write the time from which the next tick is due after a tick with ``outcome`` (the due time
    less the slack; a spent day's budget waits for midnight exactly); returns it."""
    failures = local_state.read_failures(root)
    failures = failures + 1 if outcome in ("failed", "unavailable") else 0
    due = next_due(now, cadence_seconds, outcome, failures)
    if outcome != "budget":
        due -= timedelta(seconds=slack_seconds(cadence_seconds))
    local_state.write_failures(root, failures)
    local_state.write_next_due(root, due)
    return due
