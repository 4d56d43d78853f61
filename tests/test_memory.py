"""Bounded memory: a year of history does not grow what a tick sends the model."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.conftest import commit_all

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
WORDS = (
    "fetcher cache retries parser report schema migration gate server timeout config queue".split()
)


def first_request_size(root) -> int:
    model = ScriptedModel(
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            tool_reply("reflect", {}),
        ]
    )
    run_tick(root, make_model=lambda config: model, now=NOW)
    return len(json.dumps(model.requests[0]))


def age_a_year(root) -> None:
    """2,000 lessons, 3,000 done levers (the open ones stay on top) and 365 days of journal."""
    lessons = "".join(
        f"- [v{i // 20 + 1:03d} 2026-{i % 12 + 1:02d}-01] When the {WORDS[i % 12]} changes, "
        f"re-run its {WORDS[(i * 7) % 12]} check before shipping (case {i}).\n"
        for i in range(2000)
    )
    (root / "loop-prompt.md").write_text((root / "loop-prompt.md").read_text() + lessons)
    done = "".join(
        f"- [x] L-{i + 100:04d} Improve the {WORDS[i % 12]} number {i}\n"
        f"  - 2026-01-01T00:00Z v001 shipped abc{i:04d}\n"
        for i in range(3000)
    )
    (root / "levers.md").write_text((root / "levers.md").read_text() + done)
    for day in range(365):
        path = root / "journal" / "2026" / f"{day // 31 + 1:02d}" / f"{day % 31 + 1:02d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "# Journal\n\n## 2026-01-01T00:00:00Z shipped: L-0001 something\n\n- cost_usd: 0.1\n"
            * 20
        )
    commit_all(root, "a year of history")


def test_a_year_of_history_keeps_the_first_request_within_1_2x_of_a_fresh_project(
    project, tmp_path
):
    import shutil

    aged = tmp_path / "aged"
    shutil.copytree(project, aged, symlinks=True)
    fresh_size = first_request_size(project)
    age_a_year(aged)
    aged_size = first_request_size(aged)
    assert aged_size <= 1.2 * fresh_size, (fresh_size, aged_size)
