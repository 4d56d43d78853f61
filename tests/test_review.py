"""`genome review` and `genome status` on a real history: a git repository in which the real tick
ran eight times (green, red until blocked, budget stop, model outage, all blocked) with a scripted
model."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from genome.journal import parse_entries
from runner import feedback
from runner.cli_review import review as review_command
from runner.cli_review import status as status_command
from runner.errors import BudgetSpent, ModelUnavailable, UsageError
from runner.init import init_project
from runner.review import build_review, render_html, render_markdown, render_text
from runner.review.data import PLACEHOLDER_MISSION
from runner.schedule import Host, systemd_paths
from runner.scripted import ScriptedModel, error_reply, text_reply, tool_reply
from runner.status import gather, render
from runner.tick import run_tick
from tests.conftest import LEVERS, commit_all, git

# Every tick of the history runs at a time of today (UTC), so the default 24-hour window holds it.
T0 = datetime.now(timezone.utc).replace(hour=1, minute=0, second=0, microsecond=0)
ARTIFACTS = Path(__file__).parent / "artifacts"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def reflect(lesson=None, genome=None, levers=None):
    return tool_reply("reflect", {"lesson": lesson, "genome": genome, "levers": levers or []})


def write(path, content, usage=None):
    return tool_reply("write_file", {"path": path, "content": content}, usage=usage)


# The story, one script per tick, 30 minutes apart.
STORY = [
    (
        "shipped",
        [
            write("greeting.txt", "hello\n"),
            text_reply("Wrote greeting.txt; the grep check passes."),
            reflect(
                lesson="Check the exact line with grep -x, not a substring.",
                genome={"What's proven": "greeting.txt says hello; its check runs every tick."},
                levers=[
                    {"title": "Add a README", "check": ["test -s README.md"]},
                    {"title": "Start a changelog", "check": ["grep -q '^## ' CHANGELOG.md"]},
                ],
            ),
        ],
    ),
    (
        "failed",
        [
            write("farewell.txt", "ciao\n"),
            text_reply("Wrote farewell.txt."),
            text_reply("I do not see what is wrong."),
            reflect(),
        ],
    ),
    (
        "failed",
        [
            write("farewell.txt", "adieu\n"),
            text_reply("Wrote farewell.txt."),
            text_reply("Still unsure."),
            reflect(lesson="Read the check before writing the artifact."),
        ],
    ),
    (
        "shipped",
        [
            write("README.md", "# Project\n\nSays hello.\n"),
            text_reply("Added README.md."),
            reflect(genome={"What's next": "Ship the changelog, then the CLI."}),
        ],
    ),
    (
        "budget",
        [
            write(
                "CHANGELOG.md", "## 0.1\n", usage={"input_tokens": 200_000, "output_tokens": 1000}
            ),
            tool_reply("read_file", {"path": "CHANGELOG.md"}),
        ],
    ),
    (
        "unavailable",
        [write("CHANGELOG.md", "## 0.1\n"), error_reply(529, "overloaded_error", "Overloaded")],
    ),
    (
        "shipped",
        [
            write("CHANGELOG.md", "## 0.1\n\n- greeting, README\n"),
            write("src/hello.py", 'def greet():\n    return "hello"  # the greeting\n'),
            text_reply("Started the changelog."),
            reflect(),
        ],
    ),
    ("blocked", []),  # every lever left is blocked: the tick says so once and spends nothing
]


def tick_time(index: int) -> datetime:
    return T0 + timedelta(minutes=30 * index)


def run_story(root: Path, monkeypatch) -> list:
    records = []
    for index, (expected, script) in enumerate(STORY):
        when = tick_time(index)
        # Commits carry the tick's time, as they do when a timer runs the tick.
        stamp = (when + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        monkeypatch.setenv("GIT_AUTHOR_DATE", stamp)
        monkeypatch.setenv("GIT_COMMITTER_DATE", stamp)
        model = ScriptedModel(script)
        try:
            result = run_tick(root, make_model=lambda config, model=model: model, now=when)
            outcome = result.outcome
        except BudgetSpent:
            outcome = "budget"
        except ModelUnavailable:
            outcome = "unavailable"
        assert outcome == expected, f"tick {index}"
        records.append(outcome)
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    return records


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """The project after the story; shared by the tests, which only read it (or write under
    .genome/)."""
    home = tmp_path_factory.mktemp("history-home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Person\n\temail = person@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in (
            ("HOME", home),
            ("XDG_CONFIG_HOME", home / ".config"),
            ("GIT_CONFIG_GLOBAL", home / ".gitconfig"),
            ("ANTHROPIC_CONFIG_DIR", home / ".a"),
        ):
            monkeypatch.setenv(name, str(value))
        monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        root = tmp_path_factory.mktemp("history") / "project"
        root.mkdir()
        git(root, "init", "-q")
        monkeypatch.setenv("GIT_AUTHOR_DATE", (T0 - timedelta(hours=1)).isoformat())
        monkeypatch.setenv("GIT_COMMITTER_DATE", (T0 - timedelta(hours=1)).isoformat())
        init_project(root)
        (root / "levers.md").write_text(LEVERS)
        text = (root / "loop-prompt.md").read_text()
        (root / "loop-prompt.md").write_text(
            text.replace("max_attempts: 3", "max_attempts: 2").replace(
                "tick_usd: 1.0", "tick_usd: 0.5"
            )
        )
        commit_all(root, "two levers; block after two failures")
        run_story(root, monkeypatch)
    return root


@pytest.fixture
def fake_crontab(tmp_path, monkeypatch):
    """`crontab -l` answers from a file in tmp_path: the real crontab is never read."""
    tab = tmp_path / "crontab.txt"
    script = tmp_path / "crontab"
    script.write_text(
        f"#!/bin/sh\nif [ -s {tab} ]; then cat {tab}; else echo 'no crontab for tester' >&2; exit "
        "1; fi\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("GENOME_CRONTAB", str(script))
    return tab


def trailer_costs(root: Path) -> list[float]:
    out = git(
        root,
        "log",
        "--format=%(trailers:key=Outcome,valueonly)%x1f%(trailers:key=Cost-USD,valueonly)%x1e",
    )
    pairs = [entry.split("\x1f") for entry in out.split("\x1e") if "\x1f" in entry]
    return [float(cost) for outcome, cost in pairs if outcome.strip()]


# ------------------------------------------------------------------------------------------- review


def test_review_tells_the_whole_story(history):
    review = build_review(history, "24h")
    assert [t.record.outcome for t in review.ticks] == [outcome for outcome, _ in STORY]
    assert [t.started for t in review.ticks] == [tick_time(i) for i in range(len(STORY))]
    # shown at the minute its record was committed, as `genome status` shows it
    assert [t.at for t in review.ticks] == [
        tick_time(i) + timedelta(minutes=2) for i in range(len(STORY))
    ]
    assert [t.record.lever for t in review.ticks] == [
        "L-001",
        "L-002",
        "L-002",
        "L-003",
        "L-004",
        "L-004",
        "L-004",
        "",
    ]
    assert [(s.lever, s.title, [f.path for f in s.files]) for s in review.shipped] == [
        ("L-001", "Add a greeting file", ["greeting.txt"]),
        ("L-003", "Add a README", ["README.md"]),
        ("L-004", "Start a changelog", ["CHANGELOG.md", "src/hello.py"]),
    ]
    code_commits = [
        line.split()[0]
        for line in git(history, "log", "--reverse", "--format=%H %s").splitlines()
        if line.split()[1].startswith("L-")
    ]
    assert [s.sha for s in review.shipped] == code_commits
    assert (
        review.shipped[0].gates.startswith("diff-check ok 0.")
        and "check-1 ok" in review.shipped[0].gates
    )
    assert (review.shipped[2].added, review.shipped[2].deleted) == (5, 0)
    [blocked] = review.blocked
    assert blocked.lever == "L-002" and blocked.why.endswith(
        "gate check-1 failed (attempt 2/2): blocked"
    )
    assert [t.record.reason for t in review.failed] == ["gate check-1 failed"] * 2
    assert [(p.lever, p.title, p.checks) for p in review.proposed] == [
        ("L-003", "Add a README", ["test -s README.md"]),
        ("L-004", "Start a changelog", ["grep -q '^## ' CHANGELOG.md"]),
    ]
    assert [lesson.text for lesson in review.lessons] == [
        "Check the exact line with grep -x, not a substring.",
        "Read the check before writing the artifact.",
    ]
    assert round(review.cost, 4) == round(sum(trailer_costs(history)), 4) and review.cost > 0
    journal = [
        e for p in sorted((history / "journal").rglob("*.md")) for e in parse_entries(p.read_text())
    ]
    assert review.tokens == sum(e.tokens for e in journal)


def test_genome_diff_runs_from_the_first_version_to_the_last(history):
    change = build_review(history, "24h").genome
    assert (change.before, change.after) == ("v001", "v003")
    assert change.diff[:2] == ["--- genome.md v001", "+++ genome.md v003"]
    assert "+greeting.txt says hello; its check runs every tick." in change.diff
    assert "+Ship the changelog, then the CLI." in change.diff
    assert any(line.startswith("-<!-- Replace this line: facts") for line in change.diff)
    assert not any("version" in line for line in change.diff)  # the body only


def test_needs_person_names_the_blocked_lever_and_the_stops(history):
    placeholder, *items = build_review(history, "24h").needs_person
    assert placeholder == PLACEHOLDER_MISSION  # the story never wrote a mission
    assert len(items) == 3
    assert items[0].startswith("L-002 Add a farewell file is blocked (") and items[0].endswith(
        "(attempt 2/2): blocked): `genome retry L-002 --hint TEXT` reopens it with a hint for the "
        "next "
        "attempt; `genome drop L-002` drops it"
    )
    budget_at, outage_at = tick_time(4) + timedelta(minutes=2), tick_time(5) + timedelta(minutes=2)
    assert items[1].startswith(
        f"budget stop (at {budget_at:%Y-%m-%d %H:%M}Z): the tick budget would be crossed"
    )
    assert (
        items[2].startswith(f"the model was unavailable (at {outage_at:%Y-%m-%d %H:%M}Z): ")
        and "529" in items[2]
    )


def test_an_idle_last_tick_asks_for_levers(project):
    (project / "levers.md").write_text("# Levers\n\n- [x] L-001 Done already\n")
    commit_all(project, "all done")
    result = run_tick(project, make_model=lambda config: ScriptedModel([reflect()]), now=T0)
    assert result.outcome == "idle"
    review = build_review(project, "24h")
    assert [t.record.outcome for t in review.ticks] == ["idle"]
    assert review.needs_person == [
        PLACEHOLDER_MISSION,
        "the last tick found no open lever: add levers to levers.md",
    ]
    assert "| idle | (no open lever) |" in render_markdown(review)


def test_terminal_text_is_aligned_and_coloured_only_when_asked(history):
    review = build_review(history, "24h")
    plain = render_text(review, colour=False, width=100)
    assert "\x1b[" not in plain
    rows = [line for line in plain.splitlines() if re.match(r"  \d\d-\d\d \d\d:\d\d  ", line)]
    assert len(rows) == len(STORY)
    assert len({len(line) for line in rows}) == 1 and all(
        line.endswith(tuple("0123456789")) for line in rows
    )
    coloured = render_text(review, colour=True, width=100)
    assert "\x1b[32mshipped" in coloured and "\x1b[31mfailed" in coloured
    assert ANSI.sub("", coloured) == plain
    narrow = render_text(review, colour=False, width=60)
    narrow_rows = [
        line for line in narrow.splitlines() if re.match(r"  \d\d-\d\d \d\d:\d\d  ", line)
    ]
    assert all(len(line) <= 60 for line in narrow.splitlines())  # columns left out, words wrapped
    assert sum("  L-002 Add a farewell f…  " in row for row in narrow_rows) == 2
    assert not any("farewell file" in row for row in narrow_rows)
    for width in (40, 72, 80):
        assert max(map(len, render_text(review, width=width).splitlines())) <= width


def test_markdown_has_a_table_row_per_tick_and_a_diff_block(history):
    md = render_markdown(build_review(history, "24h"))
    table = [line for line in md.splitlines() if line.startswith("| 20")]
    assert len(table) == len(STORY) and all(line.count(" | ") == 6 for line in table)
    assert "| blocked | (no open lever) |" in table[-1]
    assert "```diff\n--- genome.md v001\n+++ genome.md v003\n" in md
    for heading in (
        "## Needs you",
        "## Ticks",
        "## Shipped",
        "## Failed and blocked",
        "## Genome v001 → v003",
        "## Lessons added",
        "## Levers proposed by the loop",
    ):
        assert f"\n{heading}\n" in md
    assert "- **L-002 Add a farewell file** — now blocked: " in md
    assert "  - `README.md` +3 −0" in md


def test_a_fresh_clone_reviews_the_same_from_git_alone(history, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(history), str(clone)], check=True)
    assert not (clone / ".genome").exists()
    now = datetime.now(timezone.utc)
    assert render_markdown(build_review(clone, "24h", now)) == render_markdown(
        build_review(history, "24h", now)
    )


def test_since_a_commit_or_a_date_narrows_the_window(history):
    records = git(history, "log", "--reverse", "--format=%H", "--grep=^Outcome: ").split()
    after_third = build_review(history, records[2])
    assert [t.record.outcome for t in after_third.ticks] == [o for o, _ in STORY[3:]]
    assert after_third.genome.before == "v002" and after_third.window.label.startswith("since ")
    late = build_review(history, tick_time(6).strftime("%Y-%m-%dT%H:%M"))
    assert [t.record.outcome for t in late.ticks] == ["shipped", "blocked"]
    assert build_review(history, "1m", now=tick_time(9)).ticks == []


def test_an_empty_window_says_so_and_suggests_where_to_look(history):
    review = build_review(history, "2h", now=tick_time(12))
    assert review.ticks == [] and review.genome is None
    assert review.needs_person[-1].startswith("no tick ran in this window")
    assert "No tick ran in this window." in render_html(review)


@pytest.mark.parametrize("since", ["yesterday-ish", "2026-13-45", "-n1", "deadbeef" * 5])
def test_a_bad_since_is_a_usage_error_saying_what_works(history, since):
    with pytest.raises(UsageError, match="is neither a duration|is not a real one"):
        build_review(history, since)


def test_review_command_prints_markdown_when_piped_and_text_on_request(
    history, monkeypatch, tmp_path
):
    monkeypatch.chdir(history / "journal")  # any folder inside the project
    runner = CliRunner()
    piped = runner.invoke(review_command, [])
    assert piped.exit_code == 0 and piped.stdout.startswith("# genome review: last 24h")
    text = runner.invoke(review_command, ["--format", "text", "--since", "2d"])
    assert text.exit_code == 0 and text.stdout.startswith("genome review · last 2d")
    page = tmp_path / "review.html"
    html_only = runner.invoke(review_command, ["--html", str(page)])
    assert html_only.exit_code == 0 and html_only.stdout == ""
    assert f"wrote {page} (8 ticks" in html_only.stderr and page.read_text().startswith(
        "<!doctype html>"
    )
    bad = runner.invoke(review_command, ["--since", "soon"])
    assert bad.exit_code == 2 and "--since 'soon' is neither a duration" in bad.stderr


def test_review_outside_a_repository_is_a_clear_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(review_command, [])
    assert result.exit_code == 2 and "is not a git repository" in result.stderr


# ------------------------------------------------------------------------------------------- HTML


def test_html_page_is_self_contained_and_phone_ready(history):
    page = render_html(build_review(history, "24h"))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert page.count('<tr class="o-') == len(STORY)
    assert (
        page.count("<details open><summary>code diff</summary>") == 3
    )  # three levers shipped: unfolded
    assert (
        '<span class="d-add">+<span class="t-kw">def</span> greet():</span>'
        '<span class="d-add">+    '
        '<span class="t-kw">return</span> <span class="t-str">&quot;hello&quot;</span>  '
        '<span class="t-com"># the greeting</span></span>'
    ) in page
    assert '<span class="d-add">+## 0.1</span>' in page  # markdown is not coloured as code


CHROMIUM = shutil.which("chromium")


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install chromium); "
    "the page is checked in a real browser only where one exists",
)
def test_html_renders_in_headless_chromium_with_ticks_and_charts(history, tmp_path):
    review = build_review(history, "24h")
    page = tmp_path / "review.html"
    page.write_text(render_html(review), encoding="utf-8")
    flags = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60
    ).stdout
    assert len(re.findall(r'<tr class="o-(\w+)">', dom)) == len(STORY)
    assert re.findall(r'<tr class="o-(\w+)">', dom) == [o for o, _ in reversed(STORY)]
    charts = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<svg id="(chart-[a-z]+)"(.*?)</figure>', dom, re.S)
    }
    assert set(charts) == {"chart-cost", "chart-outcomes", "chart-pass", "chart-cps"}
    assert charts["chart-cost"].count('<rect class="bar o-') == len(STORY)
    segments = re.findall(
        r'<rect class="seg o-(\w+)".*?<title>[^<]*: (\d+) \w+</title>', charts["chart-outcomes"]
    )
    assert sum(int(n) for _, n in segments) == len(STORY)
    assert re.findall(r"<title>(v\d+): (\d) of (\d) attempted", charts["chart-pass"]) == [
        ("v001", "1", "1"),
        ("v002", "1", "3"),
        ("v003", "1", "1"),
    ]
    assert '<span class="d-add">+## 0.1</span>' in dom and "Genome v001 → v003" in dom

    # The screenshot a person would see on a 412-px phone. Headless Chromium lays a window out at
    # least 500 px wide, so the page is framed at exactly 412 px to be seen at a phone's width.
    frame = tmp_path / "phone.html"
    frame.write_text(
        f'<!doctype html><body style="margin:0;overflow:hidden"><iframe src="{page.name}" '
        'style="border:0;width:412px;height:900px;display:block"></iframe></body>'
    )
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "review-phone.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            *flags,
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=412,900",
            frame.as_uri(),
        ],
        capture_output=True,
        timeout=60,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (412, 900)


# ------------------------------------------------------------------------------------------- status


def test_status_shows_where_the_loop_stands(history, fake_crontab):
    now = tick_time(8)
    found = gather(history, now=now)
    assert found.version == "v003" and found.next_lever is None
    assert found.counts == {"open": 0, "done": 3, "blocked": 1, "dropped": 0}
    assert found.last_tick.outcome == "blocked" and found.last_tick.time == tick_time(
        7
    ) + timedelta(minutes=2)
    assert round(found.spend_today, 4) == round(sum(trailer_costs(history)), 4)
    assert found.spend_week == found.spend_today
    assert found.budget.day_usd == 10 and found.budget.week_usd == 50
    due = datetime.fromisoformat(
        (history / ".genome" / "next-due").read_text().strip().replace("Z", "+00:00")
    )
    assert found.next_due == due and found.timers == [] and found.problems == []
    text = render(found, now=now)
    assert "genome      v003" in text
    assert "levers      0 open · 1 blocked · 3 done" in text
    assert (
        "last tick   blocked no open lever · "
        f"{tick_time(7) + timedelta(minutes=2):%Y-%m-%d %H:%M}Z (28 min ago)" in text
    )
    assert (
        f"today ${found.spend_today:.2f} of $10.00 · this week ${found.spend_week:.2f} of $50.00"
        in text
    )
    assert "schedule    none installed" in text
    assert found.warnings == [PLACEHOLDER_MISSION] and f"warning: {PLACEHOLDER_MISSION}" in text


def test_status_and_review_give_a_tick_the_same_minute(history, fake_crontab):
    status = render(gather(history, now=tick_time(8)), now=tick_time(8))
    review = build_review(history, "24h", now=tick_time(8))
    last = review.ticks[-1].at
    assert f"{last:%Y-%m-%d %H:%M}Z" in status
    assert f"{last:%m-%d %H:%M}" in render_text(
        review
    ) and f"{last:%Y-%m-%d %H:%M}" in render_markdown(review)


def test_status_sees_an_installed_timer_and_waiting_notes(history, fake_crontab):
    host = Host.from_environ()
    service, timer = systemd_paths(history, host)
    timer.parent.mkdir(parents=True, exist_ok=True)
    timer.write_text("[Timer]\nOnCalendar=*:0/30\nPersistent=true\n")
    note = feedback.store(history, "focus on the farewell check")
    try:
        found = gather(history)
        assert [(t.backend, t.every) for t in found.timers] == [("systemd", 1800)]
        assert found.pending_notes == 1
        text = render(found)
        assert (
            "schedule    systemd every 30m" in text
            and "feedback    1 note waiting for the next tick" in text
        )
    finally:
        feedback.mark_read(history, [note])
        timer.unlink()


def test_status_in_a_fresh_clone_and_on_a_broken_levers_file(
    history, fake_crontab, tmp_path, monkeypatch
):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(history), str(clone)], check=True)
    found = gather(clone)
    assert (
        found.version == "v003" and found.last_tick.outcome == "blocked" and found.next_due is None
    )
    assert "next due    now (no tick has set a time yet)" in render(found)
    (clone / "levers.md").write_text("# Levers\n\n- [?] L-009 Something\n")
    commit_all(clone, "a typo")
    monkeypatch.chdir(clone)
    result = CliRunner().invoke(status_command, [])
    assert result.exit_code == 2
    assert "problem: levers.md:3: unknown lever mark `[?]`. Use `[ ]` open" in result.stdout


def test_status_command_without_commits_says_what_to_do(tmp_path, monkeypatch):
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(status_command, [])
    assert result.exit_code == 2 and "has no commit yet; run `genome init`" in result.stderr


def test_genome_lines_that_look_like_diff_headers_are_shown_as_changes(project):
    genome = (
        (project / "genome.md")
        .read_text()
        .replace(
            "<!-- Replace this line: facts the loop can rely on, each with the command or artifact "
            "that shows it. -->",
            "Proven so far:\n\n---\n\n```\nmake check\n```",
        )
    )
    (project / "genome.md").write_text(genome)
    commit_all(project, "what is proven")
    result = run_tick(
        project,
        make_model=lambda config: ScriptedModel(
            [
                write("greeting.txt", "hello\n"),
                text_reply("done"),
                reflect(genome={"What's proven": "greeting.txt"}),
            ]
        ),
        now=T0,
    )
    assert result.outcome == "shipped"
    review = build_review(project, "24h")
    assert review.genome.diff[2:].count("----") == 1 and "-```" in review.genome.diff
    assert "  \x1b[31m----\x1b[0m" in render_text(review, colour=True)
    assert "\n````diff\n" in render_markdown(review) and "\n````\n" in render_markdown(review)
    assert '<span class="d-del">----</span>' in render_html(review)
