"""What a tick prints: the live line fits the terminal whatever the model sends, and `-v` shows the
model's own words."""

from __future__ import annotations

import io
import re

from runner.prices import DEFAULT_PRICE
from runner.progress import Printer, fit
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.session import Meter
from runner.tick import run_tick

CLEAR = "\r\033[K"


def live_lines(output: str) -> list[str]:
    """What each redraw of the live line put on the screen."""
    return [part for part in output.split(CLEAR) if part and "\n" not in part]


def test_the_live_line_never_outgrows_the_terminal():
    stream = io.StringIO()
    printer = Printer(stream, live=True, columns=40)
    printer.phase("act", "L-001 Add a greeting file")
    meter = Meter(price=DEFAULT_PRICE)
    printer.turn(meter)
    for tool_input in (
        {"command": "pytest -q tests/\n" * 20},
        {"path": "日本語のとても長いファイル名" * 5},
        {"path": "\x1b[2J\x1b[Hgotcha\rsecond\tline"},
        {"pattern": "x" * 500},
    ):
        printer.tool("run_command", tool_input, "ok", False)
    printer.say("done")
    shown = live_lines(stream.getvalue())
    assert len(shown) == 5
    for line in shown:
        assert not re.search(r"[\x00-\x1f]", line.replace("\x1b[K", ""))
        cells = sum(2 if "\u3040" <= c <= "\u9fff" else 1 for c in line)
        assert cells <= 39, line
    assert shown[-1].endswith("…") and stream.getvalue().endswith(CLEAR + "done\n")


def test_fit_keeps_short_text_and_cuts_long_text_at_the_width():
    assert fit("turn 1 · 500 tokens", 40) == "turn 1 · 500 tokens"
    assert fit("a\nb\tc", 40) == "a b c"
    assert fit("x" * 50, 10) == "x" * 9 + "…"
    assert fit("語" * 10, 7) == "語" * 3 + "…"


def test_verbose_shows_the_models_own_words(project):
    stream = io.StringIO()
    model = ScriptedModel(
        [
            tool_reply(
                "write_file",
                {"path": "greeting.txt", "content": "hello\n"},
                text="I will write the greeting first.",
            ),
            text_reply("Wrote greeting.txt; the grep check passes."),
            tool_reply("reflect", {"lesson": None, "genome": None, "levers": []}),
        ]
    )
    result = run_tick(
        project, make_model=lambda config: model, printer=Printer(stream, verbose=True, live=False)
    )
    assert result.outcome == "shipped"
    out = stream.getvalue()
    assert "model: I will write the greeting first." in out
    assert "model: Wrote greeting.txt; the grep check passes." in out
    quiet = io.StringIO()
    Printer(quiet, live=False).model_words("not shown without -v")
    assert quiet.getvalue() == ""
