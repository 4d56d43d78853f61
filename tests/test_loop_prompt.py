"""loop-prompt.md: config validation with the line of the key at fault, the prompt and its lessons,
appending a lesson without disturbing the file, and picking the lessons that fit a prompt."""

from __future__ import annotations

import difflib
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genome.errors import GenomeFileError
from genome.loop_prompt import (
    Budget,
    Config,
    Gate,
    Lesson,
    LoopPromptDoc,
    Price,
    parse_config,
    select_lessons,
)

EXAMPLE = """\
---
# Settings for the runner.
model: claude-haiku-4-5    # the model
gates:
  - name: tests
    run: pytest -q
  - run: test -s dist/index.html
    timeout: 30
protected: ["tests/**", Makefile]
cadence: 2h
repair_rounds: 0
budget: {tick_usd: 0.5, day_usd: null, tick_turns: 12}
notify: ""
prices: {claude-haiku: {input: 1, output: 5.5}}
---
# Loop prompt

Work on one lever.

## Gates

Never weaken a gate.

## Lessons

- [v001 2026-01-01] Verify the artifact before you finish.
- [v002 2026-01-03] Read the first error, not the last.\x20\x20\x20
- a note without a version is not a lesson
- [v1 2026-01-04] a short version is not a lesson either
- [v010 2026-02-11] Start servers in the background and poll them.
"""


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def inserted_lines(before: str, after: str) -> list[str]:
    """The lines ``after`` adds to ``before``; fails the test on any other kind of change."""
    matcher = difflib.SequenceMatcher(a=lines_of(before), b=lines_of(after), autojunk=False)
    added = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        assert tag in ("equal", "insert"), (tag, lines_of(before)[i1:i2], lines_of(after)[j1:j2])
        if tag == "insert":
            added += lines_of(after)[j1:j2]
    return added


def config_error(yaml_text: str) -> GenomeFileError:
    with pytest.raises(GenomeFileError) as caught:
        LoopPromptDoc.parse(f"---\n{yaml_text}---\nprompt\n")
    error = caught.value
    assert error.file == "loop-prompt.md" and error.problem and error.fix
    assert str(error).startswith(f"loop-prompt.md:{error.line}: ")
    return error


# --- config --------------------------------------------------------------------------------------


def test_example_config_is_read_in_full():
    config = LoopPromptDoc.parse(EXAMPLE).config
    assert config.model == "claude-haiku-4-5"
    assert config.gates == (
        Gate("tests", "pytest -q", 600),
        Gate("gate-2", "test -s dist/index.html", 30),
    )
    assert config.protected == ("tests/**", "Makefile")
    assert config.cadence == "2h" and config.cadence_seconds == 7200
    assert config.repair_rounds == 0
    assert config.budget == Budget(tick_usd=0.5, day_usd=None, tick_turns=12)
    assert config.notify == ""
    assert config.prices == {"claude-haiku": Price(1.0, 5.5)}
    assert isinstance(config.prices["claude-haiku"].input, float)
    defaults = Config()
    assert (
        config.max_tokens,
        config.max_attempts,
        config.command_timeout,
        config.lessons_tokens,
        config.author,
    ) == (
        defaults.max_tokens,
        defaults.max_attempts,
        defaults.command_timeout,
        defaults.lessons_tokens,
        defaults.author,
    )


@pytest.mark.parametrize("yaml_text", ["", "# only a comment\n", "\n\n"])
def test_absent_keys_take_the_defaults(yaml_text):
    assert parse_config("loop-prompt.md", yaml_text) == Config()
    assert Config().budget == Budget() and Config().cadence_seconds == 1800


def test_partial_budget_keeps_the_other_defaults():
    budget = parse_config("loop-prompt.md", "budget: {day_usd: 3}\n").budget
    assert budget == Budget(day_usd=3.0) and budget.tick_usd == Budget().tick_usd


@pytest.mark.parametrize(
    "yaml_text, expected",
    [
        ("notify: null\n", {"notify": ""}),
        ("author: ~\n", {"author": ""}),
        ("repair_rounds: 0\nlessons_tokens: 0\n", {"repair_rounds": 0, "lessons_tokens": 0}),
        ("gates: []\nprotected: []\n", {"gates": (), "protected": ()}),
        ("push: true\n", {"push": True}),
        ("cadence: ' 45m '\n", {"cadence": " 45m "}),
    ],
)
def test_edge_values_that_are_accepted(yaml_text, expected):
    config = parse_config("loop-prompt.md", yaml_text)
    assert {key: getattr(config, key) for key in expected} == expected


def test_budget_nulls_mean_no_limit():
    budget = parse_config(
        "x", "budget: {tick_usd: null, day_usd: ~, week_usd: 7, tick_tokens: null}\n"
    ).budget
    assert budget == Budget(tick_usd=None, day_usd=None, week_usd=7.0, tick_tokens=None)


GATES = "gates:\n  - name: tests\n    run: pytest\n"

# (frontmatter lines put on line 4 and below, so the key at fault is on line 4; words of the error)
CONFIG_ERRORS = [
    ("modle: x\n", ["unknown setting `modle`", "model", "gates", "budget", "cadence"]),
    ("model: 3\n", ["`model` must be a text value"]),
    ("cadence: ''\n", ["`cadence` must be a text value"]),
    ("cadence: 30\n", ["`cadence` must be a text value"]),
    ("cadence: 30x\n", ["`cadence` '30x' is not a duration", "30m"]),
    ("cadence: 0m\n", ["is not a duration"]),
    ("cadence: 1.5h\n", ["is not a duration"]),
    ("notify: [a]\n", ["`notify` must be a text value"]),
    ("author: 5\n", ["`author` must be a text value"]),
    ("max_tokens: 0\n", ["`max_tokens` must be a whole number of at least 1, not 0"]),
    ("max_tokens: many\n", ["`max_tokens` must be a whole number"]),
    ("max_tokens: 1.5\n", ["`max_tokens`", "1.5"]),
    ("max_tokens: true\n", ["`max_tokens`", "True"]),
    ("repair_rounds: -1\n", ["`repair_rounds` must be a whole number of at least 0, not -1"]),
    ("max_attempts: 0\n", ["`max_attempts` must be a whole number of at least 1"]),
    ("command_timeout: -30\n", ["`command_timeout`", "-30"]),
    ("lessons_tokens: -5\n", ["`lessons_tokens` must be a whole number of at least 0"]),
    ("gates: pytest -q\n", ["`gates` must be a list", "run: pytest -q"]),
    ("gates: {name: tests, run: pytest}\n", ["`gates` must be a list"]),
    ("gates:\n", ["`gates` must be a list"]),
    ("gates:\n  - pytest -q\n", ["gate 1 must be a mapping with `name` and `run`"]),
    ("gates:\n  - name: tests\n", ["gate 1 has no `run` command", "run: <shell command>"]),
    (
        "gates:\n  - name: a\n    run: x\n  - name: b\n    run: '  '\n",
        ["gate 2 has no `run` command"],
    ),
    (
        "gates:\n  - name: tests\n    run: 5\n",
        ["gate 1 `run` is a number (5) to YAML", "Quote the command"],
    ),
    (
        "gates:\n  - name: ok\n    run: true\n",
        [
            "gate 1 `run` is a boolean (True) to YAML, not a command",
            "Quote the command",
            'run: "true"',
        ],
    ),
    ("gates:\n  - name: ok\n    run: yes\n", ["gate 1 `run` is a boolean (True)", "Quote"]),
    (GATES + "  - name: tests\n    run: make\n", ["two gates are named `tests`"]),
    ("gates:\n  - run: a\n  - name: gate-1\n    run: b\n", ["two gates are named `gate-1`"]),
    (
        GATES.replace("run:", "cmd: x\n    run:"),
        ["gate 1 has unknown key(s) cmd", "`name`, `run`, `timeout`, `metric`"],
    ),
    ("gates:\n  - name: two words\n    run: x\n", ["gate 1 name 'two words' must be one word"]),
    ("gates:\n  - name: 5\n    run: x\n", ["gate 1 name 5"]),
    (
        GATES + "    timeout: 0\n",
        ["`gates.timeout` must be a whole number of at least 1", "`timeout: 1`"],
    ),
    (GATES + "    timeout: soon\n", ["`gates.timeout`", "'soon'"]),
    ("protected: tests/**\n", ["`protected` must be a list", "protected: ["]),
    ("protected: ['']\n", ["`protected` must be a list"]),
    ("protected: [1]\n", ["`protected` must be a list"]),
    ("push: maybe\n", ["`push` must be true or false"]),
    ("budget: 5\n", ["`budget` must be a mapping"]),
    (
        "budget: {monthly_usd: 5}\n",
        ["unknown budget key(s) monthly_usd", "day_usd", "tick_turns", "week_usd"],
    ),
    (
        "budget:\n  tick_usd: -1\n",
        ["`budget.tick_usd` must be a number of at least 0, not -1", "`tick_usd: 1.5`"],
    ),
    ("budget: {day_usd: ten}\n", ["`budget.day_usd`", "'ten'"]),
    ("budget: {week_usd: true}\n", ["`budget.week_usd`"]),
    ("budget: {tick_usd: .nan}\n", ["`budget.tick_usd`", "nan"]),
    ("budget: {tick_turns: 0}\n", ["`budget.tick_turns` must be a whole number of at least 1"]),
    ("budget: {tick_minutes: 1.5}\n", ["`budget.tick_minutes`"]),
    ("budget: {tick_tokens: 0}\n", ["`budget.tick_tokens`"]),
    ("prices: [a]\n", ["`prices` must be a mapping", "input: 3.0"]),
    ("prices: {claude: 3}\n", ["price for `claude` needs `input` and `output`"]),
    ("prices: {claude: {input: 3}}\n", ["needs `input` and `output`"]),
    (
        "prices: {claude: {input: 3, output: 1, cache: 2}}\n",
        ["optionally `cache_read`, `cache_write`"],
    ),
    (
        "prices: {claude: {input: 3, output: 1, cache_read: -1}}\n",
        ["`prices.cache_read` must be a number"],
    ),
    ("effort: extreme\n", ["`effort` must be one of low, medium, high, xhigh, max, not 'extreme'"]),
    (
        "prices: {claude: {input: -3, output: 1}}\n",
        ["`prices.input` must be a number of at least 0", "`input: 1.5`"],
    ),
    ("prices: {claude: {input: 3, output: x}}\n", ["`prices.output`"]),
]


@pytest.mark.parametrize("lines, words", CONFIG_ERRORS)
def test_config_error_points_at_the_key_and_says_the_fix(lines, words):
    error = config_error(f"# settings\n\n{lines}# more\n")
    assert error.line == 4, str(error)
    for word in words:
        assert word in str(error)


def test_a_setting_written_twice_is_refused_at_the_second():
    # YAML would keep the last `gates:` silently, dropping the gates the person wrote first
    error = config_error(GATES + "model: m\ngates: []\n")
    assert error.line == 6 and "`gates` is set twice, on lines 2 and 6" in str(error)


def test_config_error_lines_in_a_crlf_file():
    text = "---\r\n# a\r\n\r\nmodel: m\r\nbudget:\r\n  tick_turns: 0\r\n---\r\nprompt\r\n"
    with pytest.raises(GenomeFileError) as caught:
        LoopPromptDoc.parse(text)
    assert caught.value.line == 5


@pytest.mark.parametrize(
    "yaml_text, line, words",
    [
        ("- model\n", 2, "mapping"),
        ("model: [x\n", 3, "not valid YAML"),
        ("model: m\nbudget: {tick_usd: 2026-02-30}\n", 3, "2026-02-30"),
        ("? [a, b]\n: 1\n", 2, "not valid YAML"),
        ("null: 1\n", 2, "unknown setting `None`"),
    ],
)
def test_config_frontmatter_that_is_not_a_config(yaml_text, line, words):
    error = config_error(yaml_text)
    assert error.line == line and words in str(error)


def test_missing_frontmatter_is_an_error_naming_the_file():
    with pytest.raises(GenomeFileError) as caught:
        LoopPromptDoc.parse("# Loop prompt\n")
    assert str(caught.value).startswith("loop-prompt.md:1: ")


# --- prompt and lessons --------------------------------------------------------------------------


def test_render_of_parse_is_the_same_text():
    for text in (
        EXAMPLE,
        EXAMPLE.replace("\n", "\r\n"),
        EXAMPLE.rstrip("\n"),
        "---\n---\n",
        "---\n---",
    ):
        assert LoopPromptDoc.parse(text).render() == text


def test_prompt_is_the_body_without_the_lessons():
    doc = LoopPromptDoc.parse(EXAMPLE)
    assert doc.prompt == "# Loop prompt\n\nWork on one lever.\n\n## Gates\n\nNever weaken a gate.\n"
    assert "Verify the artifact" not in doc.prompt
    bare = LoopPromptDoc.parse("---\n---\n\n  Just do it.  \n\n")
    assert bare.prompt == "Just do it.\n" and bare.lessons == []


def test_lessons_are_the_tagged_lines_of_the_lessons_section():
    assert LoopPromptDoc.parse(EXAMPLE).lessons == [
        Lesson("v001", "2026-01-01", "Verify the artifact before you finish."),
        Lesson("v002", "2026-01-03", "Read the first error, not the last."),
        Lesson("v010", "2026-02-11", "Start servers in the background and poll them."),
    ]
    assert [
        lesson.text for lesson in LoopPromptDoc.parse(EXAMPLE.replace("\n", "\r\n")).lessons
    ] == [
        "Verify the artifact before you finish.",
        "Read the first error, not the last.",
        "Start servers in the background and poll them.",
    ]


def test_lessons_stop_at_the_next_section():
    doc = LoopPromptDoc.parse(
        "---\n---\n## Lessons\n- [v001 2026-01-01] kept\n\n## Notes\n"
        "- [v002 2026-01-02] a note that only looks like a lesson\n"
    )
    assert [lesson.text for lesson in doc.lessons] == ["kept"]
    added = doc.with_lesson(Lesson("v003", "2026-01-03", "A note that only looks like a lesson"))
    assert [lesson.text for lesson in added.lessons] == [
        "kept",
        "A note that only looks like a lesson",
    ]


def test_with_lesson_appends_one_line_after_the_last_lesson():
    doc = LoopPromptDoc.parse(EXAMPLE)
    added = doc.with_lesson(Lesson("v011", "2026-02-12", "Pin   the\ntool versions."))
    assert inserted_lines(EXAMPLE, added.render()) == ["- [v011 2026-02-12] Pin the tool versions."]
    assert added.render().endswith("poll them.\n- [v011 2026-02-12] Pin the tool versions.\n")
    assert added.lessons == doc.lessons + [Lesson("v011", "2026-02-12", "Pin the tool versions.")]
    assert added.config == doc.config and added.head == doc.head


def test_with_lesson_keeps_text_after_the_list():
    text = (
        "---\n---\nprompt\n\n## Lessons\n\n- [v001 2026-01-01] one\n  continued on a second line\n"
        "* a hand-written item\n\n<!-- the runner appends above this line -->\n\n## Archive\nold\n"
    )
    added = LoopPromptDoc.parse(text).with_lesson(Lesson("v002", "2026-01-02", "two"))
    assert added.render() == text.replace(
        "* a hand-written item\n", "* a hand-written item\n- [v002 2026-01-02] two\n"
    )


def test_with_lesson_dedupes_ignoring_case_and_spacing():
    doc = LoopPromptDoc.parse(EXAMPLE)
    for text in (
        "verify THE artifact   before you finish.",
        "  Read the first error,\nnot the last. ",
        "",
        "  \n",
    ):
        assert doc.with_lesson(Lesson("v020", "2026-03-01", text)).render() == EXAMPLE


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "# Loop prompt\n\nWork.\n",
            "# Loop prompt\n\nWork.\n\n## Lessons\n\n- [v001 2026-01-01] new\n",
        ),
        (
            "# Loop prompt\n\nWork.",
            "# Loop prompt\n\nWork.\n\n## Lessons\n\n- [v001 2026-01-01] new\n",
        ),
        ("Work.\n\n\n", "Work.\n\n## Lessons\n\n- [v001 2026-01-01] new\n"),
        ("Work.\r\n", "Work.\r\n\r\n## Lessons\r\n\r\n- [v001 2026-01-01] new\r\n"),
        ("Work.\n\n## Lessons\n", "Work.\n\n## Lessons\n\n- [v001 2026-01-01] new\n"),
        ("Work.\n\n## Lessons", "Work.\n\n## Lessons\n\n- [v001 2026-01-01] new\n"),
        ("## Lessons\n\n\n## Next\n", "## Lessons\n\n- [v001 2026-01-01] new\n\n## Next\n"),
        ("## Lessons\nNewest last.\n", "## Lessons\nNewest last.\n\n- [v001 2026-01-01] new\n"),
        (
            "## Lessons\r\n\r\n- [v000 2025-12-31] old\r\n",
            "## Lessons\r\n\r\n- [v000 2025-12-31] old\r\n- [v001 2026-01-01] new\r\n",
        ),
        (
            "## Lessons\n- [v000 2025-12-31] old",
            "## Lessons\n- [v000 2025-12-31] old\n- [v001 2026-01-01] new\n",
        ),
    ],
)
def test_with_lesson_creates_or_starts_the_list(body, expected):
    head = "---\nmodel: m\n---\n"
    added = LoopPromptDoc.parse(head + body).with_lesson(Lesson("v001", "2026-01-01", "new"))
    assert added.render() == head + expected
    assert added.lessons[-1] == Lesson("v001", "2026-01-01", "new")


def test_with_lesson_leaves_the_original_alone():
    doc = LoopPromptDoc.parse(EXAMPLE)
    doc.with_lesson(Lesson("v099", "2026-05-05", "something new"))
    assert doc.render() == EXAMPLE and len(doc.lessons) == 3


# --- select_lessons ------------------------------------------------------------------------------


def cost(lessons: list[Lesson]) -> int:
    return sum(len(lesson.render()) // 4 + 1 for lesson in lessons)


def numbered(texts: list[str]) -> list[Lesson]:
    return [Lesson(f"v{i + 1:03d}", "2026-01-01", text) for i, text in enumerate(texts)]


def test_select_lessons_prefers_relevant_then_recent_and_keeps_file_order():
    lessons = numbered(
        [
            "Retry the fetcher with exponential backoff on timeouts.",  # relevant, old
            "Keep commit messages short and factual, always.",
            "Render the report with escaped HTML entities please.",
            "Format dates as ISO-8601 in every single output.",  # newest, irrelevant
        ]
    )
    one = cost(lessons[:1])
    assert select_lessons(lessons, "Add retries to the fetcher", one) == [lessons[0]]
    # with nothing relevant, the newest that fit go in
    assert select_lessons(lessons, "Unrelated words", cost(lessons[2:])) == lessons[2:]
    # two relevant ones beat a newer irrelevant one, and come back in file order
    picked = select_lessons(
        lessons, "fetcher timeouts and escaped HTML report", cost([lessons[0], lessons[2]])
    )
    assert picked == [lessons[0], lessons[2]]
    assert select_lessons(lessons, "anything", 10_000) == lessons


def test_select_lessons_ranks_by_number_of_shared_words():
    lessons = numbered(["fetcher only here", "fetcher timeouts backoff together", "nothing shared"])
    assert select_lessons(lessons, "fetcher timeouts backoff", cost(lessons[1:2])) == [lessons[1]]


def test_select_lessons_skips_what_does_not_fit_and_takes_smaller_ones():
    lessons = numbered(["short one", "a much longer lesson " * 20, "tiny"])
    picked = select_lessons(lessons, "", cost([lessons[0], lessons[2]]))
    assert picked == [lessons[0], lessons[2]]


@pytest.mark.parametrize("budget", [0, -5])
def test_select_lessons_with_no_budget_is_empty(budget):
    assert select_lessons(numbered(["a lesson"]), "lesson", budget) == []


def test_select_lessons_stays_bounded_with_2000_lessons():
    lessons = numbered(
        [f"Lesson number {i} about topic{i % 50} and the fetcher{i % 7}." for i in range(2000)]
    )
    started = time.perf_counter()
    picked = select_lessons(lessons, "work on topic7 and fetcher3", 1500)
    elapsed = time.perf_counter() - started
    assert 0 < cost(picked) <= 1500 and len(picked) < 200
    assert elapsed < 2.0
    assert picked == sorted(picked, key=lessons.index)
    # the most relevant ones (sharing both words) are all in before any less relevant one
    both = [lesson for lesson in lessons if "topic7 " in lesson.text and "fetcher3." in lesson.text]
    assert both and all(lesson in picked for lesson in both)


# --- properties ----------------------------------------------------------------------------------

_LINE_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Zl", "Zp"), exclude_characters="\ufeff"
)
_names = st.text(st.sampled_from("abcxyz019-_."), min_size=1, max_size=8)
_plain = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_./*"), min_size=1, max_size=12
).filter(lambda s: s[0].isalpha())
# cents as a float keep a decimal point in repr(), so YAML 1.1 reads them as floats
_money = st.one_of(st.integers(0, 1000), st.integers(0, 10**5).map(lambda cents: cents / 100))


def _yaml_number(value: float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


@st.composite
def _gates(draw) -> tuple[str, tuple[Gate, ...]]:
    """A gates list; unnamed gates get `gate-N`, which the name alphabet here can never spell."""
    names = draw(st.lists(_names, min_size=1, max_size=3, unique=True))
    lines, gates = ["gates:   # shell commands"], []
    for i, name in enumerate(names, 1):
        run, timeout, named = (
            draw(_plain),
            draw(st.none() | st.integers(1, 10_000)),
            draw(st.booleans()),
        )
        lines += [f"  - name: '{name}'" if named else "  -", f"    run: '{run}'"]
        if timeout is not None:
            lines.append(f"    timeout: {timeout}")
        gates.append(Gate(name if named else f"gate-{i}", run, 600 if timeout is None else timeout))
    return "\n".join(lines), tuple(gates)


@st.composite
def _budget(draw) -> tuple[str, Budget]:
    values = {}
    for key in draw(st.lists(st.sampled_from(["tick_usd", "day_usd", "week_usd"]), unique=True)):
        values[key] = draw(st.none() | _money)
    for key in draw(st.lists(st.sampled_from(["tick_turns", "tick_minutes"]), unique=True)):
        values[key] = draw(st.integers(1, 500))
    if draw(st.booleans()):
        values["tick_tokens"] = draw(st.none() | st.integers(1, 10**7))
    pairs = ", ".join(f"{k}: {'null' if v is None else _yaml_number(v)}" for k, v in values.items())
    expected = {
        k: (float(v) if k.endswith("_usd") and v is not None else v) for k, v in values.items()
    }
    return f"budget: {{{pairs}}}", Budget(**expected)


_CONFIG_KEYS = {
    "model": _plain.map(lambda s: (f"model: '{s}'", s)),
    "max_tokens": st.integers(1, 10**6).map(lambda n: (f"max_tokens: {n}", n)),
    "cadence": st.tuples(st.integers(1, 99), st.sampled_from("smhd")).map(
        lambda p: (f"cadence: {p[0]}{p[1]}", f"{p[0]}{p[1]}")
    ),
    "repair_rounds": st.integers(0, 9).map(lambda n: (f"repair_rounds: {n}", n)),
    "max_attempts": st.integers(1, 9).map(lambda n: (f"max_attempts: {n}", n)),
    "command_timeout": st.integers(1, 10**5).map(lambda n: (f"command_timeout: {n}", n)),
    "lessons_tokens": st.integers(0, 10**5).map(lambda n: (f"lessons_tokens: {n}", n)),
    "notify": st.sampled_from(
        [("notify: ''", ""), ('notify: "cat > /tmp/x"', "cat > /tmp/x"), ("notify:", "")]
    ),
    "author": st.sampled_from(
        [('author: "Ada <ada@example.org>"', "Ada <ada@example.org>"), ("author: ~", "")]
    ),
    "protected": st.lists(_plain, max_size=3).map(
        lambda globs: (f"protected: [{', '.join(repr(g) for g in globs)}]", tuple(globs))
    ),
    "push": st.booleans().map(lambda b: (f"push: {str(b).lower()}", b)),
    "gates": _gates(),
    "budget": _budget(),
    "prices": st.dictionaries(_plain, st.tuples(_money, _money), max_size=2).map(
        lambda prices: (
            "prices:\n"
            + "\n".join(
                f"  '{k}': {{input: {_yaml_number(i)}, output: {_yaml_number(o)}}}"
                for k, (i, o) in prices.items()
            )
            if prices
            else "prices: {}",
            {k: Price(float(i), float(o)) for k, (i, o) in prices.items()},
        )
    ),
}
_comments = st.text(_LINE_CHARS, max_size=15)
_body_lines = st.text(_LINE_CHARS, max_size=30).filter(lambda s: not s.startswith("## "))
_lesson_texts = (
    st.text(_LINE_CHARS, min_size=1, max_size=40).map(lambda s: " ".join(s.split())).filter(bool)
)
_lessons = st.builds(
    Lesson,
    st.integers(0, 9999).map(lambda n: f"v{n:03d}"),
    st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
    _lesson_texts,
)


@st.composite
def loop_prompt_texts(draw) -> tuple[str, Config, list[Lesson], str]:
    """A valid loop-prompt.md with the config, lessons and prompt it must parse to."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    keys = draw(st.lists(st.sampled_from(sorted(_CONFIG_KEYS)), unique=True))
    front, values = [], {}
    for key in keys:
        line, value = draw(_CONFIG_KEYS[key])
        comment = draw(st.none() | _comments)
        if comment is not None and "\n" not in line:
            line += f"   # {comment}"
        front.append(line)
        values[key] = value
        if draw(st.booleans()):
            front.append(draw(st.sampled_from(["", "# a comment line"])))
    prompt = draw(st.lists(_body_lines, max_size=4))
    body, lessons = list(prompt), []
    if draw(st.booleans()):
        body += ["## Lessons", *[""] * draw(st.integers(0, 1))]
        lessons = draw(st.lists(_lessons, max_size=5))
        body += [lesson.render() + draw(st.sampled_from(["", " ", "\t"])) for lesson in lessons]
        body += draw(
            st.lists(_body_lines.filter(lambda s: not s.startswith(("- ", "* "))), max_size=2)
        )
        if draw(st.booleans()):
            body += ["## Archive", draw(_lessons).render()]
    text = "\n".join(["---", *front, "---", *body]).replace("\n", newline) + draw(
        st.sampled_from([newline, ""])
    )
    return text, Config(**values), lessons, newline.join(prompt).strip() + "\n"


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(loop_prompt_texts())
def test_property_valid_loop_prompt_round_trips(case):
    text, config, lessons, prompt = case
    doc = LoopPromptDoc.parse(text)
    assert doc.render() == text
    assert doc.config == config
    assert doc.lessons == lessons
    assert doc.prompt == prompt


@PROPERTY
@given(loop_prompt_texts(), _lessons)
def test_property_with_lesson_adds_one_lesson_and_keeps_the_rest(case, lesson):
    text, config, lessons, prompt = case
    doc = LoopPromptDoc.parse(text)
    added = doc.with_lesson(lesson)
    if lesson.text.lower() in {known.text.lower() for known in lessons}:
        assert added.render() == text
        return
    again = LoopPromptDoc.parse(added.render())
    assert again.lessons == lessons + [lesson]
    assert again.config == config and again.prompt == prompt
    newline = "\r\n" if "\r\n" in text else "\n"
    if lessons:
        assert inserted_lines(text, added.render()) == [lesson.render()]
    elif "## Lessons" in doc.body.splitlines():  # a section with no lessons yet
        assert inserted_lines(text, added.render()) in ([lesson.render()], ["", lesson.render()])
    else:
        assert added.render().startswith(text.rstrip("\r\n"))
        assert added.render().endswith(f"## Lessons{newline}{newline}{lesson.render()}{newline}")
    assert added.with_lesson(lesson).render() == added.render()
    if "\r\n" in text:
        assert "\n" not in added.render().replace("\r\n", "")


_CONFIG_BITS = st.sampled_from(
    [
        "model: 3",
        "model: ''",
        "gates: x",
        "gates: [1]",
        "gates: [{run: a}, {run: b}]",
        "gates: [{name: a, run: x}, {name: a, run: y}]",
        "gates: [{run: x, timeout: .nan}]",
        "gates: [{1: x, run: y}]",
        "gates:\n  - run: a\n    name: [x]",
        "budget: {tick_usd: .nan}",
        "budget: {tick_usd: .inf}",
        "budget: []",
        "budget: {1: 2}",
        "budget: {tick_tokens: ~}",
        "prices: {a: {input: 1, output: .nan}}",
        "prices: {? [a] : 1}",
        "prices: {1: {input: 1, output: 2}}",
        "protected: [null]",
        "protected: [a, ~]",
        "cadence: 1.5h",
        "cadence: !!str 30m",
        "push: yes",
        "push: 2026-01-01",
        "notify: ~",
        "author:",
        "lessons_tokens: 0",
        "max_tokens: 1e9",
        "? [a]: 1",
        "null: 1",
        "1.5: x",
        "max_tokens: 99999999999999999999999",
        "<<: {model: m}",
        "model: !!binary aGk=",
        "cadence: 2026-02-30",
        "model: &m x",
        "notify: *m",
        "budget: {tick_usd: 1e400}",
    ]
)
_BREAKS = st.one_of(st.just("\n"), st.sampled_from(["\r\n", "\r", "\x85", "\u2028"]))
_BOUNDARY_BREAKS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def config_like(draw) -> str:
    """Frontmatter made of odd but plausible config lines, joined by any line break."""
    text = "---" + draw(_BOUNDARY_BREAKS)
    for line in draw(
        st.lists(st.one_of(_CONFIG_BITS, _CONFIG_BITS, st.text(max_size=8)), max_size=5)
    ):
        text += line + draw(_BREAKS)
    return text + "---" + draw(_BOUNDARY_BREAKS) + draw(st.text(max_size=30))


@PROPERTY
@given(st.one_of(st.text(), config_like()))
def test_property_any_text_parses_or_raises_genome_file_error(text):
    try:
        doc = LoopPromptDoc.parse(text)
    except GenomeFileError as error:
        assert error.file == "loop-prompt.md" and error.problem and error.fix
        return
    assert doc.render() == text
    assert isinstance(doc.prompt, str) and all(isinstance(lesson, Lesson) for lesson in doc.lessons)
    added = doc.with_lesson(Lesson("v001", "2026-01-01", "a lesson nobody wrote yet"))
    assert LoopPromptDoc.parse(added.render()).lessons[-1].text == "a lesson nobody wrote yet"
