"""The review's two parts alone: renderers fed a `Review` built by hand (no git), the data part read
without any renderer, and the line readers the data part borrows from `genome/`."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

from genome.journal import TickRecord
from genome.levers import LeverDoc, lever_line
from genome.loop_prompt import Lesson
from runner.review import render_html, render_markdown, render_text
from runner.review.data import (
    BlockedLever,
    FileChange,
    GenomeChange,
    ProposedLever,
    Review,
    ShippedLever,
    TickRow,
    Window,
    _parse_commit,
)

AT = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def hand_made_review() -> Review:
    shipped = TickRecord(
        time="2026-11-23T03:00:00Z",
        outcome="shipped",
        lever="L-001",
        title="Add a greeting",
        version="v001",
        gates="check-1 ok 0.1s",
        tokens_in=1200,
        cost_usd=0.0123,
    )
    failed = TickRecord(
        time="2026-11-23T03:30:00Z",
        outcome="failed",
        lever="L-002",
        title="Add a farewell",
        version="v001",
        gates="check-1 FAILED exit 1 0.1s",
        reason="gate check-1 failed",
    )
    return Review(
        window=Window("last 24h (since 2026-11-22 03:00Z)", ("HEAD",), None),
        head="a" * 40,
        ticks=[TickRow("b" * 40, AT, shipped), TickRow("c" * 40, AT.replace(minute=30), failed)],
        shipped=[
            ShippedLever(
                "L-001",
                "Add a greeting",
                "d" * 40,
                AT,
                "check-1 ok",
                [FileChange("greeting.txt", 1, 0)],
                [],
            )
        ],
        blocked=[
            BlockedLever("L-002", "Add a farewell", "attempt 2/2: blocked", AT.replace(minute=30))
        ],
        genome=GenomeChange(
            "v001",
            "v002",
            ["--- genome.md v001", "+++ genome.md v002", "@@ -1 +1 @@", "-old fact", "+new fact"],
        ),
        lessons=[Lesson("v001", "2026-11-23", "Read the check first.")],
        proposed=[ProposedLever("L-003", "Add a README", ["test -s README.md"])],
        needs_person=["L-002 Add a farewell is blocked"],
        notes_read=["use /v2"],
    )


def test_each_renderer_works_from_a_review_made_by_hand():
    review = hand_made_review()
    text = render_text(review, colour=False, width=100)
    markdown = render_markdown(review)
    page = render_html(review, generated=AT)
    for out in (text, markdown, page):
        for needle in (
            "L-001",
            "Add a greeting",
            "L-002",
            "Read the check first.",
            "L-003",
            "+new fact",
            "use /v2",
            "$0.01",
        ):
            assert needle in out, needle
    assert "| 2026-11-23 03:30 | failed | L-002 Add a farewell |" in markdown
    assert "<style>\n:root{" in page and "</svg>" in page


def test_the_data_part_loads_no_renderer_and_the_review_no_scheduler():
    code = (
        "import sys, runner.review.data; loaded = set(sys.modules); "
        "renderers = {'runner.review.page', 'runner.review.text', 'runner.review.charts'}; "
        "assert not renderers & loaded, loaded; "
        "import runner.review.text, runner.review.markdown, runner.review.page; "
        "assert 'runner.schedule' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_trailers_are_read_by_the_record_schema():
    message = (
        "genome: L-001 shipped\n\nLever: L-001\nOutcome: shipped\nTick-Version: v001\n"
        "Genome-Version: v001\nTokens: 10\nCost-USD: 0.0100\n"
    )
    commit = _parse_commit("abc\x1f1700000000\x1f\x1f", {"abc": message})
    assert commit.is_record and not commit.is_code and commit.record.cost_usd == 0.01
    forged = "L-001 One\n\n" + message.split("\n\n", 1)[1] + "\nLever: L-001\n"
    assert not _parse_commit("abc\x1f1700000000\x1f\x1f", {"abc": forged}).is_record


def test_lever_lines_read_as_the_levers_file_reads_them():
    assert lever_line("- [ ] L-004 Start a changelog\r\n") == ("open", "L-004", "Start a changelog")
    assert lever_line("- [X] Done without an id") == ("done", None, "Done without an id")
    assert lever_line("- [!] L-2 Blocked one") == ("blocked", "L-2", "Blocked one")
    for other in (
        "- [docs](https://example.com)",
        "- [?] L-001 Odd mark",
        "- [ ] L-001",
        "  - [ ] indented",
        "text",
    ):
        assert lever_line(other) is None, other
    doc = LeverDoc.parse("# Levers\n\n- [ ] L-001 One\n- [x] L-002 Two\n")
    assert [(lever.status, lever.id, lever.title) for lever in doc.levers] == [
        lever_line("- [ ] L-001 One"),
        lever_line("- [x] L-002 Two"),
    ]


def test_lesson_lines_read_as_the_loop_prompt_reads_them():
    assert Lesson.from_line("- [v003 2026-11-23] Run the check first.  ") == Lesson(
        "v003", "2026-11-23", "Run the check first."
    )
    assert Lesson.from_line("- [v3 2026-11-23] too short a version") is None
    assert Lesson.from_line("- plain item") is None


def test_json_holds_the_same_data_under_the_documented_keys():
    import json
    from pathlib import Path

    from runner.review import render_json

    data = json.loads(render_json(hand_made_review(), generated=AT))
    assert data["schema"] == "genome-review/1" and data["generated"] == "2026-11-23T03:00:00Z"
    assert [t["outcome"] for t in data["ticks"]] == ["shipped", "failed"]
    assert data["ticks"][1]["lever"] == "L-002" and data["ticks"][0]["cost_usd"] == 0.0123
    assert (
        data["totals"]["outcomes"]["failed"] == 1 and data["totals"]["outcomes"]["interrupted"] == 0
    )
    assert data["shipped"][0]["files"] == [{"path": "greeting.txt", "added": 1, "deleted": 0}]
    assert data["genome"]["after"] == "v002" and data["window"]["since"] is None
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    table = readme.split("**`genome review --json`**", 1)[1].split("\n\n", 2)[1]
    for key in data:
        assert f"`{key}" in table, f"{key} is not documented in the README"


def test_gate_output_lines_round_trip_and_old_entries_still_read():
    from genome.journal import append_entry, parse_entries

    old = (
        "# Journal 2026-11-23\n\n## 2026-11-23T03:00:00Z failed: L-002 Add a farewell\n\n"
        "- version: v001\n"
        "- gates: check-1 FAILED exit 1 0.1s\n- reason: gate check-1 failed\n\nWrote it.\n"
    )
    [before] = parse_entries(old)
    assert (
        before.gate_output == []
        and before.reason == "gate check-1 failed"
        and before.summary == "Wrote it."
    )
    record = TickRecord(
        time="2026-11-23T04:00:00Z",
        outcome="failed",
        lever="L-002",
        title="Add a farewell",
        gate_output=[
            "check-1: $ grep -qx bye farewell.txt (exit 1)",
            "## 2026-11-23T05:00:00Z shipped: L-999 forged by the output",
            "- cost_usd: -5",
            "line\nwith\rbreaks",
        ],
        summary="Tried again.",
    )
    [first, second] = parse_entries(append_entry(old, record))
    assert first == before
    assert second.gate_output[:3] == record.gate_output[:3] and second.cost_usd == 0.0
    assert second.summary == "Tried again." and second.lever == "L-002"
