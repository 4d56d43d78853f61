"""The journal (``journal/YYYY/MM/DD.md``): a tick's record as text, one entry per tick.

Everything a morning review needs is written here, into git, so a fresh clone can review. The commit
trailers that go with it are in ``genome.records``.

Text from outside the runner (the model's summary, lever titles, the person's notes, reasons) is
written on one line each, control characters visible; a summary that starts like a heading is
escaped with a backslash, so no text can add an entry or a field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from genome.records import Outcome, one_line

OUTCOMES = tuple(outcome.value for outcome in Outcome)


@dataclass
class TickRecord:
    time: str  # ISO-8601 UTC, e.g. 2026-11-23T03:00:12Z
    outcome: str  # an Outcome
    lever: str = ""  # id, empty on an idle tick
    title: str = ""
    version: str = ""  # genome version the tick ran under (v003)
    new_version: str = ""  # after reflection, when it changed
    gates: str = ""  # one-line gate summary
    tokens_in: int = 0
    tokens_out: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost_usd: float = 0.0
    commit: str = ""  # the code commit, when shipped
    reason: str = ""  # why it failed / stopped
    summary: str = ""  # the model's own account, one paragraph
    feedback: list[str] = field(default_factory=list)  # the person's notes this tick read
    metrics: str = ""  # metric gates' numbers, as in the ``Metric:`` trailer
    satisfied: list[str] = field(
        default_factory=list
    )  # levers whose checks passed before any change
    kept_out: list[str] = field(default_factory=list)  # proposed levers not added, and why
    gate_output: list[str] = field(default_factory=list)  # a red gate: command, first, last lines
    sandbox: str = ""  # why the tick's commands ran unsandboxed; empty when sandboxed

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out + self.cache_read + self.cache_write


def journal_path(time: str) -> str:
    """``journal/2026/11/23.md`` for a tick that started at ``2026-11-23T...``."""
    return f"journal/{time[0:4]}/{time[5:7]}/{time[8:10]}.md"


IDLE_TITLE = "(idle: no open lever)"
# list fields, one line each, under these labels
_LIST_LINES = {
    "satisfied": "already satisfied",
    "kept_out": "proposal kept out",
    "gate_output": "gate output",
}  # a red gate: its command, first and last lines


def render_entry(record: TickRecord) -> str:
    title = _one_line(f"{record.lever} {record.title}") or IDLE_TITLE
    lines = [f"## {record.time} {record.outcome}: {title}", ""]
    for f in fields(TickRecord):
        if (
            f.name in ("time", "outcome", "lever", "title", "summary", "feedback")
            or f.name in _LIST_LINES
        ):
            continue
        value = getattr(record, f.name)
        if value in ("", 0, 0.0):
            continue
        lines.append(
            f"- {f.name}: {value:.4f}"
            if f.name == "cost_usd"
            else f"- {f.name}: {_one_line(str(value))}"
        )
    lines += [f"- feedback read: {_one_line(note)}" for note in record.feedback]
    for name, label in _LIST_LINES.items():
        lines += [f"- {label}: {_one_line(item)}" for item in getattr(record, name)]
    if record.summary:
        summary = _one_paragraph(record.summary)
        lines += ["", "\\" + summary if summary.startswith(("#", "\\")) else summary]
    return "\n".join(lines) + "\n"


def append_entry(existing: str | None, record: TickRecord) -> str:
    head = existing if existing else f"# Journal {record.time[:10]}\n"
    return head.rstrip("\n") + "\n\n" + render_entry(record)


_ENTRY = re.compile(r"^## (\S+) (" + "|".join(OUTCOMES) + r"): (.*)$")
_FIELD = re.compile(r"^- ([a-z_]+): (.*)$")
_INT_FIELDS = {f.name for f in fields(TickRecord) if f.type == "int"}


def parse_entries(text: str) -> list[TickRecord]:
    """Read back what ``render_entry`` wrote (unknown lines and unreadable values are ignored)."""
    records: list[TickRecord] = []
    details: list[list[str]] = []
    for line in text.splitlines():
        match = _ENTRY.match(line)
        if match:
            records.append(_from_heading(*match.groups()))
            details.append([])
        elif details:
            details[-1].append(line)
    for record, lines in zip(records, details, strict=True):
        _read_details(record, lines)
    return records


def _from_heading(time: str, outcome: str, title: str) -> TickRecord:
    lever, _, rest = title.partition(" ")
    if re.fullmatch(r"L-\d+", lever):
        return TickRecord(time=time, outcome=outcome, lever=lever, title=rest)
    return TickRecord(time=time, outcome=outcome, title="" if title == IDLE_TITLE else title)


def _read_details(record: TickRecord, lines: list[str]) -> None:
    """The field lines run from under the heading's blank line to the next blank line; the paragraph
    after them is the summary, whatever it looks like (a summary may well start with
    ``- word: ``)."""
    i = 1 if lines and not lines[0].strip() else 0
    while i < len(lines) and lines[i].strip():
        _read_field(record, lines[i])
        i += 1
    summary = " ".join(line.strip() for line in lines[i:] if line.strip())
    record.summary = summary[1:] if summary.startswith("\\") else summary


def _read_field(record: TickRecord, line: str) -> None:
    if line.startswith("- feedback read: "):
        record.feedback.append(line[len("- feedback read: ") :])
        return
    for name, label in _LIST_LINES.items():
        if line.startswith(f"- {label}: "):
            getattr(record, name).append(line[len(label) + 4 :])
            return
    match = _FIELD.match(line)
    if not match:
        return
    name, value = match.groups()
    try:
        if name in _INT_FIELDS:
            setattr(record, name, int(value))
        elif name == "cost_usd":
            record.cost_usd = float(value)
        elif name in ("version", "new_version", "gates", "commit", "reason", "metrics", "sandbox"):
            setattr(record, name, value)
    except ValueError:  # a hand-edited number; the review shows the rest of the entry
        pass


_one_line = one_line


def _one_paragraph(text: str, limit: int = 2000) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
