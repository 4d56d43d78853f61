"""The review for a terminal: aligned columns, coloured when the output is one, every line wrapped
at word boundaries to the terminal's width."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

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
from runner.style import Style, stamp

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f]")
MIN_WIDTH = 40


def render_text(review: Review, colour: bool = False, width: int = 100) -> str:
    """The review for a terminal: aligned columns, colour when ``colour``, no line wider than
    ``width`` (a word longer than a whole line is the one thing broken inside)."""
    s = Style(colour)
    width = max(width, MIN_WIDTH)
    out = [
        *_para(s, "", "", f"genome review · {review.window.label}", width, 0, "bold"),
        *_para(s, "", "", headline(review), width, 0),
        "",
    ]
    if review.needs_person:
        out.append(s("Needs you", "bold", "yellow"))
        for item in review.needs_person:
            out += _para(s, "  ! ", f"  {s('!', 'yellow', 'bold')} ", item, width, 4)
        out.append("")
    out += _text_decisions(review, s, width)
    out += _text_ticks(review, s, width)
    out += _text_versions(review, s, width)
    if review.shipped:
        out.append(s("Shipped", "bold"))
        for lever in review.shipped:
            lead = f"  {lever.lever} "
            out += _para(
                s,
                lead,
                f"  {s(lever.lever, 'cyan')} ",
                f"{lever.title}  {lever.sha[:8]}  {diffstat(lever.files)}",
                width,
                4,
            )
            path_width = max(len(f.path) for f in lever.files) if lever.files else 0
            out += [
                _clip(f"      {_printable(f.path).ljust(path_width)}  {file_stat(f)}", width)
                for f in lever.files
            ]
        out.append("")
    failures = failure_lines(review)
    if failures:
        out.append(s("Failed and blocked", "bold"))
        for failure in failures:
            who = _printable(failure.lever)
            out += _para(s, f"  {who} — ", f"  {s(who, 'red')} — ", failure.why, width, 4)
            if failure.shipped_later:
                out += _para(s, "    ", f"    {s('✓', 'green')} ", failure.shipped_later, width, 6)
            for line in failure.output:
                out += _para(s, "    │ ", s("    │ ", "dim"), line, width, 6)
        out.append("")
    if review.settled:
        out.append(s("Settled by you", "bold"))
        for decided in review.settled:
            out += _para(
                s,
                "  ",
                "  ",
                f"{decided.subject}  {decided.sha[:8]} · {stamp(decided.at)}",
                width,
                4,
            )
        out.append("")
    if review.metric_points:
        out.append(s("Metrics", "bold"))
        for line in metric_lines(review):
            out += _para(s, "  ", "  ", line, width, 4)
        out.append("")
    if review.hidden_failed:
        out.append(
            s(
                "Hidden checks that failed (sealed gates: the model was told only that one failed)",
                "bold",
            )
        )
        for heading, output in hidden_lines(review):
            out += _para(s, "  ", "  ", heading, width, 4, "red")
            for line in output:
                out += _para(s, "    │ ", s("    │ ", "dim"), line, width, 6)
        out.append("")
    out += _text_genome(review, s, width)
    if review.lessons:
        out.append(s("Lessons added", "bold"))
        for lesson in review.lessons:
            out += _para(s, "  ", "  ", lesson.render(), width, 4)
        out.append("")
    if review.proposed:
        out.append(s("Levers proposed by the loop", "bold"))
        for proposal in review.proposed:
            checks = "".join(f"  check: {c}" for c in proposal.checks)
            out += _para(
                s,
                f"  {proposal.lever} ",
                f"  {s(proposal.lever, 'cyan')} ",
                proposal.title + checks,
                width,
                4,
            )
        out.append("")
    if review.notes_read:
        out.append(s("Your notes, read by ticks", "bold"))
        for note in review.notes_read:
            out += _para(s, "  - ", "  - ", note, width, 4)
        out.append("")
    out += _para(s, "", "", f"Total: {headline(review)}", width, 0, "bold")
    return "\n".join(out) + "\n"


def _text_decisions(review: Review, s: Style, width: int) -> list[str]:
    if not review.decisions:
        return []
    out = [s("Decide", "bold", "yellow")]
    for decision in review.decisions:
        lead = f"  {decision.lever} "
        out += _para(
            s,
            lead,
            f"  {s(decision.lever, 'cyan')} ",
            f"{decision.title} ({decision.state}): {decision.why}",
            width,
            4,
        )
        out += [f"      {s('$', 'dim')} {command}" for command in decision.commands]
    out += _para(s, "  ", "  ", COMMAND_OPTIONS, width, 2, "dim")
    return out + [""]


def _text_ticks(review: Review, s: Style, width: int) -> list[str]:
    if not review.ticks:
        return []
    rows = [
        (
            t.at.strftime("%m-%d %H:%M"),
            t.record.outcome,
            _printable(lever_text(t.record)),
            version_text(t.record),
            gates_short(t.record.gates),
            f"{t.record.tokens:,}",
            f"${t.record.cost_usd:.4f}",
        )
        for t in review.ticks
    ]
    header = ("time (UTC)", "outcome", "lever", "version", "gates", "tokens", "cost")
    return [
        s("Ticks", "bold"),
        *_table(
            s, header, rows, width, flex=2, right={5, 6}, outcome_column=1, droppable=(3, 4, 5, 6)
        ),
        "",
    ]


def _text_versions(review: Review, s: Style, width: int) -> list[str]:
    if not review.versions:
        return []
    rows = [version_row(stats) for stats in review.versions]
    return [
        s("Per genome version", "bold"),
        *_table(
            s,
            VERSION_HEADER,
            rows,
            width,
            flex=5,
            right={1, 2, 3, 4},
            droppable=(4, 1, 3),
            flex_min=8,
        ),
        "",
    ]


def _table(
    s: Style,
    header: tuple[str, ...],
    rows: Sequence[tuple[str, ...]],
    width: int,
    *,
    flex: int,
    right: set[int],
    outcome_column: int | None = None,
    droppable: tuple[int, ...] = (),
    flex_min: int = 16,
) -> list[str]:
    """Aligned columns within ``width``: the ``flex`` column gives up room first (its cells clipped,
    down to ``flex_min`` characters), then the ``droppable`` columns are left out, in that order."""
    keep = list(range(len(header)))
    for column in (None, *droppable):
        if column is not None:
            keep.remove(column)
        widths = {i: max(len(r[i]) for r in [header, *rows]) for i in keep}
        fixed = sum(widths.values()) - widths[flex] + 2 * (len(keep) - 1) + 2
        widths[flex] = max(flex_min, min(widths[flex], width - fixed))
        if fixed + widths[flex] <= width:
            break
    else:
        widths[flex] = max(4, width - fixed)  # nothing left to leave out: the flex column gives way

    def line(cells: tuple[str, ...], outcome: str | None) -> str:
        padded = []
        for i in keep:
            text = _clip(cells[i], widths[i])
            text = text.rjust(widths[i]) if i in right else text.ljust(widths[i])
            if i == outcome_column and outcome:
                text = s.outcome(text, outcome)
            padded.append(text)
        return "  " + "  ".join(padded).rstrip()

    outcome = (
        (lambda row: row[outcome_column]) if outcome_column is not None else (lambda row: None)
    )
    return [s(line(header, None), "dim"), *[line(row, outcome(row)) for row in rows]]


def _text_genome(review: Review, s: Style, width: int) -> list[str]:
    change = review.genome
    if change is None:
        return []
    if not change.diff:
        return [s(f"Genome {change.after}", "bold") + " — body unchanged", ""]
    header, body = change.diff[:2], change.diff[2:]
    out = [
        s(f"Genome {change.before} → {change.after}", "bold"),
        *[f"  {s(line, 'bold')}" for line in header],
    ]
    for line in body:
        colour = {"+": "green", "-": "red", "@": "cyan"}.get(line[:1])
        parts = _wrap("", _printable(line), width - 2, 2) if line.strip() else [line.strip()]
        out += ["  " + (s(part, colour) if colour else part) for part in parts]
    return out + [""]


def _para(
    s: Style, lead: str, styled_lead: str, text: str, width: int, indent: int, *names: str
) -> list[str]:
    """``text`` wrapped at word boundaries to ``width``, after ``lead`` (shown as ``styled_lead``),
    its further lines indented by ``indent``."""
    if len(lead) > width // 2:  # a lead that long (a lever's whole title) is wrapped as text too
        margin = lead[: len(lead) - len(lead.lstrip())]
        return [
            s(line, *names)
            for line in _wrap(margin, _printable(lead.lstrip()) + _printable(text), width, indent)
        ]
    lines = _wrap(lead, _printable(text), width, indent)
    first = lines[0][len(lead) :]
    return [styled_lead + s(first, *names), *(s(line, *names) for line in lines[1:])]


def _wrap(lead: str, text: str, width: int, indent: int) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=lead,
        subsequent_indent=" " * indent,
        break_on_hyphens=False,
    ) or [lead.rstrip()]


def _printable(text: str) -> str:
    """Text from the history without terminal escapes or control characters (a gate's colours, or
    anything meant to move the cursor)."""
    return _CONTROL.sub("", text.replace("\t", " "))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"
