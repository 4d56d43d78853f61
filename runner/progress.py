"""What a tick prints. On a terminal: one live status line (phase, turn, tool, tokens, dollars),
never wider than the terminal, so clearing it leaves nothing behind. Elsewhere (cron, systemd, CI):
plain timestamped lines, one per event, that read well in a log. With ``verbose``, the model's own
words and every tool call's input and output too."""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from datetime import datetime, timezone
from typing import Any, TextIO

from runner.session import Progress
from runner.spend import Meter

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x1f\x7f]")
MODEL_WORDS_LIMIT = 4000  # characters of one reply shown with -v


class Printer(Progress):
    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        verbose: bool = False,
        live: bool | None = None,
        columns: int | None = None,
    ):
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self.live = self.stream.isatty() if live is None else live
        self.columns = columns
        self.phase_name = ""
        self.status = ""
        self._open_line = False

    # ---------------------------------------------------------------- events
    def phase(self, name: str, detail: str = "") -> None:
        self.phase_name = name
        self.say(f"{name}{': ' + detail if detail else ''}")

    def turn(self, meter: Meter) -> None:
        self.status = f"turn {meter.turns} · {meter.usage.total:,} tokens · ${meter.cost:.4f}"
        self._live(self.status)
        if not self.live and self.verbose:
            self.say(self.status)

    def model_words(self, text: str) -> None:
        """The model's own words in a reply (its plan, its account): shown with ``verbose``."""
        if self.verbose and text.strip():
            self.say("model: " + _short(text.strip(), MODEL_WORDS_LIMIT).replace("\n", "\n    "))

    def tool(self, name: str, tool_input: Any, content: str, is_error: bool) -> None:
        mark = "✗" if is_error else "✓"
        if self.verbose:
            self.say(f"{mark} {name} {_short(json.dumps(tool_input, ensure_ascii=False), 400)}")
            self.say("    " + _short(content, 1200).replace("\n", "\n    "))
        elif self.live:
            self._live(f"{self.status} · {mark} {name} {_describe(tool_input)}")
        else:
            self.say(f"{mark} {name} {_short(_describe(tool_input), 120)}")

    def say(self, message: str) -> None:
        self._end_live()
        if self.live:
            print(message, file=self.stream, flush=True)
        else:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            print(f"{stamp} {message}", file=self.stream, flush=True)

    def warn(self, message: str) -> None:
        self.say(f"warning: {message}")

    # ---------------------------------------------------------------- live line
    def _live(self, text: str) -> None:
        if not self.live:
            return
        line = fit(f"[{self.phase_name}] {text}", self._width() - 1)  # the last column would wrap
        self.stream.write(f"\r\033[K{line}")
        self.stream.flush()
        self._open_line = True

    def _end_live(self) -> None:
        if self._open_line:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._open_line = False

    def _width(self) -> int:
        if self.columns:
            return self.columns
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (AttributeError, OSError, ValueError):
            return 80


def fit(text: str, columns: int) -> str:
    """``text`` on one line in at most ``columns`` terminal cells: control characters and line
    breaks out, wide characters counted as two, cut with ``…``."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if sum(map(_cells, text)) <= columns:
        return text
    out, used = [], 0
    for char in text:
        if used + _cells(char) > columns - 1:
            break
        out.append(char)
        used += _cells(char)
    return "".join(out) + "…"


def _cells(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _describe(tool_input: Any) -> str:
    if isinstance(tool_input, dict):
        for key in ("path", "command", "pattern", "name"):
            if isinstance(tool_input.get(key), str):
                return tool_input[key]
    return json.dumps(tool_input, ensure_ascii=False)


def _short(text: str, limit: int) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text
