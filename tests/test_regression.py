"""Genome auto-rollback: the rule on its own, and three red ticks after a mutation in a real
repo."""

from __future__ import annotations

from datetime import datetime, timezone

from genome.genome_file import GenomeDoc
from genome.loop_prompt import LoopPromptDoc
from genome.regression import Rules, VersionOutcome, regression
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import git, set_config

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
RULES = Rules(consecutive_failures=3, window=5, drop=20)


def runs(version, outcomes):
    return [VersionOutcome(version, o) for o in outcomes]


def test_three_failures_in_a_row_right_after_a_mutation_call_for_a_rollback():
    history = runs(1, ["shipped"] * 4) + runs(2, ["failed", "failed", "failed"])
    assert "first 3 ticks all failed" in regression(history, 2, RULES)
    assert regression(history[:-1], 2, RULES) is None  # only two so far
    assert regression(runs(2, ["failed", "shipped", "failed", "failed"]), 2, RULES) is None


def test_ticks_that_say_nothing_about_the_strategy_do_not_count():
    history = runs(2, ["failed", "budget", "idle", "failed", "interrupted", "failed"])
    assert regression(history, 2, RULES) is not None


def test_a_pass_rate_drop_of_more_than_the_threshold_over_the_window_calls_for_a_rollback():
    before = runs(1, ["shipped"] * 5)
    assert "40%, down from 100%" in regression(
        before + runs(2, ["shipped", "failed", "shipped", "failed", "failed"]), 2, RULES
    )
    assert (
        regression(
            before + runs(2, ["shipped", "failed", "shipped", "shipped", "shipped"]), 2, RULES
        )
        is None
    )


def test_a_version_past_its_window_is_confirmed_and_never_compared_again():
    history = runs(1, ["shipped"] * 5) + runs(2, ["shipped"] * 5) + runs(2, ["failed"] * 4)
    assert regression(history, 2, RULES) is None
    assert regression(runs(1, ["failed"] * 3), 1, RULES) is None  # v1 has nothing to go back to


def test_three_red_ticks_after_a_mutation_restore_the_previous_genome(project):
    set_config(project, "repair_rounds: 1", "repair_rounds: 0")
    set_config(project, "max_attempts: 3", "max_attempts: 9")
    v1 = GenomeDoc.parse((project / "genome.md").read_text())
    run_tick(
        project,
        now=NOW,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply("done"),
                tool_reply(
                    "reflect", {"genome": {"Current focus": "Only ever touch files named *.txt."}}
                ),
            ]
        ),
    )
    assert GenomeDoc.parse((project / "genome.md").read_text()).version == 2
    for _ in range(3):
        result = run_tick(
            project,
            now=NOW,
            make_model=lambda config: ScriptedModel(
                [text_reply("I changed nothing."), tool_reply("reflect", {"lesson": None})]
            ),
        )
        assert result.outcome == "failed"
    genome = GenomeDoc.parse((project / "genome.md").read_text())
    assert genome.version == 3 and genome.body == v1.body
    record = git(project, "log", "-1", "--format=%B")
    assert "Genome-Rollback: v002 -> v001: its first 3 ticks all failed" in record
    assert "Genome-Version: v003" in record and "Tick-Version: v002" in record
    lesson = LoopPromptDoc.parse((project / "loop-prompt.md").read_text()).lessons[-1]
    assert (
        lesson.text
        == "Genome v002 was rolled back to the body of v001: its first 3 ticks all failed."
    )
    # v003 is v001's body again, the known-good one: more red ticks never roll it back to v002
    for _ in range(3):
        run_tick(
            project,
            now=NOW,
            make_model=lambda config: ScriptedModel(
                [text_reply("nothing"), tool_reply("reflect", {})]
            ),
        )
    assert GenomeDoc.parse((project / "genome.md").read_text()).version == 3
