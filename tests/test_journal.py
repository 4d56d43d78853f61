"""The journal: a tick's record written as text and read back from it."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genome.journal import (
    OUTCOMES,
    TickRecord,
    append_entry,
    journal_path,
    parse_entries,
    render_entry,
)
from genome.records import visible

FULL = TickRecord(
    time="2026-11-23T03:00:12Z",
    outcome="shipped",
    lever="L-004",
    title="Add retries to the fetcher",
    version="v003",
    new_version="v004",
    gates="tests ok (2.1s), artifact ok (0.1s)",
    tokens_in=12000,
    tokens_out=3400,
    cache_read=50000,
    cache_write=9000,
    cost_usd=0.4213,
    commit="a1b2c3d",
    reason="",
    summary="Added a retry loop with backoff; tests pass.",
    feedback=["Please keep the CLI flags stable.", "Prefer httpx timeouts"],
)


def test_render_entry_writes_every_field_that_has_a_value():
    assert render_entry(FULL) == (
        "## 2026-11-23T03:00:12Z shipped: L-004 Add retries to the fetcher\n"
        "\n"
        "- version: v003\n"
        "- new_version: v004\n"
        "- gates: tests ok (2.1s), artifact ok (0.1s)\n"
        "- tokens_in: 12000\n"
        "- tokens_out: 3400\n"
        "- cache_read: 50000\n"
        "- cache_write: 9000\n"
        "- cost_usd: 0.4213\n"
        "- commit: a1b2c3d\n"
        "- feedback read: Please keep the CLI flags stable.\n"
        "- feedback read: Prefer httpx timeouts\n"
        "\n"
        "Added a retry loop with backoff; tests pass.\n"
    )


def test_every_field_round_trips():
    [back] = parse_entries(render_entry(FULL))
    assert back == FULL
    assert back.tokens == 12000 + 3400 + 50000 + 9000


def test_failed_entry_round_trips_its_reason():
    record = TickRecord(
        time="2026-11-23T03:30:00Z",
        outcome="failed",
        lever="L-005",
        title="Render HTML",
        version="v004",
        gates="tests FAILED (exit 1)",
        reason="gate tests failed (attempt 2/3)",
    )
    assert parse_entries(render_entry(record)) == [record]


def test_idle_entry_has_a_readable_title_and_reads_back_empty():
    record = TickRecord(time="2026-11-23T04:00:00Z", outcome="idle", version="v004")
    text = render_entry(record)
    assert text.startswith("## 2026-11-23T04:00:00Z idle: (idle: no open lever)\n")
    assert parse_entries(text) == [record]


def test_title_without_a_lever_survives():
    record = TickRecord(
        time="2026-11-23T05:00:00Z", outcome="interrupted", title="stopped by SIGTERM"
    )
    assert parse_entries(render_entry(record)) == [record]


def test_cost_is_kept_to_four_decimals():
    record = TickRecord(time="2026-11-23T05:00:00Z", outcome="budget", cost_usd=1.234567)
    assert "- cost_usd: 1.2346\n" in render_entry(record)
    assert parse_entries(render_entry(record))[0].cost_usd == 1.2346


def test_newlines_in_values_are_folded_so_each_field_stays_one_line():
    record = TickRecord(
        time="2026-11-23T06:00:00Z",
        outcome="failed",
        lever="L-007",
        title="Fix\nthe parser",
        reason="gate tests failed:\n  AssertionError\n\nexit 1",
        gates="tests FAILED\nlint ok",
        summary="Tried X.\n\n- tests: 3 failed\n## 2026 notes",
        feedback=["line one\nline two"],
    )
    text = render_entry(record)
    assert "\n- reason: gate tests failed: AssertionError exit 1\n" in text
    [back] = parse_entries(text)
    assert back.title == "Fix the parser"
    assert back.reason == "gate tests failed: AssertionError exit 1"
    assert back.gates == "tests FAILED lint ok"
    assert back.summary == "Tried X. - tests: 3 failed ## 2026 notes"
    assert back.feedback == ["line one line two"]


@pytest.mark.parametrize(
    "summary",
    [
        "- done: added retries and tests",  # looks like a field the journal does not know
        "- gates: all green in my own run",  # looks like a field the journal does know
        "- feedback read: not really",
        "# A heading the model wrote",
    ],
)
def test_a_summary_that_looks_like_a_field_stays_the_summary(summary):
    record = TickRecord(
        time="2026-11-23T07:00:00Z",
        outcome="shipped",
        lever="L-001",
        title="t",
        gates="tests ok",
        summary=summary,
    )
    assert parse_entries(render_entry(record)) == [record]
    bare = TickRecord(time="2026-11-23T07:00:00Z", outcome="idle", summary=summary)
    assert parse_entries(render_entry(bare)) == [bare]


def test_long_summary_is_cut_with_a_mark():
    record = TickRecord(
        time="2026-11-23T08:00:00Z", outcome="shipped", lever="L-001", summary="word " * 1000
    )
    [back] = parse_entries(render_entry(record))
    assert len(back.summary) == 2000 and back.summary.endswith("…")


def test_append_entry_starts_a_day_file_and_appends_to_one():
    first = TickRecord(
        time="2026-11-23T03:00:00Z", outcome="shipped", lever="L-001", title="a", commit="abc"
    )
    second = TickRecord(
        time="2026-11-23T03:30:00Z", outcome="failed", lever="L-002", title="b", reason="red"
    )
    third = TickRecord(time="2026-11-23T04:00:00Z", outcome="idle", summary="Proposed two levers.")
    day = append_entry(None, first)
    assert day.startswith("# Journal 2026-11-23\n\n## 2026-11-23T03:00:00Z shipped: L-001 a\n")
    assert append_entry("", first) == day
    day = append_entry(day + "\n\n\n", second)
    day = append_entry(day, third)
    # one blank line between entries, however many the file ended with
    assert "- commit: abc\n\n## 2026-11-23T03:30:00Z failed: L-002 b\n" in day
    assert "- reason: red\n\n## 2026-11-23T04:00:00Z idle: (idle: no open lever)\n" in day
    assert day.endswith("\n\nProposed two levers.\n")
    assert parse_entries(day) == [first, second, third]
    kept = "# Journal 2026-11-23\n\nA note the person added.\n"
    assert append_entry(kept, second).startswith(
        kept + "\n## 2026-11-23T03:30:00Z failed: L-002 b\n"
    )


def test_parse_entries_ignores_unknown_lines_and_unreadable_numbers():
    text = (
        "# Journal 2026-11-23\n"
        "stray text before any entry\n"
        "## 2026-11-23T03:00:00Z shipped: L-001 a\n"
        "- tokens_in: lots\n"
        "- tokens_out: 12\n"
        "- cost_usd: free\n"
        "- mood: good\n"
        "- commit: abc\n"
        "\n"
        "The summary.\n"
        "## 2026-11-23T03:30:00Z failed: L-002 b\n"
        "- reason: red\n"
    )
    first, second = parse_entries(text)
    assert (first.tokens_in, first.tokens_out, first.cost_usd, first.commit) == (0, 12, 0.0, "abc")
    assert first.summary == "The summary."
    assert (second.lever, second.reason, second.summary) == ("L-002", "red", "")


def test_parse_entries_of_text_without_entries():
    assert parse_entries("") == [] and parse_entries("# Journal\n\nnothing yet\n") == []


def test_journal_path_is_the_day_of_the_tick():
    assert journal_path("2026-11-23T03:00:12Z") == "journal/2026/11/23.md"
    assert journal_path("2027-01-05T23:59:59Z") == "journal/2027/01/05.md"


# --- property ------------------------------------------------------------------------------------

_ENTRY_LOOKALIKE = re.compile(r"## \S+ \w+: ")


def _fold(text: str) -> str:
    return visible(" ".join(text.split()))


_times = st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
_levers = st.one_of(st.just(""), st.integers(0, 9999).map(lambda n: f"L-{n:03d}"))
_counts = st.one_of(st.just(0), st.integers(-10, 10**12))
_costs = st.one_of(st.just(0.0), st.floats(0, 10**6, allow_nan=False))
# a summary that folds into a line shaped like an entry heading would start an entry of its own
_summaries = st.text()  # any text, one that looks like an entry heading too


@st.composite
def records(draw) -> TickRecord:
    lever = draw(_levers)
    title = draw(st.text(max_size=40))
    if not lever:  # a title that folds into an id or into the idle mark would read back as that
        title = title if not re.match(r"L-\d+( |$)|\(idle: no open lever\)$", _fold(title)) else ""
    return TickRecord(
        time=draw(_times),
        outcome=draw(st.sampled_from(OUTCOMES)),
        lever=lever,
        title=title,
        version=draw(st.text(max_size=6)),
        new_version=draw(st.text(max_size=6)),
        gates=draw(st.text(max_size=40)),
        tokens_in=draw(_counts),
        tokens_out=draw(_counts),
        cache_read=draw(_counts),
        cache_write=draw(_counts),
        cost_usd=draw(_costs),
        commit=draw(st.text(max_size=10)),
        reason=draw(st.text(max_size=40)),
        summary=draw(_summaries),
        feedback=draw(st.lists(st.text(max_size=20), max_size=3)),
    )


def as_read_back(record: TickRecord) -> TickRecord:
    """What the journal keeps of a record: one-line text, cost to four decimals, summary cut at
    2000."""
    summary = _fold(record.summary)
    return TickRecord(
        time=record.time,
        outcome=record.outcome,
        lever=record.lever,
        title=_fold(f"{record.lever} {record.title}")[len(record.lever) :].lstrip(" ")
        if record.lever
        else _fold(record.title),
        version=_fold(record.version),
        new_version=_fold(record.new_version),
        gates=_fold(record.gates),
        tokens_in=record.tokens_in,
        tokens_out=record.tokens_out,
        cache_read=record.cache_read,
        cache_write=record.cache_write,
        cost_usd=float(f"{record.cost_usd:.4f}"),
        commit=_fold(record.commit),
        reason=_fold(record.reason),
        summary=summary if len(summary) <= 2000 else summary[:1999] + "…",
        feedback=[_fold(note) for note in record.feedback],
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=3), st.one_of(st.none(), st.text(max_size=30)))
def test_property_appended_records_read_back(entries, existing):
    if existing is not None:
        existing = "\n".join(
            line for line in existing.splitlines() if not _ENTRY_LOOKALIKE.match(line)
        )
    day = existing
    for record in entries:
        day = append_entry(day, record)
    assert parse_entries(day) == [as_read_back(record) for record in entries]
