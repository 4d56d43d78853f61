"""The review as markdown, for a pipe, a pull request or a note."""

from __future__ import annotations

import re

from runner.review.data import Review
from runner.review.words import (
    COMMAND_OPTIONS,
    VERSION_HEADER,
    diffstat,
    failure_lines,
    file_stat,
    gates_short,
    headline,
    hidden_lines,
    lever_text,
    metric_lines,
    version_row,
    version_text,
)
from runner.style import stamp


def render_markdown(review: Review) -> str:
    out = [f"# genome review: {review.window.label}", "", headline(review), ""]
    if review.needs_person:
        out += ["## Needs you", "", *[f"- {item}" for item in review.needs_person], ""]
    if review.decisions:
        out += ["## Decide", ""]
        for decision in review.decisions:
            out.append(
                f"- **{decision.lever} {decision.title}** ({decision.state}): {decision.why}"
            )
            out += [f"  - `{command}`" for command in decision.commands]
        out += ["", f"_{COMMAND_OPTIONS}._", ""]
    if review.ticks:
        out += [
            "## Ticks",
            "",
            "| time (UTC) | outcome | lever | version | gates | tokens | cost |",
            "| --- | --- | --- | --- | --- | ---: | ---: |",
        ]
        out += [
            f"| {t.at.strftime('%Y-%m-%d %H:%M')} | {t.record.outcome} | "
            f"{_cell(lever_text(t.record))} | "
            f"{version_text(t.record)} | {_cell(gates_short(t.record.gates))} | "
            f"{t.record.tokens:,} | "
            f"${t.record.cost_usd:.4f} |"
            for t in review.ticks
        ]
        out.append("")
    if review.versions:
        out += [
            "## Per genome version",
            "",
            "| " + " | ".join(VERSION_HEADER) + " |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        out += ["| " + " | ".join(version_row(stats)) + " |" for stats in review.versions]
        out.append("")
    if review.shipped:
        out += ["## Shipped", ""]
        for lever in review.shipped:
            out.append(
                f"- **{lever.lever} {lever.title}** `{lever.sha[:8]}` · {diffstat(lever.files)}"
            )
            out += [f"  - `{f.path}` {file_stat(f)}" for f in lever.files]
        out.append("")
    failures = failure_lines(review)
    if failures:
        out += ["## Failed and blocked", ""]
        for failure in failures:
            out.append(
                f"- **{failure.lever}** — {failure.why}"
                + (f" · ✓ {failure.shipped_later}" if failure.shipped_later else "")
            )
            if failure.output:
                fence = _fence(failure.output)
                out += [f"  {fence}text", *(f"  {line}" for line in failure.output), f"  {fence}"]
        out.append("")
    if review.settled:
        out += [
            "## Settled by you",
            "",
            *[f"- {item.subject} `{item.sha[:8]}` · {stamp(item.at)}" for item in review.settled],
            "",
        ]
    if review.metric_points:
        out += ["## Metrics", "", *[f"- {line}" for line in metric_lines(review)], ""]
    if review.hidden_failed:
        out += [
            "## Hidden checks that failed",
            "",
            "Sealed gates: the model was told only that one failed.",
            "",
        ]
        for heading, output in hidden_lines(review):
            fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", "\n".join(output)))])
            out += [
                f"- {heading}",
                "",
                f"  {fence}",
                *[f"  {line}" for line in output],
                f"  {fence}",
                "",
            ]
    if review.genome:
        change = review.genome
        if change.diff:
            fence = _fence(change.diff)
            out += [
                f"## Genome {change.before} → {change.after}",
                "",
                f"{fence}diff",
                *change.diff,
                fence,
                "",
            ]
        else:
            out += [f"## Genome {change.after}", "", "The body did not change.", ""]
    if review.lessons:
        out += ["## Lessons added", "", *[lesson.render() for lesson in review.lessons], ""]
    if review.proposed:
        out += ["## Levers proposed by the loop", ""]
        out += [
            f"- {p.lever} {p.title}" + "".join(f" · check: `{c}`" for c in p.checks)
            for p in review.proposed
        ]
        out.append("")
    if review.notes_read:
        out += [
            "## Your notes, read by ticks",
            "",
            *[f"- {note}" for note in review.notes_read],
            "",
        ]
    return "\n".join(out)


def _fence(lines: list[str]) -> str:
    """A backtick fence longer than any run of backticks in ``lines``, so none of them can close
    it."""
    return "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", "\n".join(lines)))])


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
