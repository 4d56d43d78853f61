"""``levers.md``, the ranked backlog: parse it, edit it in place, render it back byte for byte.

A lever is a line at column 0 shaped like a task-list item: ``- [M] L-004 Title`` (the id is
optional). The indented lines under it are its block: ``check:`` lines are its own gates, ``- ``
lines its status log, anything else the person's notes. Lines inside fenced code blocks are never
levers, so the template can show examples. Everything else is prose and is kept untouched.

The document keeps the file's own lines, so ``render(parse(text)) == text`` and an edit changes only
the lines it has to. Lines are split on ``\\n`` alone (a ``\\r`` before it stays part of the line),
so line numbers in errors agree with editors, ``grep -n`` and ``git diff``.

Levers without an id can be read (``levers``, ``top_open``) but edits address levers by id: call
``assign_ids()`` before editing them. ``Lever`` objects are snapshots; edit through ``LeverDoc``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from genome.errors import GenomeFileError

STATUSES = {" ": "open", "x": "done", "!": "blocked", "-": "dropped"}
_MARK_OF_STATUS = {name: mark for mark, name in STATUSES.items()}
_MARK_SPELLINGS = {**{mark: mark for mark in STATUSES}, "X": "x"}

# The closing bracket must be followed by whitespace, as in a task list; otherwise the line is a
# plain list item that merely starts with a link, like ``- [docs](https://...)``.
_LEVER_LINE = re.compile(r"- \[([^\]]*)\](?=\s|$)")
_ID_AT_START = re.compile(r"L-([0-9]+)(?=\s|$)")
_ID = re.compile(r"L-([0-9]+)")
# An id is a counter, not a payload; the cap keeps it a number a person could have typed.
_MAX_ID_DIGITS = 9
_LINE_BREAK = re.compile(r"\r\n|[\r\n]")
_FENCE_OPENER = re.compile(r"(`{3,}|~{3,})(.*)")
_MARK_FIX = (
    "Use `[ ]` open, `[x]` done, `[!]` blocked or `[-]` dropped; "
    "for a plain list item that starts with brackets, write `\\[` instead of `[`"
)


@dataclass(frozen=True)
class Lever:
    """One lever as the file says it; ``line`` is the 1-based line of its lever line."""

    id: str | None
    title: str
    mark: str
    checks: list[str]
    log: list[str]
    line: int

    @property
    def status(self) -> str:
        return STATUSES[self.mark]


@dataclass(frozen=True)
class _Placed:
    """A lever together with where it sits among the document's lines (0-based indexes)."""

    lever: Lever
    index: int
    block_end: int  # one past the last non-blank line of the lever's block
    title_at: int  # column of the first character after the mark's whitespace: where an id goes


class LeverDoc:
    """``levers.md`` as a list of its original lines plus the levers found in them."""

    def __init__(self, file: str, lines: list[str]):
        self.file = file
        self._lines = lines
        self._placed = _scan(file, lines)

    @classmethod
    def parse(cls, text: str, file: str = "levers.md") -> LeverDoc:
        if not text.strip():
            raise GenomeFileError(
                file,
                None,
                f"{file} is empty",
                "Write one lever per line at the start of a line, such as `- [ ] Add retries to "
                "the fetcher`, "
                "optionally followed by an indented `  check: pytest -q` line",
            )
        return cls(file, _split_lines(text))

    @property
    def levers(self) -> list[Lever]:
        return [placed.lever for placed in self._placed]

    def render(self) -> str:
        return "".join(self._lines)

    def top_open(self) -> Lever | None:
        return next((lever for lever in self.levers if lever.status == "open"), None)

    def get(self, lever_id: str) -> Lever:
        """The lever with that id; ``L-4`` and ``L-004`` name the same lever."""
        return self._find(lever_id).lever

    def assign_ids(self) -> list[str]:
        """Give every lever without an id the next free ``L-NNN``, in file order."""
        given = []
        number = self._next_number()
        for k, placed in enumerate(self._placed):
            if placed.lever.id is None:
                lever_id = _format_id(number)
                number += 1
                line = self._lines[placed.index]
                self._lines[placed.index] = (
                    f"{line[: placed.title_at]}{lever_id} {line[placed.title_at :]}"
                )
                given.append(lever_id)
                self._placed[k] = replace(placed, lever=replace(placed.lever, id=lever_id))
        return given

    def set_status(self, lever_id: str, status: str) -> None:
        """Rewrite the lever's mark; a mark already meaning that status (``X`` for done) is left
        alone.
        """
        if status not in _MARK_OF_STATUS:
            raise ValueError(
                f"unknown lever status {status!r}; expected one of {', '.join(_MARK_OF_STATUS)}"
            )
        placed = self._find(lever_id)
        if placed.lever.status == status:
            return
        line = self._lines[placed.index]
        self._lines[placed.index] = line[:3] + _MARK_OF_STATUS[status] + line[4:]
        self._rescan()

    def append_log(self, lever_id: str, text: str) -> None:
        """Add a status-log line at the end of the lever's block, above any blank lines after it."""
        entry = _one_line(text)
        if not entry:
            raise ValueError("a status-log entry needs text")
        placed = self._find(lever_id)
        self._insert(placed.block_end, [f"  - {entry}"])

    def move_to_top(self, lever_id: str) -> None:
        """Move the lever's line and its block above the first lever; every other line keeps its
        bytes (a file that ended without a newline still does)."""
        placed = self._find(lever_id)
        first = self._placed[0]
        if placed.index == first.index:
            return
        block = self._lines[placed.index : placed.block_end]
        newline = _newline_style(self._lines)
        ended_open = not self._lines[-1].endswith("\n")
        if not block[-1].endswith("\n"):
            block[-1] += newline
        del self._lines[placed.index : placed.block_end]
        self._lines[first.index : first.index] = block
        if ended_open and self._lines[-1].endswith("\n"):
            self._lines[-1] = _content(self._lines[-1])
        self._rescan()

    def add(self, title: str, checks: Sequence[str] = ()) -> str:
        """Add an open lever with the next free id and return that id.

        It goes right after the last open lever, so proposals rank below the person's open work but
        above finished levers; with no open lever after the last lever; with no lever at the end.
        """
        title = _one_line(title)
        if not title:
            raise ValueError("a lever needs a title")
        commands = [_one_line(command) for command in checks]
        if not all(commands):
            raise ValueError("a check needs a command")
        lever_id = _format_id(self._next_number())
        new_lines = [f"- [ ] {lever_id} {title}", *(f"  check: {command}" for command in commands)]
        self._insert(self._add_position(), new_lines)
        return lever_id

    def _find(self, lever_id: str) -> _Placed:
        match = _ID.fullmatch(lever_id)
        if match:
            number = int(match.group(1))
            for placed in self._placed:
                if placed.lever.id is not None and _number(placed.lever.id) == number:
                    return placed
        raise KeyError(lever_id)

    def _next_number(self) -> int:
        return (
            max((_number(lever.id) for lever in self.levers if lever.id is not None), default=0) + 1
        )

    def _add_position(self) -> int:
        open_levers = [placed for placed in self._placed if placed.lever.status == "open"]
        anchor = open_levers or self._placed
        return anchor[-1].block_end if anchor else len(self._lines)

    def _insert(self, at: int, texts: list[str]) -> None:
        newline = _newline_style(self._lines)
        if at == len(self._lines) and self._lines and not self._lines[-1].endswith("\n"):
            self._lines[-1] += newline
        self._lines[at:at] = [text + newline for text in texts]
        self._rescan()

    def _rescan(self) -> None:
        self._placed = _scan(self.file, self._lines)


def lever_line(line: str) -> tuple[str, str | None, str] | None:
    """(status, id, title) of one line shaped like a lever line, read as ``LeverDoc`` reads it; None
    for any other line, or one ``LeverDoc`` would refuse (an unknown mark, no title). For lines seen
    out of their file, such as the added lines of a diff."""
    text = _content(line)
    match = _LEVER_LINE.match(text)
    if not match or match.group(1) not in _MARK_SPELLINGS:
        return None
    try:
        lever_id, title = _id_and_title("", 0, text[match.end() :].strip())
    except GenomeFileError:
        return None
    return STATUSES[_MARK_SPELLINGS[match.group(1)]], lever_id, title


def _scan(file: str, lines: list[str]) -> list[_Placed]:
    """Find the levers in ``lines``; raise GenomeFileError on the first malformed one."""
    found: list[_Placed] = []
    fence: tuple[str, int, int] | None = None  # fence character, run length, 1-based opening line
    i = 0
    while i < len(lines):
        text = _content(lines[i])
        if fence:
            if _closes(text, fence[0], fence[1]):
                fence = None
            i += 1
            continue
        first = text[:1]
        if first != "-" and first != "`" and first != "~":
            i += 1
            continue
        opener = _fence_opener(text) if first != "-" else None
        if opener:
            fence = (*opener, i + 1)
            i += 1
            continue
        match = _LEVER_LINE.match(text)
        if match:
            placed = _read_lever(file, lines, i, match)
            found.append(placed)
            i = placed.block_end
        else:
            i += 1
    if fence:
        char, length, line = fence
        raise GenomeFileError(
            file,
            line,
            "this code fence is never closed, so every line below it reads as an example",
            f"Add a line `{char * length}` at the start of a line after the example",
        )
    _refuse_duplicate_ids(file, found)
    return found


def _read_lever(file: str, lines: list[str], i: int, match: re.Match[str]) -> _Placed:
    line_number = i + 1
    mark = match.group(1)
    if mark not in _MARK_SPELLINGS:
        raise GenomeFileError(file, line_number, f"unknown lever mark `[{mark}]`", _MARK_FIX)
    text = _content(lines[i])
    rest = text[match.end() :]
    title_at = match.end() + len(rest) - len(rest.lstrip())
    lever_id, title = _id_and_title(file, line_number, rest.strip())
    end = _block_end(lines, i + 1)
    checks, log = _read_block(file, lines, i + 1, end)
    lever = Lever(lever_id, title, _MARK_SPELLINGS[mark], checks, log, line_number)
    return _Placed(lever, i, end, title_at)


def _id_and_title(file: str, line_number: int, rest: str) -> tuple[str | None, str]:
    lever_id = None
    id_match = _ID_AT_START.match(rest)
    if id_match:
        lever_id = id_match.group(0)
        if len(id_match.group(1)) > _MAX_ID_DIGITS:
            raise GenomeFileError(
                file,
                line_number,
                f"lever id `{lever_id}` has more than {_MAX_ID_DIGITS} digits",
                "Delete the id; the runner gives the lever the next free `L-NNN`",
            )
        rest = rest[id_match.end() :].strip()
    if not rest:
        raise GenomeFileError(
            file,
            line_number,
            "lever has no title",
            "Say what the lever should achieve after the mark, e.g. `- [ ] Add retries to the "
            "fetcher`",
        )
    return lever_id, rest


def _block_end(lines: list[str], start: int) -> int:
    """One past the last indented line of the block starting at ``start``.

    Blank lines belong to the block only when more indented lines follow them.
    """
    end = j = start
    while j < len(lines):
        line = lines[j]
        if line.strip():
            if line[0] not in " \t":
                break
            end = j + 1
        j += 1
    return end


def _read_block(file: str, lines: list[str], start: int, end: int) -> tuple[list[str], list[str]]:
    checks: list[str] = []
    log: list[str] = []
    for j in range(start, end):
        stripped = lines[j].strip()
        if stripped.startswith("check:"):
            command = stripped[len("check:") :].strip()
            if not command:
                raise GenomeFileError(
                    file,
                    j + 1,
                    "`check:` line has no command",
                    "Write the shell command after `check:`, e.g. `  check: pytest -q`, "
                    "or delete the line",
                )
            checks.append(command)
        elif stripped.startswith("- "):
            log.append(stripped[2:].strip())
    return checks, log


def _refuse_duplicate_ids(file: str, found: list[_Placed]) -> None:
    first_seen: dict[int, Lever] = {}
    for placed in found:
        lever = placed.lever
        if lever.id is None:
            continue
        earlier = first_seen.setdefault(_number(lever.id), lever)
        if earlier is not lever:
            same = lever.id if earlier.id == lever.id else f"{earlier.id} and {lever.id}"
            raise GenomeFileError(
                file,
                lever.line,
                f"lever id {same} is used twice, on lines {earlier.line} and {lever.line}",
                "Delete the id on one of them; the runner gives that lever the next free `L-NNN`",
            )


def _fence_opener(text: str) -> tuple[str, int] | None:
    match = _FENCE_OPENER.match(text)
    if not match:
        return None
    run, info = match.groups()
    if run[0] == "`" and "`" in info:
        return (
            None  # a backtick run with backticks after it is inline code, not a fence (CommonMark)
        )
    return run[0], len(run)


def _closes(text: str, char: str, length: int) -> bool:
    run = len(text) - len(text.lstrip(char))
    return run >= length and not text[run:].strip()


def _split_lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _content(line: str) -> str:
    """The line without its line ending (``\\n`` or ``\\r\\n``)."""
    line = line.removesuffix("\n")
    return line.removesuffix("\r")


def _newline_style(lines: list[str]) -> str:
    crlf = sum(line.endswith("\r\n") for line in lines)
    lf = sum(line.endswith("\n") for line in lines) - crlf
    return "\r\n" if crlf > lf else "\n"


def _one_line(text: str) -> str:
    return _LINE_BREAK.sub(" ", text).strip()


def _number(lever_id: str) -> int:
    return int(lever_id[2:])


def _format_id(number: int) -> str:
    return f"L-{number:03d}"
