"""`genome review`: what the loop did in a window of time, read from git alone.

One `git log` call reads every commit in the window with its trailers, numstat and patch. A tick's
journal entry, the lessons it appended and the levers it proposed are the lines its record commit
added, so a fresh clone reviews exactly like the machine that ticked. One `git cat-file --batch`
reads the few whole files the review compares (genome.md where the window starts and at HEAD,
levers.md at HEAD); `git rev-parse` resolves HEAD and a `--since` commit. No process per commit.

The review renders three ways: aligned and coloured for a terminal, markdown for a pipe, and one
self-contained HTML page with inline SVG charts.
"""

from __future__ import annotations

import codecs
import difflib
import html
import math
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from genome.errors import GenomeFileError
from genome.genome_file import GenomeDoc
from genome.journal import TickRecord, parse_entries
from genome.levers import LeverDoc
from genome.loop_prompt import Lesson
from genome.text import parse_duration
from runner.errors import UsageError
from runner.ledger import GIT, git_text, head_sha, read_blobs
from runner.status import Style, stamp

_LOG_FORMAT = "%x1e%H%x1f%ct%x1f%P%x1f%s%x1f%(trailers:only,unfold)%x1f"
OUTCOME_ORDER = ("shipped", "failed", "blocked", "idle", "budget", "unavailable", "interrupted")
MAX_DIFF_LINES = 400       # per shipped lever in the HTML page; the rest is cut with a note
MAX_COST_BARS = 200        # the cost chart shows at most the last this many ticks


# ------------------------------------------------------------------------------------------- window

@dataclass(frozen=True)
class Window:
    label: str                   # for people: "last 24h (since 2026-11-22 03:00Z)"
    revisions: tuple[str, ...]   # what `git log` is given
    base: str | None             # the commit the window starts after, when it was given as one


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?:Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE)


def resolve_window(root: Path, since: str, now: datetime) -> Window:
    """``24h``/``7d`` (back from now), a date or time (UTC unless it says otherwise), or any commit."""
    text = since.strip()
    try:
        seconds = parse_duration(text)
    except ValueError:
        pass
    else:
        try:
            start = now - timedelta(seconds=seconds)
        except OverflowError:
            raise UsageError(f"--since {text} reaches back before the year 1; give a shorter span") from None
        return Window(f"last {text} (since {stamp(start)})", (f"--since={_git_date(start)}", "HEAD"), None)
    if _DATE.fullmatch(text):
        start = _parse_date(text)
        return Window(f"since {stamp(start)}", (f"--since={_git_date(start)}", "HEAD"), None)
    if text and not text.startswith("-"):
        done = subprocess.run([*GIT, "-C", str(root), "rev-parse", "--verify", "--quiet", "--end-of-options",
                               f"{text}^{{commit}}"], capture_output=True, text=True)
        if done.returncode == 0:
            sha = done.stdout.strip()
            return Window(f"since {text}" + ("" if sha.startswith(text) else f" ({sha[:12]})"),
                          (f"{sha}..HEAD",), sha)
    raise UsageError(f"--since {since!r} is neither a duration (24h, 7d), a date (2026-11-23, "
                     "2026-11-23T06:00) nor a commit of this repository (a SHA, tag or branch)")


def _parse_date(text: str) -> datetime:
    normal = text.upper().replace(" ", "T")
    normal = normal[:-1] + "+00:00" if normal.endswith("Z") else normal
    try:
        moment = datetime.fromisoformat(normal)
    except ValueError:
        raise UsageError(f"--since {text!r} looks like a date but is not a real one; write it like "
                         "2026-11-23 or 2026-11-23T06:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _git_date(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


# ------------------------------------------------------------------------------------------- commits

@dataclass(frozen=True)
class FileChange:
    path: str
    added: int | None      # None for a binary file
    deleted: int | None


@dataclass
class FilePatch:
    path: str
    lines: list[str]       # git's diff for this file, header lines included

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
    trailers: dict[str, str]
    files: list[FileChange]
    patches: list[FilePatch]

    @property
    def is_record(self) -> bool:
        """The commit a tick ends with: journal entry, lever log, genome, lessons."""
        return "Outcome" in self.trailers and self.subject.startswith("genome: ")

    @property
    def is_code(self) -> bool:
        """A shipped lever's code, committed by the runner after its gates passed (``L-004 Title``)."""
        lever = self.trailers.get("Lever")
        return bool(lever) and "Outcome" not in self.trailers and self.subject.startswith(f"{lever} ")

    def patch(self, path: str) -> FilePatch | None:
        return next((p for p in self.patches if p.path == path), None)


def read_commits(root: Path, window: Window) -> list[Commit]:
    """Every commit in the window, newest first, from one `git log` process."""
    out = git_text(root, "log", "--no-color", "--no-ext-diff", "--no-textconv", "--src-prefix=a/",
                   "--dst-prefix=b/", f"--format={_LOG_FORMAT}", "--numstat", "-p", *window.revisions, "--")
    # A record starts with \x1e at the start of a line: a diff line never does, it starts with +, - or space.
    chunks = re.split(r"(?:^|\n)\x1e", out)
    return [_parse_commit(chunk) for chunk in chunks if chunk.strip()]


def _parse_commit(chunk: str) -> Commit:
    sha, seconds, parents, subject, trailer_text, rest = chunk.split("\x1f", 5)
    trailers: dict[str, str] = {}
    for line in trailer_text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in trailers:
            trailers[key.strip()] = value.strip()
    files, patches = _parse_changes(rest)
    return Commit(sha=sha, time=datetime.fromtimestamp(int(seconds), timezone.utc), parents=parents.split(),
                  subject=subject, trailers=trailers, files=files, patches=patches)


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
                files.append(FileChange(path, None if added == "-" else int(added),
                                        None if deleted == "-" else int(deleted)))
    for patch in patches:
        while patch.lines and not patch.lines[-1]:
            patch.lines.pop()     # the blank line git puts between commits
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
    names = header[0][len("diff --git "):]
    return _unquote(names.split(" b/", 1)[-1]) if " b/" in names else names


def _unquote(name: str) -> str:
    """A C-quoted path as git prints one (``"a/tab\\there"``) back to its text."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return codecs.escape_decode(name[1:-1].encode("utf-8"))[0].decode("utf-8", errors="replace")
    return name


# ------------------------------------------------------------------------------------------- the review

@dataclass
class TickRow:
    sha: str               # the record commit
    at: datetime           # when the tick started (the journal), else when its record was committed
    record: TickRecord


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
    before: str            # version labels, "v002"
    after: str
    diff: list[str]        # a unified diff of the body; empty when the body did not change


@dataclass
class Review:
    window: Window
    head: str
    ticks: list[TickRow]               # oldest first
    shipped: list[ShippedLever]
    blocked: list[BlockedLever]        # newly blocked in the window
    genome: GenomeChange | None
    lessons: list[Lesson]
    proposed: list[ProposedLever]
    needs_person: list[str]
    notes_read: list[str]

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
    specs = ["HEAD:genome.md", "HEAD:levers.md"] + ([f"{base}:genome.md"] if base else [])
    blobs = read_blobs(root, specs)
    levers, levers_problem = _head_levers(blobs["HEAD:levers.md"])
    titles = {lever.id: lever.title for lever in levers.levers if lever.id} if levers else {}
    records = [c for c in commits if c.is_record]
    ticks = [_tick_row(c, titles) for c in records]
    by_commit = {t.record.commit[:12]: t for t in ticks if t.record.commit}
    shipped = [_shipped(c, by_commit.get(c.sha[:12]), titles) for c in commits if c.is_code]
    proposed, blocked, lessons = [], [], []
    for commit in records:
        found_proposed, found_blocked = _lever_changes(commit)
        proposed += found_proposed
        blocked += found_blocked
        lessons += _lessons_added(commit)
    genome = None
    if commits or window.base:
        genome = genome_change(blobs.get(f"{base}:genome.md") if base else None, blobs["HEAD:genome.md"])
    return Review(window=window, head=head, ticks=ticks, shipped=shipped, blocked=blocked, genome=genome,
                  lessons=lessons, proposed=proposed,
                  needs_person=needs_person(ticks, levers, levers_problem, proposed),
                  notes_read=[note for t in ticks for note in t.record.feedback])


def _genome_base(commits: list[Commit], window: Window) -> str | None:
    """Where the genome diff starts: the version the window's first tick ran under (the parent of its
    first commit), so a person's setup commits before it do not swamp the diff."""
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
    record = _journal_record(commit) or _trailer_record(commit)
    if not record.title:
        record.title = titles.get(record.lever, "")
    try:
        at = datetime.fromisoformat(record.time.replace("Z", "+00:00"))
    except ValueError:
        at = commit.time
    return TickRow(commit.sha, at if at.tzinfo else at.replace(tzinfo=timezone.utc), record)


def _journal_record(commit: Commit) -> TickRecord | None:
    """The journal entry this record commit added, when it agrees with the commit's trailers."""
    added = [line for p in commit.patches if p.path.startswith("journal/") for line in p.added()]
    outcome, lever = commit.trailers.get("Outcome", ""), commit.trailers.get("Lever", "")
    matching = [e for e in parse_entries("\n".join(added)) if e.outcome == outcome and (e.lever or lever) == lever]
    return matching[-1] if matching else None


def _trailer_record(commit: Commit) -> TickRecord:
    """A tick known only from its trailers (its journal entry was edited away)."""
    trailers = commit.trailers
    record = TickRecord(time=commit.time.strftime("%Y-%m-%dT%H:%M:%SZ"), outcome=trailers.get("Outcome", ""),
                        lever=trailers.get("Lever", ""), version=trailers.get("Genome-Version", ""))
    record.tokens_in = _number(trailers.get("Tokens", ""), int)      # the total, in the one field it fits
    record.cost_usd = _number(trailers.get("Cost-USD", ""), float)
    return record


def _number(text: str, kind: type) -> int | float:
    try:
        return kind(text)
    except ValueError:
        return kind(0)


def _shipped(commit: Commit, tick: TickRow | None, titles: dict[str, str]) -> ShippedLever:
    lever = commit.trailers["Lever"]
    first, _, rest = commit.subject.partition(" ")
    title = rest if first == lever and rest else titles.get(lever, commit.subject)
    gates = (tick.record.gates if tick else "") or commit.trailers.get("Gates", "")
    return ShippedLever(lever, title, commit.sha, commit.time, gates, commit.files, commit.patches)


_LEVER_LINE = re.compile(r"^- \[(.)\]\s+(?:(L-\d+)\s+)?(.*?)\s*$")
_LESSON_LINE = re.compile(r"^- \[(v\d{3,}) (\d{4}-\d{2}-\d{2})\] (.+?)\s*$")


def _lever_changes(commit: Commit) -> tuple[list[ProposedLever], list[BlockedLever]]:
    """Levers the record commit added (proposals) and levers it marked ``[!]`` (newly blocked)."""
    patch = commit.patch("levers.md")
    if patch is None:
        return [], []
    before = [m for m in map(_LEVER_LINE.match, patch.removed()) if m]
    marks_before = {m.group(2): m.group(1) for m in before if m.group(2)}
    titles_before = {_normal(m.group(3)) for m in before}
    proposed: list[ProposedLever] = []
    blocked: list[BlockedLever] = []
    current: ProposedLever | None = None
    for line in patch.added():
        match = _LEVER_LINE.match(line)
        if match:
            mark, lever, title = match.groups()
            current = None
            if mark == " " and lever and lever not in marks_before and _normal(title) not in titles_before:
                current = ProposedLever(lever, title)
                proposed.append(current)
            elif mark == "!" and lever and marks_before.get(lever, "!") != "!":
                blocked.append(BlockedLever(lever, title, "", commit.time))
        elif current is not None and line.strip().startswith("check:"):
            current.checks.append(line.strip()[len("check:"):].strip())
        else:
            current = None
            entry = line.strip()
            if blocked and not blocked[-1].why and entry.startswith("- ") and entry.endswith(": blocked"):
                blocked[-1].why = entry[2:]
    return proposed, blocked


def _lessons_added(commit: Commit) -> list[Lesson]:
    patch = commit.patch("loop-prompt.md")
    if patch is None:
        return []
    return [Lesson(*m.groups()) for m in map(_LESSON_LINE.match, patch.added()) if m]


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def genome_change(before: str | None, after: str | None) -> GenomeChange:
    """The body's unified diff between two versions of genome.md (frontmatter left out: only the
    version number changes there, and the labels say it)."""
    before_label, before_body = _genome_body(before)
    after_label, after_body = _genome_body(after)
    diff = list(difflib.unified_diff(before_body.splitlines(), after_body.splitlines(),
                                     f"genome.md {before_label}", f"genome.md {after_label}", lineterm=""))
    return GenomeChange(before_label, after_label, diff)


def _genome_body(text: str | None) -> tuple[str, str]:
    if text is None:
        return "(none)", ""
    try:
        doc = GenomeDoc.parse(text)
    except GenomeFileError:
        return "(unreadable)", text
    return doc.label, doc.body


def needs_person(ticks: list[TickRow], levers: LeverDoc | None, levers_problem: str,
                 proposed: list[ProposedLever]) -> list[str]:
    """What only a person can fix: blocked levers, refused secrets, budget and model stops, silence."""
    items = [levers_problem] if levers_problem else []
    for lever in (levers.levers if levers else []):
        if lever.status == "blocked":
            why = lever.log[-1] if lever.log else "marked [!] in levers.md"
            items.append(f"{lever.id or 'a lever'} {lever.title} is blocked ({why}): give it a hint and "
                         "reopen it as `[ ]`, split it, or drop it as `[-]`")
    stops: dict[tuple[str, str], list[TickRow]] = {}
    for tick in ticks:
        record = tick.record
        if "secret" in record.reason.lower():
            stops.setdefault(("secret", record.reason), []).append(tick)
        elif record.outcome in ("budget", "unavailable"):
            stops.setdefault((record.outcome, record.reason), []).append(tick)
    for (kind, reason), stopped in stops.items():
        what = {"secret": "a secret was refused", "budget": "budget stop",
                "unavailable": "the model was unavailable"}[kind]
        times = f"{len(stopped)}×, last" if len(stopped) > 1 else "at"
        items.append(f"{what} ({times} {stamp(stopped[-1].at)}): {reason or 'no reason recorded'}")
    if not ticks:
        items.append("no tick ran in this window: check `genome status` and `genome schedule show`")
    elif ticks[-1].record.outcome == "idle":
        hint = f" (the loop proposed {len(proposed)})" if proposed else ""
        items.append(f"the last tick found no open lever: add levers to levers.md{hint}")
    return items


# ------------------------------------------------------------------------------------------- shared text

def gates_short(gates: str) -> str:
    """``tests ok 3.1s; check-1 FAILED exit 1 0.2s`` → ``✗ check-1``; all green → ``2 ok``."""
    items = [item.strip() for item in gates.split(";") if item.strip()]
    if not items or items == ["none"]:
        return "—"
    failed = [item.split()[0] for item in items if " FAILED" in item]
    return f"✗ {failed[0]}" if failed else f"{len(items)} ok"


def version_text(record: TickRecord) -> str:
    return f"{record.version}→{record.new_version}" if record.new_version else record.version


def lever_text(record: TickRecord) -> str:
    return f"{record.lever} {record.title}".strip() if record.lever else "(no open lever)"


def headline(review: Review) -> str:
    counts = review.outcomes
    parts = [f"{len(review.ticks)} tick{'s' if len(review.ticks) != 1 else ''}"]
    detail = ", ".join(f"{counts[o]} {o}" for o in OUTCOME_ORDER if counts[o])
    if detail:
        parts[0] += f" ({detail})"
    parts += [f"{review.tokens:,} tokens", f"${review.cost:.2f}"]
    if review.genome:
        parts.append(f"genome {review.genome.before} → {review.genome.after}"
                     if review.genome.before != review.genome.after else f"genome {review.genome.after}")
    return " · ".join(parts)


def _diffstat(files: list[FileChange]) -> str:
    added = sum(f.added or 0 for f in files)
    deleted = sum(f.deleted or 0 for f in files)
    return f"{len(files)} file{'s' if len(files) != 1 else ''}, +{added} −{deleted}"


def _file_stat(change: FileChange) -> str:
    return "binary" if change.added is None else f"+{change.added} −{change.deleted}"


def _failure_lines(review: Review) -> list[tuple[str, str]]:
    """(lever, why) for each failed tick and each newly blocked lever, in time order."""
    lines = [(t.at, lever_text(t.record), f"failed at {stamp(t.at)}: {t.record.reason or 'no reason recorded'}"
              + (f" · gates: {t.record.gates}" if t.record.gates else "")) for t in review.failed]
    lines += [(b.at, f"{b.lever} {b.title}", "now blocked" + (f": {b.why}" if b.why else "")) for b in review.blocked]
    return [(lever, why) for _, lever, why in sorted(lines, key=lambda item: item[0])]


# ------------------------------------------------------------------------------------------- terminal

def render_text(review: Review, colour: bool = False, width: int = 100) -> str:
    """The review for a terminal: aligned columns, colour when ``colour``."""
    s = Style(colour)
    out = [s(f"genome review · {review.window.label}", "bold"), headline(review), ""]
    if review.needs_person:
        out.append(s("Needs you", "bold", "yellow"))
        out += [f"  {s('!', 'yellow', 'bold')} {item}" for item in review.needs_person] + [""]
    out += _text_ticks(review, s, width)
    if review.shipped:
        out.append(s("Shipped", "bold"))
        for lever in review.shipped:
            out.append(f"  {s(lever.lever, 'cyan')} {lever.title}  {s(lever.sha[:8], 'dim')}  {_diffstat(lever.files)}")
            path_width = max(len(f.path) for f in lever.files) if lever.files else 0
            out += [f"      {f.path.ljust(path_width)}  {_file_stat(f)}" for f in lever.files]
        out.append("")
    failures = _failure_lines(review)
    if failures:
        out.append(s("Failed and blocked", "bold"))
        out += [f"  {s(lever, 'red')} — {why}" for lever, why in failures] + [""]
    out += _text_genome(review, s)
    if review.lessons:
        out.append(s("Lessons added", "bold"))
        out += [f"  {lesson.render()}" for lesson in review.lessons] + [""]
    if review.proposed:
        out.append(s("Levers proposed by the loop", "bold"))
        for lever in review.proposed:
            checks = "".join(f"  check: {c}" for c in lever.checks)
            out.append(f"  {s(lever.lever, 'cyan')} {lever.title}{s(checks, 'dim')}")
        out.append("")
    if review.notes_read:
        out.append(s("Your notes, read by ticks", "bold"))
        out += [f"  - {note}" for note in review.notes_read] + [""]
    out.append(s(f"Total: {headline(review)}", "bold"))
    return "\n".join(out) + "\n"


def _text_ticks(review: Review, s: Style, width: int) -> list[str]:
    if not review.ticks:
        return []
    rows = [(t.at.strftime("%m-%d %H:%M"), t.record.outcome, lever_text(t.record), version_text(t.record),
             gates_short(t.record.gates), f"{t.record.tokens:,}", f"${t.record.cost_usd:.4f}") for t in review.ticks]
    header = ("time (UTC)", "outcome", "lever", "version", "gates", "tokens", "cost")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fixed = sum(widths) - widths[2] + 2 * (len(header) - 1) + 2
    widths[2] = max(16, min(widths[2], width - fixed))
    right = {5, 6}

    def line(cells: tuple[str, ...], outcome: str | None) -> str:
        padded = []
        for i, cell in enumerate(cells):
            text = _clip(cell, widths[i])
            text = text.rjust(widths[i]) if i in right else text.ljust(widths[i])
            if i == 1 and outcome:
                text = s.outcome(text, outcome)
            padded.append(text)
        return "  " + "  ".join(padded).rstrip()

    return [s("Ticks", "bold"), s(line(header, None), "dim"),
            *[line(row, row[1]) for row in rows], ""]


def _text_genome(review: Review, s: Style) -> list[str]:
    change = review.genome
    if change is None:
        return []
    if not change.diff:
        return [s(f"Genome {change.after}", "bold") + " — body unchanged", ""]
    header, body = change.diff[:2], change.diff[2:]
    return [s(f"Genome {change.before} → {change.after}", "bold"), *[f"  {s(line, 'bold')}" for line in header],
            *[f"  {s.diff_line(line)}" for line in body], ""]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


# ------------------------------------------------------------------------------------------- markdown

def render_markdown(review: Review) -> str:
    out = [f"# genome review: {review.window.label}", "", headline(review), ""]
    if review.needs_person:
        out += ["## Needs you", "", *[f"- {item}" for item in review.needs_person], ""]
    if review.ticks:
        out += ["## Ticks", "", "| time (UTC) | outcome | lever | version | gates | tokens | cost |",
                "| --- | --- | --- | --- | --- | ---: | ---: |"]
        out += [f"| {t.at.strftime('%Y-%m-%d %H:%M')} | {t.record.outcome} | {_cell(lever_text(t.record))} | "
                f"{version_text(t.record)} | {_cell(gates_short(t.record.gates))} | {t.record.tokens:,} | "
                f"${t.record.cost_usd:.4f} |" for t in review.ticks]
        out.append("")
    if review.shipped:
        out += ["## Shipped", ""]
        for lever in review.shipped:
            out.append(f"- **{lever.lever} {lever.title}** `{lever.sha[:8]}` · {_diffstat(lever.files)}")
            out += [f"  - `{f.path}` {_file_stat(f)}" for f in lever.files]
        out.append("")
    failures = _failure_lines(review)
    if failures:
        out += ["## Failed and blocked", "", *[f"- **{lever}** — {why}" for lever, why in failures], ""]
    if review.genome:
        change = review.genome
        if change.diff:
            fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", "\n".join(change.diff)))])
            out += [f"## Genome {change.before} → {change.after}", "", f"{fence}diff", *change.diff, fence, ""]
        else:
            out += [f"## Genome {change.after}", "", "The body did not change.", ""]
    if review.lessons:
        out += ["## Lessons added", "", *[lesson.render() for lesson in review.lessons], ""]
    if review.proposed:
        out += ["## Levers proposed by the loop", ""]
        out += [f"- {p.lever} {p.title}" + "".join(f" · check: `{c}`" for c in p.checks) for p in review.proposed]
        out.append("")
    if review.notes_read:
        out += ["## Your notes, read by ticks", "", *[f"- {note}" for note in review.notes_read], ""]
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# ------------------------------------------------------------------------------------------- HTML

def render_html(review: Review, generated: datetime | None = None) -> str:
    """One self-contained page: inline CSS and SVG, nothing fetched, readable on a phone."""
    generated = generated or datetime.now(timezone.utc)
    e = html.escape
    body = [
        "<header>",
        f"<h1>genome review</h1><p class=\"window\">{e(review.window.label)}</p>",
        _html_cards(review),
        "</header>",
    ]
    if review.needs_person:
        body.append("<section id=\"needs\" class=\"needs\"><h2>Needs you</h2><ul>"
                    + "".join(f"<li>{_with_code(item)}</li>" for item in review.needs_person) + "</ul></section>")
    body.append(_html_charts(review))
    body.append(_html_ticks(review))
    body.append(_html_shipped(review))
    failures = _failure_lines(review)
    if failures:
        body.append("<section id=\"failed\"><h2>Failed and blocked</h2><ul class=\"plain\">"
                    + "".join(f"<li><b>{e(lever)}</b> <span class=\"why\">{e(why)}</span></li>" for lever, why in failures)
                    + "</ul></section>")
    body.append(_html_genome(review))
    if review.lessons:
        body.append("<section id=\"lessons\"><h2>Lessons added</h2><ul>"
                    + "".join(f"<li><span class=\"tag\">{e(l.version)} {e(l.date)}</span> {e(l.text)}</li>"
                              for l in review.lessons) + "</ul></section>")
    if review.proposed:
        body.append("<section id=\"proposed\"><h2>Levers proposed by the loop</h2><ul>" + "".join(
            f"<li><b>{e(p.lever)}</b> {e(p.title)}" + "".join(f"<code>check: {e(c)}</code>" for c in p.checks)
            + "</li>" for p in review.proposed) + "</ul></section>")
    if review.notes_read:
        body.append("<section id=\"notes\"><h2>Your notes, read by ticks</h2><ul>"
                    + "".join(f"<li>{e(note)}</li>" for note in review.notes_read) + "</ul></section>")
    body.append(f"<footer>HEAD {e(review.head[:12])} · generated {e(stamp(generated))} by genome review</footer>")
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"color-scheme\" content=\"light dark\">\n"
        f"<title>genome review · {e(review.window.label)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def _with_code(text: str) -> str:
    """Escaped text with its `backtick spans` as <code>."""
    parts = html.escape(text).split("`")
    if len(parts) % 2 == 0:      # an unpaired backtick: leave the text as it is
        return html.escape(text)
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _html_cards(review: Review) -> str:
    counts = review.outcomes
    cards = [("ticks", f"{len(review.ticks)}", ""), ("shipped", f"{counts['shipped']}", "shipped"),
             ("failed", f"{counts['failed']}", "failed" if counts["failed"] else ""),
             ("cost", f"${review.cost:.2f}", ""), ("tokens", _compact(review.tokens), "")]
    if review.genome:
        change = review.genome
        cards.append(("genome", change.after if change.before == change.after else f"{change.before} → {change.after}", ""))
    return "<div class=\"cards\">" + "".join(
        f"<div class=\"card {cls}\"><span class=\"num\">{html.escape(value)}</span>"
        f"<span class=\"lbl\">{label}</span></div>" for label, value, cls in cards) + "</div>"


def _compact(number: int) -> str:
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if number >= size:
            return f"{number / size:.1f}{unit}"
    return str(number)


def _html_ticks(review: Review) -> str:
    if not review.ticks:
        return "<section id=\"ticks\"><h2>Ticks</h2><p class=\"empty\">No tick ran in this window.</p></section>"
    e = html.escape
    rows = []
    for tick in reversed(review.ticks):
        r = tick.record
        reason = f"<div class=\"why\">{e(r.reason)}</div>" if r.reason else ""
        rows.append(
            f"<tr class=\"o-{e(r.outcome)}\"><td data-label=\"time\">{e(tick.at.strftime('%m-%d %H:%M'))}</td>"
            f"<td data-label=\"outcome\"><span class=\"pill o-{e(r.outcome)}\">{e(r.outcome)}</span></td>"
            f"<td data-label=\"lever\" class=\"lever\">{e(lever_text(r))}{reason}</td>"
            f"<td data-label=\"version\">{e(version_text(r))}</td>"
            f"<td data-label=\"gates\" title=\"{e(r.gates)}\">{e(gates_short(r.gates))}</td>"
            f"<td data-label=\"tokens\" class=\"n\">{r.tokens:,}</td>"
            f"<td data-label=\"cost\" class=\"n\">${r.cost_usd:.4f}</td></tr>")
    return ("<section id=\"ticks\"><h2>Ticks <small>newest first, times in UTC</small></h2><table class=\"ticks\">"
            "<thead><tr><th>time</th><th>outcome</th><th>lever</th><th>version</th><th>gates</th>"
            "<th class=\"n\">tokens</th><th class=\"n\">cost</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></section>")


def _html_shipped(review: Review) -> str:
    if not review.shipped:
        return ""
    e = html.escape
    items = []
    opened = " open" if len(review.shipped) <= 3 else ""     # a few diffs read best unfolded
    for lever in review.shipped:
        total = max(lever.added + lever.deleted, 1)
        bar = (f"<span class=\"dstat\"><i class=\"add\" style=\"width:{100 * lever.added / total:.0f}%\"></i>"
               f"<i class=\"del\" style=\"width:{100 * lever.deleted / total:.0f}%\"></i></span>")
        files = "".join(f"<li><code>{e(f.path)}</code> <span class=\"stat\">{e(_file_stat(f))}</span></li>"
                        for f in lever.files)
        items.append(
            f"<article class=\"ship\"><h3><span class=\"id\">{e(lever.lever)}</span> {e(lever.title)}</h3>"
            f"<p class=\"meta\"><code>{e(lever.sha[:8])}</code> · {e(stamp(lever.at))} · {e(_diffstat(lever.files))} {bar}"
            f"</p><ul class=\"files\">{files}</ul>"
            f"<details{opened}><summary>code diff</summary>{_html_code_diff(lever.patches)}</details></article>")
    return "<section id=\"shipped\"><h2>Shipped</h2>" + "".join(items) + "</section>"


def _html_genome(review: Review) -> str:
    change = review.genome
    if change is None:
        return ""
    if not change.diff:
        return (f"<section id=\"genome\"><h2>Genome {html.escape(change.after)}</h2>"
                "<p class=\"empty\">The body did not change in this window.</p></section>")
    lines = _diff_html(change.diff, highlight=False)
    return (f"<section id=\"genome\"><h2>Genome {html.escape(change.before)} → {html.escape(change.after)}</h2>"
            f"<pre class=\"diff\">{lines}</pre></section>")


def _html_code_diff(patches: list[FilePatch]) -> str:
    shown, out = 0, []
    for patch in patches:
        highlight = not patch.path.lower().endswith(_PROSE)
        out.append(f"<div class=\"file\">{html.escape(patch.path)}</div><pre class=\"diff\">")
        body = [line for line in patch.lines if not line.startswith(("diff --git", "index "))]
        room = MAX_DIFF_LINES - shown
        out.append(_diff_html(body[:room], highlight))
        shown += min(len(body), room)
        if len(body) > room:
            out.append(f"<span class=\"cut\">… {len(body) - room} more lines; see git show</span>")
        out.append("</pre>")
        if shown >= MAX_DIFF_LINES:
            break
    return "".join(out) or "<p class=\"empty\">no textual changes</p>"


_PROSE = (".md", ".txt", ".rst", ".adoc", ".csv", ".json", ".lock")
_TOKEN = re.compile(
    r"(?P<com>(?:^|(?<=\s))(?:#|//).*$)"
    r"|(?P<str>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`)"
    r"|(?P<num>\b\d+(?:\.\d+)?\b)"
    r"|(?P<kw>\b(?:and|as|async|await|break|case|catch|class|const|continue|def|del|elif|else|enum|except|"
    r"export|extends|false|False|finally|fn|for|from|func|function|if|impl|import|in|interface|is|lambda|let|"
    r"match|mut|new|nil|None|not|null|or|package|pass|pub|raise|return|self|static|struct|switch|this|throw|"
    r"true|True|try|type|use|var|while|with|yield)\b)")


def _diff_html(lines: list[str], highlight: bool) -> str:
    """A unified diff as one span per line: file header, hunk header, added, removed, context."""
    out, in_hunk = [], False
    for line in lines:
        if line.startswith("@@"):
            in_hunk = True
            out.append(f"<span class=\"d-hunk\">{html.escape(line)}</span>")
        elif not in_hunk:       # ---/+++ and mode lines; inside a hunk, "---" is a removed "--"
            out.append(f"<span class=\"d-meta\">{html.escape(line)}</span>")
        else:
            kind = {"+": "d-add", "-": "d-del"}.get(line[:1], "d-ctx")
            text = _highlight(line[1:]) if highlight else html.escape(line[1:])
            out.append(f"<span class=\"{kind}\">{html.escape(line[:1])}{text}</span>")
    return "".join(out)


def _highlight(text: str) -> str:
    out, at = [], 0
    for match in _TOKEN.finditer(text):
        out.append(html.escape(text[at:match.start()]))
        out.append(f"<span class=\"t-{match.lastgroup}\">{html.escape(match.group())}</span>")
        at = match.end()
    out.append(html.escape(text[at:]))
    return "".join(out)


# ------------------------------------------------------------------------------------------- SVG charts
# Each chart is a fixed-height SVG as wide as its box. The bars live in an inner SVG stretched to fit
# (its viewBox is 1000 × 100, aspect not kept); text stays outside it in pixels, so labels keep their
# size from a phone to a wide screen.

_CHART_H, _PLOT_TOP, _PLOT_H = 184, 18, 134


def _html_charts(review: Review) -> str:
    figures = [("Cost per tick", _svg_cost(review.ticks)),
               ("Outcomes over time", _svg_outcomes(review.ticks)),
               ("Pass rate per genome version", _svg_pass_rate(review.ticks))]
    legend = "".join(f"<span class=\"key o-{o}\"><i></i>{o}</span>" for o in OUTCOME_ORDER
                     if review.outcomes[o] or o in ("shipped", "failed"))
    return ("<section id=\"charts\"><h2>Charts</h2><div class=\"legend\">" + legend + "</div><div class=\"charts\">"
            + "".join(f"<figure class=\"chart\"><figcaption>{title}</figcaption>{svg}</figure>"
                      for title, svg in figures) + "</div></section>")


def _svg(chart_id: str, label: str, plot: list[str], text: list[str]) -> str:
    return (f"<svg id=\"{chart_id}\" width=\"100%\" height=\"{_CHART_H}\" role=\"img\" "
            f"aria-label=\"{html.escape(label)}\"><svg class=\"plot\" x=\"0\" y=\"{_PLOT_TOP}\" width=\"100%\" "
            f"height=\"{_PLOT_H}\" viewBox=\"0 0 1000 100\" preserveAspectRatio=\"none\">"
            + "".join(plot) + "</svg>" + "".join(text) + "</svg>")


def _empty_svg(chart_id: str, message: str) -> str:
    return _svg(chart_id, message, [], [f"<text class=\"empty\" x=\"50%\" y=\"{_PLOT_TOP + _PLOT_H / 2}\" "
                                        f"text-anchor=\"middle\">{html.escape(message)}</text>"])


def _grid(label: str) -> tuple[list[str], list[str]]:
    """Grid lines at the bottom, the middle and the top; the top one labelled above it, where no bar reaches."""
    plot = [f"<line class=\"grid\" x1=\"0\" x2=\"1000\" y1=\"{y}\" y2=\"{y}\" vector-effect=\"non-scaling-stroke\"/>"
            for y in (0.5, 50, 99.5)]
    return plot, [f"<text class=\"axis\" x=\"0\" y=\"{_PLOT_TOP - 6}\">{html.escape(label)}</text>"]


def _x_labels(first: str, last: str) -> list[str]:
    y = _PLOT_TOP + _PLOT_H + 15
    return [f"<text class=\"axis\" x=\"0\" y=\"{y}\">{html.escape(first)}</text>",
            f"<text class=\"axis\" x=\"100%\" y=\"{y}\" text-anchor=\"end\">{html.escape(last)}</text>"]


def _bar(kind: str, x: float, width: float, value: float, top: float, tip: str, bottom: float = 0.0) -> str:
    """A rect in plot units: ``value`` (over ``top``) tall, standing on ``bottom`` (for stacking)."""
    height = max(100 * value / top, 0.8)
    y = 100 - 100 * bottom / top - height
    return (f"<rect class=\"{kind}\" x=\"{x:.2f}\" y=\"{y:.2f}\" width=\"{width:.2f}\" height=\"{height:.2f}\">"
            f"<title>{html.escape(tip)}</title></rect>")


def _svg_cost(ticks: list[TickRow]) -> str:
    shown = ticks[-MAX_COST_BARS:]
    if not shown:
        return _empty_svg("chart-cost", "no ticks in this window")
    top = _nice_ceiling(max(t.record.cost_usd for t in shown))
    plot, text = _grid(f"${top:.2f}" if top >= 0.1 else f"${top:.3f}")
    band = 1000 / len(shown)
    for i, tick in enumerate(shown):
        r = tick.record
        plot.append(_bar(f"bar o-{html.escape(r.outcome)}", i * band + band * 0.14, band * 0.72, r.cost_usd, top,
                         f"{stamp(tick.at)} {lever_text(r)}: {r.outcome}, ${r.cost_usd:.4f}"))
    text += _x_labels(shown[0].at.strftime("%m-%d %H:%M"), shown[-1].at.strftime("%m-%d %H:%M"))
    label = f"cost per tick, last {len(shown)} of {len(ticks)} ticks" if len(shown) < len(ticks) else "cost per tick"
    return _svg("chart-cost", label, plot, text)


_BUCKETS = ((3600, "hour"), (3 * 3600, "3 h"), (6 * 3600, "6 h"), (12 * 3600, "12 h"), (86400, "day"),
            (7 * 86400, "week"), (30 * 86400, "30 days"))


def _svg_outcomes(ticks: list[TickRow]) -> str:
    if not ticks:
        return _empty_svg("chart-outcomes", "no ticks in this window")
    first, last = ticks[0].at.timestamp(), ticks[-1].at.timestamp()
    size, unit = next((b for b in _BUCKETS if (last - first) / b[0] < 36), _BUCKETS[-1])
    start = first - first % size
    buckets = [Counter() for _ in range(int((last - start) // size) + 1)]
    for tick in ticks:
        buckets[int((tick.at.timestamp() - start) // size)][tick.record.outcome] += 1
    top = max(sum(b.values()) for b in buckets)
    plot, text = _grid(f"{top} tick{'s' if top != 1 else ''}")
    band = 1000 / len(buckets)
    for i, bucket in enumerate(buckets):
        when = stamp(datetime.fromtimestamp(start + i * size, timezone.utc))
        below = 0
        for outcome in OUTCOME_ORDER:
            if bucket[outcome]:
                plot.append(_bar(f"seg o-{outcome}", i * band + band * 0.1, band * 0.8, bucket[outcome], top,
                                 f"{when}: {bucket[outcome]} {outcome}", bottom=below))
                below += bucket[outcome]
    end = datetime.fromtimestamp(start + (len(buckets) - 1) * size, timezone.utc)
    text += _x_labels(datetime.fromtimestamp(start, timezone.utc).strftime("%m-%d %H:%M"),
                      f"{end:%m-%d %H:%M} · per {unit}")
    return _svg("chart-outcomes", f"ticks per {unit}, by outcome", plot, text)


def _svg_pass_rate(ticks: list[TickRow]) -> str:
    tally: dict[str, list[int]] = {}
    for tick in ticks:
        r = tick.record
        if r.outcome in ("shipped", "failed"):
            passed_total = tally.setdefault(r.version or "?", [0, 0])
            passed_total[0] += r.outcome == "shipped"
            passed_total[1] += 1
    if not tally:
        return _empty_svg("chart-pass", "no lever was attempted in this window")
    versions = list(tally)[-12:]
    plot, text = _grid("100%")
    band = 1000 / len(versions)
    for i, version in enumerate(versions):
        passed, total = tally[version]
        plot.append(_bar("bar rate", i * band + band * 0.22, band * 0.56, passed / total, 1.0,
                         f"{version}: {passed} of {total} attempted levers shipped"))
        centre = f"{(i + 0.5) * 100 / len(versions):.2f}%"
        y = max(_PLOT_TOP + _PLOT_H * (1 - passed / total) - 5, 12)
        text.append(f"<text class=\"value\" x=\"{centre}\" y=\"{y:.1f}\" text-anchor=\"middle\">{passed}/{total}</text>")
        text.append(f"<text class=\"axis\" x=\"{centre}\" y=\"{_PLOT_TOP + _PLOT_H + 15}\" "
                    f"text-anchor=\"middle\">{html.escape(version)}</text>")
    return _svg("chart-pass", "share of attempted levers shipped, per genome version", plot, text)


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 × a power of ten at or above ``value``: round axis labels."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value * (1 - 1e-9))


_CSS = """
:root{--bg:#f6f7f9;--fg:#1d2330;--muted:#667085;--card:#fff;--line:#e3e6ec;--accent:#3559e0;
--shipped:#1f9d55;--failed:#d64545;--blocked:#e07b39;--idle:#9aa3b2;--budget:#d99a00;--unavailable:#b26ad8;
--interrupted:#6f7b91;
--add-bg:#e7f7ec;--add-fg:#17603a;--del-bg:#fdecec;--del-fg:#9b2222;--hunk:#3559e0;--code-bg:#fbfbfd;
--t-kw:#8a3ab9;--t-str:#b35c00;--t-num:#0f7a8a;--t-com:#8a94a6}
@media (prefers-color-scheme:dark){:root{--bg:#11151c;--fg:#e6e9ef;--muted:#98a2b3;--card:#1a2029;--line:#2a323e;
--accent:#7d98ff;--add-bg:#12301f;--add-fg:#8fe0ad;--del-bg:#3a1719;--del-fg:#ffaaa8;--hunk:#8ea6ff;--code-bg:#151a22;
--t-kw:#d2a6ff;--t-str:#ffb86b;--t-num:#6fd3e3;--t-com:#7d8797}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:980px;margin:0 auto;padding:20px 16px 40px}
h1{font-size:1.6rem;margin:0}
h2{font-size:1.15rem;margin:28px 0 10px}
h2 small{font-weight:400;color:var(--muted);font-size:.8rem;margin-left:6px}
h3{font-size:1rem;margin:0 0 4px}
.window{color:var(--muted);margin:2px 0 14px}
code,pre{font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(110px,1fr));gap:10px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 12px}
.card .num{display:block;font-size:1.3rem;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.25}
.card .lbl{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
.card.shipped .num{color:var(--shipped)} .card.failed .num{color:var(--failed)}
.needs{background:color-mix(in srgb,var(--budget) 12%,var(--card));border:1px solid var(--budget);border-radius:10px;
padding:4px 16px;margin-top:18px}
.needs h2{margin-top:10px}.needs ul{padding-left:20px}
.legend{display:flex;flex-wrap:wrap;gap:12px;font-size:.85rem;color:var(--muted);margin-bottom:8px}
.key i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;background:currentColor}
.key.o-shipped i{background:var(--shipped)}.key.o-failed i{background:var(--failed)}.key.o-idle i{background:var(--idle)}
.key.o-budget i{background:var(--budget)}.key.o-unavailable i{background:var(--unavailable)}
.key.o-interrupted i{background:var(--interrupted)}.key.o-blocked i{background:var(--blocked)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:12px}
figure.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px 8px}
figure.chart figcaption{font-weight:600;font-size:.9rem;margin-bottom:4px}
svg{display:block;overflow:visible}
svg .grid{stroke:var(--line);stroke-width:1}
svg text{font-size:11px;fill:var(--muted)}
svg .value{fill:var(--fg);font-weight:600;paint-order:stroke;stroke:var(--card);stroke-width:3px}
svg .empty{font-size:13px}
svg .o-shipped{fill:var(--shipped)}svg .o-failed{fill:var(--failed)}svg .o-idle{fill:var(--idle)}
svg .o-budget{fill:var(--budget)}svg .o-unavailable{fill:var(--unavailable)}svg .o-interrupted{fill:var(--interrupted)}
svg .o-blocked{fill:var(--blocked)}
svg .rate{fill:var(--accent)}
table.ticks{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:10px;
overflow:hidden;font-size:.9rem}
.ticks th,.ticks td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
.ticks th{color:var(--muted);font-weight:600;font-size:.78rem;text-transform:uppercase;letter-spacing:.04em}
.ticks tr:last-child td{border-bottom:0}
.n{text-align:right!important;font-variant-numeric:tabular-nums;white-space:nowrap}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.78rem;font-weight:600;color:#fff;
background:var(--idle)}
.pill.o-shipped{background:var(--shipped)}.pill.o-failed{background:var(--failed)}.pill.o-budget{background:var(--budget)}
.pill.o-unavailable{background:var(--unavailable)}.pill.o-interrupted{background:var(--interrupted)}
.pill.o-blocked{background:var(--blocked)}
.why{color:var(--muted);font-size:.85rem;font-weight:400}
.ship{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px;margin-bottom:10px}
.ship .id{color:var(--accent)}
.meta{color:var(--muted);margin:0 0 6px;font-size:.88rem}
.dstat{display:inline-flex;width:70px;height:8px;border-radius:4px;overflow:hidden;background:var(--line);
vertical-align:middle;margin-left:4px}
.dstat i{display:block;height:100%}.dstat .add{background:var(--shipped)}.dstat .del{background:var(--failed)}
.files{margin:0 0 6px;padding-left:18px;font-size:.88rem}.stat{color:var(--muted)}
details summary{cursor:pointer;color:var(--accent);font-size:.9rem;padding:4px 0}
.file{font:600 12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin-top:8px;color:var(--muted)}
pre.diff{background:var(--code-bg);border:1px solid var(--line);border-radius:8px;padding:8px 0;overflow-x:auto;
margin:4px 0 8px}
pre.diff>span{display:block;padding:0 10px;white-space:pre;min-width:max-content}
.d-add{background:var(--add-bg);color:var(--add-fg)}.d-del{background:var(--del-bg);color:var(--del-fg)}
.d-hunk{color:var(--hunk)}.d-meta{font-weight:600}.cut{color:var(--muted);font-style:italic}
.t-kw{color:var(--t-kw);font-weight:600}.t-str{color:var(--t-str)}.t-num{color:var(--t-num)}
.t-com{color:var(--t-com);font-style:italic}
.d-add .t-kw,.d-add .t-str,.d-add .t-num,.d-del .t-kw,.d-del .t-str,.d-del .t-num{filter:saturate(1.2)}
ul.plain{list-style:none;padding:0}ul.plain li{margin-bottom:6px}
#lessons li,#proposed li{margin-bottom:6px}
.tag{font:12px ui-monospace,monospace;color:var(--muted);margin-right:4px}
#proposed code{display:inline-block;margin-left:8px;color:var(--muted)}
.empty{color:var(--muted)}
footer{margin-top:36px;color:var(--muted);font-size:.8rem}
@media (max-width:640px){
main{padding:14px 12px 32px}
table.ticks,.ticks tbody{display:block;width:100%}
.ticks td{display:block}
.ticks thead{display:none}
.ticks tr{border-bottom:1px solid var(--line);padding:9px 12px;display:grid;grid-template-columns:auto 1fr auto;
grid-template-areas:"lever lever lever" "outcome time cost" "version gates tokens";gap:3px 10px;align-items:center}
.ticks td{border:0;padding:0}
.ticks td[data-label=lever]{grid-area:lever;font-weight:600}
.ticks td[data-label=outcome]{grid-area:outcome}.ticks td[data-label=time]{grid-area:time}
.ticks td[data-label=cost]{grid-area:cost}.ticks td[data-label=version]{grid-area:version}
.ticks td[data-label=gates]{grid-area:gates}.ticks td[data-label=tokens]{grid-area:tokens}
.ticks td[data-label=version],.ticks td[data-label=gates],.ticks td[data-label=tokens]{color:var(--muted);font-size:.82rem}
}
"""
