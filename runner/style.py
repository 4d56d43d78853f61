"""Terminal styling shared by `genome status` and `genome review`: ANSI colour when it is on,
and the one way both print a moment (UTC, to the minute)."""

from __future__ import annotations

from datetime import datetime, timezone


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%MZ")


class Style:
    """ANSI colour when on, plain text when off (a pipe, a file, NO_COLOR)."""

    CODES = {
        "bold": "1",
        "dim": "2",
        "red": "31",
        "green": "32",
        "yellow": "33",
        "blue": "34",
        "magenta": "35",
        "cyan": "36",
    }
    OUTCOME = {
        "shipped": "green",
        "failed": "red",
        "blocked": "magenta",
        "idle": "dim",
        "budget": "yellow",
        "unavailable": "yellow",
        "interrupted": "yellow",
    }

    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, text: str, *names: str) -> str:
        if not self.colour or not names:
            return text
        return "\033[" + ";".join(self.CODES[n] for n in names) + "m" + text + "\033[0m"

    def outcome(self, text: str, outcome: str) -> str:
        return self(text, self.OUTCOME.get(outcome, "bold"))

    def diff_line(self, line: str) -> str:
        """A line of a diff's hunks (the ---/+++ header is the caller's)."""
        if line.startswith("@@"):
            return self(line, "cyan")
        if line.startswith("+"):
            return self(line, "green")
        if line.startswith("-"):
            return self(line, "red")
        return line
