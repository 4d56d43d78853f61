"""Ticks over the real anthropic SDK against a fake Messages API on loopback, including
`genome-tick` run as a subprocess the way a timer runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from runner.anthropic_model import AnthropicModel
from runner.fake_api import FakeMessagesServer
from runner.lock import TickLock
from runner.scripted import error_reply, midstream_error, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import commit_all, git, tree_state

pytestmark = pytest.mark.slow  # runs genome-tick as a process against the fake API

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
GENOME_TICK = str(Path(sys.executable).parent / "genome-tick")
ACT_TOOLS = [
    "read_file",
    "write_file",
    "edit_file",
    "run_command",
    "search_files",
    "search_content",
    "load_skill",
    "reflect",
]


def reflect(**fields):
    return tool_reply("reflect", {"lesson": None, "genome": None, "levers": [], **fields})


def genome_tick(
    root: Path, server: FakeMessagesServer | None, *args: str, key: str | None = "test-key-123456"
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["ANTHROPIC_CONFIG_DIR"] = os.environ["ANTHROPIC_CONFIG_DIR"]
    if server:
        env["ANTHROPIC_BASE_URL"] = server.url
    if key:
        env["ANTHROPIC_API_KEY"] = key
    return subprocess.run(
        [GENOME_TICK, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


def sdk_model(server: FakeMessagesServer) -> AnthropicModel:
    return AnthropicModel(
        api_key="test-key-123456", base_url=server.url, sleep=lambda seconds: None
    )


def last_tool_results(request: dict) -> list[dict]:
    return [b for b in request["messages"][-1]["content"] if b.get("type") == "tool_result"]


def test_genome_tick_ships_a_lever_through_the_real_sdk(project):
    script = [
        tool_reply("read_file", {"path": "levers.md"}),
        tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
        tool_reply("run_command", {"command": "grep -qx hello greeting.txt && echo verified"}),
        text_reply("Wrote greeting.txt and verified it with the lever's grep."),
        reflect(lesson="Verify with the lever's own check before finishing."),
    ]
    with FakeMessagesServer(script) as server:
        done = genome_tick(project, server, "--now")
    assert done.returncode == 0, done.stderr
    assert "shipped: L-001 Add a greeting file · v001" in done.stderr
    assert git(project, "status", "--porcelain") == ""
    assert (project / "greeting.txt").read_text() == "hello\n"
    assert "Lever: L-001" in git(project, "log", "-1", "--skip=1", "--format=%B")

    act = server.requests[:4]
    assert [t["name"] for t in act[0]["tools"]] == ACT_TOOLS
    assert all(r["stream"] is True for r in server.requests)
    assert server.headers[0]["authorization"] == "Bearer test-key-123456"
    # the stable prefix (tools + system) is byte-identical on every act turn, and marked for caching
    assert len({json.dumps([r["tools"], r["system"]]) for r in act}) == 1
    assert act[0]["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert [r["content"] for r in last_tool_results(act[3])] == ["exit code 0\nverified\n"]


def test_overloaded_forever_exits_5_with_the_tree_restored_and_the_lever_not_blamed(project):
    overloaded = error_reply(529, "overloaded_error", "Overloaded", retry_after_ms=1)
    with FakeMessagesServer(
        [tool_reply("write_file", {"path": "greeting.txt", "content": "hi\n"})], default=overloaded
    ) as server:
        done = genome_tick(project, server, "--now")
    assert done.returncode == 5, done.stderr
    assert "unavailable after 8 attempts" in done.stderr
    assert len(server.requests) == 1 + 8
    assert not (project / "greeting.txt").exists() and git(project, "status", "--porcelain") == ""
    levers = (project / "levers.md").read_text()
    assert "(attempt" not in levers and "- [ ] L-001" in levers


def test_a_stream_broken_by_an_overloaded_error_is_retried(project):
    models = []
    with FakeMessagesServer(
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            midstream_error("overloaded_error"),
            text_reply("done"),
            reflect(),
        ]
    ) as server:
        started = time.monotonic()
        result = run_tick(
            project,
            make_model=lambda config: models.append(sdk_model(server)) or models[-1],
            now=NOW,
        )
    assert result.outcome == "shipped" and len(server.requests) == 4
    # the model's retries and requests are bound to the tick's wall clock (tick_minutes: 30)
    assert started + 30 * 60 <= models[0].deadline <= time.monotonic() + 30 * 60


def test_no_key_and_no_base_url_exits_5_and_says_how_to_set_one(project):
    before = tree_state(project)
    done = genome_tick(project, None, "--now", key=None)
    assert done.returncode == 5
    assert (
        "ANTHROPIC_API_KEY" in done.stderr
        and "ANTHROPIC_BASE_URL=http://localhost:11434" in done.stderr
    )
    assert tree_state(project) == before and git(project, "status", "--porcelain") == ""


def test_an_idle_tick_without_credentials_exits_5_and_writes_nothing(project):
    (project / "levers.md").write_text("# Levers\n\n- [x] L-001 Done already\n")
    commit_all(project, "all done")
    head, before = git(project, "rev-parse", "HEAD"), tree_state(project)
    for _ in range(2):
        done = genome_tick(project, None, "--now", key=None)
        assert done.returncode == 5, done.stderr
        assert "ANTHROPIC_API_KEY" in done.stderr
    assert git(project, "rev-parse", "HEAD") == head and tree_state(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_a_rejected_key_exits_5_at_once(project):
    with FakeMessagesServer(
        default=error_reply(401, "authentication_error", "invalid x-api-key")
    ) as server:
        done = genome_tick(project, server, "--now")
    assert done.returncode == 5 and "ANTHROPIC_API_KEY" in done.stderr
    assert len(server.requests) == 1


def test_a_detached_head_and_an_overlapping_tick_exit_3_without_a_model_call(project):
    with FakeMessagesServer([text_reply("never")]) as server:
        with TickLock(project):
            locked = genome_tick(project, server, "--now")
        git(project, "checkout", "-q", "--detach")
        detached = genome_tick(project, server, "--now")
    assert locked.returncode == 3 and "another tick is running (pid" in locked.stderr
    assert detached.returncode == 3 and "HEAD is detached" in detached.stderr
    assert server.requests == []


def test_broken_genome_frontmatter_exits_2_naming_file_and_line_without_a_model_call(project):
    (project / "genome.md").write_text("---\nversion: 1\nmission: [unclosed\n---\n# Genome\n")
    commit_all(project, "broken")
    before = tree_state(project)
    with FakeMessagesServer([text_reply("never")]) as server:
        done = genome_tick(project, server, "--now")
    assert done.returncode == 2
    assert "genome.md:" in done.stderr and "not valid YAML" in done.stderr
    assert server.requests == [] and tree_state(project) == before


def test_every_sandbox_escape_is_an_error_result_the_model_can_read(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "link").symlink_to(outside)
    commit_all(project, "a link out")
    git_config = (project / ".git" / "config").read_bytes()
    escapes = [
        ("write_file", {"path": "../outside/escaped.txt", "content": "x"}),
        ("write_file", {"path": str(outside / "abs.txt"), "content": "x"}),
        ("write_file", {"path": "link/through-link.txt", "content": "x"}),
        ("write_file", {"path": ".git/config", "content": "[core]\n"}),
        ("edit_file", {"path": "genome.md", "old_text": "version: 1", "new_text": "version: 9"}),
        ("read_file", {"path": "../outside/escaped.txt"}),
    ]
    script = [tool_reply(name, args) for name, args in escapes]
    script += [
        tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
        text_reply("ok"),
        reflect(),
    ]
    with FakeMessagesServer(script) as server:
        result = run_tick(project, make_model=lambda config: sdk_model(server), now=NOW)
    for request in server.requests[1 : len(escapes) + 1]:
        [refusal] = last_tool_results(request)
        assert refusal["is_error"] is True and refusal["content"]
    assert list(outside.iterdir()) == []
    assert (project / ".git" / "config").read_bytes() == git_config
    assert result.outcome == "shipped"


def test_three_megabytes_of_command_output_reach_the_model_truncated(project):
    with FakeMessagesServer(
        [
            tool_reply("run_command", {"command": "seq 1 450000"}),  # 3.2 MB
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            reflect(),
        ]
    ) as server:
        run_tick(project, make_model=lambda config: sdk_model(server), now=NOW)
    [result] = last_tool_results(server.requests[1])
    assert len(result["content"]) < 20_000
    assert result["content"].startswith("exit code 0\n1\n2\n") and result[
        "content"
    ].rstrip().endswith("450000")
    assert "cut" in result["content"]
