"""The phrases every format of the review shares: a tick's lever, version and gates in a few words,
the headline, a diffstat, the failures in time order."""

from __future__ import annotations

from genome.journal import TickRecord
from runner.review.data import OUTCOME_ORDER, FileChange, Review
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
        parts.append(f"genome {review.genome.before} → {review.genome.after}"
                     if review.genome.before != review.genome.after else f"genome {review.genome.after}")
    return " · ".join(parts)


def diffstat(files: list[FileChange]) -> str:
    added = sum(f.added or 0 for f in files)
    deleted = sum(f.deleted or 0 for f in files)
    return f"{len(files)} file{'s' if len(files) != 1 else ''}, +{added} −{deleted}"


def file_stat(change: FileChange) -> str:
    return "binary" if change.added is None else f"+{change.added} −{change.deleted}"


def failure_lines(review: Review) -> list[tuple[str, str]]:
    """(lever, why) for each failed tick and each newly blocked lever, in time order."""
    lines = [(t.at, lever_text(t.record), f"failed at {stamp(t.at)}: {t.record.reason or 'no reason recorded'}"
              + (f" · gates: {t.record.gates}" if t.record.gates else "")) for t in review.failed]
    lines += [(b.at, f"{b.lever} {b.title}", "now blocked" + (f": {b.why}" if b.why else "")) for b in review.blocked]
    return [(lever, why) for _, lever, why in sorted(lines, key=lambda item: item[0])]
