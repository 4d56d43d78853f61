"""`genome demo`: a throwaway project and a scripted model, so a tick can be watched without a
key."""

from __future__ import annotations

import subprocess
from pathlib import Path

from git import Actor

from runner.gitops import Git
from runner.init import init_project
from runner.scripted import ScriptedModel, text_reply, tool_reply

DEMO_LEVERS = """\
# Levers

- [ ] L-001 Add a hello script that greets the world
  check: ./hello.sh | grep -qx 'hello, world'
"""


def make_demo_project(directory: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(directory)], check=True)
    init_project(directory)
    (directory / "levers.md").write_text(DEMO_LEVERS)
    with Git(directory) as git:
        git.commit(["levers.md"], "demo: one lever", Actor("genome demo", "demo@localhost"))


def demo_model() -> ScriptedModel:
    """The act turns, then the reflection: the same requests a real model would answer."""
    return ScriptedModel(
        [
            tool_reply("search_files", {"pattern": "*.sh"}, text="I'll check what exists first."),
            tool_reply(
                "write_file", {"path": "hello.sh", "content": "#!/bin/sh\necho 'hello, world'\n"}
            ),
            tool_reply("run_command", {"command": "chmod +x hello.sh && ./hello.sh"}),
            text_reply("Added hello.sh, which prints 'hello, world'; ran it and saw the greeting."),
            tool_reply(
                "reflect",
                {
                    "lesson": (
                        "Run the artifact itself (./hello.sh) before finishing; a written file is "
                        "not a working one."
                    ),
                    "genome": {
                        "What's proven": (
                            "hello.sh prints the greeting; its check runs on every tick."
                        )
                    },
                    "levers": [
                        {
                            "title": "Add a --name option to hello.sh",
                            "check": ["./hello.sh --name Ada | grep -q Ada"],
                        }
                    ],
                },
            ),
        ]
    )
