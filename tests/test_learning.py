"""Prompts that make the loop learn: the act's first message, a retry that knows what failed, a
reflection that sees the evidence in the act's own conversation, and curated lessons."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from genome.loop_prompt import Lesson, LoopPromptDoc
from runner.learning import ToolCall, tool_facts
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.session import NOT_NOW, REFLECT_TOOL
from runner.tick import run_tick
from tests.conftest import commit_all

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
SEEDED = (
    "Read the first error in a failing gate's output, not the last; later errors are usually "
    "consequences."
)


def reflect(**fields):
    return tool_reply("reflect", {"lesson": None, "genome": None, "levers": [], **fields})


def tick(root, script, now=NOW):
    model = ScriptedModel(script)
    return run_tick(root, make_model=lambda config: model, now=now), model


def first_text(request) -> str:
    return request["messages"][0]["content"][0]["text"]


def last_text(request) -> str:
    return request["messages"][-1]["content"][-1]["text"]


def lessons(root):
    return LoopPromptDoc.parse((root / "loop-prompt.md").read_text()).lessons


def test_the_first_message_states_the_budgets_left_and_the_shape_of_the_final_message(project):
    _, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("Changed: greeting.txt"),
            reflect(),
        ],
    )
    first = first_text(model.requests[0])
    assert (
        "This tick may still use 40 model turns, 30 minutes and $1.00 (the tick budget)." in first
    )
    for part in ("Changed:", "Verified:", "Not done:", "Noticed:"):
        assert f"\n{part} " in first
    assert "failed before" not in first


def test_a_retry_sees_what_failed_before_and_is_told_to_try_another_way(project):
    wrong = [
        tool_reply("write_file", {"path": "greeting.txt", "content": "hi\n"}),
        text_reply("Changed: greeting.txt says hi. Verified: cat greeting.txt."),
    ]
    result, _ = tick(project, [*wrong, text_reply("Still hi."), reflect()])
    assert result.outcome == "failed"
    _, model = tick(
        project, [text_reply("Changed: nothing."), reflect()], now=NOW + timedelta(hours=1)
    )
    first = first_text(model.requests[0])
    assert "This lever failed before. Read why, then try another way; if it cannot be done" in first
    assert "- 2026-11-23T03:00Z: gate check-1 failed (attempt 1/3)" in first
    assert "red gate: check-1: $ grep -qx 'hello' greeting.txt (exit 1)" in first
    assert "its account: Still hi." in first


def test_the_reflection_is_shown_tool_errors_repeated_calls_and_the_red_gate(project):
    (project / "notes.txt").write_text("x\n")
    commit_all(project, "notes")
    missing = tool_reply("read_file", {"path": "nope.txt"})
    script = [
        tool_reply("run_command", {"command": "ls"}),
        missing,
        tool_reply("run_command", {"command": "ls"}),
        tool_reply("read_file", {"path": "notes.txt"}),
        tool_reply("run_command", {"command": "ls"}),
        tool_reply("write_file", {"path": "greeting.txt", "content": "hi\n"}),
        text_reply("Changed: greeting.txt."),
        text_reply("Still hi."),
        reflect(),
    ]
    result, model = tick(project, script)
    assert result.outcome == "failed"
    prompt = last_text(model.requests[-1])
    assert "- Lever L-001 Add a greeting file: failed (gate check-1 failed)" in prompt
    assert (
        "The red gate's first and last lines:\ncheck-1: $ grep -qx 'hello' greeting.txt (exit 1)"
        in prompt
    )
    assert "- Tool errors: 1 of 6 calls (read_file:" in prompt
    assert "- Repeated calls: run_command `ls` ×3" in prompt
    assert "- Changed: greeting.txt" in prompt and "- Used: 8 of 40 turns" in prompt
    # the act's own words are in the conversation above the prompt, not repeated in it
    assert "The act's final account" not in prompt


def test_reflect_during_the_act_is_refused_and_other_tools_during_the_reflection_are_not_run(
    project,
):
    early = tool_reply("reflect", {"lesson": "too early"})
    sneaky = {
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_w",
                "name": "write_file",
                "input": {"path": "x.txt", "content": "x"},
            },
            {
                "type": "tool_use",
                "id": "toolu_r",
                "name": "reflect",
                "input": {"lesson": "Check the exact line with grep -x."},
            },
        ]
    }
    result, model = tick(
        project,
        [
            early,
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("Changed: greeting.txt."),
            sneaky,
        ],
    )
    assert result.outcome == "shipped"
    assert model.requests[1]["messages"][-1]["content"][0]["content"] == NOT_NOW
    assert not (project / "x.txt").exists()
    assert lessons(project)[-1].text == "Check the exact line with grep -x."


def test_a_new_lesson_carries_its_lever_and_a_contradicted_lesson_is_retired(project):
    before = lessons(project)
    assert any(lesson.text == SEEDED for lesson in before)
    _, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("Changed: greeting.txt."),
            reflect(
                lesson="Run the lever's own check first; it is the fastest gate.",
                retire=[SEEDED, "A lesson that was never shown"],
            ),
        ],
    )
    after = lessons(project)
    assert SEEDED not in [lesson.text for lesson in after]
    assert len(after) == len(before)  # one retired, one added; the unknown text changed nothing
    assert after[-1] == Lesson(
        "v001", "2026-11-23", "Run the lever's own check first; it is the fastest gate.", "L-001"
    )
    assert (
        "- [v001 2026-11-23 L-001] Run the lever's own check first"
        in (project / "loop-prompt.md").read_text()
    )


def test_the_reflect_tool_carries_the_rules_of_a_good_lesson():
    description = REFLECT_TOOL["description"]
    for rule in (
        "general",
        "actionable",
        "grounded",
        "new",
        "How to work in this project",
        "retire",
    ):
        assert rule in description
    assert REFLECT_TOOL["input_schema"]["properties"]["retire"]["items"] == {"type": "string"}


def test_lesson_lines_with_and_without_a_lever_parse_and_render_back_byte_for_byte():
    text = (
        "---\nmodel: m\n---\n# Loop\n\n## Lessons\n\n- [v001 2026-01-01] Old style.\n"
        "- [v004 2026-11-23 L-012] New style.\n  continued note\n- not a lesson\n\n## After\nkept\n"
    )
    doc = LoopPromptDoc.parse(text)
    assert doc.render() == text
    assert [(lesson.version, lesson.lever, lesson.text) for lesson in doc.lessons] == [
        ("v001", "", "Old style."),
        ("v004", "L-012", "New style."),
    ]
    assert [lesson.render() for lesson in doc.lessons] == [
        "- [v001 2026-01-01] Old style.",
        "- [v004 2026-11-23 L-012] New style.",
    ]
    retired = doc.without_lesson("old   STYLE.")
    assert retired.render() == text.replace("- [v001 2026-01-01] Old style.\n", "")
    assert doc.without_lesson("no such lesson").render() == text


def test_tool_facts_count_errors_and_repeats():
    calls = [
        ToolCall("run_command", {"command": "pytest -q"}, False, "exit code 1") for _ in range(4)
    ]
    calls.append(ToolCall("edit_file", {"path": "a"}, True, "old_text not found in a"))
    facts = tool_facts(calls)
    assert facts == [
        "Tool errors: 1 of 5 calls (edit_file: old_text not found in a)",
        "Repeated calls: run_command `pytest -q` ×4",
    ]
    assert tool_facts(calls[:2]) == []
