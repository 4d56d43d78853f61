"""`genome status`: where the loop stands, at a glance.

Read from the committed HEAD (one `git cat-file` process for the three files, one `git log` for the
week's record commits, which also holds the last tick) and from `.genome/` (next due time, pending
notes), so it answers at once however long the history. The terminal styling lives in
``runner.style``; the git plumbing lives in ``runner.ledger``, the spend ledger in ``runner.spend``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from genome.errors import GenomeFileError
from genome.genome_file import PLACEHOLDER_MISSION, GenomeDoc
from genome.levers import STATUSES, Lever, LeverDoc
from genome.loop_prompt import Budget, LoopPromptDoc
from runner import feedback, sealed
from runner.ledger import git_text, read_blobs
from runner.local_state import STATE_DIR
from runner.sandbox import read_note
from runner.schedule import (
    Host,
    InstalledTimer,
    ScheduleError,
    format_every,
    run_external,
    schedule_status,
)
from runner.spend import record_commits, spent_since
from runner.style import Style, stamp

LAST_TICK_SEARCH = (
    1000  # commits `genome status` looks back for the last tick when none ran this week
)

# ------------------------------------------------------------------------------------------- status


@dataclass(frozen=True)
class LastTick:
    time: datetime  # when its record was committed
    outcome: str
    lever: str


@dataclass
class Status:
    root: Path
    version: str = "?"
    next_lever: Lever | None = None
    counts: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    last_tick: LastTick | None = None
    spend_today: float = 0.0
    spend_week: float = 0.0
    budget: Budget = field(default_factory=Budget)
    next_due: datetime | None = None
    timers: list[InstalledTimer] = field(default_factory=list)
    pending_notes: int = 0
    unsandboxed: str = (
        ""  # "unsandboxed: ..." when the last tick ran its commands without a sandbox
    )
    problems: list[str] = field(default_factory=list)  # what could not be read, and how to fix it
    search_bounded: bool = False  # the look back for the last tick stopped short of the root
    warnings: list[str] = field(default_factory=list)  # works, but needs the person's attention
    cadence_seconds: int = 1800
    firings: str | None = None  # "last 24 h: 48 firings, 44 ticks, 3 not due, 1 locked"
    watch: str = ""  # paused, or overdue: what a person should know first
    sealed: str = ""  # how many sealed gates, and where
    waiting: list[str] = field(
        default_factory=list
    )  # "3 commits on genome/main" per waiting branch


def gather(root: Path, now: datetime | None = None, host: Host | None = None) -> Status:
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    status = Status(root=root)
    spent = spent_since(root, now)
    status.spend_today, status.spend_week = spent.today, spent.this_week
    # Only when no tick ran this week does the last one need a walk further back, and that walk is
    # bounded: before the first tick a long history would otherwise be read to its root.
    bound: list[str] = []
    if not spent.ticks:
        bound = _recent_commits_only(root)
        status.search_bounded = bool(bound)
    newest = (
        spent.ticks[:1]
        or record_commits(
            root, "--max-count=50", "--extended-regexp", "--grep=^Outcome: [a-z]+$", *bound
        )[:1]
    )
    status.last_tick = LastTick(*newest[0][:3]) if newest else None
    files = read_blobs(root, ["HEAD:genome.md", "HEAD:levers.md", "HEAD:loop-prompt.md"])
    _read_genome(status, files["HEAD:genome.md"])
    _read_levers(status, files["HEAD:levers.md"])
    _read_config(status, files["HEAD:loop-prompt.md"])
    _read_schedule(status, host or Host.from_environ(run=_missing_crontab_is_empty))
    status.pending_notes = len(feedback.pending(root))
    _read_watch(status, root, now)
    _read_sealed(status)
    _read_waiting(status)
    status.unsandboxed = read_note(root / STATE_DIR)
    return status


def _read_waiting(status: Status) -> None:
    """Work a tick could not land yet, waiting on ``genome/<branch>`` for `genome land`."""
    listed = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname:short)", "refs/heads/genome/"],
        cwd=status.root,
        capture_output=True,
        text=True,
    )
    for waiting in listed.stdout.split():
        branch = waiting.removeprefix("genome/")
        count = subprocess.run(
            ["git", "rev-list", "--count", f"refs/heads/{branch}..refs/heads/{waiting}"],
            cwd=status.root,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if count.isdigit() and int(count):
            status.waiting.append(
                f"{count} commit{'s' if count != '1' else ''} on {waiting} not yet on {branch}: "
                "`genome land` brings them over"
            )


def _read_watch(status: Status, root: Path, now: datetime) -> None:
    """The firings of the last day, and whether the loop is paused or overdue."""
    from runner import watch

    status.firings = watch.firings_summary(root, now)
    paused = watch.read_pause(root)
    if paused is not None:
        status.watch = f"paused since {paused.since}: {paused.reason} (`genome resume` to go on)"
        return
    last = status.last_tick.time if status.last_tick else None
    status.watch = watch.overdue(root, now, status.cadence_seconds, last, status.timers) or ""


def _read_sealed(status: Status) -> None:
    """The sealed gates' file, when there is one (the folder is looked at before git is asked)."""
    if not sealed.sealed_dir().is_dir():
        return
    path = sealed.gates_file(status.root)
    if not path.exists():
        return
    try:
        gates = sealed.parse_sealed(str(path), path.read_text(encoding="utf-8"))
    except (GenomeFileError, OSError, UnicodeDecodeError) as error:
        status.problems.append(str(error))
        return
    status.sealed = f"{len(gates)} in {path} (never shown to the model)"


def _recent_commits_only(root: Path) -> list[str]:
    """A ``^COMMIT`` that stops a ``git log`` from HEAD after ``LAST_TICK_SEARCH`` commits (none
    when the history is shorter)."""
    oldest = git_text(
        root, "rev-list", "--max-count=1", f"--skip={LAST_TICK_SEARCH}", "HEAD"
    ).strip()
    return [f"^{oldest}"] if oldest else []


def _read_genome(status: Status, text: str | None) -> None:
    if text is None:
        status.problems.append("genome.md is not committed: run `genome init`, or commit it")
        return
    try:
        genome = GenomeDoc.parse(text)
    except GenomeFileError as error:
        status.problems.append(str(error))
        return
    status.version = genome.label
    if genome.mission_is_placeholder:
        status.warnings.append(PLACEHOLDER_MISSION)


def _read_levers(status: Status, text: str | None) -> None:
    if text is None:
        status.problems.append("levers.md is not committed: run `genome init`, or commit it")
        return
    try:
        levers = LeverDoc.parse(text).levers
    except GenomeFileError as error:
        status.problems.append(str(error))
        return
    status.next_lever = next((lever for lever in levers if lever.status == "open"), None)
    status.counts = {
        name: sum(lever.status == name for lever in levers) for name in STATUSES.values()
    }
    status.titles = {lever.id: lever.title for lever in levers if lever.id}


def _read_config(status: Status, text: str | None) -> None:
    if text is None:
        status.problems.append("loop-prompt.md is not committed: run `genome init`, or commit it")
        return
    try:
        config = LoopPromptDoc.parse(text).config
        status.budget, status.cadence_seconds = config.budget, config.cadence_seconds
    except GenomeFileError as error:
        status.problems.append(str(error))


def _read_schedule(status: Status, host: Host) -> None:
    try:
        found = schedule_status(status.root, host)
    except ScheduleError as error:
        status.problems.append(f"the schedule could not be read: {error}")
        return
    status.timers = found.timers
    status.next_due = found.next_due
    if found.next_due_problem:
        status.problems.append(found.next_due_problem)


def _missing_crontab_is_empty(argv, stdin=None) -> subprocess.CompletedProcess:
    """Where cron is not installed no crontab line can exist: that is an answer, not an error."""
    answer = run_external(argv, stdin)
    if answer.returncode == 127 and list(argv[1:]) == ["-l"]:
        return subprocess.CompletedProcess(list(argv), 1, "", "no crontab (cron is not installed)")
    return answer


# ------------------------------------------------------------------------------------------- render


def render(status: Status, now: datetime | None = None, colour: bool = False) -> str:
    now = now or datetime.now(timezone.utc)
    s = Style(colour)
    rows = [
        ("genome", s(status.version, "bold")),
        ("next lever", _next_lever(status, s)),
        ("levers", _counts(status, s)),
        ("last tick", _last(status, now, s)),
        ("spend", _spend(status, s)),
        ("next due", _due(status, now)),
        ("schedule", _schedule(status, s)),
    ]
    if status.firings:
        rows.append(("firings", status.firings))
    if status.sealed:
        rows.append(("sealed gates", status.sealed))
    rows += [("waiting", s(line, "yellow")) for line in status.waiting]
    if status.watch:
        rows.insert(0, ("attention", s(status.watch, "red", "bold")))
    if status.pending_notes:
        plural = "s" if status.pending_notes != 1 else ""
        rows.append(("feedback", f"{status.pending_notes} note{plural} waiting for the next tick"))
    if status.unsandboxed:
        rows.append(("sandbox", s(status.unsandboxed, "yellow")))
    width = max(len(label) for label, _ in rows)
    lines = [s(f"genome status · {status.root}", "bold")]
    lines += [f"{s(label.ljust(width), 'dim')}  {value}" for label, value in rows]
    lines += [s("warning: ", "yellow", "bold") + warning for warning in status.warnings]
    lines += [s("problem: ", "red", "bold") + problem for problem in status.problems]
    return "\n".join(lines) + "\n"


def _next_lever(status: Status, s: Style) -> str:
    lever = status.next_lever
    if lever is None:
        return "none open: ticks only propose levers until you add one to levers.md"
    return f"{s(lever.id or '(new)', 'cyan')} {lever.title}"


def _counts(status: Status, s: Style) -> str:
    counts = status.counts
    if not counts:
        return "unknown"
    blocked = f"{counts['blocked']} blocked"
    parts = [
        f"{counts['open']} open",
        s(blocked, "yellow") if counts["blocked"] else blocked,
        f"{counts['done']} done",
    ]
    if counts["dropped"]:
        parts.append(f"{counts['dropped']} dropped")
    return " · ".join(parts)


def _last(status: Status, now: datetime, s: Style) -> str:
    tick = status.last_tick
    if tick is None:
        where = f" in the last {LAST_TICK_SEARCH:,} commits" if status.search_bounded else " yet"
        return f"none{where}: run `genome tick --now`"
    lever = (
        f"{tick.lever} {status.titles.get(tick.lever, '')}".strip()
        if tick.lever
        else "no open lever"
    )
    return (
        f"{s.outcome(tick.outcome, tick.outcome)} {lever} · {stamp(tick.time)} "
        f"({_span(now - tick.time)} ago)"
    )


def _spend(status: Status, s: Style) -> str:
    budget = status.budget
    return (
        f"today {_against(status.spend_today, budget.day_usd, s)} · "
        f"this week {_against(status.spend_week, budget.week_usd, s)}"
    )


def _against(spent: float, limit: float | None, s: Style) -> str:
    if limit is None:
        return f"${spent:.2f} (no limit)"
    text = f"${spent:.2f} of ${limit:.2f}"
    if spent >= limit:
        return s(text + " (spent: ticks wait for the next period)", "red", "bold")
    return s(text, "yellow") if spent >= 0.8 * limit else text


def _due(status: Status, now: datetime) -> str:
    if status.next_due is None:
        return "now (no tick has set a time yet)"
    if status.next_due <= now:
        return f"now (was due {stamp(status.next_due)})"
    return f"{stamp(status.next_due)} (in {_span(status.next_due - now)})"


def _schedule(status: Status, s: Style) -> str:
    if not status.timers:
        return (
            s("none installed", "yellow")
            + ": `genome schedule install --every 30m`, or `genome run`"
        )
    return "; ".join(
        f"{timer.backend} every {format_every(timer.every)}"
        if timer.every
        else f"{timer.backend} ({timer.expression})"
        for timer in status.timers
    )


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} days"
