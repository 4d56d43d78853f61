from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.tools import ToolBox

TOOL_NAMES = [
    "read_file",
    "write_file",
    "edit_file",
    "run_command",
    "search_files",
    "search_content",
    "load_skill",
]
GENOME = "---\nversion: 1\n---\n## Mission\nStay safe.\n"


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "genome.md").write_text(GENOME)
    (root / "levers.md").write_text("- [ ] L-001 Do it\n")
    (root / "loop-prompt.md").write_text("---\nmodel: m\n---\nPrompt\n")
    (root / ".genome").mkdir()
    (root / ".genome" / "state").write_text("due\n")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("def main():\n    return 1\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_app.py").write_text("def test_main():\n    assert True\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOP-SECRET\n")
    return root


@pytest.fixture
def box(project) -> ToolBox:
    return ToolBox(project, ["tests/**"])


def _refused(result, *words: str) -> None:
    assert result.is_error, result.content
    for word in words:
        assert word in result.content, result.content


# --- sandbox escapes ---------------------------------------------------------------------------


def test_dotdot_out_of_the_project_is_refused(box, project):
    _refused(box.call("read_file", {"path": "../outside/secret.txt"}), "outside the project")
    _refused(
        box.call("write_file", {"path": "../outside/secret.txt", "content": "x"}),
        "outside the project",
    )
    _refused(
        box.call("search_content", {"pattern": "SECRET", "path": "../outside"}),
        "outside the project",
    )
    assert (project.parent / "outside" / "secret.txt").read_text() == "TOP-SECRET\n"
    assert box.touched == set()


def test_dotdot_that_stays_inside_is_allowed(box):
    result = box.call("read_file", {"path": "tests/../src/app.py"})
    assert not result.is_error
    assert "def main" in result.content


def test_absolute_paths_are_refused_even_inside(box, project):
    _refused(box.call("read_file", {"path": str(project / "src" / "app.py")}), "absolute")
    _refused(box.call("write_file", {"path": "/tmp/escape.txt", "content": "x"}), "absolute")
    assert not Path("/tmp/escape.txt").exists()


def test_symlink_pointing_out_is_refused(box, project):
    (project / "leak.txt").symlink_to(project.parent / "outside" / "secret.txt")
    _refused(box.call("read_file", {"path": "leak.txt"}), "outside the project")
    _refused(
        box.call("write_file", {"path": "leak.txt", "content": "owned"}), "outside the project"
    )
    _refused(box.call("edit_file", {"path": "leak.txt", "old_text": "TOP", "new_text": "x"}))
    assert (project.parent / "outside" / "secret.txt").read_text() == "TOP-SECRET\n"


def test_symlinked_parent_folder_pointing_out_is_refused(box, project):
    (project / "docs").symlink_to(project.parent / "outside")
    _refused(
        box.call("write_file", {"path": "docs/new.txt", "content": "x"}), "outside the project"
    )
    _refused(box.call("read_file", {"path": "docs/secret.txt"}), "outside the project")
    assert not (project.parent / "outside" / "new.txt").exists()


def test_git_internals_can_be_neither_read_nor_written(box, project):
    config = (project / ".git" / "config").read_text()
    _refused(box.call("read_file", {"path": ".git/config"}), ".git/")
    _refused(box.call("read_file", {"path": "src/../.git/config"}), ".git/")
    _refused(box.call("write_file", {"path": ".git/config", "content": "[core]\n"}), "protected")
    _refused(
        box.call("write_file", {"path": ".git/hooks/pre-commit", "content": "#!/bin/sh\n"}),
        "protected",
    )
    _refused(box.call("search_content", {"pattern": "core", "path": ".git"}), ".git/")
    assert (project / ".git" / "config").read_text() == config
    assert not (project / ".git" / "hooks" / "pre-commit").exists()


def test_genome_state_folder_is_refused(box, project):
    _refused(box.call("read_file", {"path": ".genome/state"}), ".genome/")
    _refused(box.call("write_file", {"path": ".genome/state", "content": "x"}), "protected")
    assert (project / ".genome" / "state").read_text() == "due\n"


def test_genome_files_are_readable_but_not_writable(box, project):
    assert "Stay safe." in box.call("read_file", {"path": "genome.md"}).content
    _refused(
        box.call("write_file", {"path": "genome.md", "content": "---\nversion: 99\n---\n"}),
        "genome.md is protected",
    )
    _refused(
        box.call("edit_file", {"path": "genome.md", "old_text": "Stay safe.", "new_text": "Go."}),
        "protected",
    )
    _refused(
        box.call("edit_file", {"path": "./levers.md", "old_text": "Do it", "new_text": "Done"}),
        "protected",
    )
    _refused(box.call("write_file", {"path": "loop-prompt.md", "content": ""}), "protected")
    assert (project / "genome.md").read_text() == GENOME
    assert (project / "levers.md").read_text() == "- [ ] L-001 Do it\n"


def test_protected_glob_covers_new_and_nested_files(box, project):
    _refused(
        box.call("write_file", {"path": "tests/test_app.py", "content": "pass\n"}), "'tests/**'"
    )
    _refused(
        box.call("write_file", {"path": "tests/deep/new_test.py", "content": "pass\n"}),
        "'tests/**'",
    )
    _refused(
        box.call(
            "edit_file", {"path": "tests/test_app.py", "old_text": "True", "new_text": "False"}
        )
    )
    assert (project / "tests" / "test_app.py").read_text() == "def test_main():\n    assert True\n"
    assert not (project / "tests" / "deep").exists()
    assert not box.call("read_file", {"path": "tests/test_app.py"}).is_error


def test_symlink_inside_pointing_at_genome_is_still_protected(box, project):
    (project / "notes.md").symlink_to("genome.md")
    _refused(
        box.call("write_file", {"path": "notes.md", "content": "hijack"}), "genome.md is protected"
    )
    _refused(
        box.call("edit_file", {"path": "notes.md", "old_text": "Stay", "new_text": "Leave"}),
        "protected",
    )
    (project / "testlink").symlink_to("tests")
    _refused(
        box.call("write_file", {"path": "testlink/x.py", "content": "x"}), "tests/x.py is protected"
    )
    assert (project / "genome.md").read_text() == GENOME
    assert not (project / "tests" / "x.py").exists()


def test_odd_paths_are_refused(box):
    _refused(box.call("read_file", {"path": ""}), "empty")
    _refused(box.call("read_file", {"path": "src/app.py\0.txt"}), "NUL")
    _refused(box.call("write_file", {"path": "src", "content": "x"}), "folder")
    _refused(box.call("read_file", {"path": "src"}), "folder")
    _refused(box.call("read_file", {"path": "nope.py"}), "does not exist")


# --- read_file, write_file, edit_file ------------------------------------------------------------


def test_read_file_numbers_lines_and_pages(box, project):
    (project / "big.txt").write_text("".join(f"row {n}\n" for n in range(1, 2501)))
    first = box.call("read_file", {"path": "big.txt"})
    assert first.content.startswith("     1\trow 1\n     2\trow 2\n")
    assert (
        "  2000\trow 2000\n[lines 1-2000 of 2500 shown; call read_file with offset=2001"
        in first.content
    )
    page = box.call("read_file", {"path": "big.txt", "offset": 2001, "limit": 3})
    assert page.content.splitlines()[:3] == [
        "  2001\trow 2001",
        "  2002\trow 2002",
        "  2003\trow 2003",
    ]
    assert "offset=2004" in page.content
    last = box.call("read_file", {"path": "big.txt", "offset": 2499})
    assert last.content == "  2499\trow 2499\n  2500\trow 2500"
    _refused(box.call("read_file", {"path": "big.txt", "offset": 3000}), "past the end")
    _refused(box.call("read_file", {"path": "big.txt", "offset": 0}), "1 or more")


def test_read_file_caps_bytes_and_giant_lines(box, project):
    (project / "wide.txt").write_text(("x" * 999 + "\n") * 600)  # 600 KB in 600 lines
    wide = box.call("read_file", {"path": "wide.txt"})
    assert len(wide.content) < 300_000
    assert re.search(r"\[lines 1-\d+ of 600 shown; call read_file with offset=\d+", wide.content)
    (project / "minified.js").write_text("y" * 1_000_000 + "\nend\n")
    giant = box.call("read_file", {"path": "minified.js"})
    assert len(giant.content) < 300_000
    assert "line cut" in giant.content
    assert "offset=2" in giant.content


def test_read_file_refuses_binary(box, project):
    (project / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    _refused(box.call("read_file", {"path": "logo.png"}), "binary")


def test_write_file_creates_folders_and_records_the_path(box, project):
    result = box.call("write_file", {"path": "pkg/sub/mod.py", "content": "X = 1\n"})
    assert not result.is_error
    assert "created pkg/sub/mod.py" in result.content
    assert (project / "pkg" / "sub" / "mod.py").read_text() == "X = 1\n"
    assert box.touched == {"pkg/sub/mod.py"}
    assert (
        "replaced"
        in box.call("write_file", {"path": "pkg/sub/mod.py", "content": "X = 2\n"}).content
    )


def test_edit_file_replaces_one_exact_match(box, project):
    result = box.call(
        "edit_file", {"path": "src/app.py", "old_text": "return 1", "new_text": "return 2"}
    )
    assert not result.is_error
    assert "line 2" in result.content
    assert (project / "src" / "app.py").read_text() == "def main():\n    return 2\n"
    assert box.touched == {"src/app.py"}


def test_edit_file_not_found_says_whitespace_must_match(box, project):
    result = box.call(
        "edit_file", {"path": "src/app.py", "old_text": "\treturn 1", "new_text": "x"}
    )
    _refused(result, "not found", "whitespace")
    result = box.call("edit_file", {"path": "src/app.py", "old_text": "return  1", "new_text": "x"})
    _refused(result, "not found")
    assert (project / "src" / "app.py").read_text() == "def main():\n    return 1\n"
    assert box.touched == set()


def test_edit_file_ambiguous_match_says_how_many(box, project):
    (project / "dup.py").write_text("a = 1\nb = 1\nc = 1\n")
    _refused(
        box.call("edit_file", {"path": "dup.py", "old_text": " = 1", "new_text": " = 2"}),
        "3 times",
        "more surrounding lines",
    )
    assert (project / "dup.py").read_text() == "a = 1\nb = 1\nc = 1\n"
    ok = box.call("edit_file", {"path": "dup.py", "old_text": "b = 1", "new_text": "b = 2"})
    assert not ok.is_error
    assert (project / "dup.py").read_text() == "a = 1\nb = 2\nc = 1\n"


def test_edit_file_refuses_empty_and_missing(box):
    _refused(
        box.call("edit_file", {"path": "src/app.py", "old_text": "", "new_text": "x"}), "empty"
    )
    _refused(
        box.call("edit_file", {"path": "new.py", "old_text": "a", "new_text": "b"}), "write_file"
    )


# --- run_command ---------------------------------------------------------------------------------


def test_run_command_reports_exit_code_first(box, project):
    ok = box.call("run_command", {"command": "pwd; ls src"})
    assert not ok.is_error
    assert ok.content == f"exit code 0\n{project}\napp.py\n"
    failed = box.call("run_command", {"command": "echo broken >&2; exit 7"})
    assert failed.is_error
    assert failed.content == "exit code 7\nbroken\n"


def test_run_command_never_sees_the_api_key(box, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "auth-very-secret")
    result = box.call("run_command", {"command": "env; cat /proc/$$/environ | tr '\\0' '\\n'"})
    assert not result.is_error
    assert "PATH=" in result.content
    assert "very-secret" not in result.content


def test_run_command_timeout_is_capped_and_kills(project):
    box = ToolBox(project, command_timeout_max=1)
    result = box.call(
        "run_command", {"command": "sleep 30 & echo $! > bg.pid; sleep 30", "timeout": 50}
    )
    _refused(result, "timed out after 1 s", "capped at 1 s")
    assert result.content.startswith("exit code 124")
    pid = int((project / "bg.pid").read_text())
    state = Path(f"/proc/{pid}/stat")
    assert not state.exists() or state.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_run_command_output_is_bounded(project):
    box = ToolBox(project, output_limit=4000)
    result = box.call("run_command", {"command": "seq 1 500000"})
    assert not result.is_error
    assert len(result.content) < 4100
    assert result.content.startswith("exit code 0\n1\n2\n")
    assert result.content.endswith("500000\n")
    assert re.search(r"\[\.\.\. [\d,]+ bytes cut \.\.\.\]", result.content)


# --- search_files, search_content ----------------------------------------------------------------


def test_search_files_globs_sorted_and_skips_internals(box, project):
    (project / "src" / "util.py").write_text("")
    (project / "src" / "deep").mkdir()
    (project / "src" / "deep" / "x.py").write_text("")
    (project / "linked").symlink_to(project / "src", target_is_directory=True)
    assert box.call("search_files", {"pattern": "*.py"}).content.splitlines() == [
        "src/app.py",
        "src/deep/x.py",
        "src/util.py",
        "tests/test_app.py",
    ]
    assert box.call("search_files", {"pattern": "src/*.py"}).content.splitlines() == [
        "src/app.py",
        "src/util.py",
    ]
    assert box.call("search_files", {"pattern": "src/"}).content.splitlines() == [
        "src/app.py",
        "src/deep/x.py",
        "src/util.py",
    ]
    assert (
        box.call("search_files", {"pattern": "**/config"}).content == "no files match '**/config'"
    )
    assert ".genome" not in box.call("search_files", {"pattern": "**"}).content


def test_search_files_stops_at_200(box, project):
    many = project / "many"
    many.mkdir()
    for n in range(250):
        (many / f"f{n:03}.txt").write_text("")
    lines = box.call("search_files", {"pattern": "many/*.txt"}).content.splitlines()
    assert len(lines) == 201
    assert lines[0] == "many/f000.txt"
    assert lines[-1] == "... 50 more files"


def test_search_content_finds_lines(box, project):
    (project / "src" / "util.py").write_text("import os\n\ndef helper():\n    return os.sep\n")
    result = box.call("search_content", {"pattern": r"def \w+\(\)"})
    assert not result.is_error
    assert result.content.splitlines() == [
        "src/app.py:1: def main():",
        "src/util.py:3: def helper():",
        "tests/test_app.py:1: def test_main():",
    ]
    scoped = box.call("search_content", {"pattern": "def", "path": "src/util.py"})
    assert scoped.content == "src/util.py:3: def helper():"
    assert (
        box.call("search_content", {"pattern": "nothing-here"}).content
        == "no lines match 'nothing-here'"
    )


def test_search_content_skips_binary_big_internal_and_outside_files(box, project):
    (project / "blob.bin").write_bytes(b"needle\0\0")
    (project / "huge.txt").write_text("needle\n" + "z" * (1024 * 1024 + 10))
    (project / "leak.txt").symlink_to(project.parent / "outside" / "secret.txt")
    (project / ".genome" / "log").write_text("needle\n")
    (project / "ok.txt").write_text("a needle here\n")
    assert box.call("search_content", {"pattern": "needle"}).content == "ok.txt:1: a needle here"
    assert box.call("search_content", {"pattern": "SECRET"}).content == "no lines match 'SECRET'"


def test_search_content_cuts_long_lines_and_counts_beyond_200(box, project):
    (project / "long.txt").write_text("hit " + "w" * 1000 + "\n" + "hit\n" * 300)
    lines = box.call("search_content", {"pattern": "^hit", "path": "long.txt"}).content.splitlines()
    assert lines[0].startswith("long.txt:1: hit www")
    assert len(lines[0]) < 330
    assert len(lines) == 201
    assert lines[-1] == "... 101 more matches"


def test_search_content_invalid_regex_is_an_error(box):
    _refused(box.call("search_content", {"pattern": "("}), "invalid regular expression")


# --- load_skill --------------------------------------------------------------------------------


def test_load_skill_uses_the_callable(project):
    skills = {"tdd": "# Test first\nWrite the failing test."}

    def load(name: str) -> str:
        if name not in skills:
            raise KeyError(f"no skill named {name!r}; available: {', '.join(skills)}")
        return skills[name]

    box = ToolBox(project, load_skill=load)
    assert box.call("load_skill", {"name": "tdd"}).content == skills["tdd"]
    _refused(box.call("load_skill", {"name": "nope"}), "no skill named 'nope'; available: tdd")


def test_load_skill_without_skills(box):
    _refused(box.call("load_skill", {"name": "tdd"}), "no skills available")


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, tool_input, words",
    [
        ("delete_everything", {"path": "x"}, ["unknown tool", "read_file"]),
        ("read_file", "src/app.py", ["object of parameters", "str"]),
        ("read_file", None, ["object of parameters"]),
        ("read_file", ["src/app.py"], ["object of parameters"]),
        ("read_file", {}, ["needs the parameter 'path'"]),
        ("read_file", {"path": 3}, ["'path' must be a string", "int"]),
        ("read_file", {"path": "src/app.py", "offset": "2"}, ["'offset' must be an integer"]),
        ("read_file", {"path": "src/app.py", "limit": True}, ["'limit' must be an integer"]),
        ("read_file", {"file": "src/app.py"}, ["no parameter 'file'", "path, offset, limit"]),
        ("edit_file", {"path": "src/app.py", "old_text": "x"}, ["needs the parameter 'new_text'"]),
        ("run_command", {"command": "true", "timeout": 1.5}, ["'timeout' must be an integer"]),
        ("run_command", {"command": "   "}, ["empty"]),
        ("search_files", {"pattern": ""}, ["empty"]),
    ],
)
def test_bad_input_is_an_error_result(box, name, tool_input, words):
    _refused(box.call(name, tool_input), *words)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
param_names = st.sampled_from(
    [
        "path",
        "content",
        "old_text",
        "new_text",
        "offset",
        "limit",
        "pattern",
        "name",
        "command",
        "timeout",
        "extra",
    ]
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from([n for n in TOOL_NAMES if n != "run_command"]) | st.text(max_size=12),
    tool_input=json_values | st.dictionaries(param_names, json_values | st.text(), max_size=4),
)
def test_call_never_raises(project, name, tool_input):
    box = ToolBox(project, ["tests/**"])
    result = box.call(name, tool_input)
    assert isinstance(result.content, str) and result.content
    assert (project / "genome.md").read_text() == GENOME


# --- specs ----------------------------------------------------------------------------------------


def test_specs_are_stable_and_well_formed(project):
    box = ToolBox(project, ["tests/**", "Makefile"], command_timeout_max=300)
    specs = box.specs()
    assert [spec["name"] for spec in specs] == TOOL_NAMES
    again = box.specs()
    assert again == specs
    assert json.dumps(again) == json.dumps(specs)
    specs[0]["description"] = "changed by a caller"
    specs[-1]["cache_control"] = {"type": "ephemeral"}
    assert box.specs() == again
    assert json.dumps(
        ToolBox(project, ["tests/**", "Makefile"], command_timeout_max=300).specs()
    ) == json.dumps(again)
    for spec in again:
        assert set(spec) == {"name", "description", "input_schema"}
        assert re.fullmatch(r"[a-z_]{1,64}", spec["name"])
        assert len(spec["description"]) > 40
        schema = spec["input_schema"]
        assert schema["type"] == "object"
        assert set(schema["required"]) <= set(schema["properties"])
        for prop in schema["properties"].values():
            assert prop["type"] in {"string", "integer"}
            assert prop["description"]
    by_name = {spec["name"]: spec for spec in again}
    assert by_name["read_file"]["input_schema"]["required"] == ["path"]
    assert by_name["edit_file"]["input_schema"]["required"] == ["path", "old_text", "new_text"]
    assert by_name["search_content"]["input_schema"]["required"] == ["pattern"]
    assert "tests/**, Makefile" in by_name["write_file"]["description"]
    assert "genome.md" in by_name["edit_file"]["description"]
    assert "300" in by_name["run_command"]["input_schema"]["properties"]["timeout"]["description"]


def test_tools_work_from_any_working_directory(box, project, monkeypatch, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "src").mkdir()
    (elsewhere / "src" / "app.py").write_text("wrong file\n")
    monkeypatch.chdir(elsewhere)
    assert "def main" in box.call("read_file", {"path": "src/app.py"}).content
    assert os.path.samefile(box.root, project)


def test_a_pattern_that_backtracks_without_end_is_stopped(tmp_path, monkeypatch):
    import runner.tools as tools_module

    monkeypatch.setattr(tools_module, "SEARCH_SECONDS", 0.5)
    (tmp_path / "bad.txt").write_text("a" * 40 + "b\n")
    result = ToolBox(tmp_path).call("search_content", {"pattern": "(a+)+$"})
    assert result.is_error and "was stopped" in result.content


def test_run_command_never_outlives_the_ticks_wall_clock(tmp_path):
    import time as clock

    box = ToolBox(tmp_path, deadline=clock.monotonic() + 2)
    started = clock.monotonic()
    result = box.call("run_command", {"command": "sleep 30", "timeout": 60})
    assert clock.monotonic() - started < 10
    assert result.is_error and "nearly up" in result.content


# --- the file tools on real projects -----------------------------------------------------------


@pytest.mark.parametrize("tool", ["write_file", "edit_file"])
def test_a_hard_link_does_not_carry_a_write_outside(box, project, tool):
    outside = project.parent / "outside" / "secret.txt"
    os.link(outside, project / "src" / "linked.txt")
    if tool == "write_file":
        result = box.call("write_file", {"path": "src/linked.txt", "content": "overwritten\n"})
    else:
        result = box.call(
            "edit_file", {"path": "src/linked.txt", "old_text": "TOP", "new_text": "NOT"}
        )
    assert not result.is_error, result.content
    assert outside.read_text() == "TOP-SECRET\n"
    assert (project / "src" / "linked.txt").stat().st_ino != outside.stat().st_ino
    assert (project / "src" / "linked.txt").read_text() in ("overwritten\n", "NOT-SECRET\n")


def test_a_replaced_file_keeps_its_mode_and_leaves_no_temporary_file(box, project):
    script = project / "src" / "run.sh"
    script.write_text("echo one\n")
    script.chmod(0o750)
    assert not box.call(
        "edit_file", {"path": "src/run.sh", "old_text": "one", "new_text": "two"}
    ).is_error
    assert script.stat().st_mode & 0o777 == 0o750 and script.read_text() == "echo two\n"
    assert sorted(p.name for p in script.parent.iterdir()) == ["app.py", "run.sh"]


def test_edit_file_keeps_crlf_line_endings(box, project):
    path = project / "src" / "win.txt"
    path.write_bytes(b"first line\r\nsecond line\r\nthird line\r\n")
    shown = box.call("read_file", {"path": "src/win.txt"}).content
    assert "\r" not in shown
    result = box.call(
        "edit_file",
        {
            "path": "src/win.txt",
            "old_text": "first line\nsecond line",
            "new_text": "first line\nnew line\nsecond line",
        },
    )
    assert not result.is_error, result.content
    assert path.read_bytes() == b"first line\r\nnew line\r\nsecond line\r\nthird line\r\n"


def test_searches_skip_what_git_ignores(box, project):
    (project / ".gitignore").write_text(".venv/\n*.log\n")
    (project / ".venv" / "lib").mkdir(parents=True)
    (project / ".venv" / "lib" / "site.py").write_text("def main():\n    pass\n")
    (project / "debug.log").write_text("def main(): logged\n")
    files = box.call("search_files", {"pattern": "*.py"}).content.splitlines()
    assert files == ["src/app.py", "tests/test_app.py"]
    hits = box.call("search_content", {"pattern": "def main"}).content
    assert "src/app.py:1" in hits and ".venv" not in hits and "debug.log" not in hits
    assert box.call("read_file", {"path": ".venv/lib/site.py"}).content.endswith(
        "pass"
    )  # still readable by name
