"""The tick's state machine with a scripted model: real git repositories, real gate subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from genome.genome_file import GenomeDoc
from genome.journal import parse_entries
from genome.levers import LeverDoc
from genome.loop_prompt import LoopPromptDoc
from runner.errors import BudgetSpent, ModelUnavailable, Refused
from runner.lock import TickLock
from runner.scripted import ScriptedModel, error_reply, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import commit_all, git, set_config, tree_state

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def reflect(lesson=None, genome=None, levers=None):
    return tool_reply("reflect", {"lesson": lesson, "genome": genome, "levers": levers or []})


def tick(root, script, now=NOW):
    model = ScriptedModel(script)
    result = run_tick(root, make_model=lambda config: model, now=now)
    return result, model


def levers_of(root):
    return {lever.id: lever for lever in LeverDoc.parse((root / "levers.md").read_text()).levers}


def tool_results(request):
    return [b for b in request["messages"][-1]["content"] if b.get("type") == "tool_result"]


def test_green_tick_commits_the_change_and_records_everything(project):
    result, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("Wrote greeting.txt with 'hello'; grep check passes."),
            reflect(
                lesson="Check the exact line with grep -x, not a substring.",
                genome={"What's proven": "greeting.txt exists and says hello."},
            ),
        ],
    )
    assert result.outcome == "shipped" and result.exit_code == 0
    assert git(project, "status", "--porcelain") == ""

    code_commit = git(project, "log", "-1", "--skip=1", "--format=%B")
    assert code_commit.startswith("L-001 Add a greeting file\n\n> Wrote greeting.txt")  # quoted
    for trailer in (
        "Lever: L-001",
        "Genome-Version: v001",
        "Gates: diff-check ok",
        "Tokens: ",
        "Cost-USD: ",
    ):
        assert trailer in code_commit
    assert git(project, "show", "--name-only", "--format=", "HEAD~1").split() == ["greeting.txt"]

    levers = levers_of(project)
    assert levers["L-001"].status == "done"
    assert levers["L-001"].log[-1].startswith("2026-11-23T03:00Z v001 shipped ")
    assert levers["L-002"].status == "open"
    genome = GenomeDoc.parse((project / "genome.md").read_text())
    assert (
        genome.version == 2
        and genome.sections()["What's proven"] == "greeting.txt exists and says hello."
    )
    lessons = LoopPromptDoc.parse((project / "loop-prompt.md").read_text()).lessons
    assert lessons[-1].text == "Check the exact line with grep -x, not a substring."
    assert lessons[-1].version == "v001" and lessons[-1].date == "2026-11-23"

    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    assert (entry.outcome, entry.lever, entry.version, entry.new_version) == (
        "shipped",
        "L-001",
        "v001",
        "v002",
    )
    assert entry.commit and entry.cost_usd > 0 and entry.tokens_in > 0
    record = git(project, "log", "-1", "--format=%B")
    assert "Outcome: shipped" in record and "Genome-Version: v002" in record
    # 30 min on, less 90 s of slack (5% of the cadence) so a timer firing on the half hour ticks
    assert (project / ".genome" / "next-due").read_text().startswith("2026-11-23T03:28:30Z")
    # act and reflection both saw the lever; the reflection continues the act's conversation with
    # the act's own tools and system prompt (its prefix is the act's, read from the cache)
    act, reflection = model.requests[-2], model.requests[-1]
    assert reflection["tools"] == act["tools"] and reflection["tools"][-1]["name"] == "reflect"
    assert reflection["system"] == act["system"]

    def unmarked(messages):
        return [
            {
                **m,
                "content": [
                    {k: v for k, v in b.items() if k != "cache_control"} for b in m["content"]
                ],
            }
            for m in messages
        ]

    assert unmarked(reflection["messages"])[: len(act["messages"])] == unmarked(act["messages"])
    prompt = reflection["messages"][-1]["content"][-1]["text"]
    assert prompt.startswith("The tick has ended. What the runner saw:")
    assert (
        "- Lever L-001 Add a greeting file: shipped" in prompt and "Changed: greeting.txt" in prompt
    )
    assert "- Used: 2 of 40 turns" in prompt
    assert "L-001 Add a greeting file" in model.requests[0]["system"][0]["text"]


def test_red_tick_after_failed_repair_restores_the_tree_exactly(project):
    (project / "notes.txt").write_text("the person's ignored scratch\n")
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + "notes.txt\n")
    commit_all(project, "ignore notes")
    before = tree_state(project)
    result, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hi\n"}),
            tool_reply(
                "edit_file",
                {"path": "tests/test_core.sh", "old_text": "1 -eq 1", "new_text": "1 -eq 2"},
            ),
            tool_reply("write_file", {"path": "src/new/deep.txt", "content": "x"}),
            tool_reply(
                "run_command",
                {"command": "echo changed >> .gitignore && rm loop-prompt.md.missing || true"},
            ),
            text_reply("done"),
            # repair round: the model sees the red gate and still gets it wrong
            tool_reply("write_file", {"path": "greeting.txt", "content": "hallo\n"}),
            text_reply("fixed, I think"),
            reflect(lesson="Read the check before writing the artifact."),
        ],
    )
    assert result.outcome == "failed" and result.exit_code == 1
    repair_prompt = model.requests[5]["messages"][-1]["content"]
    repair_text = json.dumps(repair_prompt)
    assert "gate check-1 failed" in repair_text and "grep -qx" in repair_text
    assert tree_state(project) == before | {
        "levers.md": (project / "levers.md").read_bytes(),
        "loop-prompt.md": (project / "loop-prompt.md").read_bytes(),
        "journal/2026/11/23.md": (project / "journal/2026/11/23.md").read_bytes(),
    }
    assert not (project / "src").exists() and not (project / "greeting.txt").exists()
    assert (project / "notes.txt").read_text() == "the person's ignored scratch\n"
    assert git(project, "status", "--porcelain") == ""
    assert "greeting.txt" not in git(project, "log", "--all", "--name-only", "--format=")
    lever = levers_of(project)["L-001"]
    assert lever.status == "open"
    assert lever.log[-1] == "2026-11-23T03:00Z v001 gate check-1 failed (attempt 1/3)"


def test_repair_round_can_turn_a_red_gate_green(project):
    result, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hi\n"}),
            text_reply("done"),
            lambda request: (
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"})
                if "check-1" in json.dumps(request["messages"][-1])
                else text_reply("no idea")
            ),
            text_reply("Fixed the greeting."),
            reflect(),
        ],
    )
    assert result.outcome == "shipped"
    assert (project / "greeting.txt").read_text() == "hello\n"


def test_rewriting_the_gates_through_run_command_fails_the_tick(project):
    before = (project / "loop-prompt.md").read_text()
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            tool_reply(
                "run_command", {"command": "sed -i 's/git diff --check HEAD/true/' loop-prompt.md"}
            ),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.outcome == "failed"
    assert "changed protected path loop-prompt.md" in result.record.reason
    assert (project / "loop-prompt.md").read_text() == before
    assert not (project / "greeting.txt").exists()


def test_weakening_a_protected_test_is_refused_by_the_tool_and_by_the_diff_check(project):
    result, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "tests/test_core.sh", "content": "true\n"}),
            tool_reply("run_command", {"command": "echo true > tests/test_core.sh"}),
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    [refusal] = tool_results(model.requests[1])
    assert refusal["is_error"] and "protected" in refusal["content"]
    assert result.outcome == "failed" and "tests/test_core.sh" in result.record.reason
    assert (project / "tests/test_core.sh").read_text() == "test 1 -eq 1\n"


def test_an_empty_diff_is_a_failed_attempt(project):
    set_config(project, "repair_rounds: 1", "repair_rounds: 0")
    result, _ = tick(project, [text_reply("Nothing to do, it is fine."), reflect()])
    assert result.outcome == "failed" and result.record.reason == "no change"
    assert levers_of(project)["L-001"].log[-1].endswith("no change (attempt 1/3)")


def test_a_lever_is_blocked_after_max_attempts_and_the_next_one_is_picked(project):
    set_config(project, "repair_rounds: 1", "repair_rounds: 0")
    for _attempt in range(1, 4):
        result, _ = tick(project, [text_reply("nothing"), reflect()])
        assert result.record.lever == "L-001"
    lever = levers_of(project)["L-001"]
    assert lever.status == "blocked" and lever.log[-1].endswith("(attempt 3/3): blocked")
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
            text_reply("ok"),
            reflect(),
        ],
    )
    assert result.record.lever == "L-002" and result.outcome == "shipped"


GREEN = [
    tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
    text_reply("done"),
    reflect(),
]


def test_a_dirty_tree_is_no_reason_to_refuse_and_is_never_written(project):
    (project / "wip.txt").write_text("the person's untracked work")
    (project / "tests" / "test_core.sh").write_text("test 2 -eq 2\n")  # a tracked file, changed
    before = tree_state(project)
    result, _ = tick(project, GREEN)
    assert result.outcome == "shipped"
    assert tree_state(project) == before  # byte for byte, nothing added
    # a checked-out branch never moves ahead of its tree: the work waits on genome/main
    assert git(project, "rev-parse", "main") != git(project, "rev-parse", "genome/main")
    assert git(project, "show", "genome/main~1:greeting.txt") == "hello\n"
    assert git(project, "diff", "--name-only").split() == ["tests/test_core.sh"]


def test_untracked_files_alone_do_not_stop_the_branch_moving_forward(project):
    (project / "wip.txt").write_text("the person's untracked work")
    result, _ = tick(project, GREEN)
    assert result.outcome == "shipped" and (project / "greeting.txt").read_text() == "hello\n"
    assert (project / "wip.txt").read_text() == "the person's untracked work"
    assert git(project, "status", "--porcelain").split() == ["??", "wip.txt"]


def test_a_detached_head_is_refused_and_a_merge_in_progress_makes_the_work_wait(project):
    git(project, "checkout", "-q", "--detach")
    with pytest.raises(Refused, match="detached"):
        tick(project, [])
    git(project, "checkout", "-q", "main")
    head = git(project, "rev-parse", "HEAD").strip()
    (project / ".git" / "MERGE_HEAD").write_text(head + "\n")
    result, _ = tick(project, GREEN)
    assert result.outcome == "shipped"
    assert (
        git(project, "rev-parse", "main").strip() == head
        and (project / ".git" / "MERGE_HEAD").exists()
    )
    assert git(project, "show", "genome/main~1:greeting.txt") == "hello\n"


def test_overlapping_tick_is_refused(project):
    with TickLock(project):
        with pytest.raises(Refused, match=r"another tick is running \(pid \d+ since"):
            tick(project, [])


def test_no_open_lever_gives_an_idle_tick_that_only_plans(project):
    (project / "levers.md").write_text("# Levers\n\n- [x] L-001 Done already\n")
    commit_all(project, "all done")
    head = git(project, "rev-parse", "HEAD")
    result, model = tick(
        project,
        [
            reflect(
                lesson="ignored on an idle tick",
                genome={"What's next": "Measure the fetcher."},
                levers=[
                    {"title": "Measure the fetcher", "check": ["test -s bench.txt"]},
                    {"title": "Done already"},
                ],
            )
        ],
    )
    assert result.outcome == "idle" and result.exit_code == 0
    assert len(model.requests) == 1 and [t["name"] for t in model.requests[0]["tools"]] == [
        "reflect"
    ]
    assert git(project, "rev-list", "--count", f"{head.strip()}..HEAD").strip() == "1"
    levers = levers_of(project)
    assert levers["L-002"].title == "Measure the fetcher" and levers["L-002"].checks == [
        "test -s bench.txt"
    ]
    assert len(levers) == 2  # the duplicate title was not added again
    assert GenomeDoc.parse((project / "genome.md").read_text()).version == 2
    assert "ignored on an idle tick" not in (project / "loop-prompt.md").read_text()


def test_a_reply_without_reflect_means_no_change(project):
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            text_reply("Nothing to add."),
        ],
    )
    assert result.outcome == "shipped" and result.record.new_version == ""
    assert GenomeDoc.parse((project / "genome.md").read_text()).version == 1


def test_a_lever_without_an_id_gets_one_in_the_record_commit(project):
    (project / "levers.md").write_text(
        "- [ ] Add a greeting file\n  check: grep -qx hello greeting.txt\n"
    )
    commit_all(project)
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.record.lever == "L-001"
    assert (project / "levers.md").read_text().startswith("- [x] L-001 Add a greeting file\n")


def test_model_unavailable_restores_the_tree_and_does_not_blame_the_lever(project):
    before = tree_state(project)
    with pytest.raises(ModelUnavailable):
        tick(
            project,
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hi\n"}),
                error_reply(529, "overloaded_error", "Overloaded"),
            ],
        )
    assert not (project / "greeting.txt").exists()
    assert git(project, "status", "--porcelain") == ""
    lever = levers_of(project)["L-001"]
    assert lever.status == "open" and "(attempt" not in " ".join(lever.log)
    assert "(not counted)" in lever.log[-1]  # spend was recorded all the same
    assert "Outcome: unavailable" in git(project, "log", "-1", "--format=%B")
    assert {
        k: v for k, v in tree_state(project).items() if not k.startswith(("journal", "levers"))
    } == {k: v for k, v in before.items() if not k.startswith(("journal", "levers"))}


def test_a_model_unreachable_before_its_first_reply_leaves_a_record_and_a_journal_entry(project):
    before, head = tree_state(project), git(project, "rev-parse", "HEAD").strip()

    with pytest.raises(ModelUnavailable):
        tick(project, [error_reply(529, "overloaded_error", "Overloaded")])
    assert (
        git(project, "rev-parse", "HEAD~1").strip() == head
        and git(project, "status", "--porcelain") == ""
    )
    record = git(project, "log", "-1", "--format=%B")
    assert "Outcome: unavailable" in record and "Cost-USD: 0.0000" in record
    [entry] = parse_entries((project / "journal" / "2026" / "11" / "23.md").read_text())
    assert entry.outcome == "unavailable" and "Overloaded" in entry.reason and entry.cost_usd == 0
    lever = levers_of(project)["L-001"]
    assert lever.status == "open" and "(not counted)" in lever.log[-1]
    # only the record's own files changed
    assert {
        k: v for k, v in tree_state(project).items() if not k.startswith(("journal", "levers"))
    } == {k: v for k, v in before.items() if not k.startswith(("journal", "levers"))}


def test_a_day_budget_smaller_than_one_request_stops_before_any_request(project):
    set_config(project, "day_usd: 10", "day_usd: 0.000001")
    head = git(project, "rev-parse", "HEAD")
    for _ in range(2):
        model = ScriptedModel([text_reply("never")])
        with pytest.raises(BudgetSpent, match="day budget"):
            run_tick(project, make_model=lambda config, model=model: model, now=NOW)
        assert model.requests == []
        assert (
            git(project, "rev-parse", "HEAD") == head
            and git(project, "status", "--porcelain") == ""
        )


def test_crossing_the_tick_budget_mid_tick_rolls_back_and_records_the_spend(project):
    usage = {"input_tokens": 200_000, "output_tokens": 1000}  # $0.41 a turn at Sonnet 5.5 prices
    set_config(project, "tick_usd: 1.0", "tick_usd: 0.5")
    with pytest.raises(BudgetSpent, match="tick budget"):
        tick(
            project,
            [
                tool_reply(
                    "write_file", {"path": "greeting.txt", "content": "hello\n"}, usage=usage
                ),
                tool_reply("read_file", {"path": "greeting.txt"}, usage=usage),
            ],
        )
    assert not (project / "greeting.txt").exists()
    record = git(project, "log", "-1", "--format=%B")
    assert "Outcome: budget" in record and "Cost-USD: 0.4100" in record
    assert levers_of(project)["L-001"].status == "open"


def test_spend_recorded_in_git_counts_against_the_day_budget_in_a_fresh_clone(project, tmp_path):
    usage = {
        "input_tokens": 200_000,
        "output_tokens": 1000,
    }  # $0.41: more than the whole day budget
    set_config(project, "day_usd: 10", "day_usd: 0.3")
    # a reply that may run to 32,000 tokens could cost $0.32 alone: the first call would not be made
    set_config(project, "max_tokens: 32000", "max_tokens: 8000")
    now = datetime.now(timezone.utc)  # git dates the record commit now: the day must match
    with pytest.raises(BudgetSpent):
        tick(
            project,
            [tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}, usage=usage)],
            now=now,
        )
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    for root in (project, clone):
        model = ScriptedModel([text_reply("never")])
        with pytest.raises(BudgetSpent, match="day budget is spent"):
            run_tick(root, make_model=lambda config, model=model: model, now=now)
        assert model.requests == []
    # the next day has a fresh budget
    result, _ = tick(
        clone,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            reflect(),
        ],
        now=now + timedelta(days=1),
    )
    assert result.outcome == "shipped"


def test_turn_limit_ends_the_act_and_the_gates_still_judge(project):
    set_config(project, "tick_turns: 40", "tick_turns: 1")
    result, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("never sent"),
        ],
    )
    assert (
        result.outcome == "shipped" and len(model.requests) == 2
    )  # one act turn, then the reflection
    assert model.requests[1]["tools"] == model.requests[0]["tools"]
    assert "turn limit reached" in model.requests[1]["messages"][-1]["content"][-1]["text"]


def test_a_model_repeating_the_same_call_is_stopped_as_stuck(project):
    same = tool_reply("read_file", {"path": "levers.md"})
    result, model = tick(project, [same, same, same, text_reply("never")])
    assert result.outcome == "failed" and "stuck" in result.record.reason
    assert len(model.requests) == 4  # three act turns, then the reflection


def test_broken_genome_frontmatter_is_an_invalid_project_and_nothing_changes(project):
    from genome.errors import GenomeFileError

    (project / "genome.md").write_text("---\nversion: [1\n---\n# Genome\n")
    commit_all(project, "broken")
    before, head = tree_state(project), git(project, "rev-parse", "HEAD")
    with pytest.raises(GenomeFileError) as error:
        tick(project, [])
    assert error.value.file == "genome.md" and error.value.line in (2, 3)
    assert tree_state(project) == before and git(project, "rev-parse", "HEAD") == head


def test_config_comes_from_head_not_from_the_working_tree(project):
    # A gate committed at HEAD fails on the change; the model "fixes" loop-prompt.md in its
    # worktree, which is refused by the tools and, through run_command, by the diff check: HEAD's
    # gate still rules.
    set_config(
        project,
        "run: git diff --check HEAD",
        "run: test ! -f greeting.txt || test -f must-exist.txt",
    )
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            tool_reply(
                "run_command", {"command": "sed -i 's/test -f must-exist.txt/true/' loop-prompt.md"}
            ),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.outcome == "failed"
    assert "test -f must-exist.txt" in (project / "loop-prompt.md").read_text()


def test_the_system_prompt_is_byte_identical_across_turns(project):
    _, model = tick(
        project,
        [
            tool_reply("read_file", {"path": "levers.md"}),
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    act = model.requests[:3]
    assert len({json.dumps([r["tools"], r["system"]]) for r in act}) == 1
    assert act[0]["system"][0]["cache_control"] == {"type": "ephemeral"}
    # the history is only ever appended to: each request extends the one before
    for earlier, later in zip(act, act[1:], strict=False):

        def strip(messages):
            return json.loads(
                json.dumps(messages).replace(', "cache_control": {"type": "ephemeral"}', "")
            )

        assert strip(later["messages"])[: len(earlier["messages"])] == strip(earlier["messages"])


def test_commits_use_the_configured_author_else_the_repo_identity_else_the_runner(
    project, monkeypatch
):
    set_config(project, 'author: ""', 'author: "Loop Bot <loop@example.com>"')
    tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert (
        git(project, "log", "-2", "--format=%an <%ae>|%cn <%ce>").split("\n")[:2]
        == ["Loop Bot <loop@example.com>|Loop Bot <loop@example.com>"] * 2
    )
    set_config(project, 'author: "Loop Bot <loop@example.com>"', 'author: ""')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    tick(
        project,
        [
            tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert (
        git(project, "log", "-1", "--format=%an <%ae>").strip()
        == "genome runner <genome@localhost>"
    )


def test_skills_are_listed_by_name_and_description_and_loaded_on_request(project):
    skill = project / ".claude" / "skills" / "house-style"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: house-style\ndescription: How this project names things.\n---\n"
        "Name every file in kebab-case; the secret word is PELICAN.\n"
    )
    commit_all(project, "a skill")
    _, model = tick(
        project,
        [
            tool_reply("load_skill", {"name": "house-style"}),
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    system = model.requests[0]["system"][0]["text"]
    assert "- house-style: How this project names things." in system
    assert "- verify-artifact: " in system and "PELICAN" not in system
    loaded = model.requests[1]["messages"][-1]["content"][0]
    assert not loaded["is_error"] and "the secret word is PELICAN" in loaded["content"]


def test_a_pre_commit_hook_is_skipped_with_a_warning_that_suggests_a_gate(project, capsys):
    hook = project / ".git" / "hooks" / "pre-commit"
    hook.write_text('#!/bin/sh\necho hook ran >> "$GIT_DIR/../hook-ran"\nexit 1\n')
    hook.chmod(0o755)
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.outcome == "shipped" and not (project / "hook-ran").exists()
    said = capsys.readouterr()
    assert (
        f"warning: the pre-commit hook {hook} is not run on the tick's commits"
        in said.out + said.err
    )
    assert "add it to `gates:` in loop-prompt.md" in said.out + said.err


def test_control_characters_in_the_reflection_are_cleaned_before_they_are_written(project):
    dirty = "Check\x00 the\x1b[31m output\x07 first.\r\nAlways."
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("Wrote\x00 it."),
            reflect(
                lesson=dirty,
                genome={"What's proven": "Greetings\x00 work.\x0c"},
                levers=[
                    {"title": "Add\x00 a farewell\x1f file", "check": ["test -s farewell\x00.txt"]}
                ],
            ),
        ],
    )
    assert result.outcome == "shipped"
    for name in ("genome.md", "levers.md", "loop-prompt.md", "journal/2026/11/23.md"):
        text = (project / name).read_text()
        assert not any(ord(c) < 32 and c not in "\t\n" for c in text), name
    assert "Check the[31m output first." in (project / "loop-prompt.md").read_text()
    assert "\0" not in git(project, "log", "--format=%B")
    # every file still parses: the next tick runs rather than exiting 2
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
            text_reply("done"),
            reflect(),
        ],
        now=NOW + timedelta(hours=1),
    )
    assert result.outcome == "shipped"
