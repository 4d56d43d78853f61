"""The templates `genome init` copies: their shape, checked without the project's own parsers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from genome.text import load_yaml_mapping, parse_duration, split_frontmatter
from runner import resources
from runner.paths import is_protected

TEMPLATES = resources.package_path("templates")
LEVER_LINE = re.compile(r"^- \[ \] L-\d{3} ")
LEVER_LOOKING = re.compile(r"^\s*[-*+] \[.?\]")
LESSON = re.compile(r"^- \[v\d{3} \d{4}-\d{2}-\d{2}\] .+$")

CONFIG_KEYS = {
    "model",
    "max_tokens",
    "gates",
    "protected",
    "cadence",
    "repair_rounds",
    "max_attempts",
    "command_timeout",
    "budget",
    "lessons_tokens",
    "notify",
    "author",
}
BUDGET_KEYS = {"tick_usd", "day_usd", "week_usd", "tick_turns", "tick_minutes"}


def read(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def frontmatter(name: str) -> tuple[dict, str]:
    _, yaml_text, body = split_frontmatter(name, read(name))
    return load_yaml_mapping(name, yaml_text), body


def outside_fences(text: str) -> list[str]:
    """The lines of ``text`` that are not inside a fenced code block (fence lines dropped too)."""
    kept, fence = [], None
    for line in text.splitlines():
        marker = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if marker and (
            fence is None or marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence)
        ):
            fence = None if fence else marker.group(1)
            continue
        if fence is None:
            kept.append(line)
    return kept


def test_the_package_ships_exactly_the_three_templates():
    assert sorted(p.name for p in TEMPLATES.iterdir()) == [
        "genome.md",
        "levers.md",
        "loop-prompt.md",
    ]


# --- genome.md -------------------------------------------------------------------------------


def test_genome_starts_at_version_1_with_an_integer():
    text = read("genome.md")
    assert text.startswith("---\nversion: 1\n---\n")
    meta, _ = frontmatter("genome.md")
    assert meta == {"version": 1}
    assert type(meta["version"]) is int


def test_genome_has_the_five_sections_in_order_each_with_guidance():
    _, body = frontmatter("genome.md")
    assert body.lstrip("\n").startswith("# Genome\n")
    headings = [line for line in body.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Mission",
        "## Current focus",
        "## What's proven",
        "## What's next",
        "## How to work in this project",
    ]
    sections = re.split(r"^## .+$", body, flags=re.M)[1:]
    for heading, section in zip(headings, sections, strict=False):
        guidance = [line for line in section.splitlines() if line.strip()]
        assert len(guidance) == 1, f"{heading} should hold one guidance line"
        assert guidance[0].startswith("<!--") and guidance[0].endswith("-->")


# --- levers.md -------------------------------------------------------------------------------


def test_levers_has_exactly_two_example_levers_each_followed_by_a_check():
    lines = outside_fences(read("levers.md"))
    lever_indexes = [i for i, line in enumerate(lines) if LEVER_LINE.match(line)]
    assert len(lever_indexes) == 2
    for i in lever_indexes:
        assert lines[i + 1].startswith("  check: ") and lines[i + 1][len("  check: ") :].strip()
    ids = [lines[i].split()[3] for i in lever_indexes]
    assert ids == ["L-001", "L-002"]


def test_levers_has_no_other_lever_looking_line_outside_fences():
    lines = outside_fences(read("levers.md"))
    lever_looking = [line for line in lines if LEVER_LOOKING.match(line)]
    assert len(lever_looking) == 2
    assert all(LEVER_LINE.match(line) for line in lever_looking)
    # Indented lines belong to the lever above them: nothing indented may precede the first lever.
    first = next(i for i, line in enumerate(lines) if LEVER_LINE.match(line))
    assert not [line for line in lines[:first] if line.startswith("  ") and line.strip()]


def test_levers_explains_the_syntax_with_its_examples_fenced():
    text = read("levers.md")
    for mark in ("`[ ]`", "`[x]`", "`[!]`", "`[-]`", "`check:`", "`L-NNN`"):
        assert mark in text
    fenced = [line for line in text.splitlines() if line not in outside_fences(text)]
    assert any(re.match(r"^- \[x\] L-\d{3} ", line) for line in fenced)
    assert any(re.match(r"^  - \d{4}-\d{2}-\d{2}T", line) for line in fenced)


def run_in(project: Path, command: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(project),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LC_ALL": "C",
    }
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def fresh_project(tmp_path: Path) -> Path:
    for name in ("genome.md", "levers.md", "loop-prompt.md"):
        shutil.copy(TEMPLATES / name, tmp_path / name)
    setup = (
        "git init -q && git add -A && "
        "git -c user.name=Person -c user.email=person@example.org commit -q -m init"
    )
    assert run_in(tmp_path, setup).returncode == 0
    return tmp_path


def test_example_checks_fail_before_the_work_and_pass_after(fresh_project):
    lines = outside_fences(read("levers.md"))
    checks = [line.strip()[len("check: ") :] for line in lines if line.startswith("  check: ")]
    assert len(checks) >= 2
    for check in checks:
        assert run_in(fresh_project, check).returncode != 0, f"{check!r} passes on an empty project"

    (fresh_project / "README.md").write_text(
        "# Tool\n\nIt counts words.\n\n## Usage\n\n    tool FILE\n"
    )
    (fresh_project / "CHANGELOG.md").write_text("# Changelog\n\n## 0.1.0\n\n- First release.\n")
    for check in checks:
        result = run_in(fresh_project, check)
        assert result.returncode == 0, f"{check!r} failed: {result.stderr}"


# --- loop-prompt.md --------------------------------------------------------------------------


def test_loop_prompt_config_has_exactly_the_known_keys():
    meta, _ = frontmatter("loop-prompt.md")
    assert set(meta) == CONFIG_KEYS
    assert isinstance(meta["model"], str) and meta["model"]
    assert meta["max_tokens"] >= 32000  # thinking shares it with the answer
    # the tests and the files that say how they run: weakening either turns a red tick green
    assert meta["protected"] == [
        "tests/**",
        "test/**",
        "conftest.py",
        "pytest.ini",
        "tox.ini",
        "setup.cfg",
        "noxfile.py",
    ]
    for path in (
        "conftest.py",
        "tests/conftest.py",
        "pytest.ini",
        "tox.ini",
        "setup.cfg",
        "noxfile.py",
        "tests/test_core.py",
    ):
        assert is_protected(path, meta["protected"]), path
    assert not is_protected("src/app.py", meta["protected"])
    assert parse_duration(meta["cadence"]) == 1800
    for key in ("repair_rounds", "max_attempts", "command_timeout", "lessons_tokens"):
        assert type(meta[key]) is int and meta[key] > 0, key
    assert meta["notify"] == "" and meta["author"] == ""
    assert set(meta["budget"]) == BUDGET_KEYS
    assert all(isinstance(v, (int, float)) and v > 0 for v in meta["budget"].values())


def test_loop_prompt_gates_are_named_commands_with_timeouts():
    meta, _ = frontmatter("loop-prompt.md")
    assert meta["gates"] == [{"name": "diff-check", "run": "git diff --check HEAD", "timeout": 300}]


def test_the_template_gate_passes_on_a_fresh_project_and_catches_bad_whitespace(fresh_project):
    meta, _ = frontmatter("loop-prompt.md")
    gate = meta["gates"][0]["run"]
    assert run_in(fresh_project, gate).returncode == 0
    (fresh_project / "genome.md").write_text(read("genome.md") + "trailing space here \n")
    assert run_in(fresh_project, gate).returncode != 0


def test_the_commented_prices_example_parses_when_uncommented():
    meta_text = split_frontmatter("loop-prompt.md", read("loop-prompt.md"))[1]
    example = [line for line in meta_text.splitlines() if line.startswith("# prices:")]
    assert len(example) == 1
    prices = yaml.safe_load(example[0][2:])["prices"]
    for model, price in prices.items():
        assert isinstance(model, str)
        assert set(price) == {"input", "output"}
        assert all(isinstance(v, float) for v in price.values())


def test_loop_prompt_ends_with_the_lessons_list():
    _, body = frontmatter("loop-prompt.md")
    headings = [line for line in body.splitlines() if line.startswith("#")]
    assert headings[-1] == "## Lessons"
    after = body.split("\n## Lessons\n", 1)[1]
    lessons = [line for line in after.splitlines() if line.strip()]
    assert len(lessons) >= 4
    for lesson in lessons:
        assert LESSON.match(lesson), lesson
    assert body.endswith(lessons[-1] + "\n")


def test_seeded_lessons_cover_the_core_rules():
    after = read("loop-prompt.md").split("\n## Lessons\n", 1)[1].lower()
    for idea in ("artifact", "sweep", "premise", "server"):
        assert idea in after, idea


def test_loop_prompt_body_names_the_act_tools():
    _, body = frontmatter("loop-prompt.md")
    for tool in (
        "read_file",
        "write_file",
        "edit_file",
        "run_command",
        "search_files",
        "search_content",
        "load_skill",
    ):
        assert f"`{tool}`" in body


def test_every_commented_setting_in_the_loop_prompt_template_is_valid_when_uncommented():
    from genome.loop_prompt import LoopPromptDoc

    text = (TEMPLATES / "loop-prompt.md").read_text()
    head, body = text.split("\n---\n", 1)
    optional = [line for line in head.splitlines() if re.match(r"^# [a-z_]+: ", line)]
    assert {line.split(":")[0][2:] for line in optional} == {
        "prices",
        "push",
        "secrets_allow",
        "regression",
        "effort",
        "executor",
        "grow_only",
        "pause_after",
        "sandbox",
        "network",
    }
    for line in optional:
        config = LoopPromptDoc.parse(text.replace(line, line[2:], 1)).config
        key = line.split(":")[0][2:]
        if key != "regression":  # that example spells out the defaults
            assert getattr(config, key) != getattr(LoopPromptDoc.parse(text).config, key), key
