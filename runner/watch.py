"""Unattended means it never silently stops: every firing accounted for, a pause on streaks, and the
watchdog behind `genome check`.

``.genome/firings``: one line per firing of the timer, ``<UTC time> <what happened>``: ``not-due``
(written by ``runner.fast`` with os-level calls only), ``tick:<outcome>``, ``locked``, ``refused``,
``paused``, ``budget``, ``gates-broken``, ``invalid``, ``error``. Kept small: past
``FIRINGS_MAX_BYTES``
the oldest half is dropped.

``.genome/paused``: present while the loop is paused; JSON with when, why and by whom. A paused
tick spends nothing and exits 0 until `genome resume`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from runner.due import read_next_due
from runner.errors import (
    SHIPPED,
    BudgetSpent,
    EnvironmentBroken,
    ModelUnavailable,
    Refused,
    TickStop,
    UsageError,
)
from runner.local_state import DAY_CHECKED, FAILURES, FIRINGS, PAUSED, STATE_DIR, state_dir

FIRINGS_MAX_BYTES = 128 * 1024  # a line is ~30 bytes: days of one-minute firings
STAMP = "%Y-%m-%dT%H:%M:%SZ"
PAUSE_AFTER_DEFAULT = 5  # ticks in a row that failed or could not reach the model
OVERDUE_CADENCES = 3  # no tick for this many cadences past due: overdue
BUDGET_DAYS = 2  # the day budget spent this many days running: a person should look

if TYPE_CHECKING:
    from runner.schedule import InstalledTimer

Result = TypeVar("Result")


class Paused(TickStop):
    """The loop is paused: nothing runs and nothing is spent until `genome resume`."""

    exit_code = SHIPPED  # 0: nothing due while paused, which is no failure


# ------------------------------------------------------------------------------------- firings


def log_firing(root: Path, what: str, now: datetime | None = None) -> None:
    """Append one line to the firings log; never fails the firing it accounts for."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime(STAMP)
    try:
        path = state_dir(root) / FIRINGS
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{stamp} {what}\n".encode())
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > FIRINGS_MAX_BYTES:
            trim_firings(path)
    except OSError:
        pass


def trim_firings(path: Path) -> None:
    """Keep the newest half of the log (whole lines), replaced in one rename."""
    data = path.read_bytes()
    keep = data[len(data) - FIRINGS_MAX_BYTES // 2 :]
    keep = keep[keep.find(b"\n") + 1 :]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(keep)
    os.replace(tmp, path)


def read_firings(root: Path, since: datetime) -> list[tuple[datetime, str]]:
    try:
        lines = (
            (root / STATE_DIR / FIRINGS).read_text(encoding="utf-8", errors="replace").splitlines()
        )
    except OSError:
        return []
    found = []
    for line in lines:
        stamp, _, what = line.partition(" ")
        try:
            when = datetime.strptime(stamp, STAMP).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        if when >= since:
            found.append((when, what.strip()))
    return found


def firings_summary(root: Path, now: datetime) -> str | None:
    """``last 24 h: 48 firings, 44 ticks, 3 not due, 1 locked``; None before any firing."""
    firings = read_firings(root, now - timedelta(hours=24))
    if not firings:
        return None
    kinds = Counter(
        "ticks" if what.startswith("tick:") else what.replace("-", " ") for _, what in firings
    )
    parts = [
        f"{len(firings)} firing{'s' if len(firings) != 1 else ''}",
        f"{kinds.pop('ticks', 0)} ticks",
    ]
    parts += [f"{count} {kind}" for kind, count in kinds.most_common()]
    return "last 24 h: " + ", ".join(parts)


def last_firing(root: Path) -> datetime | None:
    firings = read_firings(root, datetime.min.replace(tzinfo=timezone.utc))
    return firings[-1][0] if firings else None


# ------------------------------------------------------------------------------------- pause


@dataclass(frozen=True)
class Pause:
    since: str
    reason: str
    by: str  # "person" or "loop"


def read_pause(root: Path) -> Pause | None:
    try:
        data = json.loads((root / STATE_DIR / PAUSED).read_text(encoding="utf-8"))
        return Pause(str(data["since"]), str(data["reason"]), str(data.get("by", "person")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return Pause(
            "?", "the pause file .genome/paused cannot be read", "?"
        )  # still paused: safe side


def pause(root: Path, reason: str, by: str = "person", now: datetime | None = None) -> Pause:
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime(STAMP)
    found = Pause(stamp, reason, by)
    path = state_dir(root) / PAUSED
    tmp = path.with_name(PAUSED + ".tmp")
    tmp.write_text(json.dumps(found.__dict__) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return found


def resume(root: Path) -> Pause | None:
    """Lift the pause (and the streak that caused it); returns the pause lifted, if any."""
    found = read_pause(root)
    (root / STATE_DIR / PAUSED).unlink(missing_ok=True)
    (root / STATE_DIR / FAILURES).unlink(missing_ok=True)
    return found


# ------------------------------------------------------------------------------------- accounting


def accounted(root: Path, run: Callable[[], Result], now: datetime | None = None) -> Result:
    """Run one due tick, refused while paused, with its firing logged whatever happens; after it,
    pause the loop when a streak or an unproductive day says a person is needed."""
    found = read_pause(root)
    if found is not None:
        log_firing(root, "paused", now)
        raise Paused(
            f"the loop is paused since {found.since} ({found.reason}); "
            "nothing runs until `genome resume`"
        )
    try:
        result = run()
    except BaseException as error:
        log_firing(root, _kind(error), now)
        if isinstance(error, (ModelUnavailable, EnvironmentBroken)):
            pause_if_needed(root, now)  # the streak counts these too
        raise
    log_firing(root, f"tick:{getattr(result, 'outcome', 'done')}", now)
    pause_if_needed(root, now)
    return result


def _kind(error: BaseException) -> str:
    if isinstance(error, BudgetSpent):
        return "budget"
    if isinstance(error, ModelUnavailable):
        return "tick:unavailable"
    if isinstance(error, EnvironmentBroken):
        return "gates-broken"
    if isinstance(error, Refused):
        return "locked" if "another tick is running" in error.message else "refused"
    if isinstance(error, UsageError):
        return "invalid"
    return "invalid" if type(error).__name__ == "GenomeFileError" else "error"


def pause_if_needed(root: Path, now: datetime | None = None) -> Pause | None:
    """After a tick: pause after ``pause_after`` failed or unreachable ticks in a row, or after a
    budget day that spent money and shipped nothing. Says why once: a notification and a commit."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    if read_pause(root) is not None:
        return None
    config = _config(root)
    if config is None:
        return None
    limit = getattr(config, "pause_after", PAUSE_AFTER_DEFAULT)
    reason = None
    streak = _streak(root)
    if limit and streak >= limit:
        reason = (
            f"{streak} ticks in a row failed, could not reach the model or could not run their "
            f"gates (pause_after: {limit}); "
            "look at the journal, fix the cause, then `genome resume`"
        )
    else:
        reason = _unproductive_day(root, now)
    if reason is None:
        return None
    found = pause(root, reason, by="loop", now=now)
    from runner import notify

    notify.notify(
        config.notify,
        {
            "outcome": "paused",
            "message": f"paused: {reason}",
            "needs_person": True,
            "lever": "",
            "title": "",
            "version": "",
            "gates": "",
            "tokens": 0,
            "cost_usd": 0.0,
            "commit": "",
        },
        root,
        lambda message: None,
    )
    _pause_commit(root, reason, now)
    return found


def _streak(root: Path) -> int:
    try:
        return int((root / STATE_DIR / FAILURES).read_text().strip())
    except (OSError, ValueError):
        return 0


def _unproductive_day(root: Path, now: datetime) -> str | None:
    """Yesterday (UTC), judged once: money spent and nothing shipped."""
    from runner.spend import record_commits

    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    marker = state_dir(root) / DAY_CHECKED
    day = yesterday.strftime("%Y-%m-%d")
    try:
        if marker.read_text().strip() >= day:
            return None
    except OSError:
        pass
    ticks = [
        t
        for t in record_commits(root, f"--since={yesterday.strftime('%Y-%m-%d %H:%M:%S +0000')}")
        if yesterday <= t[0] < today
    ]
    marker.write_text(day + "\n")
    spent = sum(cost for _, _, _, cost in ticks)
    if spent > 0 and not any(outcome == "shipped" for _, outcome, _, _ in ticks):
        return (
            f"{day} spent ${spent:.2f} over {len(ticks)} ticks and shipped nothing; "
            "look at the journal, "
            "then `genome resume`"
        )
    return None


def _pause_commit(root: Path, reason: str, now: datetime) -> None:
    """A commit that says why, on top of HEAD, with the tree and the index left as they are."""
    message = f"genome: paused\n\n{reason}\n\nPaused: {now.strftime(STAMP)}\n"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "genome runner",
        "GIT_AUTHOR_EMAIL": "genome@localhost",
        "GIT_COMMITTER_NAME": "genome runner",
        "GIT_COMMITTER_EMAIL": "genome@localhost",
    }
    try:
        head = _git(root, "rev-parse", "--verify", "HEAD^{commit}")
        branch = _git(root, "symbolic-ref", "-q", "HEAD")
        tree = _git(root, "rev-parse", "HEAD^{tree}")
        commit = subprocess.run(
            ["git", "commit-tree", tree, "-p", head],
            cwd=root,
            input=message,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        _git(root, "update-ref", "-m", "genome: paused", branch, commit, head)
    except (subprocess.CalledProcessError, OSError):
        pass  # the pause itself holds; the notification has said why


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def _config(root: Path):
    from genome.errors import GenomeFileError
    from genome.loop_prompt import LoopPromptDoc
    from runner.ledger import read_blobs

    text = read_blobs(root, ["HEAD:loop-prompt.md"])["HEAD:loop-prompt.md"]
    try:
        return LoopPromptDoc.parse(text).config if text is not None else None
    except GenomeFileError:
        return None


# ------------------------------------------------------------------------------------- the watchdog


def overdue(
    root: Path,
    now: datetime,
    cadence_seconds: int,
    last_tick: datetime | None,
    timers: Sequence[InstalledTimer],
) -> str | None:
    """Overdue: a timer is installed, yet no tick for more than ``OVERDUE_CADENCES`` cadences after
    the tick was due (from .genome/next-due, else one cadence after the last recorded tick, else
    one cadence after the timer's file was written: a timer that never fired)."""
    if not timers:
        return None
    due = read_next_due(root) or _installed_at(timers, cadence_seconds)
    ticked = [
        when
        for when, what in read_firings(root, now - timedelta(days=30))
        if what.startswith("tick:")
    ]
    latest = max(filter(None, [last_tick, *ticked[-1:]]), default=None)
    expected = due or (latest + timedelta(seconds=cadence_seconds) if latest else None)
    if expected is None:
        return None
    late = now - expected
    if late <= timedelta(seconds=OVERDUE_CADENCES * cadence_seconds):
        return None
    since = f"the last tick was {_ago(now - latest)} ago" if latest else "no tick has run yet"
    fired = last_firing(root)
    heard = f"; the timer last fired {_ago(now - fired)} ago" if fired else "; no firing was logged"
    return f"overdue: a tick was due {_ago(late)} ago and {since}{heard}"


def _installed_at(timers: Sequence[InstalledTimer], cadence_seconds: int) -> datetime | None:
    """One cadence after the newest timer file was written (a crontab line has no file)."""
    written = []
    for timer in timers:
        try:
            written.append(os.stat(timer.where).st_mtime)
        except OSError:
            continue
    if not written:
        return None
    return datetime.fromtimestamp(max(written), timezone.utc) + timedelta(seconds=cadence_seconds)


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"


def reasons(root: Path, now: datetime | None = None, host=None) -> list[str]:
    """Why the loop needs a person, one line each; empty when it does not."""
    from runner.status import gather

    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    status = gather(root, now=now, host=host)
    found: list[str] = []
    paused = read_pause(root)
    if paused is not None:
        found.append(
            f"paused since {paused.since} by {'you' if paused.by == 'person' else 'the loop'}: "
            f"{paused.reason} (`genome resume` to go on)"
        )
    config = _config(root)
    cadence = config.cadence_seconds if config else 1800
    last = status.last_tick.time if status.last_tick else None
    if paused is None:
        late = overdue(root, now, cadence, last, status.timers)
        if late:
            found.append(late)
    if status.counts and status.counts.get("open", 0) == 0 and status.counts.get("blocked", 0) > 0:
        found.append(
            f"all levers blocked ({status.counts['blocked']}): "
            "unblock one (`[ ]`) or add one to levers.md"
        )
    if config is not None and config.budget.day_usd:
        spent_days = _budget_days(root, now, config.budget.day_usd)
        if spent_days >= BUDGET_DAYS:
            found.append(
                f"budget spent for days: the day budget (${config.budget.day_usd:.2f}) was used up "
                f"{spent_days} days running; raise `budget:` or look at what the ticks spend on"
            )
    unsandboxed = _unsandboxed(config)
    if unsandboxed:
        found.append(unsandboxed)
    found += [f"problem: {problem}" for problem in status.problems]
    return found


def _budget_days(root: Path, now: datetime, day_usd: float) -> int:
    """How many UTC days in a row, up to today, spent the whole day budget."""
    from runner.spend import record_commits

    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=BUDGET_DAYS)
    per_day: dict[str, float] = {}
    for when, _, _, cost in record_commits(
        root, f"--since={first.strftime('%Y-%m-%d %H:%M:%S +0000')}"
    ):
        day = when.strftime("%Y-%m-%d")
        per_day[day] = per_day.get(day, 0.0) + cost
    days = 0
    for back in range(BUDGET_DAYS + 1):
        if per_day.get((today - timedelta(days=back)).strftime("%Y-%m-%d"), 0.0) >= day_usd:
            days += 1
        elif back > 0:
            break  # today may not have reached it yet; an earlier day that did not ends the run
    return days


def _unsandboxed(config) -> str | None:
    """``sandbox: required`` where the sandbox does not work: every tick would refuse to run."""
    if config is None or getattr(config, "sandbox", None) != "required":
        return None
    try:
        from runner import sandbox
    except ImportError:
        return None
    probe = getattr(sandbox, "probe", None)
    if probe is None:
        return None
    bwrap, problem = probe()
    return (
        None
        if bwrap
        else f"unsandboxed: `sandbox: required` but bubblewrap does not work here ({problem})"
    )
