"""What happened in a window of time, read from git alone: the data every format of the review
shows.

Two `git log` calls read every commit in the window: its message, and its numstat and patch. A
tick's journal entry, the lessons it appended and the levers it proposed are the lines its record
commit added, so a fresh clone reviews exactly like the machine that ticked. One
`git cat-file --batch` reads the few whole files the review compares (genome.md where the window
starts and at HEAD, levers.md at HEAD); `git rev-parse` resolves HEAD and a `--since` commit. No
process per commit.

A commit's message is read by ``genome.records``, as every reader of the history reads it: only the
runner's own trailer block counts, so nothing the model wrote can pass for a record.
"""

from __future__ import annotations

import codecs
import difflib
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from genome.errors import GenomeFileError
from genome.genome_file import PLACEHOLDER_MISSION, GenomeDoc
from genome.journal import TickRecord, parse_entries
from genome.levers import LeverDoc, lever_line
from genome.loop_prompt import Lesson, LoopPromptDoc
from genome.records import (
    LOG_FORMAT,
    CodeTrailers,
    DecisionTrailers,
    Outcome,
    RecordTrailers,
    parse_log,
    subject_of,
)
from genome.regression import Rules, standing
from genome.text import parse_duration
from runner.errors import UsageError
from runner.ledger import GIT, git_text, head_sha, read_blobs
from runner.style import stamp

_LOG_FORMAT = "%x1e%H%x1f%ct%x1f%P%x1f"  # then numstat and patch; the messages are read apart
OUTCOME_ORDER = tuple(outcome.value for outcome in Outcome)


# ------------------------------------------------------------------------------------------- window


@dataclass(frozen=True)
class Window:
    label: str  # for people: "last 24h (since 2026-11-22 03:00Z)"
    revisions: tuple[str, ...]  # what `git log` is given
    base: str | None  # the commit the window starts after, when it was given as one
    start: datetime | None = (
        None  # when it starts (for a commit: that commit's time), for the charts
    )
    end: datetime | None = None  # when the review was made


_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?:Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE
)


def resolve_window(root: Path, since: str, now: datetime) -> Window:
    """``24h``/``7d`` (back from now), a date or time (UTC unless it says otherwise), or any
    commit."""
    text = since.strip()
    try:
        seconds = parse_duration(text)
    except ValueError:
        pass
    else:
        try:
            start = now - timedelta(seconds=seconds)
        except OverflowError:
            raise UsageError(
                f"--since {text} reaches back before the year 1; give a shorter span"
            ) from None
        return Window(
            f"last {text} (since {stamp(start)})",
            (f"--since={_git_date(start)}", "HEAD"),
            None,
            start,
            now,
        )
    if _DATE.fullmatch(text):
        start = _parse_date(text)
        return Window(
            f"since {stamp(start)}", (f"--since={_git_date(start)}", "HEAD"), None, start, now
        )
    if text and not text.startswith("-"):
        done = subprocess.run(
            [
                *GIT,
                "-C",
                str(root),
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                f"{text}^{{commit}}",
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            sha = done.stdout.strip()
            return Window(
                f"since {text}" + ("" if sha.startswith(text) else f" ({sha[:12]})"),
                (f"{sha}..HEAD",),
                sha,
                None,
                now,
            )
    raise UsageError(
        f"--since {since!r} is neither a duration (24h, 7d), a date (2026-11-23, "
        "2026-11-23T06:00) nor a commit of this repository (a SHA, tag or branch)"
    )


def _parse_date(text: str) -> datetime:
    normal = text.upper().replace(" ", "T")
    normal = normal[:-1] + "+00:00" if normal.endswith("Z") else normal
    try:
        moment = datetime.fromisoformat(normal)
    except ValueError:
        raise UsageError(
            f"--since {text!r} looks like a date but is not a real one; write it like "
            "2026-11-23 or 2026-11-23T06:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _git_date(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


# ----------------------------------------------------------------------------------------- commits


@dataclass(frozen=True)
class FileChange:
    path: str
    added: int | None  # None for a binary file
    deleted: int | None


@dataclass
class FilePatch:
    path: str
    lines: list[str]  # git's diff for this file, header lines included

    def _hunk_lines(self) -> list[str]:
        for i, line in enumerate(self.lines):
            if line.startswith("@@"):
                return self.lines[i:]
        return []

    def added(self) -> list[str]:
        return [line[1:].rstrip("\r") for line in self._hunk_lines() if line.startswith("+")]

    def removed(self) -> list[str]:
        return [line[1:].rstrip("\r") for line in self._hunk_lines() if line.startswith("-")]


@dataclass
class Commit:
    sha: str
    time: datetime
    parents: list[str]
    subject: str
    code: CodeTrailers | None  # when it is a shipped lever's code commit
    record: RecordTrailers | None  # when it is a tick's record commit
    decision: DecisionTrailers | None  # when it is a person's settle command
    files: list[FileChange]
    patches: list[FilePatch]

    @property
    def is_record(self) -> bool:
        """The commit a tick ends with: journal entry, lever log, genome, lessons."""
        return self.record is not None

    @property
    def is_decision(self) -> bool:
        """A person's settle command: ``genome revert/retry/drop/promote`` (not a tick)."""
        return self.decision is not None

    @property
    def is_code(self) -> bool:
        """A shipped lever's code, committed by the runner after its gates passed
        (``L-004 Title``)."""
        return self.code is not None

    def patch(self, path: str) -> FilePatch | None:
        return next((p for p in self.patches if p.path == path), None)


def read_commits(root: Path, window: Window) -> list[Commit]:
    """Every commit in the window, newest first: the messages from one `git log` process (NUL
    separated, which no message can hold), the changes from another."""
    logged = git_text(root, "log", "-z", f"--format={LOG_FORMAT}", *window.revisions, "--")
    messages = {commit.sha: commit.message for commit in parse_log(logged)}
    out = git_text(
        root,
        "log",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        f"--format={_LOG_FORMAT}",
        "--numstat",
        "-p",
        *window.revisions,
        "--",
    )
    # A record starts with \x1e at the start of a line: a diff line never does, it starts with +, -
    # or space.
    chunks = re.split(r"(?:^|\n)\x1e", out)
    return [_parse_commit(chunk, messages) for chunk in chunks if chunk.strip()]


def _parse_commit(chunk: str, messages: dict[str, str]) -> Commit:
    sha, seconds, parents, rest = chunk.split("\x1f", 3)
    message = messages.get(sha, "")
    files, patches = _parse_changes(rest)
    return Commit(
        sha=sha,
        time=datetime.fromtimestamp(int(seconds), timezone.utc),
        parents=parents.split(),
        subject=subject_of(message),
        code=CodeTrailers.parse(message),
        record=RecordTrailers.parse(message),
        decision=DecisionTrailers.parse(message),
        files=files,
        patches=patches,
    )


_NUMSTAT = re.compile(r"^(\d+|-)\t(\d+|-)\t(.*)$")


def _parse_changes(text: str) -> tuple[list[FileChange], list[FilePatch]]:
    files: list[FileChange] = []
    patches: list[FilePatch] = []
    current: list[str] | None = None
    for line in text.split("\n"):
        if line.startswith("diff --git "):
            current = [line]
            patches.append(FilePatch("", current))
        elif current is not None:
            current.append(line)
        else:
            match = _NUMSTAT.match(line)
            if match:
                added, deleted, path = match.groups()
                files.append(
                    FileChange(
                        path,
                        None if added == "-" else int(added),
                        None if deleted == "-" else int(deleted),
                    )
                )
    for patch in patches:
        while patch.lines and not patch.lines[-1]:
            patch.lines.pop()  # the blank line git puts between commits
        patch.path = _patch_path(patch.lines)
    return files, patches


def _patch_path(lines: list[str]) -> str:
    header = []
    for line in lines:
        if line.startswith("@@"):
            break
        header.append(line)
    for prefix, side in (("+++ ", "b/"), ("--- ", "a/")):
        for line in header:
            if line.startswith(prefix) and line[4:].rstrip("\t") != "/dev/null":
                return _unquote(line[4:].rstrip("\t")).removeprefix(side)
    names = header[0][len("diff --git ") :]
    return _unquote(names.split(" b/", 1)[-1]) if " b/" in names else names


def _unquote(name: str) -> str:
    """A C-quoted path as git prints one (``"a/tab\\there"``) back to its text."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return codecs.escape_decode(name[1:-1].encode("utf-8"))[0].decode("utf-8", errors="replace")
    return name


# -------------------------------------------------------------------------------------- the review


@dataclass
class TickRow:
    sha: str  # the record commit
    at: datetime  # when its record was committed, as `genome status` and the ledger say
    record: TickRecord
    rollback: str = ""  # "v003 -> v002: why", when this tick rolled the genome back

    @property
    def started(self) -> datetime:
        """When the tick started, as its journal entry says (else when its record was committed)."""
        try:
            moment = datetime.fromisoformat(self.record.time.replace("Z", "+00:00"))
        except ValueError:
            return self.at
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class ShippedLever:
    lever: str
    title: str
    sha: str
    at: datetime
    gates: str
    files: list[FileChange]
    patches: list[FilePatch]

    @property
    def added(self) -> int:
        return sum(f.added or 0 for f in self.files)

    @property
    def deleted(self) -> int:
        return sum(f.deleted or 0 for f in self.files)


@dataclass
class BlockedLever:
    lever: str
    title: str
    why: str
    at: datetime


@dataclass
class ProposedLever:
    lever: str
    title: str
    checks: list[str] = field(default_factory=list)


@dataclass
class GenomeChange:
    before: str  # version labels, "v002"
    after: str
    diff: list[str]  # a unified diff of the body; empty when the body did not change


@dataclass
class VersionStats:
    """How the loop did under one genome version, in the window: the figures that say whether it is
    getting better at the project."""

    version: str
    ticks: int = 0
    shipped: int = 0
    failed: int = 0
    cost: float = 0.0
    tokens: int = 0
    standing: str = ""  # confirmed, rolled back, on probation or baseline (genome.regression)

    @property
    def attempted(self) -> int:
        return self.shipped + self.failed

    @property
    def pass_rate(self) -> float | None:
        return self.shipped / self.attempted if self.attempted else None

    @property
    def cost_per_shipped(self) -> float | None:
        return self.cost / self.shipped if self.shipped else None

    @property
    def tokens_per_shipped(self) -> float | None:
        return self.tokens / self.shipped if self.shipped else None


@dataclass
class Decision:
    """A lever that waits on the person, and the exact commands that settle it."""

    lever: str
    title: str
    state: str  # blocked, shipped or proposed
    why: str
    commands: list[str]


@dataclass
class Settled:
    """A decision a person made in the window (`genome revert`, `retry`, `drop`, `promote`)."""

    lever: str
    decision: str
    sha: str
    at: datetime
    subject: str


@dataclass(frozen=True)
class MetricPoint:
    name: str
    at: datetime
    value: float
    lever: str  # the lever that shipped it, or "start" for the start tree's number


@dataclass
class Review:
    window: Window
    head: str
    ticks: list[TickRow]  # oldest first
    shipped: list[ShippedLever]
    blocked: list[BlockedLever]  # newly blocked in the window
    genome: GenomeChange | None
    lessons: list[Lesson]
    proposed: list[ProposedLever]
    needs_person: list[str]
    notes_read: list[str]
    versions: list[VersionStats] = field(default_factory=list)  # oldest first
    decisions: list[Decision] = field(default_factory=list)
    settled: list[Settled] = field(default_factory=list)
    blocked_now: int = 0  # levers marked blocked at HEAD
    hidden_failed: list = field(
        default_factory=list
    )  # sealed gates that failed (this machine's record)

    @property
    def metric_points(self) -> dict[str, list[MetricPoint]]:
        """Each metric gate's number over the window: the start tree's, then one per shipped
        tick."""
        series: dict[str, list[MetricPoint]] = {}
        if not any(tick.record.metrics for tick in self.ticks):
            return series
        from runner.metrics import parse_trailer_with_start  # only a review with metrics needs it

        for tick in self.ticks:
            if tick.record.outcome != "shipped" or not tick.record.metrics:
                continue
            for name, (value, start) in parse_trailer_with_start(tick.record.metrics).items():
                points = series.setdefault(name, [])
                if not points and start is not None:
                    points.append(MetricPoint(name, tick.at, start, "start"))
                points.append(MetricPoint(name, tick.at, value, tick.record.lever))
        return series

    @property
    def failed(self) -> list[TickRow]:
        return [t for t in self.ticks if t.record.outcome == "failed"]

    @property
    def cost(self) -> float:
        return sum(t.record.cost_usd for t in self.ticks)

    @property
    def tokens(self) -> int:
        return sum(t.record.tokens for t in self.ticks)

    @property
    def outcomes(self) -> Counter:
        return Counter(t.record.outcome for t in self.ticks)


def build_review(root: Path, since: str = "24h", now: datetime | None = None) -> Review:
    """Everything ``genome review`` shows, from the repository at ``root``."""
    now = now or datetime.now(timezone.utc)
    head = head_sha(root)
    window = resolve_window(root, since, now)
    commits = list(reversed(read_commits(root, window)))
    base = _genome_base(commits, window)
    specs = ["HEAD:genome.md", "HEAD:levers.md", "HEAD:loop-prompt.md"]
    specs += [f"{base}:genome.md"] if base else []
    blobs = read_blobs(root, specs)
    levers, levers_problem = _head_levers(blobs["HEAD:levers.md"])
    titles = {lever.id: lever.title for lever in levers.levers if lever.id} if levers else {}
    records = [c for c in commits if c.is_record]
    ticks = [_tick_row(c, titles) for c in records]
    by_commit = {t.record.commit[:12]: t for t in ticks if t.record.commit}
    settled = [_settled(c) for c in commits if c.is_decision]
    reverted = {c.decision.reverts for c in commits if c.decision and c.decision.reverts}
    shipped = [
        _shipped(c, by_commit.get(c.sha[:12]), titles)
        for c in commits
        if c.is_code and c.sha not in reverted
    ]
    proposed, blocked, lessons = [], [], []
    for commit in records:
        found_proposed, found_blocked = _lever_changes(commit)
        proposed += found_proposed
        blocked += found_blocked
        lessons += _lessons_added(commit)
    genome = None
    if commits or window.base:
        genome = genome_change(
            blobs.get(f"{base}:genome.md") if base else None, blobs["HEAD:genome.md"]
        )
    items = needs_person(ticks, levers, levers_problem, proposed)
    if _mission_is_placeholder(blobs["HEAD:genome.md"]):
        items.insert(0, PLACEHOLDER_MISSION)
    return Review(
        window=window,
        head=head,
        ticks=ticks,
        shipped=shipped,
        blocked=blocked,
        genome=genome,
        lessons=lessons,
        proposed=proposed,
        needs_person=items,
        notes_read=[note for t in ticks for note in t.record.feedback],
        versions=version_stats(ticks, _regression_rules(blobs["HEAD:loop-prompt.md"])),
        decisions=decisions(levers, shipped, proposed),
        settled=settled,
        blocked_now=sum(lever.status == "blocked" for lever in levers.levers) if levers else 0,
        hidden_failed=hidden_failures(root, ticks),
    )


def hidden_failures(root: Path, ticks: list[TickRow]) -> list:
    """The sealed gates that failed in the window's ticks, from this machine's record of them."""
    from runner import sealed  # loaded (and its git call made) only where gates are sealed

    times = {tick.record.time for tick in ticks}
    if not times or not sealed.sealed_dir().is_dir():
        return []
    return [r for r in sealed.read_results(root) if not r.passed and r.time in times]


def _mission_is_placeholder(text: str | None) -> bool:
    try:
        return text is not None and GenomeDoc.parse(text).mission_is_placeholder
    except GenomeFileError:
        return False


def _regression_rules(text: str | None) -> Rules:
    try:
        return LoopPromptDoc.parse(text).config.regression if text is not None else Rules()
    except GenomeFileError:
        return Rules()


def version_stats(ticks: list[TickRow], rules: Rules) -> list[VersionStats]:
    """Ticks, outcomes, spend and standing per genome version a tick ran under, oldest first."""
    found: dict[str, VersionStats] = {}
    rolled_back: set[str] = set()
    for tick in ticks:
        r = tick.record
        stats = found.setdefault(r.version or "?", VersionStats(r.version or "?"))
        stats.ticks += 1
        stats.shipped += r.outcome == "shipped"
        stats.failed += r.outcome == "failed"
        stats.cost += r.cost_usd
        stats.tokens += r.tokens
        if tick.rollback:
            rolled_back.add(tick.rollback.split()[0])
    for stats in found.values():
        number = int(stats.version[1:]) if stats.version[1:].isdigit() else 0
        stats.standing = standing(number, stats.attempted, stats.version in rolled_back, rules)
    return sorted(found.values(), key=lambda v: (len(v.version), v.version))


def decisions(
    levers: LeverDoc | None, shipped: list[ShippedLever], proposed: list[ProposedLever]
) -> list[Decision]:
    """Each lever that waits on the person, with the commands that settle it: blocked levers (retry
    or drop), levers shipped in the window (keep, or revert), proposals still open (promote or
    drop)."""
    if levers is None:
        return []
    now = {lever.id: lever for lever in levers.levers if lever.id}
    found: list[Decision] = []
    for lever in levers.levers:
        if lever.id and lever.status == "blocked":
            why = lever.log[-1] if lever.log else "marked [!] in levers.md"
            found.append(
                Decision(
                    lever.id,
                    lever.title,
                    "blocked",
                    why,
                    [f"genome retry {lever.id}", f"genome drop {lever.id}"],
                )
            )
    for item in shipped:
        current = now.get(item.lever)
        if current is not None and current.status == "done":
            found.append(
                Decision(
                    item.lever,
                    item.title,
                    "shipped",
                    f"shipped in {item.sha[:8]}; keep it, or",
                    [f"genome revert {item.lever}"],
                )
            )
    for proposal in proposed:
        current = now.get(proposal.lever)
        if current is not None and current.status == "open":
            found.append(
                Decision(
                    proposal.lever,
                    current.title,
                    "proposed",
                    "proposed by the loop",
                    [f"genome promote {proposal.lever}", f"genome drop {proposal.lever}"],
                )
            )
    return found


def _settled(commit: Commit) -> Settled:
    assert commit.decision is not None, "only a decision commit is settled"
    return Settled(
        commit.decision.lever,
        commit.decision.decision,
        commit.sha,
        commit.time,
        commit.subject.removeprefix("genome: "),
    )


def _genome_base(commits: list[Commit], window: Window) -> str | None:
    """Where the genome diff starts: the version the window's first tick ran under (the parent of
    its first commit), so a person's setup commits before it do not swamp the diff."""
    ticking = [c for c in commits if c.is_record or c.is_code]
    first = ticking[0] if ticking else (commits[0] if commits else None)
    if first is None:
        return window.base
    return first.parents[0] if first.parents else None


def _head_levers(text: str | None) -> tuple[LeverDoc | None, str]:
    if text is None:
        return None, "levers.md is not committed: run `genome init` or commit it"
    try:
        return LeverDoc.parse(text), ""
    except GenomeFileError as error:
        return None, str(error)


def _tick_row(commit: Commit, titles: dict[str, str]) -> TickRow:
    assert commit.record is not None, "only a record commit is a tick"
    record = _journal_record(commit) or _trailer_record(commit)
    if not record.title:
        record.title = titles.get(record.lever, "")
    return TickRow(commit.sha, commit.time, record, commit.record.rollback)


def _journal_record(commit: Commit) -> TickRecord | None:
    """The journal entry this record commit added, when it agrees with the commit's trailers."""
    assert commit.record is not None, "only a record commit adds a journal entry"
    added = [line for p in commit.patches if p.path.startswith("journal/") for line in p.added()]
    outcome, lever = commit.record.outcome, commit.record.lever
    matching = [
        e
        for e in parse_entries("\n".join(added))
        if e.outcome == outcome and (e.lever or lever) == lever
    ]
    return matching[-1] if matching else None


def _trailer_record(commit: Commit) -> TickRecord:
    """A tick known only from its trailers (its journal entry was edited away)."""
    trailers = commit.record
    assert trailers is not None, "only a record commit is a tick"
    record = TickRecord(
        time=commit.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        outcome=trailers.outcome.value,
        lever=trailers.lever,
        version=trailers.genome_version,
    )
    record.tokens_in = trailers.tokens  # the total, in the one field it fits
    record.cost_usd = trailers.cost_usd
    return record


def _shipped(commit: Commit, tick: TickRow | None, titles: dict[str, str]) -> ShippedLever:
    assert commit.code is not None, "only a code commit ships a lever"
    lever = commit.code.lever
    first, _, rest = commit.subject.partition(" ")
    title = rest if first == lever and rest else titles.get(lever, commit.subject)
    gates = (tick.record.gates if tick else "") or commit.code.gates
    return ShippedLever(lever, title, commit.sha, commit.time, gates, commit.files, commit.patches)


def _lever_changes(commit: Commit) -> tuple[list[ProposedLever], list[BlockedLever]]:
    """Levers the record commit added (proposals) and levers it marked ``[!]`` (newly blocked)."""
    patch = commit.patch("levers.md")
    if patch is None:
        return [], []
    before = [found for found in map(lever_line, patch.removed()) if found]
    status_before = {lever: status for status, lever, _ in before if lever}
    titles_before = {_normal(title) for _, _, title in before}
    proposed: list[ProposedLever] = []
    blocked: list[BlockedLever] = []
    current: ProposedLever | None = None
    for line in patch.added():
        found = lever_line(line)
        if found:
            status, lever, title = found
            current = None
            if (
                status == "open"
                and lever
                and lever not in status_before
                and _normal(title) not in titles_before
            ):
                current = ProposedLever(lever, title)
                proposed.append(current)
            elif status == "blocked" and lever and status_before.get(lever, "blocked") != "blocked":
                blocked.append(BlockedLever(lever, title, "", commit.time))
        elif current is not None and line.strip().startswith("check:"):
            current.checks.append(line.strip()[len("check:") :].strip())
        else:
            current = None
            entry = line.strip()
            if (
                blocked
                and not blocked[-1].why
                and entry.startswith("- ")
                and entry.endswith(": blocked")
            ):
                blocked[-1].why = entry[2:]
    return proposed, blocked


def _lessons_added(commit: Commit) -> list[Lesson]:
    patch = commit.patch("loop-prompt.md")
    if patch is None:
        return []
    return [lesson for lesson in map(Lesson.from_line, patch.added()) if lesson]


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def genome_change(before: str | None, after: str | None) -> GenomeChange:
    """The body's unified diff between two versions of genome.md (frontmatter left out: only the
    version number changes there, and the labels say it)."""
    before_label, before_body = _genome_body(before)
    after_label, after_body = _genome_body(after)
    diff = list(
        difflib.unified_diff(
            before_body.splitlines(),
            after_body.splitlines(),
            f"genome.md {before_label}",
            f"genome.md {after_label}",
            lineterm="",
        )
    )
    return GenomeChange(before_label, after_label, diff)


def _genome_body(text: str | None) -> tuple[str, str]:
    if text is None:
        return "(none)", ""
    try:
        doc = GenomeDoc.parse(text)
    except GenomeFileError:
        return "(unreadable)", text
    return doc.label, doc.body


def needs_person(
    ticks: list[TickRow],
    levers: LeverDoc | None,
    levers_problem: str,
    proposed: list[ProposedLever],
) -> list[str]:
    """What only a person can fix: blocked levers, refused secrets, budget and model stops,
    silence."""
    items = [levers_problem] if levers_problem else []
    for lever in levers.levers if levers else []:
        if lever.status == "blocked":
            why = lever.log[-1] if lever.log else "marked [!] in levers.md"
            if lever.id:
                items.append(
                    f"{lever.id} {lever.title} is blocked ({why}): "
                    f"`genome retry {lever.id} --hint TEXT` reopens it with a hint for "
                    f"the next attempt; `genome drop {lever.id}` drops it"
                )
            else:
                items.append(
                    f"a lever is blocked: {lever.title} ({why}): give it a hint and "
                    "reopen it as `[ ]`, "
                    "or drop it as `[-]`"
                )
    stops: dict[tuple[str, str], list[TickRow]] = {}
    for tick in ticks:
        record = tick.record
        if "secret" in record.reason.lower():
            stops.setdefault(("secret", record.reason), []).append(tick)
        elif record.outcome in ("budget", "unavailable"):
            stops.setdefault((record.outcome, record.reason), []).append(tick)
    for (kind, reason), stopped in stops.items():
        what = {
            "secret": "a secret was refused",
            "budget": "budget stop",
            "unavailable": "the model was unavailable",
        }[kind]
        times = f"{len(stopped)}×, last" if len(stopped) > 1 else "at"
        items.append(f"{what} ({times} {stamp(stopped[-1].at)}): {reason or 'no reason recorded'}")
    unsandboxed = [tick for tick in ticks if tick.record.sandbox]
    if unsandboxed:
        times = f"{len(unsandboxed)}×, last" if len(unsandboxed) > 1 else "at"
        items.append(
            f"commands ran without a sandbox ({times} {stamp(unsandboxed[-1].at)}): "
            f"{unsandboxed[-1].record.sandbox}"
        )
    if not ticks:
        items.append("no tick ran in this window: check `genome status` and `genome schedule show`")
    elif ticks[-1].record.outcome == "idle":
        hint = f" (the loop proposed {len(proposed)})" if proposed else ""
        items.append(f"the last tick found no open lever: add levers to levers.md{hint}")
    return items
