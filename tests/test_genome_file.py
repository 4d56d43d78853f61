"""genome.md: the integer version, clear errors, byte-exact rendering, section and version edits;
plus the shared text layer (decode, frontmatter split, YAML errors, durations)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genome.errors import GenomeFileError
from genome.genome_file import GenomeDoc, version_label
from genome.text import MAX_FILE_BYTES, decode, parse_duration, split_frontmatter
from tests.conftest import changes, lines_of

EXAMPLE = """\
---
# The runner bumps the version after every change to the body.
version: 7   # shown as v007
owner: ada
---
# Genome

Free prose before the first section.

## Mission

Make the fetcher reliable for people on bad networks.

## Current focus

Retries with backoff.
### A subsection belongs to its section
- with a list

## What's proven


Tests pass on 3.11.

## What's next
Ship 1.0.
"""


def parse_error(text: str) -> GenomeFileError:
    with pytest.raises(GenomeFileError) as caught:
        GenomeDoc.parse(text)
    error = caught.value
    assert error.file == "genome.md"
    assert error.problem and error.fix
    assert (
        str(error)
        == f"genome.md{':' + str(error.line) if error.line else ''}: {error.problem}. {error.fix}"
    )
    return error


# --- parsing -------------------------------------------------------------------------------------


def test_parse_reads_the_integer_version_and_keeps_head_and_body_apart():
    doc = GenomeDoc.parse(EXAMPLE)
    assert doc.version == 7 and doc.label == "v007"
    assert doc.head.startswith("---\n") and doc.head.endswith("owner: ada\n---\n")
    assert doc.body.startswith("# Genome\n")
    assert doc.render() == EXAMPLE


def test_sections_map_each_heading_to_its_text_with_subsections_inside():
    sections = GenomeDoc.parse(EXAMPLE).sections()
    assert list(sections) == ["Mission", "Current focus", "What's proven", "What's next"]
    assert sections["Mission"] == "Make the fetcher reliable for people on bad networks."
    assert sections["Current focus"] == (
        "Retries with backoff.\n### A subsection belongs to its section\n- with a list"
    )
    assert sections["What's proven"] == "Tests pass on 3.11."
    assert sections["What's next"] == "Ship 1.0."


def test_crlf_headings_carry_no_carriage_return():
    doc = GenomeDoc.parse(EXAMPLE.replace("\n", "\r\n"))
    sections = doc.sections()
    assert list(sections) == ["Mission", "Current focus", "What's proven", "What's next"]
    assert sections["Mission"] == "Make the fetcher reliable for people on bad networks."
    assert sections["What's next"] == "Ship 1.0."


@pytest.mark.parametrize(
    "value, expected", [("1", 1), ("42", 42), ("0x1F", 31), ("1_000", 1000), ("+3", 3)]
)
def test_any_yaml_integer_is_a_version(value, expected):
    assert GenomeDoc.parse(f"---\nversion: {value}\n---\n").version == expected


@pytest.mark.parametrize(
    "version, label", [(1, "v001"), (12, "v012"), (999, "v999"), (1000, "v1000")]
)
def test_version_label(version, label):
    assert version_label(version) == label


@pytest.mark.parametrize(
    "text, line, words",
    [
        ('---\n# c\nversion: "x"\n---\n', 3, "whole number"),
        ('---\n# c\nversion: "3"\n---\n', 3, "whole number"),
        ("---\nowner: a\nversion: 1.5\n---\n", 3, "1.5"),
        ("---\nversion: 1.10\n---\n", 2, "whole number"),
        ("---\nversion: true\n---\n", 2, "True"),
        ("---\nversion: 0\n---\n", 2, "from 1 up"),
        ("---\nversion: -4\n---\n", 2, "from 1 up"),
        ("---\nversion:\n---\n", 2, "None"),
        ("---\nversion: [1]\n---\n", 2, "whole number"),
        ("---\nowner: ada\n---\nbody\n", 2, "no `version`"),
        ("---\n---\n", 2, "no `version`"),
        ("# Genome\nversion: 1\n", 1, "start with a `---`"),
        ("", 1, "start with a `---`"),
        ("\n---\nversion: 1\n---\n", 1, "start with a `---`"),
        ("---\nversion: 1\n# Genome\n", 1, "never closed"),
        ("---\nversion: 1\nowner: a: b\n---\n", 3, "not valid YAML"),
        ("---\nversion: 1\nowner: [a, b\n---\n", 4, "not valid YAML"),
        ("---\n- version\n- 1\n---\n", 2, "mapping"),
        ("---\njust words\n---\n", 2, "mapping"),
        ("---\nversion: 1\nversion: 2\n---\n", 3, "set twice, on lines 2 and 3"),
        ('---\nversion: 2\nmeta: x\n"version": 2\n---\n', 4, "set twice"),
        ('---\nversion: !!int "3"\n---\n', 2, "one line"),
        ("---\nbase: &v 3\nversion: *v\n---\n", 3, "one line"),
        ("---\n{version: 3}\n---\n", 2, "one line"),
        ("---\nversion: 1\nsince: 2026-02-30\n---\n", 3, "2026-02-30"),
        ("---\nversion: 1\nlist:\n  - !!int abc\n---\n", 4, "`abc` cannot be read"),
        ("---\nversion: 1\nwhen: !!timestamp soon\n---\n", 3, "`soon` cannot be read"),
        ("---\nversion: 1\nnote: a\x07b\n---\n", 3, "U+0007"),
        ("---\nversion: 1\nnote: " + "[" * 1000 + "\n---\n", 2, "nested too deeply"),
    ],
)
def test_malformed_genome_names_file_line_and_fix(text, line, words):
    error = parse_error(text)
    assert error.line == line, str(error)
    assert words in str(error)
    assert str(error).startswith(f"genome.md:{line}: ")


def test_error_line_counts_from_the_top_of_the_file_with_crlf():
    error = parse_error("---\r\n# one\r\n# two\r\nversion: 1.5\r\n---\r\n")
    assert error.line == 4


def test_huge_version_number_is_an_error_not_a_crash():
    error = parse_error("---\nversion: " + "9" * 5000 + "\n---\n")
    assert error.line == 2 and "cannot be read" in error.problem and len(error.problem) < 200


# --- rendering -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        EXAMPLE,
        EXAMPLE.replace("\n", "\r\n"),
        EXAMPLE.rstrip("\n"),
        "---\nversion: 1\n---\n",
        "---\nversion: 1\n---",
        "---  \nversion: 1\n---\t\n\n\n## A\n",
        "---\rversion: 1\r---\rbody\r",
        "---\nversion: 3 # ok\n---\n  ## not a heading\n##no space\n",
    ],
)
def test_render_of_parse_is_the_same_text(text):
    assert GenomeDoc.parse(text).render() == text


# --- with_version --------------------------------------------------------------------------------


def test_with_version_changes_only_the_number_on_the_version_line():
    doc = GenomeDoc.parse(EXAMPLE)
    bumped = doc.with_version(8)
    assert bumped.version == 8 and bumped.body == doc.body
    assert changes(doc.render(), bumped.render()) == [
        ("replace", ["version: 7   # shown as v007\n"], ["version: 8   # shown as v007\n"])
    ]
    assert GenomeDoc.parse(bumped.render()).version == 8


@pytest.mark.parametrize(
    "text, expected",
    [
        ("---\nversion: 0x1F\n---\n", "---\nversion: 32\n---\n"),
        ("---\nversion : 9\n---\n", "---\nversion : 32\n---\n"),
        (
            "---\r\nmeta:\r\n  version: 5\r\nversion: 9\r\n---\r\nx\r\n",
            "---\r\nmeta:\r\n  version: 5\r\nversion: 32\r\n---\r\nx\r\n",
        ),
        ("---\nversion_note: 9\nversion: 9\n---\n", "---\nversion_note: 9\nversion: 32\n---\n"),
        ("---\nversion: 9#\n---\n", None),  # `9#` is text to YAML, so it is refused at parse
    ],
)
def test_with_version_finds_the_top_level_line(text, expected):
    if expected is None:
        parse_error(text)
        return
    bumped = GenomeDoc.parse(text).with_version(32)
    assert bumped.render() == expected
    assert GenomeDoc.parse(bumped.render()).version == 32


def test_with_version_on_a_file_with_lone_carriage_returns():
    # YAML ends lines at a lone CR, so the version line is the second line here
    doc = GenomeDoc.parse("---\rowner: a\rversion: 1\r---\rbody")
    bumped = doc.with_version(2)
    assert bumped.render() == "---\rowner: a\rversion: 2\r---\rbody"
    assert GenomeDoc.parse(bumped.render()).version == 2


# --- with_section --------------------------------------------------------------------------------


def test_with_section_replaces_exactly_one_section():
    doc = GenomeDoc.parse(EXAMPLE)
    edited = doc.with_section("Current focus", "Ship the HTML report.\nThen the PDF.")
    assert changes(doc.render(), edited.render()) == [
        (
            "replace",
            [
                "Retries with backoff.\n",
                "### A subsection belongs to its section\n",
                "- with a list\n",
            ],
            ["Ship the HTML report.\n", "Then the PDF.\n"],
        )
    ]
    after = edited.sections()
    assert after["Current focus"] == "Ship the HTML report.\nThen the PDF."
    assert {k: v for k, v in after.items() if k != "Current focus"} == {
        k: v for k, v in doc.sections().items() if k != "Current focus"
    }
    assert edited.version == doc.version and edited.head == doc.head


def test_with_section_keeps_the_blank_lines_around_the_text():
    doc = GenomeDoc.parse(EXAMPLE)
    edited = doc.with_section("What's proven", "\n\nNothing yet.\n\n\n")
    assert changes(doc.render(), edited.render()) == [
        ("replace", ["Tests pass on 3.11.\n"], ["Nothing yet.\n"])
    ]


def test_with_section_given_the_same_text_changes_nothing():
    for text in (EXAMPLE, EXAMPLE.replace("\n", "\r\n"), EXAMPLE.rstrip("\n")):
        doc = GenomeDoc.parse(text)
        for heading, section_text in doc.sections().items():
            assert doc.with_section(heading, section_text).render() == text


def test_with_section_last_section():
    doc = GenomeDoc.parse(EXAMPLE)
    edited = doc.with_section("What's next", "Ship 2.0.\n")
    assert edited.render() == EXAMPLE.replace(
        "## What's next\nShip 1.0.\n", "## What's next\nShip 2.0.\n"
    )
    unterminated = GenomeDoc.parse(EXAMPLE.rstrip("\n")).with_section("What's next", "Ship 2.0.")
    assert unterminated.render() == EXAMPLE.rstrip("\n").replace("Ship 1.0.", "Ship 2.0.")


def test_with_section_fills_an_empty_section():
    doc = GenomeDoc.parse("---\nversion: 1\n---\n## A\n\n## B\nb\n## C")
    filled = doc.with_section("A", "a").with_section("C", "c")
    assert filled.render() == "---\nversion: 1\n---\n## A\na\n\n## B\nb\n## C\nc\n"
    assert filled.sections() == {"A": "a", "B": "b", "C": "c"}


@pytest.mark.parametrize(
    "body, expected",
    [
        ("", "## Risks\nnone\n"),
        ("# Genome\n", "# Genome\n\n## Risks\nnone\n"),
        ("# Genome\n\n", "# Genome\n\n## Risks\nnone\n"),
        ("# Genome", "# Genome\n\n## Risks\nnone\n"),
        ("# Genome\r\n", "# Genome\r\n\r\n## Risks\r\nnone\r\n"),
        ("# Genome\r\n\r\n", "# Genome\r\n\r\n## Risks\r\nnone\r\n"),
    ],
)
def test_with_section_appends_a_missing_section(body, expected):
    head = "---\r\nversion: 1\r\n---\r\n" if "\r" in body else "---\nversion: 1\n---\n"
    doc = GenomeDoc.parse(head + body).with_section("## Risks", "none")
    assert doc.render() == head + expected
    assert doc.sections()["Risks"] == "none"


def test_with_section_matches_headings_ignoring_spacing():
    doc = GenomeDoc.parse("---\nversion: 1\n---\n##  What's   proven  \nold\n")
    edited = doc.with_section("What's proven", "new")
    assert edited.render() == "---\nversion: 1\n---\n##  What's   proven  \nnew\n"


def test_with_section_on_crlf_writes_crlf_only():
    text = EXAMPLE.replace("\n", "\r\n")
    doc = GenomeDoc.parse(text)
    edited = doc.with_section("Mission", "Line one.\nLine two.").with_section("Risks", "a\nb")
    rendered = edited.render()
    assert "\n" not in rendered.replace("\r\n", "")
    assert (
        rendered
        == text.replace(
            "Make the fetcher reliable for people on bad networks.", "Line one.\r\nLine two."
        )
        + "\r\n## Risks\r\na\r\nb\r\n"
    )
    assert edited.sections()["Mission"] == "Line one.\r\nLine two."


def test_edits_do_not_touch_the_original_document():
    doc = GenomeDoc.parse(EXAMPLE)
    doc.with_section("Mission", "x").with_version(99)
    assert doc.render() == EXAMPLE and doc.version == 7


# --- text layer ----------------------------------------------------------------------------------


def test_decode_refuses_invalid_utf8_naming_the_line():
    with pytest.raises(GenomeFileError) as caught:
        decode("genome.md", "---\nversion: 1\n---\nna\u00efve\n".encode("latin-1"))
    assert (
        caught.value.line == 4
        and "UTF-8" in str(caught.value)
        and str(caught.value).startswith("genome.md:4:")
    )


def test_decode_refuses_a_nul_byte_as_binary():
    with pytest.raises(GenomeFileError) as caught:
        decode("levers.md", b"- [ ] L-001 a\n- [ ] L-002 b\x00\n")
    assert (
        caught.value.line == 2
        and "binary" in str(caught.value)
        and "git checkout" in caught.value.fix
    )


def test_decode_strips_a_bom_and_keeps_everything_else():
    assert decode("genome.md", "\ufeff---\r\nversion: 1\r\n".encode()) == "---\r\nversion: 1\r\n"
    assert decode("genome.md", "a\ufeffb".encode()) == "a\ufeffb"


def test_decode_refuses_files_over_the_limit_and_says_their_size():
    assert decode("genome.md", b"x" * MAX_FILE_BYTES) == "x" * MAX_FILE_BYTES
    with pytest.raises(GenomeFileError) as caught:
        decode("loop-prompt.md", b"x" * (MAX_FILE_BYTES + 1))
    error = caught.value
    assert error.line is None and str(error).startswith(
        "loop-prompt.md: file is 6 MB, over the 5 MB limit"
    )
    assert "archive" in error.fix


def test_split_frontmatter_keeps_head_plus_body_equal_to_text():
    text = "---\r\na: 1\r\n---  \r\nbody\n---\nmore"
    head, yaml_text, body = split_frontmatter("x.md", text)
    assert (head, yaml_text, body) == ("---\r\na: 1\r\n---  \r\n", "a: 1\r\n", "body\n---\nmore")


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("30m", 1800),
        ("1s", 1),
        ("2h", 7200),
        ("1d", 86400),
        (" 45 m ", 2700),
        ("90s", 90),
        ("7d", 604800),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "30", "m", "0m", "1.5h", "-5m", "30M", "1w", "30 minutes", "1h30m", None, 30]
)
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


# --- properties ----------------------------------------------------------------------------------

# characters a person might type on one line (no line breaks, nothing YAML refuses)
_LINE_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Zl", "Zp"), exclude_characters="\ufeff"
)
_words = st.text(st.sampled_from("abcdefghij XYZ'-_"), min_size=1, max_size=20).map(
    lambda s: " ".join(s.split())
)
_headings = _words.filter(bool)
_keys = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz_"), min_size=1, max_size=8).filter(
    lambda k: k[0] != "_" and k != "version"
)
_values = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["true", "null", "~", "1.5", "[a, b]", "{x: 1}", '""', "'q'", "2026-11-23"]),
    st.text(_LINE_CHARS.filter(lambda c: c not in '"\\'), max_size=15).map(lambda s: f'"{s}"'),
)
_comments = st.text(_LINE_CHARS, max_size=15)
_plain_lines = st.builds(
    lambda k, v, c: f"{k}: {v}" + (f"  # {c}" if c else ""), _keys, _values, _comments
)
_comment_lines = st.builds(lambda c: f"# {c}", _comments)


@st.composite
def front_lines(draw) -> list[str]:
    """Valid frontmatter lines with distinct keys, none of them a top-level version."""
    lines = []
    for key in draw(st.lists(_keys, unique=True, max_size=4)):
        value, comment = draw(_values), draw(_comments)
        if draw(
            st.booleans()
        ):  # an indented `version:` belongs to the nested mapping, not to the genome
            lines.append(f"{key}:\n  version: {value}\n  other: 1")
        else:
            lines.append(f"{key}: {value}" + (f"  # {comment}" if comment else ""))
        lines += draw(st.lists(st.one_of(_comment_lines, st.just("")), max_size=1))
    return lines


_body_lines = st.text(_LINE_CHARS, max_size=30).filter(lambda s: not s.startswith("## "))
_version_lines = st.builds(
    lambda n, space, c: f"version{space}: {n}" + (f" # {c}" if c is not None else ""),
    st.integers(1, 10**9),
    st.sampled_from(["", " "]),
    st.none() | _comments,
)


@st.composite
def genome_texts(draw) -> tuple[str, int, dict[str, str]]:
    """A valid genome.md with its version and sections (unique headings)."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    version_line = draw(_version_lines)
    version = int(re.search(r": (\d+)", version_line).group(1))
    front = draw(front_lines())
    front.insert(draw(st.integers(0, len(front))), version_line)
    headings = draw(st.lists(_headings, max_size=4, unique_by=str.lower))
    sections, body = {}, draw(st.lists(_body_lines, max_size=3))
    for heading in headings:
        text = draw(st.lists(_body_lines, max_size=3))
        body += [
            f"## {heading}",
            *[""] * draw(st.integers(0, 2)),
            *text,
            *[""] * draw(st.integers(0, 2)),
        ]
        sections[heading] = newline.join(text).strip("\r\n")
    final = draw(st.sampled_from([newline, ""]))
    text = "\n".join(["---", *front, "---", *body]).replace("\n", newline) + final
    return text, version, sections


_new_lines = st.text(_LINE_CHARS, min_size=1, max_size=20).filter(
    lambda s: not s.startswith("##") and s.strip()
)


def heading_lines(text: str) -> list[str]:
    return [line.rstrip("\r\n") for line in lines_of(text) if line.startswith("## ")]


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(genome_texts())
def test_property_valid_genome_round_trips(case):
    text, version, sections = case
    doc = GenomeDoc.parse(text)
    assert doc.render() == text
    assert doc.version == version
    assert doc.sections() == sections


@PROPERTY
@given(genome_texts(), st.integers(1, 10**6))
def test_property_with_version_changes_one_line_and_reads_back(case, new_version):
    text, version, _ = case
    bumped = GenomeDoc.parse(text).with_version(new_version)
    assert GenomeDoc.parse(bumped.render()).version == new_version
    diff = changes(text, bumped.render())
    assert len(diff) <= 1
    if diff:
        [(tag, old, new)] = diff
        assert tag == "replace" and len(old) == len(new) == 1
        assert old[0].replace(str(version), str(new_version), 1) == new[0]


@PROPERTY
@given(genome_texts(), st.data())
def test_property_with_section_rewrites_only_that_section(case, data):
    text, _, sections = case
    doc = GenomeDoc.parse(text)
    assert all(doc.with_section(h, t).render() == text for h, t in sections.items())
    heading = data.draw(
        st.one_of(st.sampled_from(sorted(sections)), _headings) if sections else _headings
    )
    new_text = "\n".join(data.draw(st.lists(_new_lines, max_size=3)))
    edited = GenomeDoc.parse(doc.with_section(heading, new_text).render())
    newline = "\r\n" if "\r\n" in text else "\n"
    expected = dict(sections)
    expected[heading] = new_text.replace("\n", newline)
    assert edited.sections() == expected
    assert edited.head.startswith(doc.head) and edited.version == doc.version
    before, after = heading_lines(text), heading_lines(edited.render())
    assert after in (before, before + [f"## {heading}"])


_YAML_BITS = st.sampled_from(
    [
        "version: 1",
        "version: 3 # c",
        "version : 2",
        "owner: ada",
        "k:",
        "list:",
        "  - a",
        "  nested: 1",
        "version: 0",
        "version: 2026-02-30",
        "version: !!int x",
        "version: *a",
        "a: &a 3",
        "version:",
        "  version: 2",
        "version: [",
        "{",
        "}",
        "? [a]",
        ": b",
        "- x",
        "version: 1.0",
        "---",
        "...",
        "%YAML 1.1",
        "!!binary x",
        "!!set {a}",
        "<<: {version: 4}",
        "<<: 3",
        "version: 1e3",
        "version: 0o7",
        "version: 1:30",
        "\t",
        "'",
        '"',
        "# c",
        "version: !!timestamp x",
        "x: \x07",
        "version: \ufeff1",
        "&b [*b]",
        '"version": 5',
        "version: 1_0",
    ]
)
# the line breaks YAML knows (and one it refuses), so the version line is looked for where YAML
# reads it
_BREAKS = st.one_of(st.just("\n"), st.sampled_from(["\r\n", "\r", "\x85", "\u2028", "\x0c"]))
_BOUNDARY_BREAKS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def frontmatter_like(draw) -> str:
    """Mostly-valid genome.md: a version line among valid lines and odd YAML, with any line
    breaks."""
    lines = draw(
        st.lists(
            st.one_of(_YAML_BITS, _plain_lines, _comment_lines, st.text(max_size=6)), max_size=4
        )
    )
    lines.insert(draw(st.integers(0, len(lines))), draw(_version_lines))
    text = "---" + draw(_BOUNDARY_BREAKS)
    for line in lines:
        text += line + draw(_BREAKS)
    return text + "---" + draw(_BOUNDARY_BREAKS) + draw(st.text(max_size=20))


@PROPERTY
@given(st.one_of(st.text(), frontmatter_like()))
def test_property_any_text_parses_or_raises_genome_file_error(text):
    try:
        doc = GenomeDoc.parse(text)
    except GenomeFileError as error:
        assert error.file == "genome.md" and error.problem and error.fix
        return
    assert doc.render() == text
    bumped = doc.with_version(doc.version + 1)
    assert GenomeDoc.parse(bumped.render()).version == doc.version + 1
