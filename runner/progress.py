"""What a tick prints. On a terminal: one live status line (phase, turn, tool, tokens, dollars).
Elsewhere (cron, systemd, CI): plain timestamped lines, one per event, that read well in a log."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from runner.session import Meter, Progress


class Printer(Progress):
    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self.live = self.stream.isatty() if live is None else live
        self.phase_name = ""
        self.status = ""
        self._open_line = False

    # ---------------------------------------------------------------- events
    def phase(self, name: str, detail: str = "") -> None:
        self.phase_name = name
        self.say(f"{name}{': ' + detail if detail else ''}")

    def turn(self, meter: Meter) -> None:
        self.status = (f"turn {meter.turns} · {meter.usage.total:,} tokens · ${meter.cost:.4f}")
        self._live(self.status)
        if not self.live and self.verbose:
            self.say(self.status)

    def tool(self, name: str, tool_input: Any, content: str, is_error: bool) -> None:
        mark = "✗" if is_error else "✓"
        if self.verbose:
            self.say(f"{mark} {name} {_short(json.dumps(tool_input, ensure_ascii=False), 400)}")
            self.say("    " + _short(content, 1200).replace("\n", "\n    "))
        elif self.live:
            self._live(f"{self.status} · {mark} {name} {_short(_describe(tool_input), 60)}")
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
        self.stream.write(f"\r\033[K[{self.phase_name}] {_short(text, 150)}")
        self.stream.flush()
        self._open_line = True

    def _end_live(self) -> None:
        if self._open_line:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._open_line = False


def _describe(tool_input: Any) -> str:
    if isinstance(tool_input, dict):
        for key in ("path", "command", "pattern", "name"):
            if isinstance(tool_input.get(key), str):
                return tool_input[key]
    return json.dumps(tool_input, ensure_ascii=False)


def _short(text: str, limit: int) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text
