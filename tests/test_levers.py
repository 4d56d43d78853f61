"""levers.md: parsing, malformed input, edits that touch only their own lines, byte-exact
rendering."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genome.errors import GenomeFileError
from genome.levers import STATUSES, Lever, LeverDoc
from tests.conftest import changes, lines_of

EXAMPLE = """\
# Levers
Free prose the person wrote.

- [ ] L-004 Add retries to the fetcher
  check: pytest -q tests/test_fetch.py
- [ ] Render the report as HTML
  check: test -s out/report.html
  a free note the person wrote under the lever

  check:   make report \t
- [x] L-001 Parse the config file
  - 2026-11-23T03:00Z v002 shipped a1b2c3d
- [!] L-003 Migrate to the new API
  - 2026-11-22T23:30Z v001 gate tests failed (attempt 3/3): blocked

## Later
- [-] L-002 Drop the XML output
"""


def shape(lever: Lever) -> tuple:
    return lever.id, lever.title, lever.mark, lever.checks, lever.log


def parse_error(text: str) -> GenomeFileError:
    with pytest.raises(GenomeFileError) as caught:
        LeverDoc.parse(text)
    assert caught.value.file == "levers.md"
    return caught.value


# --- parsing -------------------------------------------------------------------------------------


def test_parses_every_element_of_a_lever():
    doc = LeverDoc.parse(EXAMPLE)
    assert [(lever.line, *shape(lever)) for lever in doc.levers] == [
        (4, "L-004", "Add retries to the fetcher", " ", ["pytest -q tests/test_fetch.py"], []),
        (6, None, "Render the report as HTML", " ", ["test -s out/report.html", "make report"], []),
        (11, "L-001", "Parse the config file", "x", [], ["2026-11-23T03:00Z v002 shipped a1b2c3d"]),
        (
            13,
            "L-003",
            "Migrate to the new API",
            "!",
            [],
            ["2026-11-22T23:30Z v001 gate tests failed (attempt 3/3): blocked"],
        ),
        (17, "L-002", "Drop the XML output", "-", [], []),
    ]
    assert [lever.status for lever in doc.levers] == ["open", "open", "done", "blocked", "dropped"]
    assert doc.render() == EXAMPLE
    assert doc.file == "levers.md"


def test_statuses_map_every_mark_to_its_name():
    assert STATUSES == {" ": "open", "x": "done", "!": "blocked", "-": "dropped"}


def test_capital_x_means_done_and_is_normalised():
    doc = LeverDoc.parse("- [X] L-001 Ship it\n")
    assert doc.levers[0].mark == "x"
    assert doc.levers[0].status == "done"


def test_tab_indented_block_and_tab_after_mark():
    text = "- [ ]\tL-009\tTabbed title\t\n\tcheck:\ttrue\n\t- logged\n"
    (lever,) = LeverDoc.parse(text).levers
    assert shape(lever) == ("L-009", "Tabbed title", " ", ["true"], ["logged"])


def test_block_ends_at_first_unindented_line_and_keeps_blank_lines_only_between_its_lines():
    text = (
        "- [ ] L-001 First\n  check: a\n\n\nNot indented: prose\n  check: not-a-check-of-anyone\n- "
        "[ ] L-002 Second\n"
    )
    first, second = LeverDoc.parse(text).levers
    assert first.checks == ["a"]
    assert second.checks == []
    assert second.line == 7


def test_id_must_be_a_whole_word_and_may_be_absent():
    doc = LeverDoc.parse(
        "- [ ] L-12abc is part of the title\n- [ ] l-004 lower case is a title too\n"
    )
    assert [(lever.id, lever.title) for lever in doc.levers] == [
        (None, "L-12abc is part of the title"),
        (None, "l-004 lower case is a title too"),
    ]


def test_prose_only_file_has_no_levers():
    doc = LeverDoc.parse("# Levers\n\nNothing planned yet.\n")
    assert doc.levers == []
    assert doc.top_open() is None


def test_list_items_that_are_not_task_items_are_prose():
    text = (
        "- [docs](https://example.org) a link\n* [ ] a star bullet\n  - [ ] indented\n-  [ ] two "
        "spaces\n- \\[WIP] escaped\n"
    )
    assert LeverDoc.parse(text).levers == []


def test_title_may_hold_unicode_and_line_separators_that_are_not_newlines():
    text = "- [ ] L-001 Grüße \u2028 und \x85 mehr 🚀\n"
    (lever,) = LeverDoc.parse(text).levers
    assert lever.title == "Grüße \u2028 und \x85 mehr 🚀"
    assert lever.line == 1


def test_fenced_examples_are_never_levers():
    text = (
        "```\n- [ ] L-001 Example in a fence\n- [?] not even valid\n```\n"
        "~~~markdown\n- [ ]\n```\nstill inside the tilde fence\n~~~~\n"
        "````text\n- [x] L-002 dup in fence\n```\n````\n"
        "- [ ] L-001 The real one\n"
        "```inline``` code on a line is not a fence\n"
        "- [ ] L-002 Also real\n"
    )
    doc = LeverDoc.parse(text)
    assert [(lever.id, lever.line) for lever in doc.levers] == [("L-001", 14), ("L-002", 16)]
    assert doc.render() == text


# --- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize("mark", ["?", "xx", "", "o", "\t", "  "])
def test_unknown_mark_is_an_error_on_its_line(mark):
    error = parse_error(f"# Levers\n\n- [ ] L-001 Fine\n- [{mark}] L-002 Broken\n")
    assert error.line == 4
    assert f"[{mark}]" in error.problem
    assert "[x]" in error.fix
    assert str(error).startswith("levers.md:4: ")


@pytest.mark.parametrize("line", ["- [ ]", "- [x] ", "- [ ] L-004", "- [!] L-004   \t"])
def test_empty_title_is_an_error(line):
    error = parse_error(f"intro\n{line}\n  check: true\n")
    assert error.line == 2
    assert "title" in error.problem


def test_duplicate_ids_name_both_lines():
    error = parse_error("- [ ] L-004 One\n  check: a\n\n- [x] L-007 Two\n- [ ] L-004 Three\n")
    assert error.line == 5
    assert "L-004" in error.problem
    assert "lines 1 and 5" in error.problem


def test_ids_with_the_same_number_are_duplicates():
    error = parse_error("- [ ] L-4 One\n- [ ] L-004 Two\n")
    assert error.line == 2
    assert "L-4 and L-004" in error.problem
    assert "lines 1 and 2" in error.problem


@pytest.mark.parametrize("check", ["  check:", "  check:   ", "\tcheck:\t"])
def test_empty_check_is_an_error(check):
    error = parse_error(f"- [ ] L-001 Title\n  - a log line\n\n{check}\n")
    assert error.line == 4
    assert "check" in error.problem


@pytest.mark.parametrize("text", ["", "\n", "  \r\n\t\n"])
def test_empty_file_is_an_error_telling_how_to_write_a_lever(text):
    error = parse_error(text)
    assert error.line is None
    assert error.problem == "levers.md is empty"
    assert "- [ ] " in error.fix


def test_unclosed_fence_is_an_error_on_the_opening_line():
    error = parse_error("# Levers\n~~~~\n- [ ] L-001 hidden\n~~~\n")
    assert error.line == 2
    assert "~~~~" in error.fix


def test_absurdly_long_id_is_an_error():
    error = parse_error("- [ ] L-" + "9" * 10 + " Title\n")
    assert error.line == 1


def test_errors_name_the_file_given():
    with pytest.raises(GenomeFileError) as caught:
        LeverDoc.parse("- [?] x\n", file="plans/levers.md")
    assert str(caught.value).startswith("plans/levers.md:1: ")


# --- reading -------------------------------------------------------------------------------------


def test_top_open_skips_done_blocked_and_dropped():
    doc = LeverDoc.parse(
        "- [x] L-001 a\n- [!] L-002 b\n- [-] L-003 c\n- [X] L-004 d\n- [ ] L-005 e\n- [ ] L-006 f\n"
    )
    assert doc.top_open().id == "L-005"


def test_top_open_returns_a_lever_without_an_id():
    doc = LeverDoc.parse("- [x] L-001 a\n- [ ] New idea\n")
    assert shape(doc.top_open()) == (None, "New idea", " ", [], [])


def test_get_finds_by_id_and_raises_key_error_otherwise():
    doc = LeverDoc.parse(EXAMPLE)
    assert doc.get("L-003").title == "Migrate to the new API"
    assert doc.get("L-3").id == "L-003"
    for missing in ("L-099", "Render the report as HTML", ""):
        with pytest.raises(KeyError):
            doc.get(missing)


# --- edits ---------------------------------------------------------------------------------------


def test_assign_ids_numbers_from_the_highest_id_in_file_order():
    text = "# L\n- [x] Done without id\n- [ ] L-041 Known\n- [ ]   Spaced  title\n- [-] L-007 Old\n"
    doc = LeverDoc.parse(text)
    assert doc.assign_ids() == ["L-042", "L-043"]
    assert changes(text, doc.render()) == [
        ("replace", ["- [x] Done without id\n"], ["- [x] L-042 Done without id\n"]),
        ("replace", ["- [ ]   Spaced  title\n"], ["- [ ]   L-043 Spaced  title\n"]),
    ]
    assert [lever.id for lever in doc.levers] == ["L-042", "L-041", "L-043", "L-007"]
    assert doc.levers[2].title == "Spaced  title"
    assert doc.assign_ids() == []


def test_assign_ids_starts_at_one_and_grows_past_three_digits():
    assert LeverDoc.parse("- [ ] a\n- [ ] b\n").assign_ids() == ["L-001", "L-002"]
    doc = LeverDoc.parse("- [ ] L-998 a\n- [ ] b\n- [ ] c\n")
    assert doc.assign_ids() == ["L-999", "L-1000"]
    assert doc.add("d") == "L-1001"


def test_set_status_rewrites_only_the_mark():
    doc = LeverDoc.parse(EXAMPLE)
    doc.set_status("L-004", "blocked")
    assert changes(EXAMPLE, doc.render()) == [
        (
            "replace",
            ["- [ ] L-004 Add retries to the fetcher\n"],
            ["- [!] L-004 Add retries to the fetcher\n"],
        ),
    ]
    assert doc.get("L-004").status == "blocked"
    doc.set_status("L-004", "open")
    assert doc.render() == EXAMPLE


def test_set_status_keeps_a_mark_that_already_says_so():
    text = "- [X] L-001 Shipped\n"
    doc = LeverDoc.parse(text)
    doc.set_status("L-001", "done")
    assert doc.render() == text


def test_set_status_refuses_unknown_status_and_id():
    doc = LeverDoc.parse(EXAMPLE)
    with pytest.raises(ValueError):
        doc.set_status("L-004", "x")
    with pytest.raises(KeyError):
        doc.set_status("L-404", "done")
    assert doc.render() == EXAMPLE


def test_append_log_goes_after_the_last_block_line_before_trailing_blank_lines():
    text = "- [ ] L-001 First\n  check: a\n\n  a note after a blank line\n\n\n- [ ] L-002 Second\n"
    doc = LeverDoc.parse(text)
    doc.append_log("L-001", "2026-11-23T03:00Z v002 gate tests failed\n(attempt 1/3)")
    assert changes(text, doc.render()) == [
        ("insert", [], ["  - 2026-11-23T03:00Z v002 gate tests failed (attempt 1/3)\n"]),
    ]
    assert (
        lines_of(doc.render())[4] == "  - 2026-11-23T03:00Z v002 gate tests failed (attempt 1/3)\n"
    )
    assert doc.get("L-001").log == ["2026-11-23T03:00Z v002 gate tests failed (attempt 1/3)"]
    assert doc.get("L-002").line == 8


def test_append_log_right_under_a_lever_without_block():
    text = "- [x] L-001 a\n- [ ] L-002 b\n"
    doc = LeverDoc.parse(text)
    doc.append_log("L-001", "shipped")
    assert doc.render() == "- [x] L-001 a\n  - shipped\n- [ ] L-002 b\n"


def test_append_log_refuses_empty_text():
    doc = LeverDoc.parse(EXAMPLE)
    with pytest.raises(ValueError):
        doc.append_log("L-004", " \n ")
    assert doc.render() == EXAMPLE


def test_append_log_at_end_of_file_without_final_newline():
    text = "# L\n- [ ] L-001 a\n  check: true"
    doc = LeverDoc.parse(text)
    doc.append_log("L-001", "tried")
    assert changes(text, doc.render()) == [
        ("replace", ["  check: true"], ["  check: true\n", "  - tried\n"]),
    ]


def test_edits_in_a_crlf_file_keep_crlf():
    text = EXAMPLE.replace("\n", "\r\n")
    doc = LeverDoc.parse(text)
    assert doc.render() == text
    assert doc.levers[1].checks == ["test -s out/report.html", "make report"]
    assert doc.add("Cache responses", ["pytest -q"]) == "L-005"
    doc.set_status("L-001", "open")
    doc.append_log("L-003", "unblocked by hand")
    lines = lines_of(text)
    expected = [
        *lines[:10],
        "- [ ] L-005 Cache responses\r\n",
        "  check: pytest -q\r\n",
        "- [ ] L-001 Parse the config file\r\n",
        *lines[11:14],
        "  - unblocked by hand\r\n",
        *lines[14:],
    ]
    assert lines_of(doc.render()) == expected
    assert lines[10] == "- [x] L-001 Parse the config file\r\n"


def test_crlf_file_without_final_newline_gets_crlf_before_an_appended_line():
    text = "- [ ] L-001 a\r\n  check: b"
    doc = LeverDoc.parse(text)
    doc.add("c")
    assert doc.render() == "- [ ] L-001 a\r\n  check: b\r\n- [ ] L-002 c\r\n"


def test_add_goes_after_the_block_of_the_last_open_lever():
    doc = LeverDoc.parse(EXAMPLE)
    assert doc.add("Cache\nresponses ", ["pytest -q\r\ntests", " make  "]) == "L-005"
    assert changes(EXAMPLE, doc.render()) == [
        (
            "insert",
            [],
            ["- [ ] L-005 Cache responses\n", "  check: pytest -q tests\n", "  check: make\n"],
        ),
    ]
    assert lines_of(doc.render())[10:13] == [
        "- [ ] L-005 Cache responses\n",
        "  check: pytest -q tests\n",
        "  check: make\n",
    ]
    assert [lever.id for lever in doc.levers] == ["L-004", None, "L-005", "L-001", "L-003", "L-002"]
    assert shape(doc.get("L-005")) == (
        "L-005",
        "Cache responses",
        " ",
        ["pytest -q tests", "make"],
        [],
    )


def test_add_without_open_levers_goes_after_the_last_lever():
    text = "- [x] L-001 a\n  - shipped\n\nClosing words.\n"
    doc = LeverDoc.parse(text)
    doc.add("b")
    assert doc.render() == "- [x] L-001 a\n  - shipped\n- [ ] L-002 b\n\nClosing words.\n"


def test_add_without_levers_goes_at_the_end():
    text = "# Levers\n\nNothing yet."
    doc = LeverDoc.parse(text)
    assert doc.add("First") == "L-001"
    assert doc.render() == "# Levers\n\nNothing yet.\n- [ ] L-001 First\n"


def test_add_refuses_empty_title_and_empty_check():
    doc = LeverDoc.parse(EXAMPLE)
    for title, checks in (("", []), (" \n\t", []), ("ok", ["true", "  "])):
        with pytest.raises(ValueError):
            doc.add(title, checks)
    assert doc.render() == EXAMPLE


def test_lever_snapshots_cannot_be_mutated_by_accident():
    lever = LeverDoc.parse(EXAMPLE).levers[0]
    with pytest.raises(AttributeError):
        lever.mark = "x"


# --- properties ----------------------------------------------------------------------------------

# Any character but a line break or a lone surrogate; includes tabs, U+2028 and the like.
ANY_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r")
words = st.text(ANY_CHAR, max_size=12)
filled = words.filter(str.strip)
ID_AT_START = re.compile(r"L-[0-9]+(?=\s|$)")
MARKS = [" ", "x", "X", "!", "-"]
INDENTS = ["  ", "\t", "    ", " "]
BLANKS = ["", "  ", "\t"]


@st.composite
def prose_lines(draw):
    template = draw(
        st.sampled_from(
            ["# {}", "## {}", "Words {}", "- item {}", "- [link](u) {}", "* [ ] {}", "1. {}"]
        )
    )
    return [template.format(draw(words))]


@st.composite
def fence_lines(draw):
    char = draw(st.sampled_from(["`", "~"]))
    length = draw(st.integers(3, 5))
    info = draw(st.sampled_from(["", "markdown", " text"]))
    inside = draw(
        st.lists(
            st.one_of(
                st.sampled_from(
                    ["- [?] bad", "- [ ] L-001 example", "- [ ]", "  check:", "", "~~", "``"]
                ),
                words.map(lambda w: "x" + w),
            ),
            max_size=4,
        )
    )
    closing = char * draw(st.integers(length, length + 2)) + draw(st.sampled_from(["", "  "]))
    return [char * length + info, *inside, closing]


@st.composite
def lever_parts(draw, number):
    """Lines of one lever and the lever they should parse to (its line number left to the
    caller)."""
    mark = draw(st.sampled_from(MARKS))
    if number is None:
        title = draw(filled.filter(lambda t: not ID_AT_START.match(t.strip())))
        lever_id = None
        head = f"- [{mark}] {title}"
    else:
        title = draw(filled)
        lever_id = draw(st.sampled_from([f"L-{number:03d}", f"L-{number}"]))
        head = f"- [{mark}] {lever_id} {title}"
    lines, checks, log = [head], [], []
    for kind in draw(st.lists(st.sampled_from(["check", "log", "note", "blank"]), max_size=5)):
        indent = draw(st.sampled_from(INDENTS))
        if kind == "check":
            command = draw(filled)
            checks.append(command.strip())
            lines.append(f"{indent}check:{draw(st.sampled_from(['', ' ']))}{command}")
        elif kind == "log":
            entry = draw(filled)
            log.append(entry.strip())
            lines.append(f"{indent}- {entry}")
        elif kind == "note":
            lines.append(f"{indent}note{draw(words)}")
        else:
            lines.append(draw(st.sampled_from(BLANKS)))
    return lines, (lever_id, title.strip(), mark.lower(), checks, log)


@st.composite
def documents(draw):
    """A valid levers.md, its newline, and the levers with their 1-based lines."""
    kinds = draw(
        st.lists(st.sampled_from(["prose", "blank", "fence", "lever"]), min_size=1, max_size=12)
    )
    numbers = iter(
        draw(st.lists(st.integers(0, 1200), unique=True, min_size=len(kinds), max_size=len(kinds)))
    )
    lines: list[str] = ["# Levers"] if draw(st.booleans()) or "prose" not in kinds else []
    expected = []
    for kind in kinds:
        if kind == "prose":
            lines += draw(prose_lines())
        elif kind == "blank":
            lines.append(draw(st.sampled_from(BLANKS)))
        elif kind == "fence":
            lines += draw(fence_lines())
        else:
            number = next(numbers) if draw(st.booleans()) else None
            parts, lever = draw(lever_parts(number))
            expected.append((len(lines) + 1, lever))
            lines += parts
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    final = newline if draw(st.booleans()) else ""
    return newline.join(lines) + final, newline, expected


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(documents())
def test_property_valid_files_render_back_byte_for_byte(document):
    text, _, expected = document
    doc = LeverDoc.parse(text)
    assert doc.render() == text
    assert [(lever.line, shape(lever)) for lever in doc.levers] == expected


def removal_of(inserted: list[str], before: list[str], after: list[str], newline: str) -> int:
    """Where ``inserted`` went in ``after`` when nothing else changed but a final newline; -1 if not
    so. The last place that fits: a line appended after an identical one could stand at either."""
    fixed = (
        before[:-1] + [before[-1] + newline] if before and not before[-1].endswith("\n") else before
    )
    for at in reversed(range(len(after) - len(inserted) + 1)):
        rest = after[:at] + after[at + len(inserted) :]
        if after[at : at + len(inserted)] == inserted and (
            rest == before or (rest == fixed and at == len(before))
        ):
            return at
    return -1


def assert_lines_are_consistent(doc: LeverDoc) -> None:
    lines = lines_of(doc.render())
    for lever in doc.levers:
        assert lines[lever.line - 1].startswith("- [")
        assert lever.title in lines[lever.line - 1]


def ends_block(lines: list[str], at: int) -> bool:
    """True when the line at ``at`` cannot continue a block: end of file, blank or unindented."""
    return at == len(lines) or not lines[at].strip() or lines[at][0] not in " \t"


@PROPERTY
@given(documents(), st.data())
def test_property_edits_change_only_their_own_lines(document, data):
    text, newline, _ = document
    if "\n" not in text:
        newline = "\n"  # a file with no line ending at all gets the plain one
    doc = LeverDoc.parse(text)
    edit = data.draw(st.sampled_from(["assign", "status", "log", "add"]))
    if edit == "assign":
        old = doc.levers
        next_number = max((int(lever.id[2:]) for lever in old if lever.id), default=0) + 1
        given_ids = doc.assign_ids()
        missing = [lever for lever in old if lever.id is None]
        assert given_ids == [f"L-{next_number + k:03d}" for k in range(len(missing))]
        new = doc.levers
        assert [shape(lever)[1:] for lever in new] == [shape(lever)[1:] for lever in old]
        assert [lever.line for lever in new] == [lever.line for lever in old]
        assert [lever.id for lever in new if lever.id not in given_ids] == [
            lever.id for lever in old if lever.id
        ]
        for tag, before, after in changes(text, doc.render()):
            assert tag == "replace" and len(before) == len(after)
            for old_line, new_line in zip(before, after, strict=True):
                assert any(new_line.replace(f"{i} ", "", 1) == old_line for i in given_ids)
        assert_lines_are_consistent(doc)
        return

    doc.assign_ids()
    baseline = doc.render()
    old = doc.levers
    if edit == "add":
        title = data.draw(filled)
        checks = data.draw(st.lists(filled, max_size=3))
        next_number = max((int(lever.id[2:]) for lever in old if lever.id), default=0) + 1
        new_id = doc.add(title, checks)
        assert new_id == f"L-{next_number:03d}"
        open_at = [k for k, lever in enumerate(old) if lever.status == "open"]
        place = open_at[-1] + 1 if open_at else len(old)
        made = (new_id, title.strip(), " ", [c.strip() for c in checks], [])
        assert [shape(lever) for lever in doc.levers] == [shape(lever) for lever in old[:place]] + [
            made
        ] + [shape(lever) for lever in old[place:]]
        inserted = [
            f"- [ ] {new_id} {title.strip()}{newline}",
            *(f"  check: {c.strip()}{newline}" for c in checks),
        ]
        lines_before, lines_after = lines_of(baseline), lines_of(doc.render())
        at = removal_of(inserted, lines_before, lines_after, newline)
        assert at >= 0
        if old:
            assert lines_after[at - 1].strip()  # right after the anchor's block, above blank lines
            assert ends_block(lines_after, at + len(inserted))
        else:
            assert at + len(inserted) == len(lines_after)
        assert_lines_are_consistent(doc)
        return

    if not old:
        return
    target = data.draw(st.sampled_from(old))
    if edit == "status":
        status = data.draw(st.sampled_from(sorted(set(STATUSES.values()))))
        doc.set_status(target.id, status)
        expected = [
            shape(lever)
            if lever is not target
            else (*shape(lever)[:2], status_mark(lever, status), *shape(lever)[3:])
            for lever in old
        ]
        assert [shape(lever) for lever in doc.levers] == expected
        diff = changes(baseline, doc.render())
        if target.status == status:
            assert diff == []
        else:
            ((tag, before, after),) = diff
            assert tag == "replace" and len(before) == 1 and len(after) == 1
            assert before[0][:3] + after[0][3] + before[0][4:] == after[0]
    else:
        entry = data.draw(filled)
        doc.append_log(target.id, entry)
        expected = [
            shape(lever)
            if lever is not target
            else (*shape(lever)[:4], [*lever.log, entry.strip()])
            for lever in old
        ]
        assert [shape(lever) for lever in doc.levers] == expected
        lines_before, lines_after = lines_of(baseline), lines_of(doc.render())
        at = removal_of([f"  - {entry.strip()}{newline}"], lines_before, lines_after, newline)
        assert at > 0 and lines_after[at - 1].strip()
        assert ends_block(lines_after, at + 1)
    assert_lines_are_consistent(doc)


def status_mark(lever: Lever, status: str) -> str:
    return (
        lever.mark
        if lever.status == status
        else {name: mark for mark, name in STATUSES.items()}[status]
    )


STRUCTURE = st.text(st.sampled_from(list("-[] xX!?L0123456789\n\r\t`~check:ab\u2028")), max_size=80)


@PROPERTY
@given(st.one_of(st.text(), STRUCTURE))
def test_property_arbitrary_text_parses_or_raises_a_genome_file_error(text):
    try:
        doc = LeverDoc.parse(text)
    except GenomeFileError as error:
        assert error.file == "levers.md"
        assert error.line is None or 1 <= error.line <= len(lines_of(text))
        return
    assert doc.render() == text
    for lever in doc.levers:
        assert lever.status in STATUSES.values()


def test_a_log_line_equal_to_the_one_before_it_is_appended_after_it():
    doc = LeverDoc.parse("# \n\n- [ ] 0\n  check:0\n  - 0\n\n```\n```")
    doc.assign_ids()
    doc.append_log("L-001", "0")
    assert doc.render() == "# \n\n- [ ] L-001 0\n  check:0\n  - 0\n  - 0\n\n```\n```"
