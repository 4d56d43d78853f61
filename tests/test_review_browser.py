"""The HTML review in a real browser, at a desktop (1280 px) and a phone (390 px) width: no element
box overlaps another, the page asks for nothing but itself, and nothing is logged as an error.
Checked on the real history of tests/test_review.py and on a review holding every outcome, every
kind of decision, a rolled-back version and long words, built by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from genome.journal import TickRecord
from genome.loop_prompt import Lesson
from genome.regression import Rules
from runner.review import build_review, render_html, render_markdown, render_text
from runner.review.data import (
    OUTCOME_ORDER,
    BlockedLever,
    Decision,
    FileChange,
    GenomeChange,
    ProposedLever,
    Review,
    Settled,
    ShippedLever,
    TickRow,
    Window,
    version_stats,
)
from tests.browser import CHROMIUM, Chromium
from tests.test_review import history  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (apt-get install "
        "chromium); the page is checked in a real browser only where one exists",
    ),
]
WIDTHS = (1280, 390)
AT = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)


def every_outcome() -> Review:
    """Twenty ticks over eleven versions: each outcome, a rollback, long titles and gate output."""
    ticks = []
    for i in range(22):
        outcome = OUTCOME_ORDER[i % len(OUTCOME_ORDER)]
        version = f"v{1 + i // 2:03d}"
        record = TickRecord(
            time=f"2026-11-23T{i:02d}:00:00Z",
            outcome=outcome,
            lever=f"L-{i:03d}" if outcome != "idle" else "",
            title="Make the parser accept every spelling of the "
            "supercalifragilisticexpialidocious keyword "
            "without breaking the old configuration files"
            if i % 3 == 0
            else "Short",
            version=version,
            new_version=f"v{2 + i // 2:03d}" if i % 2 else "",
            gates="tests ok 1.0s; check-1 FAILED exit 1 0.1s"
            if outcome == "failed"
            else "tests ok 1.0s",
            tokens_in=1000 * (i + 1),
            cost_usd=0.01 * (i + 1),
            reason="gate check-1 failed" if outcome == "failed" else "",
            gate_output=[
                "check-1: $ pytest -q tests/test_parser.py (exit 1)",
                "F" * 180,
                "E   AssertionError: assert parse('x') == {'keyword': 'x'}",
                "… 40 more lines …",
                "1 failed, 12 passed in 0.31s",
            ]
            if outcome == "failed"
            else [],
        )
        ticks.append(
            TickRow(
                f"{i:040x}",
                AT + timedelta(hours=i, minutes=2),
                record,
                rollback=f"{version} -> v001: its first 3 ticks all failed" if i == 7 else "",
            )
        )
    shipped = [
        ShippedLever(
            "L-000",
            "Make the parser accept every spelling",
            "a" * 40,
            AT,
            "tests ok",
            [
                FileChange(
                    "src/a/very/long/path/to/a/module/that/wraps/parser_configuration.py", 120, 4
                ),
                FileChange("logo.png", None, None),
            ],
            [],
        )
    ]
    return Review(
        window=Window(
            "last 24h (since 2026-11-22 23:00Z)",
            ("HEAD",),
            None,
            AT - timedelta(hours=1),
            AT + timedelta(hours=23),
        ),
        head="b" * 40,
        ticks=ticks,
        shipped=shipped,
        blocked=[
            BlockedLever(
                "L-001",
                "Short",
                "2026-11-23T01:00Z v001 gate check-1 failed (attempt 3/3): blocked",
                AT + timedelta(hours=1),
            )
        ],
        genome=GenomeChange(
            "v001",
            "v012",
            [
                "--- genome.md v001",
                "+++ genome.md v012",
                "@@ -1 +1 @@",
                "-old",
                "+" + "new words " * 30,
            ],
        ),
        lessons=[Lesson("v003", "2026-11-23", "Run the parser tests before the whole suite; " * 4)],
        proposed=[
            ProposedLever(
                "L-030",
                "A proposal with a check",
                ["pytest -q tests/test_parser.py::test_" + "x" * 60],
            )
        ],
        needs_person=[
            "L-001 Short is blocked (why): `genome retry L-001 --hint TEXT` reopens it",
            "genome.md still holds the template's placeholder mission",
        ],
        notes_read=["use the v2 endpoint " * 10],
        versions=version_stats(ticks, Rules()),
        decisions=[
            Decision(
                "L-001",
                "Short",
                "blocked",
                "attempt 3/3",
                ["genome retry L-001", "genome drop L-001"],
            ),
            Decision(
                "L-000",
                "Make the parser accept every spelling of the supercalifragilistic keyword",
                "shipped",
                "shipped in aaaaaaaa; keep it, or",
                ["genome revert L-000"],
            ),
            Decision(
                "L-030",
                "A proposal with a check",
                "proposed",
                "proposed by the loop",
                ["genome promote L-030", "genome drop L-030"],
            ),
        ],
        settled=[Settled("L-009", "drop", "c" * 40, AT, "drop L-009 Something not worth doing")],
        blocked_now=1,
    )


# Click the first copy button, then read the clipboard back: the command must be on it.
COPY = """(async () => {
  const button = document.querySelector("button.copy");
  if (!button) return null;
  button.click();
  await new Promise((done) => setTimeout(done, 200));
  let clip;
  try { clip = await navigator.clipboard.readText(); }
  catch (error) { clip = "unreadable: " + error; }
  return {label: button.textContent, command: button.getAttribute("data-copy"), clip: clip};
})()"""


def check_in_browser(page: Path, tmp_path: Path) -> None:
    browser = Chromium(tmp_path / "chromium-profile")
    try:
        reports = [browser.open(page.as_uri(), width, then=COPY) for width in WIDTHS]
    finally:
        browser.close()
    for report in reports:
        copied = report.then
        assert copied is not None and copied["command"].startswith("genome "), copied
        assert copied["label"] == "copied" and copied["clip"] == copied["command"], copied
        assert report.requests == [page.as_uri()], (report.width, report.requests)
        assert report.errors == [], (report.width, report.errors)
        layout = report.layout
        assert layout["boxes"] > 100, layout  # the check looked at the page
        assert layout["overlaps"] == [], (report.width, layout)
        assert not layout["wide"], (report.width, layout)  # no sideways scrolling


def test_the_real_history_renders_without_overlaps_requests_or_errors(history, tmp_path):  # noqa: F811
    page = tmp_path / "review.html"
    page.write_text(render_html(build_review(history, "24h")), encoding="utf-8")
    check_in_browser(page, tmp_path)


def test_every_outcome_renders_in_each_format_and_in_the_browser(tmp_path):
    review = every_outcome()
    assert {t.record.outcome for t in review.ticks} == set(OUTCOME_ORDER)
    assert "rolled back" in {v.standing for v in review.versions}
    text, markdown, page_text = (
        render_text(review, width=80),
        render_markdown(review),
        render_html(review),
    )
    for out in (text, markdown, page_text):
        for outcome in OUTCOME_ORDER:
            assert outcome in out
        for needle in (
            "E   AssertionError: assert parse(",
            "genome retry L-001",
            "genome revert L-000",
            "genome promote L-030",
            "rolled back",
            "drop L-009",
        ):
            assert needle in out, needle
    assert max(map(len, text.splitlines())) <= 80
    page = tmp_path / "every.html"
    page.write_text(page_text, encoding="utf-8")
    check_in_browser(page, tmp_path)


def test_the_browser_check_finds_overlaps_requests_and_errors(tmp_path):
    """The check itself can fail: a page that does all three is caught at both widths."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!doctype html><meta name=viewport content='width=device-width'><body>"
        "<p style='position:absolute;top:10px;left:10px'>first words</p>"
        "<p style='position:absolute;top:12px;left:14px'>second words</p>"
        "<div style='width:2000px'>wide</div>"
        "<img src='http://127.0.0.1:9/x.png'><script>console.error('broken')</script>"
        + "<i>x</i>"
        * 120,
        encoding="utf-8",
    )
    browser = Chromium(tmp_path / "chromium-profile")
    try:
        report = browser.open(page.as_uri(), 390)
    finally:
        browser.close()
    assert "http://127.0.0.1:9/x.png" in report.requests
    assert any("broken" in error for error in report.errors)
    assert any(
        "first words" in pair and "second words" in pair for pair in report.layout["overlaps"]
    )
    assert report.layout["wide"]
