"""What a tick leaves in git history, and the one way it is written and read back.

A tick ends in one or two commits, a person's decision is one more, and nothing else in the
history is one of ours:

- a **code commit** (a shipped lever's change): subject ``L-004 Title``, then the model's own
  account of what it did, quoted, then the runner's trailer block
  (``Lever``, ``Genome-Version``, ``Gates``, ``Metric``, ``Tokens``, ``Cost-USD``);
- a **record commit** (every tick that did or spent anything): subject ``genome: L-004 shipped``,
  then the runner's trailer block (``Lever``, ``Outcome``, ``Tick-Version``, ``Genome-Version``,
  ``Genome-Rollback``, ``Tokens``, ``Cost-USD``). ``is_record`` says whether a message is one;
- a **decision commit** (``genome revert/retry/drop/promote``, by the person): subject
  ``genome: revert L-004``, the person's reason quoted, then ``Lever``, ``Decision``, ``Reverts``.

Why text the model wrote cannot pass for a trailer:

- the runner writes its trailer block last, and the readers here read only that final paragraph,
  strictly: every line a known key in the runner's own order, no key twice, every value checked
  (an outcome from ``Outcome``, ``L-<n>`` levers, ``v<n>`` versions, whole tokens, a cost of the
  form ``0.0123``). Anything else is not a record, and a reader sees no trailers at all;
- everything else the model (or a lever title, a lesson, a reflection) put into a message is
  escaped by ``quote``: each line starts with ``> ``, so no line of it is blank, a trailer, a
  comment, git's scissors line or git's ``---`` patch divider, and control characters (CR, NUL, ...)
  are shown as their visible symbols. The message is three paragraphs: subject, quote, trailers;
- the runner passes messages to git with ``--cleanup=verbatim``, so git stores exactly this text.

Messages written before the account was quoted read the same: their final paragraph was always the
runner's trailer block, and only that paragraph is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, IntEnum


class ExitCode(IntEnum):
    """What a runner command exits with (documented in the CLI help and the README)."""

    SHIPPED = 0  # shipped, idle, or nothing due
    LEVER_FAILED = 1  # the tick ran and its lever failed (rolled back)
    INVALID = 2  # usage or invalid project files
    REFUSED = 3  # locked, detached HEAD, no commit yet, lost a push race, no required sandbox
    BUDGET = 4  # a budget is spent
    UNAVAILABLE = 5  # model/API unavailable after retries, or no credentials
    ENVIRONMENT = 6  # the gates cannot pass before any change (red, not runnable, setup failed)


class Outcome(str, Enum):
    """How a tick ended. A ``str``: it is the word in the journal, the trailer and the status log.
    Listed in the order a review shows them."""

    __str__ = str.__str__  # "shipped", not "Outcome.SHIPPED" (enum.StrEnum needs 3.11)

    def __format__(self, format_spec: str) -> str:
        return str.__format__(self, format_spec)

    SHIPPED = "shipped"  # the lever's change passed its gates and was committed
    FAILED = "failed"  # it did not: rolled back, counted as an attempt
    BLOCKED = "blocked"  # every lever left is blocked: waiting for a person
    IDLE = "idle"  # no open lever: the tick only planned
    BUDGET = "budget"  # a budget ran out: rolled back, not counted
    UNAVAILABLE = "unavailable"  # the model could not be reached: rolled back, not counted
    INTERRUPTED = "interrupted"  # killed or stopped by a signal: undone, not counted

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]

    @property
    def counts_as_attempt(self) -> bool:
        """Whether the lever's status log counts it towards ``max_attempts``."""
        return self is Outcome.FAILED


_EXIT_CODES = {
    Outcome.SHIPPED: ExitCode.SHIPPED,
    Outcome.IDLE: ExitCode.SHIPPED,
    Outcome.BLOCKED: ExitCode.SHIPPED,
    Outcome.FAILED: ExitCode.LEVER_FAILED,
    Outcome.INTERRUPTED: ExitCode.LEVER_FAILED,
    Outcome.BUDGET: ExitCode.BUDGET,
    Outcome.UNAVAILABLE: ExitCode.UNAVAILABLE,
}

RECORD_PREFIX = "genome: "  # every record commit's subject starts with it

# ------------------------------------------------------------------------------- values

_LEVER = re.compile(r"L-[0-9]{1,9}")
_VERSION = re.compile(r"v[0-9]{1,9}")
_TOKENS = re.compile(r"[0-9]{1,15}")
_COST = re.compile(r"[0-9]{1,9}\.[0-9]{4}")  # dollars, never negative, always four decimals
_KEY_LINE = re.compile(r"([A-Z][A-Za-z-]*): (.+)")


def _text(value: str) -> bool:
    return bool(value) and value == one_line(value)


# ------------------------------------------------------------------------------- trailers


@dataclass(frozen=True)
class CodeTrailers:
    """The trailer block of a code commit."""

    lever: str
    genome_version: str
    gates: str  # one line, e.g. ``tests ok 3.1s; check-1 ok 0.0s``; empty when nothing ran
    tokens: int
    cost_usd: float
    metrics: str = ""  # metric gates' numbers, one line; empty without metric gates

    def render(self) -> str:
        return _render(
            [
                ("Lever", self.lever),
                ("Genome-Version", self.genome_version),
                ("Gates", self.gates),
                ("Metric", self.metrics),
                ("Tokens", str(self.tokens)),
                ("Cost-USD", cost_text(self.cost_usd)),
            ]
        )

    @classmethod
    def parse(cls, message: str) -> CodeTrailers | None:
        """The trailers of a code commit's message; None when it is not one."""
        subject, block = _subject_and_block(message)
        found = _read_block(block, _CODE_KEYS)
        if found is None or not subject.startswith(found["Lever"] + " "):
            return None
        return cls(
            lever=found["Lever"],
            genome_version=found["Genome-Version"],
            gates=found.get("Gates", ""),
            tokens=int(found["Tokens"]),
            cost_usd=float(found["Cost-USD"]),
            metrics=found.get("Metric", ""),
        )


@dataclass(frozen=True)
class RecordTrailers:
    """The trailer block of a record commit."""

    outcome: Outcome
    lever: str  # empty on an idle or blocked tick
    tick_version: str  # the genome version the tick ran under
    genome_version: str  # the genome version after it (the same, or the next)
    rollback: str  # ``v004 -> v003: why`` when the genome was rolled back, else empty
    tokens: int
    cost_usd: float

    def render(self) -> str:
        return _render(
            [
                ("Lever", self.lever),
                ("Outcome", self.outcome.value),
                ("Tick-Version", self.tick_version),
                ("Genome-Version", self.genome_version),
                ("Genome-Rollback", self.rollback),
                ("Tokens", str(self.tokens)),
                ("Cost-USD", cost_text(self.cost_usd)),
            ]
        )

    @classmethod
    def parse(cls, message: str) -> RecordTrailers | None:
        """The trailers of a record commit's message; None when it is not one."""
        subject, block = _subject_and_block(message)
        found = _read_block(block, _RECORD_KEYS)
        if found is None or not subject.startswith(RECORD_PREFIX):
            return None
        return cls(
            outcome=Outcome(found["Outcome"]),
            lever=found.get("Lever", ""),
            tick_version=found["Tick-Version"],
            genome_version=found["Genome-Version"],
            rollback=found.get("Genome-Rollback", ""),
            tokens=int(found["Tokens"]),
            cost_usd=float(found["Cost-USD"]),
        )


@dataclass(frozen=True)
class DecisionTrailers:
    """The trailer block of a person's decision (``genome revert/retry/drop/promote``)."""

    lever: str
    decision: str  # one of DECISIONS
    reverts: str = ""  # for a revert: the code commit it undoes

    def render(self) -> str:
        return _render(
            [("Lever", self.lever), ("Decision", self.decision), ("Reverts", self.reverts)]
        )

    @classmethod
    def parse(cls, message: str) -> DecisionTrailers | None:
        """The trailers of a decision commit's message; None when it is not one."""
        subject, block = _subject_and_block(message)
        found = _read_block(block, _DECISION_KEYS)
        if found is None or not subject.startswith(RECORD_PREFIX):
            return None
        return cls(
            lever=found["Lever"], decision=found["Decision"], reverts=found.get("Reverts", "")
        )


DECISIONS = ("revert", "retry", "drop", "promote")


def subject_of(message: str) -> str:
    """A message's subject as git shows it (``%s``): its first paragraph on one line."""
    return " ".join(message.strip("\n").split("\n\n", 1)[0].split("\n"))


def is_record(message: str) -> bool:
    """Whether a commit message is a tick's record commit."""
    return RecordTrailers.parse(message) is not None


def is_code(message: str) -> bool:
    """Whether a commit message is a shipped lever's code commit."""
    return CodeTrailers.parse(message) is not None


# Each kind's keys in the order the runner writes them: (key, required, value check)
_CODE_KEYS = (
    ("Lever", True, _LEVER.fullmatch),
    ("Genome-Version", True, _VERSION.fullmatch),
    ("Gates", False, _text),
    ("Metric", False, _text),
    ("Tokens", True, _TOKENS.fullmatch),
    ("Cost-USD", True, _COST.fullmatch),
)
_DECISION_KEYS = (
    ("Lever", True, _LEVER.fullmatch),
    ("Decision", True, lambda value: value in DECISIONS),
    ("Reverts", False, re.compile(r"[0-9a-f]{7,64}").fullmatch),
)
_RECORD_KEYS = (
    ("Lever", False, _LEVER.fullmatch),
    ("Outcome", True, lambda value: value in Outcome.__members__.values()),
    ("Tick-Version", True, _VERSION.fullmatch),
    ("Genome-Version", True, _VERSION.fullmatch),
    ("Genome-Rollback", False, _text),
    ("Tokens", True, _TOKENS.fullmatch),
    ("Cost-USD", True, _COST.fullmatch),
)


def _render(pairs: list[tuple[str, str]]) -> str:
    """``Key: value`` lines; empty values left out (the readers treat those keys as optional)."""
    lines = []
    for key, value in pairs:
        value = one_line(value)
        if value:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


def _subject_and_block(message: str) -> tuple[str, str]:
    """The first line and the final paragraph (empty when the message is one paragraph).

    Lines are split on ``\\n`` alone, as git does: a CR or another separator is part of a line."""
    text = message.rstrip("\n")
    subject = text.split("\n", 1)[0]
    head, sep, block = text.rpartition("\n\n")
    return subject, block if sep and head.strip() else ""


def _read_block(block: str, keys) -> dict[str, str] | None:
    """The block's values when every line is one of ``keys`` in order, each at most once, every
    required key present and every value well-formed; None otherwise."""
    if not block:
        return None
    order = [key for key, _, _ in keys]
    found: dict[str, str] = {}
    last = -1
    for line in block.split("\n"):
        match = _KEY_LINE.fullmatch(line)
        if match is None or match.group(1) not in order:
            return None
        key, value = match.groups()
        at = order.index(key)
        if at <= last:
            return None  # out of order, or a key twice
        last = at
        found[key] = value
    for key, required, check in keys:
        if key in found and not check(found[key]):
            return None
        if required and key not in found:
            return None
    return found


# ------------------------------------------------------------------------------- messages


def code_message(lever: str, title: str, account: str, trailers: CodeTrailers) -> str:
    """A code commit: ``L-004 Title``, the model's account quoted, the runner's trailers last."""
    subject = one_line(f"{lever} {title}")
    body = quote(account)
    return subject + "\n\n" + (body + "\n\n" if body else "") + trailers.render() + "\n"


def decision_message(subject: str, reason: str, trailers: DecisionTrailers) -> str:
    """A person's decision: ``genome: ...``, their reason quoted, the runner's trailers."""
    body = quote(reason)
    return (
        one_line(RECORD_PREFIX + subject)
        + "\n\n"
        + (body + "\n\n" if body else "")
        + trailers.render()
        + "\n"
    )


def record_message(subject: str, trailers: RecordTrailers) -> str:
    """A record commit: ``genome: ...`` and the runner's trailers."""
    return one_line(RECORD_PREFIX + subject) + "\n\n" + trailers.render() + "\n"


def quote(text: str) -> str:
    """Text from outside the runner as one paragraph of ``> `` lines (empty for blank text).

    No line of the result is blank, starts with ``#`` or ``-``, or reads as ``Key: value``, so git
    and the readers here see it as body text whatever it says. Control characters become their
    visible symbols (CR is ``␍``, NUL is ``␀``)."""
    lines = [line.rstrip() for line in visible(text).split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(f"> {line}" if line else ">" for line in lines)


_CONTROL = {code: chr(0x2400 + code) for code in range(0x20) if code not in (0x09, 0x0A)}
_CONTROL.update({0x7F: "\u2421", 0x85: " ", 0x2028: " ", 0x2029: " "})


def visible(text: str) -> str:
    """``text`` with control characters (all but tab and newline) shown as their symbols, and the
    Unicode line and paragraph separators as spaces: nothing in it can start or end a line that a
    reader splitting on ``\\n`` would not see."""
    return text.translate(_CONTROL)


def one_line(text: str) -> str:
    """All whitespace runs (newlines, CR, tabs, separators) as one space, other control characters
    visible."""
    return visible(" ".join(text.split()))


def cost_text(dollars: float) -> str:
    """How every record writes money: four decimals, never negative (``0.0123``)."""
    return f"{max(dollars, 0.0):.4f}"


# ------------------------------------------------------------------------------- git log

# ``git log -z --format=...``: one entry per commit, NUL-terminated (git refuses NUL in a message)
LOG_FORMAT = "%H%x1f%ct%x1f%B"


@dataclass(frozen=True)
class LoggedCommit:
    sha: str
    seconds: int  # commit time, seconds since the epoch
    message: str  # exactly as stored


def parse_log(text: str) -> list[LoggedCommit]:
    """The commits of ``git log -z --format=LOG_FORMAT`` output, in its order."""
    found = []
    for entry in text.split("\0"):
        entry = entry.lstrip("\n")
        sha, sep, rest = entry.partition("\x1f")
        seconds, sep2, message = rest.partition("\x1f")
        if sep and sep2 and re.fullmatch(r"[0-9a-f]{40,64}", sha) and seconds.isdigit():
            found.append(LoggedCommit(sha, int(seconds), message))
    return found
