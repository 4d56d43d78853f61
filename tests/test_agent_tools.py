from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.agent_tools import DESCRIBE_OUTPUT_LIMIT, AgentTool, call, discover

BUILT_INS = {
    "read_file",
    "write_file",
    "edit_file",
    "run_command",
    "search_files",
    "search_content",
    "load_skill",
}

COUNT_LINES = f'''\
#!{sys.executable}
"""Counts the lines of a file; a genome-tool of this project."""
import json, sys
if sys.argv[1:] == ["--describe"]:
    print(json.dumps({{
        "name": "count_lines",
        "description": "Count the lines of a text file in the project.",
        "input_schema": {{"type": "object", "properties": {{"path": {{"type": "string"}}}},
                          "required": ["path"]}},
    }}))
    sys.exit(0)
request = json.load(sys.stdin)
with open(request["path"]) as handle:
    print(f"{{request['path']}}: {{sum(1 for _ in handle)}} lines")
'''

ECHO_BASH = """\
#!/usr/bin/env bash
# genome-tool
if [ "$1" = "--describe" ]; then
  echo '{"name": "echo-input", "description": "Echo the input back.", "input_schema": {"type": "object"}}'
  exit 0
fi
input=$(cat)
echo "got: $input"
"""  # noqa: E501


def bash_tool(describe: str, run: str = "cat") -> str:
    """A bash tool that answers --describe with ``describe`` (shell) and otherwise runs ``run``."""
    return (
        f'#!/usr/bin/env bash\n# genome-tool\nif [ "$1" = "--describe" ]; then\n{describe}\nexit '
        f"$?\nfi\n{run}\n"
    )


def describing(name: str, schema: object = None, **extra) -> str:
    data = {
        "name": name,
        "description": f"The {name} tool.",
        "input_schema": {"type": "object"} if schema is None else schema,
        **extra,
    }
    return f"cat <<'JSON'\n{json.dumps(data)}\nJSON"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q")
    (root / "tools").mkdir()
    (root / "notes.txt").write_text("one\ntwo\nthree\n")
    return root


def add_tool(root: Path, name: str, text: str, executable: bool = True) -> Path:
    path = root / "tools" / name
    path.write_text(text)
    path.chmod(0o755 if executable else 0o644)
    return path


def commit_all(root: Path) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "tools")


class Warnings(list):
    def __call__(self, message: str) -> None:
        self.append(message)


def found(root: Path, timeout: float = 10) -> tuple[list[AgentTool], Warnings]:
    warnings = Warnings()
    return discover(root, reserved=BUILT_INS, warn=warnings, timeout=timeout), warnings


# --- discovery and calls of real tools ----------------------------------------------------------


def test_committed_python_and_bash_tools_are_described_and_called(project):
    add_tool(project, "count_lines", COUNT_LINES)
    add_tool(project, "echo", ECHO_BASH)
    (project / "tools" / "README.md").write_text("Tools of this project.\n")
    (project / "tools" / "lib").mkdir()
    add_tool(project, "lib/helper.sh", "#!/bin/sh\necho helper\n")
    commit_all(project)
    assert "100755 " in git(project, "ls-files", "-s", "tools/count_lines")

    tools, warnings = found(project)
    assert warnings == []
    assert [(tool.name, tool.path) for tool in tools] == [
        ("count_lines", "tools/count_lines"),
        ("echo-input", "tools/echo"),
    ]
    assert tools[0].spec() == {
        "name": "count_lines",
        "description": "Count the lines of a text file in the project.",
        "input_schema": {
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"],
        },
    }
    tools[0].spec()["input_schema"]["properties"]["x"] = {}
    assert "x" not in tools[0].input_schema["properties"]

    assert call(project, tools[0], {"path": "notes.txt"}, timeout=10) == (
        "exit code 0\nnotes.txt: 3 lines\n",
        False,
    )
    assert call(project, tools[1], {"text": 'hi "there"'}, timeout=10) == (
        'exit code 0\ngot: {"text": "hi \\"there\\""}\n',
        False,
    )


def test_a_large_input_reaches_the_tool_whole_on_stdin(project):
    tool_text = bash_tool(describing("digest"), "sha256sum | cut -d' ' -f1")
    add_tool(project, "digest", tool_text)
    [tool], _ = found(project)
    tool_input = {"text": "x" * 300_000}  # past what one command-line argument may hold
    expected = hashlib.sha256(json.dumps(tool_input).encode()).hexdigest()
    assert call(project, tool, tool_input, timeout=10) == (f"exit code 0\n{expected}\n", False)


def test_the_tool_runs_from_the_project_root(project, tmp_path, monkeypatch):
    add_tool(project, "where", bash_tool(describing("where"), "pwd"))
    monkeypatch.chdir(tmp_path)
    [tool], _ = found(Path("project"))
    assert call(Path("project"), tool, {}, timeout=10) == (
        f"exit code 0\n{project.resolve()}\n",
        False,
    )


def test_a_non_zero_exit_is_an_error_result_with_its_code(project):
    add_tool(project, "fails", bash_tool(describing("fails"), "echo 'no such record' >&2; exit 3"))
    [tool], _ = found(project)
    assert call(project, tool, {}, timeout=10) == ("exit code 3\nno such record\n", True)


def test_a_tool_that_outlives_its_timeout_is_killed_with_its_children(project, tmp_path):
    pid_file = tmp_path / "child.pid"
    add_tool(
        project, "hangs", bash_tool(describing("hangs"), f"sleep 300 & echo $! > {pid_file}; wait")
    )
    [tool], _ = found(project)
    started = time.monotonic()
    content, is_error = call(project, tool, {}, timeout=1)
    assert time.monotonic() - started < 8
    assert is_error
    assert content.startswith(
        "exit code 124: timed out after 1 s; the tool and its child processes were killed"
    )
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return state[state.rfind(")") + 2 :].split()[0] != "Z"


def test_long_output_is_cut_to_the_limit_keeping_head_and_tail(project):
    add_tool(project, "loud", bash_tool(describing("loud"), "seq 1 100000"))
    [tool], _ = found(project)
    content, is_error = call(project, tool, {}, timeout=10, output_limit=4000)
    assert not is_error
    status, output = content.split("\n", 1)
    assert status == "exit code 0"
    assert len(output) <= 4000
    assert output.startswith("1\n2\n3\n")
    assert output.endswith("99999\n100000\n")
    assert "bytes cut ...]" in output


def test_the_api_key_is_not_in_the_tool_environment(project, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "key-value-that-must-not-leak")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "token-value-that-must-not-leak")
    monkeypatch.setenv("GENOME_TEST_MARKER", "passed-through")
    add_tool(project, "env", bash_tool(describing("env"), "env"))
    [tool], _ = found(project)
    content, is_error = call(project, tool, {}, timeout=10)
    assert not is_error
    assert "GENOME_TEST_MARKER=passed-through" in content
    assert "ANTHROPIC_API_KEY" not in content and "must-not-leak" not in content
    assert "ANTHROPIC_AUTH_TOKEN" not in content


def test_the_api_key_is_not_in_the_describe_environment(project, monkeypatch, tmp_path):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "key-value-that-must-not-leak")
    dump = tmp_path / "env.txt"
    add_tool(project, "spy", bash_tool(f"env > {dump}\n" + describing("spy")))
    [tool], _ = found(project)
    assert tool.name == "spy"
    assert "PATH=" in dump.read_text()
    assert "must-not-leak" not in dump.read_text()


def test_a_tool_removed_after_discovery_gives_an_error_result(project):
    path = add_tool(project, "gone", bash_tool(describing("gone")))
    [tool], _ = found(project)
    path.unlink()
    content, is_error = call(project, tool, {}, timeout=10)
    assert is_error
    assert "tools/gone is no longer an executable file" in content


# --- files that are not offered -----------------------------------------------------------------

FAILURES = [
    (
        "exits-nonzero",
        bash_tool("echo 'ImportError: no module named yaml' >&2; exit 2"),
        "`tools/x --describe` exited with code 2: ImportError: no module named yaml",
    ),
    (
        "not-json",
        bash_tool("echo 'usage: x [--describe]'"),
        "`tools/x --describe` did not print JSON",
    ),
    ("json-list", bash_tool("echo '[1, 2]'"), "printed a JSON list, not an object"),
    (
        "missing-schema",
        bash_tool('echo \'{"name": "x", "description": "d"}\''),
        "its description lacks input_schema",
    ),
    (
        "name-with-space",
        bash_tool(describing("two words")),
        "its name 'two words' is not 1 to 64 letters",
    ),
    ("name-too-long", bash_tool(describing("n" * 65)), "is not 1 to 64 letters"),
    (
        "name-not-string",
        bash_tool('echo \'{"name": 7, "description": "d", "input_schema": {}}\''),
        "its name 7 is not",
    ),
    (
        "empty-description",
        bash_tool('echo \'{"name": "x", "description": " ", "input_schema": {"type": "object"}}\''),
        "its description is empty",
    ),
    (
        "schema-not-object",
        bash_tool(describing("x", {"type": "string"})),
        "is not an object schema",
    ),
    ("schema-a-list", bash_tool(describing("x", [{"type": "object"}])), "is not an object schema"),
    (
        "properties-not-schemas",
        bash_tool(describing("x", {"type": "object", "properties": {"a": "string"}})),
        "properties must map each parameter name to a schema object",
    ),
    (
        "required-unknown",
        bash_tool(describing("x", {"type": "object", "properties": {}, "required": ["path"]})),
        "requires path, which properties does not define",
    ),
    (
        "type-misspelt",
        bash_tool(describing("x", {"type": "object", "properties": {"path": {"type": "strng"}}})),
        "its input_schema is not a valid JSON Schema (at properties/path/type: 'strng' is not "
        "valid",
    ),
    (
        "required-not-a-list",
        bash_tool(describing("x", {"type": "object", "properties": {}, "required": "path"})),
        "not a valid JSON Schema (at required: 'path' is not of type 'array'",
    ),
    (
        "bad-pattern-keyword",
        bash_tool(
            describing(
                "x", {"type": "object", "properties": {"n": {"type": "integer", "minimum": "zero"}}}
            )
        ),
        "at properties/n/minimum",
    ),
    (
        "built-in-name",
        bash_tool(describing("read_file")),
        "its name 'read_file' is a built-in tool's",
    ),
    (
        "huge-description",
        bash_tool(f"head -c {DESCRIBE_OUTPUT_LIMIT + 1} /dev/zero | tr '\\0' ' '"),
        f"printed more than {DESCRIBE_OUTPUT_LIMIT:,} bytes",
    ),
]


@pytest.mark.parametrize(
    ("script", "why"), [case[1:] for case in FAILURES], ids=[case[0] for case in FAILURES]
)
def test_a_file_failing_describe_is_skipped_with_its_reason(project, script, why):
    add_tool(project, "x", script)
    add_tool(project, "y_good", bash_tool(describing("good")))
    tools, warnings = found(project)
    assert [tool.name for tool in tools] == ["good"]
    assert len(warnings) == 1
    assert warnings[0].startswith("tools/x is not offered as a tool: ")
    assert why in warnings[0]


def test_describe_that_hangs_is_cut_off(project):
    add_tool(project, "slow", bash_tool("sleep 300"))
    started = time.monotonic()
    tools, warnings = found(project, timeout=1)
    assert time.monotonic() - started < 8
    assert tools == []
    assert warnings == [
        "tools/slow is not offered as a tool: `tools/slow --describe` did not finish within 1 s"
    ]


def test_a_warning_on_stderr_does_not_spoil_the_description(project):
    add_tool(
        project, "chatty", bash_tool("echo 'DeprecationWarning: old' >&2\n" + describing("chatty"))
    )
    tools, warnings = found(project)
    assert [tool.name for tool in tools] == ["chatty"] and warnings == []


def test_a_second_tool_with_a_taken_name_is_skipped(project):
    add_tool(project, "a_first", bash_tool(describing("same")))
    add_tool(project, "b_second", bash_tool(describing("same")))
    tools, warnings = found(project)
    assert [tool.path for tool in tools] == ["tools/a_first"]
    assert warnings == [
        "tools/b_second is not offered as a tool: its name 'same' is already taken by "
        "tools/a_first; give it another name"
    ]


def test_links_are_followed_inside_the_project_only(project, tmp_path):
    outside = tmp_path / "outside-tool"
    outside.write_text(bash_tool(describing("outside")))
    outside.chmod(0o755)
    (project / "tools" / "escape").symlink_to(outside)
    (project / "scripts").mkdir()
    inside = project / "scripts" / "real.sh"
    inside.write_text(bash_tool(describing("inside")))
    inside.chmod(0o755)
    (project / "tools" / "linked").symlink_to(Path("..") / "scripts" / "real.sh")
    tools, warnings = found(project)
    assert [(tool.name, tool.path) for tool in tools] == [("inside", "tools/linked")]
    assert warnings == [
        "tools/escape is not offered as a tool: it is a link pointing outside the project"
    ]


def test_a_tools_folder_linked_outside_is_ignored_with_a_warning(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "t").write_text(bash_tool(describing("t")))
    (elsewhere / "t").chmod(0o755)
    (root / "tools").symlink_to(elsewhere)
    tools, warnings = found(root)
    assert tools == []
    assert warnings == ["tools/ points outside the project; none of its files is offered as a tool"]


def test_a_script_without_its_executable_bit_is_named(project):
    add_tool(project, "forgot_chmod.py", "#!/usr/bin/env python3\nprint('hi')\n", executable=False)
    add_tool(project, "data.json", '{"name": "not a tool"}', executable=False)
    tools, warnings = found(project)
    assert tools == []
    assert warnings == [
        "tools/forgot_chmod.py is not offered as a tool: it starts with #! but is not "
        "executable; run `chmod +x tools/forgot_chmod.py` and commit it"
    ]


def test_no_tools_folder_means_no_tools(tmp_path):
    assert found(tmp_path) == ([], [])
    (tmp_path / "tools").write_text("a file, not a folder\n")
    assert found(tmp_path) == ([], [])


def test_names_come_sorted_by_file_name(project):
    for file_name, tool_name in [
        ("zeta", "first_alpha"),
        ("alpha", "last_zeta"),
        ("mid", "middle"),
    ]:
        add_tool(project, file_name, bash_tool(describing(tool_name)))
    tools, _ = found(project)
    assert [(tool.path, tool.name) for tool in tools] == [
        ("tools/alpha", "last_zeta"),
        ("tools/mid", "middle"),
        ("tools/zeta", "first_alpha"),
    ]


def test_a_script_that_does_not_say_genome_tool_is_never_run(project, tmp_path):
    ran = tmp_path / "deploy-ran"
    add_tool(project, "deploy.sh", f'#!/usr/bin/env bash\necho "$*" >> {ran}\n')
    commit_all(project)
    tools, warnings = found(project)
    assert tools == [] and warnings == [] and not ran.exists()
