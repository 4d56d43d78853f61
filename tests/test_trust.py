"""Trust under faults, through whole ticks: secrets never committed, printed or journaled; tools the
loop writes for itself offered from the next tick on."""

from __future__ import annotations

import io
import random
import string
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from genome.levers import LeverDoc
from runner.progress import Printer
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import commit_all, git, set_config

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def fake_secret(kind: str) -> str:
    """Secret-shaped strings made at run time, so none sits in this repository."""
    rng = random.Random(kind)

    def pick(alphabet, n):
        return "".join(rng.choice(alphabet) for _ in range(n))

    return {
        "aws": "AKIA" + pick(string.ascii_uppercase + string.digits, 16),
        "anthropic": "sk-ant-api03-" + pick(string.ascii_letters + string.digits, 80),
        "github": "ghp_" + pick(string.ascii_letters + string.digits, 36),
        "private": "-----BEGIN RSA PRIVATE KEY-----\n"
        + pick(string.ascii_letters + string.digits, 64)
        + "\n"
        + pick(string.ascii_letters + string.digits, 64)
        + "\n-----END RSA PRIVATE KEY-----",
    }[kind]


def everything_in_git(root) -> str:
    objects = subprocess.run(
        "git cat-file --batch-all-objects --batch", shell=True, cwd=root, capture_output=True
    ).stdout
    return objects.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "kind, path",
    [
        ("aws", "config.py"),
        ("anthropic", "src/client.py"),
        ("github", "deploy.sh"),
        ("private", "id_rsa.txt"),
    ],
)
def test_a_secret_in_the_change_is_refused_and_appears_nowhere(project, kind, path):
    secret = fake_secret(kind)
    content = f'token = "{secret}"\n' if kind != "private" else secret + "\n"
    out = io.StringIO()
    result = run_tick(
        project,
        now=NOW,
        printer=Printer(out, live=False),
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                tool_reply("write_file", {"path": path, "content": content}),
                text_reply("done"),
                tool_reply("reflect", {}),
            ]
        ),
    )
    assert result.outcome == "failed" and result.exit_code == 1
    assert result.record.reason.startswith(f"secret refused in {path}:1 (")
    assert git(project, "status", "--porcelain") == "" and not (project / path).exists()
    lever = LeverDoc.parse((project / "levers.md").read_text()).get("L-001")
    assert f"secret refused in {path}:1" in lever.log[-1]
    assert f"secret refused in {path}:1" in (project / "journal/2026/11/23.md").read_text()
    needle = secret.splitlines()[1] if kind == "private" else secret
    assert needle not in everything_in_git(project)
    assert needle not in out.getvalue() and needle not in result.message
    for state in (project / ".genome").rglob("*"):
        if state.is_file():
            assert needle not in state.read_text(errors="replace")


def test_an_env_file_is_refused_and_an_allow_listed_one_ships(project):
    def run():
        return run_tick(
            project,
            now=NOW,
            make_model=lambda config: ScriptedModel(
                [
                    tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                    tool_reply("write_file", {"path": "app/.env", "content": "DEBUG=1\n"}),
                    text_reply("done"),
                    tool_reply("reflect", {}),
                ]
            ),
        )

    assert run().record.reason == "secret refused in app/.env:1 (.env file)"
    set_config(project, 'author: ""', 'author: ""\nsecrets_allow: ["app/.env"]')
    assert run().outcome == "shipped"
    assert (project / "app/.env").read_text() == "DEBUG=1\n"


def test_a_secret_already_committed_by_the_person_does_not_block_every_later_tick(project):
    (project / "settings.py").write_text(f'API_TOKEN = "{fake_secret("github")}"\n')
    commit_all(project, "the person's own choice")
    result = run_tick(
        project,
        now=NOW,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply(
                    "edit_file",
                    {"path": "settings.py", "old_text": "API_TOKEN", "new_text": "API_TOKEN"},
                ),
                tool_reply("run_command", {"command": "echo 'DEBUG = True' >> settings.py"}),
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply("done"),
                tool_reply("reflect", {}),
            ]
        ),
    )
    assert result.outcome == "shipped"  # only the lines a change adds are scanned


COUNT_LINES = """#!/usr/bin/env python3
# genome-tool: offered to the model from the next tick on
import json, sys
if sys.argv[1:] == ["--describe"]:
    print(json.dumps({"name": "count_lines", "description": "Count the lines of a file.",
                      "input_schema": {"type": "object", "properties": {"path": {"type": "string"}},
                                       "required": ["path"]}}))
    sys.exit(0)
args = json.load(sys.stdin)
print(sum(1 for _ in open(args["path"])))
"""


def test_a_tool_written_in_one_tick_is_offered_and_called_in_the_next(project):
    first = ScriptedModel(
        [
            tool_reply("write_file", {"path": "tools/count_lines", "content": COUNT_LINES}),
            tool_reply(
                "run_command",
                {"command": "chmod +x tools/count_lines && tools/count_lines --describe"},
            ),
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("Added a count_lines tool."),
            tool_reply("reflect", {}),
        ]
    )
    run_tick(project, now=NOW, make_model=lambda config: first)
    assert "count_lines" not in [t["name"] for t in first.requests[0]["tools"]]
    assert git(project, "ls-files", "-s", "tools/count_lines").startswith("100755")

    lines = len((project / "levers.md").read_text().splitlines())
    second = ScriptedModel(
        [
            tool_reply("count_lines", {"path": "levers.md"}),
            tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
            text_reply("done"),
            tool_reply("reflect", {}),
        ]
    )
    result = run_tick(project, now=NOW + timedelta(hours=1), make_model=lambda config: second)
    assert "count_lines" in [t["name"] for t in second.requests[0]["tools"]]
    [answer] = [
        b for b in second.requests[1]["messages"][-1]["content"] if b["type"] == "tool_result"
    ]
    assert not answer["is_error"] and answer["content"] == f"exit code 0\n{lines}\n"
    assert result.outcome == "shipped"


def test_a_secret_in_the_models_own_words_never_reaches_the_commit_message_or_journal(project):
    secret = fake_secret("github")
    result = run_tick(
        project,
        now=NOW,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply(f"Done. By the way the deploy token is {secret}"),
                tool_reply(
                    "reflect",
                    {
                        "lesson": f"Remember the token {secret}",
                        "genome": {"What's proven": f"token {secret} works"},
                    },
                ),
            ]
        ),
    )
    assert result.outcome == "shipped"
    assert secret not in everything_in_git(project)
    assert "the tick's words dropped" in (project / "journal/2026/11/23.md").read_text()


def test_a_secret_in_the_persons_note_is_shown_to_the_model_but_never_committed(project):
    from runner import feedback

    secret = fake_secret("anthropic")
    feedback.store(project, f"the staging key is {secret}")
    result = run_tick(
        project,
        now=NOW,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply("done"),
                tool_reply("reflect", {}),
            ]
        ),
    )
    assert result.outcome == "shipped" and secret not in everything_in_git(project)
    assert "a note was not recorded" in (project / "journal/2026/11/23.md").read_text()
