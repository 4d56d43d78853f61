"""The journal (``journal/YYYY/MM/DD.md``) and commit trailers: a tick's record as text.

Everything a morning review needs is written here, into git, so a fresh clone can review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

OUTCOMES = ("shipped", "failed", "idle", "budget", "unavailable", "interrupted")


@dataclass
class TickRecord:
    time: str                      # ISO-8601 UTC, e.g. 2026-11-23T03:00:12Z
    outcome: str                   # one of OUTCOMES
    lever: str = ""                # id, empty on an idle tick
    title: str = ""
    version: str = ""              # genome version the tick ran under (v003)
    new_version: str = ""          # after reflection, when it changed
    gates: str = ""                # one-line gate summary
    tokens_in: int = 0
    tokens_out: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost_usd: float = 0.0
    commit: str = ""               # the code commit, when shipped
    reason: str = ""               # why it failed / stopped
    summary: str = ""              # the model's own account, one paragraph
    feedback: list[str] = field(default_factory=list)   # the person's notes this tick read

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out + self.cache_read + self.cache_write


def journal_path(time: str) -> str:
    """``journal/2026/11/23.md`` for a tick that started at ``2026-11-23T...``."""
    return f"journal/{time[0:4]}/{time[5:7]}/{time[8:10]}.md"


def render_entry(record: TickRecord) -> str:
    title = f"{record.lever} {record.title}".strip() or "(idle: no open lever)"
    lines = [f"## {record.time} {record.outcome}: {title}", ""]
    for f in fields(TickRecord):
        if f.name in ("time", "outcome", "lever", "title", "summary", "feedback"):
            continue
        value = getattr(record, f.name)
        if value in ("", 0, 0.0):
            continue
        lines.append(f"- {f.name}: {value:.4f}" if f.name == "cost_usd" else f"- {f.name}: {value}")
    lines += [f"- feedback read: {_one_line(note)}" for note in record.feedback]
    if record.summary:
        lines += ["", _one_paragraph(record.summary)]
    return "\n".join(lines) + "\n"


def append_entry(existing: str | None, record: TickRecord) -> str:
    head = existing if existing else f"# Journal {record.time[:10]}\n"
    return head.rstrip("\n") + "\n\n" + render_entry(record)


_ENTRY = re.compile(r"^## (\S+) (\w+): (.*)$")
_FIELD = re.compile(r"^- ([a-z_]+): (.*)$")
_INT_FIELDS = {f.name for f in fields(TickRecord) if f.type == "int"}


def parse_entries(text: str) -> list[TickRecord]:
    """Read back what ``render_entry`` wrote (unknown lines are ignored)."""
    records: list[TickRecord] = []
    for line in text.splitlines():
        match = _ENTRY.match(line)
        if match:
            time, outcome, title = match.groups()
            lever, _, rest = title.partition(" ")
            is_lever = re.fullmatch(r"L-\d+", lever) is not None
            records.append(TickRecord(time=time, outcome=outcome, lever=lever if is_lever else "",
                                      title=rest if is_lever else ""))
            continue
        if not records:
            continue
        record = records[-1]
        field_match = _FIELD.match(line)
        if field_match:
            name, value = field_match.groups()
            if name in _INT_FIELDS:
                setattr(record, name, int(value))
            elif name == "cost_usd":
                record.cost_usd = float(value)
            elif name in ("version", "new_version", "gates", "commit", "reason"):
                setattr(record, name, value)
        elif line.startswith("- feedback read: "):
            record.feedback.append(line[len("- feedback read: "):])
        elif line.strip() and not line.startswith("#"):
            record.summary = (record.summary + " " + line.strip()).strip()
    return records


def trailers(pairs: dict[str, object]) -> str:
    """``Key: value`` lines for a commit message; empty values left out, newlines folded."""
    return "\n".join(f"{key}: {_one_line(str(value))}" for key, value in pairs.items() if value not in ("", None))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _one_paragraph(text: str, limit: int = 2000) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
