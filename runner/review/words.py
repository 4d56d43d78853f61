"""The phrases every format of the review shares: a tick's lever, version and gates in a few words,
the headline, a diffstat, the failures in time order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from genome.journal import TickRecord
from runner.review.data import OUTCOME_ORDER, FileChange, Review, VersionStats
from runner.style import stamp


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
        parts.append(
            f"genome {review.genome.before} → {review.genome.after}"
            if review.genome.before != review.genome.after
            else f"genome {review.genome.after}"
        )
    return " · ".join(parts)


def diffstat(files: list[FileChange]) -> str:
    added = sum(f.added or 0 for f in files)
    deleted = sum(f.deleted or 0 for f in files)
    return f"{len(files)} file{'s' if len(files) != 1 else ''}, +{added} −{deleted}"


def file_stat(change: FileChange) -> str:
    return "binary" if change.added is None else f"+{change.added} −{change.deleted}"


@dataclass
class Failure:
    """A failed tick or a newly blocked lever, and why."""

    lever: str  # "L-002 Add a farewell file"
    why: str
    output: list[str]  # the red gate: its command, first and last lines (from the journal)
    shipped_later: (
        str  # "shipped later in 1a2b3c4d", when the lever shipped after this in the window
    )
    at: datetime


def failure_lines(review: Review) -> list[Failure]:
    """Each failed tick and each newly blocked lever, in time order; a lever that failed and then
    shipped says so."""
    shipped_at: dict[str, list] = {}
    for ship in review.shipped:
        shipped_at.setdefault(ship.lever, []).append(ship)

    def later(lever: str, at: datetime) -> str:
        ship = next((s for s in shipped_at.get(lever, []) if s.at >= at), None)
        return f"shipped later in {ship.sha[:8]}" if ship else ""

    found = [
        Failure(
            lever_text(t.record),
            f"failed at {stamp(t.at)}: {t.record.reason or 'no reason recorded'}"
            + (f" · gates: {t.record.gates}" if t.record.gates else ""),
            list(t.record.gate_output),
            later(t.record.lever, t.at),
            t.at,
        )
        for t in review.failed
    ]
    found += [
        Failure(
            f"{b.lever} {b.title}",
            "now blocked" + (f": {b.why}" if b.why else ""),
            [],
            later(b.lever, b.at),
            b.at,
        )
        for b in review.blocked
    ]
    return sorted(found, key=lambda failure: failure.at)


def version_row(stats: VersionStats) -> tuple[str, ...]:
    """version, ticks, pass rate, cost per shipped lever, tokens per shipped lever, standing."""
    rate = (
        "—"
        if stats.pass_rate is None
        else f"{stats.pass_rate:.0%} ({stats.shipped}/{stats.attempted})"
    )
    cost = "—" if stats.cost_per_shipped is None else f"${stats.cost_per_shipped:.4f}"
    tokens = "—" if stats.tokens_per_shipped is None else f"{stats.tokens_per_shipped:,.0f}"
    return (stats.version, str(stats.ticks), rate, cost, tokens, stats.standing)


VERSION_HEADER = (
    "version",
    "ticks",
    "pass rate",
    "$ per shipped",
    "tokens per shipped",
    "standing",
)
COMMAND_OPTIONS = (
    "retry takes --hint TEXT (the next attempt reads it); revert and drop take --reason TEXT "
    "(kept as a lesson and as a note for the next tick); revert --drop drops the lever too"
)


def metric_lines(review) -> list[str]:
    """``speed: 900 → 812 over 3 shipped ticks`` for each metric gate in the window."""
    lines = []
    for name, points in review.metric_points.items():
        shipped = sum(p.lever != "start" for p in points)
        lines.append(
            f"{name}: {points[0].value:g} → {points[-1].value:g} over {shipped} shipped "
            f"tick{'s' if shipped != 1 else ''}"
        )
    return lines


HIDDEN_OUTPUT_LINES = 20


def hidden_lines(review) -> list[tuple[str, list[str]]]:
    """Each failed sealed gate: a heading line and the end of its output."""
    return [
        (
            f"{failure.time} {failure.lever} {failure.summary}",
            failure.output.rstrip("\n").splitlines()[-HIDDEN_OUTPUT_LINES:],
        )
        for failure in review.hidden_failed
    ]
