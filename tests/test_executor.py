"""Command executors: small bash and python scripts in tmp_path stand in for agent CLIs."""

from __future__ import annotations

import io
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from genome.journal import parse_entries
from genome.levers import LeverDoc
from genome.loop_prompt import LoopPromptDoc
from runner.executor import OUTPUT_LIMIT, REFLECT_ANSWER, CommandExecutor
from runner.model import Usage
from runner.progress import Printer
from runner.session import Reflection
from runner.tick import TickResult, run_tick
from tests.conftest import commit_all, git

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
PROMPT = "# Loop prompt\n\nWork on lever L-007: make it so. Ünïcode survives.\n"


def later(seconds: float = 20) -> float:
    return time.monotonic() + seconds


def script(tmp_path: Path, name: str, body: str) -> str:
    """An executable outside the project; the returned command runs it."""
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(body)
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def executor(command: str, root: Path) -> tuple[CommandExecutor, list[str]]:
    warnings: list[str] = []
    return CommandExecutor(command, root, warn=warnings.append), warnings


# ------------------------------------------------------------------------------------ the act phase


def test_the_command_gets_the_prompt_on_stdin_and_in_a_file_with_the_phase_and_lever(
    tmp_path, root, monkeypatch
):
    seen = tmp_path / "seen"
    seen.mkdir()
    monkeypatch.setenv("SEEN", str(seen))
    command = script(
        tmp_path,
        "agent",
        """#!/bin/bash
cat > "$SEEN/stdin"
cp "$GENOME_PROMPT_FILE" "$SEEN/file"
echo "$GENOME_PROMPT_FILE" > "$SEEN/file-path"
printf '%s|%s|%s' "$GENOME_PHASE" "$GENOME_LEVER" "$PWD" > "$SEEN/env"
echo "Changed src/app.py; the tests pass."
""",
    )
    runner, warnings = executor(command, root)
    end = runner.act(PROMPT, "L-007", later())

    assert (end.reason, end.text) == ("done", "Changed src/app.py; the tests pass.")
    assert (seen / "stdin").read_text(encoding="utf-8") == PROMPT
    assert (seen / "file").read_text(encoding="utf-8") == PROMPT
    prompt_file = Path((seen / "file-path").read_text().strip())
    assert not prompt_file.exists() and not prompt_file.parent.exists()
    assert root.resolve() not in prompt_file.resolve().parents
    assert (seen / "env").read_text() == f"act|L-007|{root}"
    assert list(root.iterdir()) == [] and warnings == []


def test_the_agent_gets_its_own_credentials_unlike_the_models_shell(tmp_path, root, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-the-persons-key")
    runner, _ = executor('echo "key=$ANTHROPIC_API_KEY"', root)
    assert runner.act(PROMPT, "L-001", later()).text == "key=sk-the-persons-key"


def test_final_words_are_the_end_of_stdout(root):
    runner, _ = executor("python3 -c \"print('x' * 9000); print('the last words')\"", root)
    end = runner.act(PROMPT, "L-001", later())
    assert end.text.endswith("x\nthe last words") and len(end.text) <= 2000
    assert runner.last_run.stdout.startswith("x" * 9000)


def test_a_failing_command_ends_done_with_its_exit_code_noted(root):
    runner, warnings = executor(
        "echo 'I edited half of it'; echo 'quota exceeded' >&2; exit 3", root
    )
    end = runner.act(PROMPT, "L-001", later())
    assert end.reason == "done"
    assert end.text == "(the executor command exited 3)\n\nI edited half of it"
    assert warnings == ["act: the executor command exited 3 (quota exceeded)"]


def test_a_command_that_says_nothing_on_stdout_is_explained_by_its_stderr(root):
    runner, _ = executor("no-such-agent-cli --print", root)
    end = runner.act(PROMPT, "L-001", later())
    assert end.reason == "done"
    assert (
        end.text.startswith("(the executor command exited 127)\n\n")
        and "no-such-agent-cli" in end.text
    )


def test_the_deadline_stops_the_whole_process_group(tmp_path, root):
    pid_file = tmp_path / "grandchild.pid"
    runner, warnings = executor(
        f"sleep 60 & echo $! > {pid_file}; echo 'working on it'; wait", root
    )
    started = time.monotonic()
    end = runner.act(PROMPT, "L-001", time.monotonic() + 0.5)

    assert time.monotonic() - started < 5
    assert end.reason == "time" and end.note == "time limit reached"
    assert end.text.startswith("(the executor command was stopped after ") and end.text.endswith(
        "working on it"
    )
    assert not _alive(int(pid_file.read_text()))
    assert runner.last_run.timed_out and "time budget ran out" in warnings[0]


def test_a_background_job_left_behind_is_stopped_when_the_command_exits(tmp_path, root):
    pid_file = tmp_path / "daemon.pid"
    runner, _ = executor(f"sleep 60 > /dev/null 2>&1 & echo $! > {pid_file}; echo done", root)
    started = time.monotonic()
    assert runner.act(PROMPT, "L-001", later()).reason == "done"
    assert time.monotonic() - started < 5
    assert not _alive(int(pid_file.read_text()))


def test_a_spent_deadline_does_not_start_the_command(tmp_path, root):
    marker = tmp_path / "ran"
    runner, warnings = executor(f"touch {marker}", root)
    end = runner.act(PROMPT, "L-001", time.monotonic() - 1)
    assert end.reason == "time" and "not started" in end.text and not marker.exists()
    assert runner.reflect(PROMPT, "L-001", time.monotonic() - 1) == Reflection()
    assert not marker.exists() and "time budget" in warnings[-1]


def test_output_is_kept_bounded_but_every_usage_report_counts(root):
    # 2 MB of output on each stream, with usage reports in the middle of it
    command = (
        'python3 -c "import sys\n'
        "for stream in (sys.stdout, sys.stderr):\n"
        "    stream.write('y' * 1_000_000 + '\\n')\n"
        '    stream.write(\'genome-usage: {\\"input_tokens\\": 100, \\"output_tokens\\": '
        "10}\\n')\n"
        "    stream.write('z' * 1_000_000 + '\\n')\n"
        "print('finished')\""
    )
    runner, _ = executor(command, root)
    end = runner.act(PROMPT, "L-001", later())
    run = runner.last_run
    for text in (run.stdout, run.stderr):
        assert len(text) < OUTPUT_LIMIT + 100 and " bytes cut ...]" in text
    assert end.text.endswith("z\nfinished")
    assert (runner.usage.input_tokens, runner.usage.output_tokens) == (200, 20)


# ---------------------------------------------------------------------------------- tokens and cost


def test_usage_lines_on_stdout_and_stderr_are_counted_and_kept_out_of_the_final_words(root):
    runner, warnings = executor(
        'echo \'genome-usage: {"input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.01}\'\n'
        'echo \'genome-usage: {"input_tokens": 800, "cache_read_input_tokens": 5000}\' >&2\n'
        "echo 'Added the retry loop.'",
        root,
    )
    end = runner.act(PROMPT, "L-001", later())
    assert end.text == "Added the retry loop."
    usage = runner.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens) == (
        2000,
        300,
        5000,
    )
    assert runner.cost_usd == pytest.approx(0.01) and warnings == []

    runner.reflect(PROMPT, "", later())  # a second run adds to the same totals
    assert runner.usage.input_tokens == 4000 and runner.cost_usd == pytest.approx(0.02)


def test_malformed_usage_reports_are_ignored_with_a_warning(root):
    runner, warnings = executor(
        "echo 'genome-usage: not json'\n"
        'echo \'genome-usage: {"input_tokens": "lots"}\'\n'
        'echo \'genome-usage: {"input_tokens": 7, "cost_usd": -1}\'\n'
        "echo '  genome-usage: {\"input_tokens\": 9}'\n"
        "echo 'genome-usage: {\"output_tokens\": 5}'",
        root,
    )
    runner.act(PROMPT, "L-001", later())
    assert (runner.usage.input_tokens, runner.usage.output_tokens, runner.cost_usd) == (0, 5, 0.0)
    assert len(warnings) == 3 and all("genome-usage: line" in w for w in warnings)


def claude_result(text: str, *, is_error: bool = False, subtype: str = "success") -> dict:
    return {
        "type": "result",
        "subtype": subtype,
        "is_error": is_error,
        "num_turns": 6,
        "result": text,
        "total_cost_usd": 0.0421,
        "session_id": "4f1c",
        "usage": {
            "input_tokens": 31,
            "output_tokens": 812,
            "cache_creation_input_tokens": 2048,
            "cache_read_input_tokens": 40960,
            "service_tier": "standard",
        },
    }


def test_a_claude_code_json_result_gives_the_final_words_usage_and_cost(tmp_path, root):
    out = tmp_path / "result.json"
    out.write_text(json.dumps(claude_result("Renamed the flag and updated the docs.")))
    runner, warnings = executor(f"cat {out}", root)
    end = runner.act(PROMPT, "L-001", later())
    assert end.text == "Renamed the flag and updated the docs."
    assert runner.usage.total == 31 + 812 + 2048 + 40960 and runner.cost_usd == pytest.approx(
        0.0421
    )
    assert warnings == []


def test_a_claude_code_stream_json_run_is_read_from_its_last_line(tmp_path, root):
    events = [
        {"type": "system", "subtype": "init"},
        {"type": "assistant", "message": {"content": [{"type": "text", "text": "thinking"}]}},
        claude_result("Out of turns.", is_error=True, subtype="error_max_turns"),
    ]
    out = tmp_path / "events.jsonl"
    out.write_text("".join(json.dumps(e) + "\n" for e in events))
    runner, _ = executor(f"cat {out}", root)
    end = runner.act(PROMPT, "L-001", later())
    assert end.reason == "done" and end.text == "(it reported error_max_turns)\n\nOut of turns."
    assert runner.usage.output_tokens == 812


# ----------------------------------------------------------------------------------- the reflection

REFLECTING_AGENT = """#!/usr/bin/env python3
import os, sys
prompt = sys.stdin.read()
with open(os.environ["SEEN"], "w") as seen:
    seen.write(os.environ["GENOME_PHASE"] + "|" + os.environ["GENOME_LEVER"] + "|" + prompt)
print("First a draft:")
print("```json")
print('{"lesson": "a draft lesson", "levers": [{"title": "Draft lever"}]}')
print("```")
print("On second thought:")
print("```json")
print('{"lesson": "Run the lever check before the full suite.",')
print(' "genome": {"What\\'s proven": "The fetcher retries."},')
print(' "levers": [{"title": "Cache the fetch results", "check": "test -d .cache"}, {"title": ""}]}')
print("```")
print("genome-usage: {\\"input_tokens\\": 50, \\"output_tokens\\": 5}")
"""  # noqa: E501


def test_reflect_reads_the_last_json_block_only(tmp_path, root, monkeypatch):
    seen = tmp_path / "seen"
    monkeypatch.setenv("SEEN", str(seen))
    runner, warnings = executor(script(tmp_path, "agent", REFLECTING_AGENT), root)
    reflection = runner.reflect("The tick has ended.\n\nLever L-003: shipped", "L-003", later())

    assert reflection == Reflection(
        lesson="Run the lever check before the full suite.",
        genome={"What's proven": "The fetcher retries."},
        levers=[("Cache the fetch results", ["test -d .cache"])],
    )
    phase, lever, prompt = seen.read_text().split("|", 2)
    assert (phase, lever) == ("reflect", "L-003")
    assert prompt.startswith("The tick has ended.\n\nLever L-003: shipped\n\n") and prompt.endswith(
        REFLECT_ANSWER
    )
    assert runner.usage.input_tokens == 50 and warnings == []


def test_the_example_in_the_reflect_instructions_means_no_change(root):
    # an agent that only echoes its prompt answers with the instructions' own example
    runner, warnings = executor("cat", root)
    assert runner.reflect("The tick has ended.", "L-001", later()) == Reflection()
    assert warnings == []


@pytest.mark.parametrize(
    "reply, problem",
    [
        ("I learned nothing new.", "has no ```json block"),
        ('```json\n{"lesson": "unterminated\n```', "is not valid JSON"),
        ('```json\n["a", "list"]\n```', "is not an object"),
        ('```json\n{"lesson": "never closed"}\n', "has no ```json block"),
    ],
)
def test_a_reflection_that_cannot_be_read_changes_nothing_and_warns(tmp_path, root, reply, problem):
    out = tmp_path / "reply.md"
    out.write_text(reply)
    runner, warnings = executor(f"cat {out}", root)
    assert runner.reflect("The tick has ended.", "L-001", later()) == Reflection()
    assert len(warnings) == 1 and problem in warnings[0] and warnings[0].startswith("no reflection")


def test_a_claude_code_reflection_is_read_from_its_result_text(tmp_path, root):
    answer = (
        'Noted.\n\n```json\n{"lesson": "Keep the fixtures small.", "genome": null, "levers": '
        "[]}\n```"
    )
    out = tmp_path / "result.json"
    out.write_text(json.dumps(claude_result(answer)))
    runner, _ = executor(f"cat {out}", root)
    assert runner.reflect("The tick has ended.", "L-001", later()) == Reflection(
        lesson="Keep the fixtures small."
    )
    assert runner.cost_usd == pytest.approx(0.0421)


# ------------------------------------------------------------------------------------ a whole tick

AGENT = """#!/bin/bash
# A stand-in agent CLI: writes the lever's artifact in the act phase, answers in the reflection.
cat > /dev/null
if [ "$GENOME_PHASE" = act ]; then
    printf '%s\\n' "$GREETING" > greeting.txt
    echo 'genome-usage: {"input_tokens": 1500, "output_tokens": 200}'
    echo "Wrote greeting.txt for $GENOME_LEVER."
else
    echo stray > stray.txt    # the reflection may not change files: the runner discards this
    echo '```json'
    echo '{"lesson": "Name the artifact in the lever title.", "genome": {"What'"'"'s proven": "Greeting works."}}'
    echo '```'
fi
"""  # noqa: E501


def executor_tick(root: Path, command: str) -> tuple[TickResult, list[str]]:
    """One real tick with `executor: {command: ...}` committed in loop-prompt.md and no model at
    all."""
    # the stand-in agents keep their state beside their program, outside the project, as an agent
    # CLI keeps its own folder: bound into the sandbox with `paths:`
    state = json.dumps(str(Path(command.split()[0]).parent.parent))
    text = (root / "loop-prompt.md").read_text()
    (root / "loop-prompt.md").write_text(
        text.replace(
            "\nmodel:",
            f"\nexecutor: {{command: {json.dumps(command)}, paths: [{state}]}}\nmodel:",
            1,
        )
    )
    commit_all(root, "use a command executor")
    stream = io.StringIO()

    def no_model(config):
        raise AssertionError("a tick with a command executor must not connect to a model")

    result = run_tick(root, make_model=no_model, now=NOW, printer=Printer(stream, live=False))
    return result, stream.getvalue().splitlines()


def test_an_executor_ships_a_lever_without_any_api_key(project, tmp_path, monkeypatch):
    assert "ANTHROPIC_API_KEY" not in os.environ
    monkeypatch.setenv("GREETING", "hello")
    result, log = executor_tick(project, script(tmp_path, "agent", AGENT))

    assert result.outcome == "shipped", log
    assert git(project, "status", "--porcelain") == "" and not (project / "stray.txt").exists()
    # what it wrote during the reflection stayed in the act worktree: in no commit, not in the
    # person's tree
    assert "stray.txt" not in git(project, "log", "--all", "--name-only", "--format=")
    code_commit = git(project, "log", "-1", "--skip=1", "--format=%B")
    assert code_commit.startswith("L-001 Add a greeting file\n\n> Wrote greeting.txt for L-001.\n")
    assert "genome-usage" not in code_commit
    assert git(project, "show", "--name-only", "--format=", "HEAD~1").split() == ["greeting.txt"]
    assert LeverDoc.parse((project / "levers.md").read_text()).get("L-001").status == "done"
    lessons = LoopPromptDoc.parse((project / "loop-prompt.md").read_text()).lessons
    assert lessons[-1].text == "Name the artifact in the lever title."
    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    assert (entry.tokens_in, entry.tokens_out, entry.new_version) == (1500, 200, "v002")


def test_an_executor_change_that_fails_its_gate_is_rolled_back(project, tmp_path, monkeypatch):
    monkeypatch.setenv("GREETING", "hi")
    head = git(project, "rev-parse", "HEAD").strip()
    result, _ = executor_tick(project, script(tmp_path, "agent", AGENT))

    assert result.outcome == "failed" and result.record.reason == "gate check-1 failed"
    assert git(project, "status", "--porcelain") == ""
    assert not (project / "greeting.txt").exists() and not (project / "stray.txt").exists()
    subjects = git(project, "log", "--format=%s", f"{head}..HEAD").splitlines()
    assert [s.split(",")[0] for s in subjects] == [
        "genome: L-001 failed",
        "use a command executor",
    ]  # no code commit
    assert "greeting.txt" not in git(project, "log", "--all", "--name-only", "--format=")
    lever = LeverDoc.parse((project / "levers.md").read_text()).get("L-001")
    assert lever.status == "open" and lever.log[-1].endswith("gate check-1 failed (attempt 1/3)")


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie awaiting its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_an_executor_that_cannot_start_is_unavailable_not_a_failed_lever(project):
    from runner.errors import ModelUnavailable

    with pytest.raises(ModelUnavailable, match="could not run \\(exit 127\\)"):
        executor_tick(project, "no-such-agent-cli -p")
    lever = LeverDoc.parse((project / "levers.md").read_text()).get("L-001")
    assert lever.status == "open" and "(attempt" not in " ".join(lever.log)


# --------------------------------------------------------------------------------- real CLI results

CLAUDE_BUDGET_ERROR = {
    "type": "result",
    "subtype": "error_max_budget_usd",
    "is_error": True,
    "duration_ms": 80123,
    "num_turns": 9,
    "session_id": "7d2a",
    "total_cost_usd": 1.0312,
    "usage": {
        "input_tokens": 20,
        "output_tokens": 3000,
        "cache_creation_input_tokens": 9000,
        "cache_read_input_tokens": 120000,
    },
    "modelUsage": {
        "claude-sonnet-5-5": {
            "inputTokens": 20,
            "outputTokens": 3000,
            "cacheReadInputTokens": 120000,
            "cacheCreationInputTokens": 9000,
            "costUSD": 1.02,
        },
        "claude-haiku-5-5": {
            "inputTokens": 4000,
            "outputTokens": 150,
            "cacheReadInputTokens": 0,
            "cacheCreationInputTokens": 0,
            "costUSD": 0.0112,
        },
    },
    "errors": ["Reached maximum budget ($1)"],
}


def test_a_claude_code_error_result_is_explained_never_pasted(tmp_path, root):
    out = tmp_path / "result.json"
    out.write_text(json.dumps(CLAUDE_BUDGET_ERROR))
    runner, warnings = executor(f"cat {out}; exit 1", root)
    end = runner.act(PROMPT, "L-001", later())
    assert end.text == (
        "(the executor command exited 1; it reported error_max_budget_usd: "
        "Reached maximum budget ($1))"
    )
    assert "{" not in end.text and "success" not in end.text
    # every model's tokens count, the side model's too
    assert runner.usage == Usage(4020, 3150, 9000, 120000) and runner.cost_usd == pytest.approx(
        1.0312
    )


def test_an_error_result_whose_subtype_says_success_is_still_an_error(tmp_path, root):
    out = tmp_path / "result.json"
    out.write_text(
        json.dumps(
            {
                "type": "result",
                "subtype": "success",
                "is_error": True,
                "errors": ["API Error: 500 internal"],
                "total_cost_usd": 0,
            }
        )
    )
    runner, _ = executor(f"cat {out}", root)
    end = runner.act(PROMPT, "L-001", later())
    assert end.text == "(it reported an error: API Error: 500 internal)"


def test_a_command_told_what_it_may_still_spend(tmp_path, root):
    runner, _ = executor('echo "budget=[$GENOME_BUDGET_USD]"', root)
    assert runner.act(PROMPT, "L-001", later(), budget_usd=0.4567891).text == "budget=[0.4568]"
    assert runner.act(PROMPT, "L-001", later()).text == "budget=[]"


@pytest.mark.parametrize(
    "said, code, why",
    [
        ("Not logged in · Please run /login", 1, "the agent cannot work: Not logged in"),
        (
            "API Error: 401 "
            '{"type":"error","error":{"type":"authentication_error","message":"invalid '
            'x-api-key"}}',
            1,
            "authentication_error",
        ),
        ("Segmentation fault", 139, "exited 139 without changing anything: Segmentation fault"),
        # aider 0.86 without a key: exit 0
        (
            "litellm.AuthenticationError: Missing Anthropic API Key\nThe API provider is not able "
            "to authenticate "
            "you. Check your API key.",
            0,
            "the agent cannot work: litellm.AuthenticationError",
        ),
    ],
)
def test_an_agent_that_cannot_work_is_told_apart(root, said, code, why):
    from runner.executor import cannot_work

    runner, _ = executor(f"echo '{said}'; exit {code}", root)
    runner.act(PROMPT, "L-001", later())
    assert why in cannot_work(runner.last_run)
    working, _ = executor("echo 'Changed nothing: the premise is false.'", root)
    working.act(PROMPT, "L-001", later())
    assert cannot_work(working.last_run) == ""


def lever_not_blamed(project: Path) -> None:
    lever = LeverDoc.parse((project / "levers.md").read_text()).get("L-001")
    assert lever.status == "open" and "(attempt" not in " ".join(lever.log)


def test_an_agent_that_is_not_logged_in_is_unavailable_without_a_repair_round(project, tmp_path):
    from runner.errors import ModelUnavailable

    runs = tmp_path / "runs"
    command = script(
        tmp_path,
        "claude",
        f"""#!/bin/bash
cat > /dev/null
echo run >> {runs}
echo "Not logged in · Please run /login"
exit 1
""",
    )
    with pytest.raises(ModelUnavailable, match="Not logged in"):
        executor_tick(project, command)
    assert runs.read_text() == "run\n"  # no repair round, no reflection run
    assert git(project, "status", "--porcelain") == ""
    lever_not_blamed(project)


def test_a_run_that_crosses_the_budget_is_rolled_back_and_exits_4(project, tmp_path):
    from runner.errors import BudgetSpent

    seen = tmp_path / "budget-seen"
    result = dict(
        CLAUDE_BUDGET_ERROR,
        is_error=False,
        subtype="success",
        result="Wrote it.",
        total_cost_usd=1.2,
    )
    command = script(
        tmp_path,
        "claude",
        f"""#!/bin/bash
cat > /dev/null
echo "$GENOME_BUDGET_USD" > {seen}
echo hello > greeting.txt
echo '{json.dumps(result)}'
""",
    )
    with pytest.raises(BudgetSpent, match="crossed the tick budget"):
        executor_tick(project, command)
    assert seen.read_text().strip() == "1.0000"  # the template's tick_usd
    assert not (project / "greeting.txt").exists() and git(project, "status", "--porcelain") == ""
    lever_not_blamed(project)
    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    assert entry.outcome == "budget" and entry.cost_usd == pytest.approx(1.2)


def test_after_a_repair_round_the_commit_body_tells_the_whole_act(project, tmp_path):
    tries = tmp_path / "tries"
    command = script(
        tmp_path,
        "agent",
        f"""#!/bin/bash
cat > /dev/null
[ "$GENOME_PHASE" = act ] || {{ printf '```json\\n{{}}\\n```\\n'; exit 0; }}
if [ ! -e {tries} ]; then
    touch {tries}; echo hi > greeting.txt; echo "First try: wrote hi."
else
    echo hello > greeting.txt; echo "Second try: the check wants hello, so wrote hello."
fi
""",
    )
    result, log = executor_tick(project, command)
    assert result.outcome == "shipped", log
    body = git(project, "log", "-1", "--skip=1", "--format=%B")
    assert "First try: wrote hi." in body and "Second try: the check wants hello" in body
    assert (
        body.index("First try")
        < body.index("After the gates said gate check-1 failed")
        < body.index("Second try")
    )


def test_tokens_reported_without_a_cost_are_priced_even_when_another_report_has_one(
    project, tmp_path
):
    from runner.errors import BudgetSpent

    # Claude Code's result carries its own cost; a second tool in the same command reports its
    # tokens only. Those tokens cost money too: priced at the configured model's price.
    result = dict(
        CLAUDE_BUDGET_ERROR,
        is_error=False,
        subtype="success",
        result="Wrote it.",
        total_cost_usd=0.1,
        usage={"input_tokens": 10, "output_tokens": 10},
    )
    result.pop("modelUsage", None)
    command = script(
        tmp_path,
        "claude",
        f"""#!/bin/bash
cat > /dev/null
echo hello > greeting.txt
echo 'genome-usage: {{"output_tokens": 200000}}' >&2
echo '{json.dumps(result)}'
""",
    )
    with pytest.raises(BudgetSpent, match="crossed the tick budget"):
        executor_tick(project, command)
    assert not (project / "greeting.txt").exists() and git(project, "status", "--porcelain") == ""
    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    # 200,000 output tokens at any known price cost more than the $1 tick budget
    assert entry.outcome == "budget" and entry.cost_usd > 1.0
