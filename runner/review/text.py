"""The review for a terminal: aligned columns, coloured when the output is one."""

from __future__ import annotations

from runner.review.data import Review
from runner.review.words import diffstat, failure_lines, file_stat, gates_short, headline, lever_text, version_text
from runner.style import Style


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
            out.append(f"  {s(lever.lever, 'cyan')} {lever.title}  {s(lever.sha[:8], 'dim')}  {diffstat(lever.files)}")
            path_width = max(len(f.path) for f in lever.files) if lever.files else 0
            out += [f"      {f.path.ljust(path_width)}  {file_stat(f)}" for f in lever.files]
        out.append("")
    failures = failure_lines(review)
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
