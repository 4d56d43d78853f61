"""The person's side wired into real ticks: feedback read first and marked read, notify after every
tick, every malformed project file an exit 2 that writes nothing, and the two kinds of progress
output."""

from __future__ import annotations

import io
import json
import os
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from genome.journal import parse_entries
from runner import feedback
from runner.cli import cli
from runner.model import Usage
from runner.prices import DEFAULT_PRICE
from runner.progress import Printer
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.session import Meter
from runner.tick import run_tick
from tests.conftest import commit_all, git, set_config, tree_state

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def ship(root, model=None):
    model = model or ScriptedModel(
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            tool_reply("reflect", {}),
        ]
    )
    return run_tick(root, make_model=lambda config: model, now=NOW), model


def test_feedback_reaches_the_next_tick_first_and_is_recorded_as_read(project):
    feedback.store(project, "Keep greetings lowercase, please.")
    assert git(project, "status", "--porcelain") == ""
    result, model = ship(project)
    first = model.requests[0]["messages"][0]["content"][0]["text"]
    assert first.startswith("A note from the person who runs this project")
    assert "Keep greetings lowercase, please." in first
    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    assert entry.feedback == ["Keep greetings lowercase, please."]
    assert feedback.pending(project) == []
    _, later = ship(
        project,
        ScriptedModel(
            [
                tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
                text_reply("done"),
                tool_reply("reflect", {}),
            ]
        ),
    )
    assert "A note from the person" not in later.requests[0]["messages"][0]["content"][0]["text"]


def test_notify_gets_a_json_summary_after_every_tick(project, tmp_path):
    inbox = tmp_path / "inbox.jsonl"
    set_config(project, 'notify: ""', f'notify: "cat >> {inbox}; echo >> {inbox}"')
    ship(project)
    run_tick(
        project,
        now=NOW,
        make_model=lambda config: ScriptedModel([text_reply("nothing"), tool_reply("reflect", {})]),
    )
    shipped, failed = [json.loads(line) for line in inbox.read_text().splitlines() if line.strip()]
    assert set(shipped) == {
        "lever",
        "title",
        "outcome",
        "version",
        "gates",
        "tokens",
        "cost_usd",
        "commit",
        "message",
        "needs_person",
    }
    assert (shipped["lever"], shipped["outcome"], shipped["needs_person"]) == (
        "L-001",
        "shipped",
        False,
    )
    assert shipped["commit"] and shipped["tokens"] > 0
    assert (failed["lever"], failed["outcome"]) == ("L-002", "failed")


def test_a_failing_notify_command_never_fails_the_tick(project):
    set_config(project, 'notify: ""', 'notify: "exit 7"')
    result, _ = ship(project)
    assert result.outcome == "shipped"
    assert (
        "notify command failed with exit 7: exit 7"
        in (project / ".genome" / "notify.log").read_text()
    )
    assert git(project, "status", "--porcelain") == ""


BROKEN = {
    "broken YAML": ("genome.md", "---\nversion: 1\nmission: [\n---\n# Genome\n", "genome.md:"),
    "version not a number": ("genome.md", '---\nversion: "x"\n---\n# Genome\n', "genome.md:2"),
    "gates not a list": ("loop-prompt.md", "---\ngates: pytest\n---\nBody\n", "loop-prompt.md:2"),
    "gate without run": (
        "loop-prompt.md",
        "---\ngates:\n  - name: tests\n---\nBody\n",
        "loop-prompt.md:2",
    ),
    "unknown setting": ("loop-prompt.md", "---\nmodle: x\n---\nBody\n", "loop-prompt.md:2"),
    "unknown status mark": ("levers.md", "- [?] L-001 Something\n", "levers.md:1"),
    "duplicate lever ids": ("levers.md", "- [ ] L-001 One\n- [ ] L-001 Two\n", "levers.md:2"),
    "empty levers": ("levers.md", "\n\n", "levers.md"),
    "not UTF-8": ("levers.md", b"- [ ] L-001 caf\xe9\n", "levers.md:1"),
    "binary": ("genome.md", b"---\nversion: 1\n---\n\x00\x01", "genome.md:4"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_every_malformed_project_file_exits_2_naming_file_and_line_and_writes_nothing(
    project, case, monkeypatch
):
    name, content, where = BROKEN[case]
    path = project / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    commit_all(project, f"break {name}")
    before, head = tree_state(project), git(project, "rev-parse", "HEAD")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["tick", "--now"])
    assert result.exit_code == 2, result.output
    assert f"invalid project file: {where}" in result.stderr
    assert tree_state(project) == before and git(project, "rev-parse", "HEAD") == head
    assert not os.environ.get("ANTHROPIC_API_KEY")  # it never got as far as needing the model


def test_a_missing_genome_file_says_how_to_add_it(project, monkeypatch):
    git(project, "rm", "-q", "genome.md")
    commit_all(project, "no genome")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["tick", "--now"])
    assert result.exit_code == 2 and "genome.md: the file is not committed" in result.stderr
    assert "genome init" in result.stderr


def test_progress_is_a_live_line_on_a_terminal_and_timestamped_lines_elsewhere():
    meter = Meter(price=DEFAULT_PRICE)
    meter.add(Usage(input_tokens=1200, output_tokens=300))
    live, plain = io.StringIO(), io.StringIO()
    for stream, is_live in ((live, True), (plain, False)):
        printer = Printer(stream, live=is_live)
        printer.phase("act", "L-001 Add a greeting file")
        printer.turn(meter)
        printer.tool("write_file", {"path": "greeting.txt", "content": "hello"}, "wrote", False)
        printer.say("shipped")
    assert "\r\033[K[act] turn 1 · 1,500 tokens · $0.0081" in live.getvalue()
    assert "✓ write_file greeting.txt" in live.getvalue() and live.getvalue().endswith("shipped\n")
    lines = plain.getvalue().splitlines()
    assert all(line[:20].endswith("Z") and line[4] == "-" for line in lines)
    assert [line[21:] for line in lines] == [
        "act: L-001 Add a greeting file",
        "✓ write_file greeting.txt",
        "shipped",
    ]


def test_status_shows_the_spend_the_budget_guard_counts(project):
    from runner import spend
    from runner.status import gather

    result, _ = ship(project)
    spent = spend.spent_since(
        project, datetime.now(timezone.utc)
    )  # git dated the record commit now
    assert result.record.cost_usd > 0
    assert spent.today == spent.this_week == pytest.approx(result.record.cost_usd)
    assert gather(project).spend_today == spent.today
