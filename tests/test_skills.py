from __future__ import annotations

import re
from pathlib import Path

import pytest

from genome.errors import GenomeFileError
from genome.text import load_yaml_mapping, split_frontmatter
from runner import resources, skills
from runner.skills import SkillSet

SHIPPED = {
    "verify-artifact",
    "write-a-gate",
    "triage-red-gate",
    "start-server-first",
    "one-lever-scope",
    "false-premise",
    "write-a-lesson",
}


def write_skill(
    root: Path,
    name: str,
    description: str = "Use it when testing.",
    body: str = "Body.\n",
    folder: str | None = None,
) -> Path:
    path = root / (folder or name) / "SKILL.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\nname: {name}\ndescription: {description}\n---\n{body}", encoding="utf-8")
    return path


@pytest.fixture
def no_package_skills(tmp_path, monkeypatch):
    empty = tmp_path / "package-skills"
    empty.mkdir()
    monkeypatch.setattr(skills.resources, "package_path", lambda name: empty)
    return empty


def discover(project: Path) -> tuple[SkillSet, list[str]]:
    warnings: list[str] = []
    return SkillSet.discover(project, warn=warnings.append), warnings


# --- discovery and override order -------------------------------------------------------------


def test_an_empty_project_sees_exactly_the_shipped_skills(tmp_path):
    found, warnings = discover(tmp_path)
    assert set(found.names()) == SHIPPED
    assert found.names() == sorted(found.names())
    assert warnings == []


def test_project_skills_add_to_the_shipped_ones(tmp_path):
    write_skill(tmp_path / "skills", "deploy-preview", "Use when a preview deploy is needed.")
    found, _ = discover(tmp_path)
    assert set(found.names()) == SHIPPED | {"deploy-preview"}
    assert "- deploy-preview: Use when a preview deploy is needed.\n" in found.listing()


def test_a_project_skill_overrides_a_shipped_one_by_name(tmp_path):
    write_skill(tmp_path / "skills", "verify-artifact", "Project version.", "PROJECT BODY\n")
    found, _ = discover(tmp_path)
    assert found.load("verify-artifact") == "PROJECT BODY\n"
    assert "- verify-artifact: Project version.\n" in found.listing()
    assert found.names().count("verify-artifact") == 1


def test_claude_skills_override_project_skills(tmp_path):
    write_skill(tmp_path / "skills", "verify-artifact", "Project version.", "PROJECT BODY\n")
    write_skill(
        tmp_path / ".claude" / "skills", "verify-artifact", "Claude version.", "CLAUDE BODY\n"
    )
    write_skill(tmp_path / ".claude" / "skills", "lint-docs", "Use for docs.", "LINT\n")
    found, _ = discover(tmp_path)
    assert found.load("verify-artifact") == "CLAUDE BODY\n"
    assert "Project version." not in found.listing()
    assert "- verify-artifact: Claude version.\n" in found.listing()
    assert found.load("lint-docs") == "LINT\n"


# --- malformed skills ------------------------------------------------------------------------

MALFORMED = {
    "no-frontmatter": "# Just a heading\nSome text.\n",
    "unclosed": "---\nname: unclosed\ndescription: never closed\n",
    "bad-yaml": "---\nname: bad-yaml\ndescription: [unclosed\n---\nbody\n",
    "not-a-mapping": "---\n- a\n- b\n---\nbody\n",
    "no-name": "---\ndescription: Has no name.\n---\nbody\n",
    "name-not-text": "---\nname: 123\ndescription: Name is a number.\n---\nbody\n",
    "name-mismatch": "---\nname: other-name\ndescription: Folder and name differ.\n---\nbody\n",
    "no-description": "---\nname: no-description\n---\nbody\n",
    "empty-description": '---\nname: empty-description\ndescription: "  "\n---\nbody\n',
    "description-list": "---\nname: description-list\ndescription: [a, b]\n---\nbody\n",
}


@pytest.mark.parametrize("folder", sorted(MALFORMED))
def test_a_malformed_skill_is_skipped_with_a_warning_naming_its_file(tmp_path, folder):
    path = tmp_path / "skills" / folder / "SKILL.md"
    path.parent.mkdir(parents=True)
    path.write_text(MALFORMED[folder], encoding="utf-8")
    write_skill(tmp_path / "skills", "good-one")

    found, warnings = discover(tmp_path)

    assert folder not in found.names()
    assert "good-one" in found.names()
    assert len(warnings) == 1
    assert f"skills/{folder}/SKILL.md" in warnings[0]


def test_a_folder_without_skill_md_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "skills" / "empty-folder").mkdir(parents=True)
    (tmp_path / "skills" / "empty-folder" / "README.md").write_text("not a skill\n")
    found, warnings = discover(tmp_path)
    assert "empty-folder" not in found.names()
    assert len(warnings) == 1 and "skills/empty-folder/SKILL.md" in warnings[0]
    assert "SKILL.md" in warnings[0]


def test_a_name_mismatch_warning_says_both_names_and_the_line(tmp_path):
    path = tmp_path / "skills" / "deploy"
    path.mkdir(parents=True)
    (path / "SKILL.md").write_text("---\ndescription: x\nname: Deploy_It\n---\nbody\n")
    _, warnings = discover(tmp_path)
    assert "skills/deploy/SKILL.md:3" in warnings[0]
    assert "'Deploy_It'" in warnings[0] and "'deploy'" in warnings[0]


def test_loose_files_and_hidden_folders_in_a_skills_folder_are_ignored(tmp_path):
    (tmp_path / "skills").mkdir()
    (tmp_path / "skills" / "README.md").write_text("About our skills.\n")
    write_skill(tmp_path / "skills", "hidden", folder=".hidden")
    found, warnings = discover(tmp_path)
    assert set(found.names()) == SHIPPED
    assert warnings == []


def test_discovery_does_not_read_the_body(tmp_path):
    path = tmp_path / "skills" / "lazy" / "SKILL.md"
    path.parent.mkdir(parents=True)
    # Bytes that are not UTF-8 after the frontmatter: discovery must not trip on them, load must.
    path.write_bytes(
        b"---\nname: lazy\ndescription: Body is not text.\n---\n" + b"x\n" * 20000 + b"\xff\xfe\n"
    )
    found, warnings = discover(tmp_path)
    assert warnings == []
    assert "lazy" in found.names()
    with pytest.raises(GenomeFileError, match="not valid UTF-8"):
        found.load("lazy")


def test_a_byte_order_mark_and_crlf_line_ends_are_accepted(tmp_path):
    path = tmp_path / "skills" / "windows" / "SKILL.md"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        b"\xef\xbb\xbf---\r\nname: windows\r\ndescription: Saved on Windows.\r\n---\r\nStep "
        b"one.\r\n"
    )
    found, warnings = discover(tmp_path)
    assert warnings == []
    assert found.load("windows") == "Step one.\r\n"


# --- listing and loading ---------------------------------------------------------------------


def test_listing_has_names_and_descriptions_but_no_bodies(tmp_path, no_package_skills):
    write_skill(tmp_path / "skills", "beta", "Use for beta.", "BETA-BODY-MARKER\n")
    write_skill(tmp_path / "skills", "alpha", "Use for\n  alpha.", "ALPHA-BODY-MARKER\n")
    found, _ = discover(tmp_path)
    listing = found.listing()
    assert listing == "- alpha: Use for alpha.\n- beta: Use for beta.\n"
    assert "MARKER" not in listing
    assert listing == found.listing() == discover(tmp_path)[0].listing()


def test_listing_is_empty_when_there_are_no_skills(tmp_path, no_package_skills):
    found, _ = discover(tmp_path)
    assert found.names() == []
    assert found.listing() == ""


def test_load_returns_the_body_without_frontmatter(tmp_path):
    write_skill(tmp_path / "skills", "demo", "Use for demos.", "\n# Demo\n\nRun `make demo`.\n")
    found, _ = discover(tmp_path)
    body = found.load("demo")
    assert body == "# Demo\n\nRun `make demo`.\n"
    assert "description" not in body


def test_load_of_an_unknown_name_lists_the_available_ones(tmp_path, no_package_skills):
    write_skill(tmp_path / "skills", "alpha")
    write_skill(tmp_path / "skills", "beta")
    found, _ = discover(tmp_path)
    with pytest.raises(KeyError) as info:
        found.load("gamma")
    message = str(info.value)
    assert "'gamma'" in message and "alpha, beta" in message


def test_load_after_the_file_was_removed_names_the_file(tmp_path):
    path = write_skill(tmp_path / "skills", "gone")
    found, _ = discover(tmp_path)
    path.unlink()
    with pytest.raises(GenomeFileError) as info:
        found.load("gone")
    assert str(path) in str(info.value)


def test_skill_records_where_it_came_from(tmp_path):
    write_skill(tmp_path / "skills", "from-project")
    write_skill(tmp_path / ".claude" / "skills", "from-claude")
    found, _ = discover(tmp_path)
    by_name = {s.name: s for s in found}
    assert by_name["from-project"].source == "project"
    assert by_name["from-claude"].source == "claude"
    assert by_name["verify-artifact"].source == "package"
    assert (
        by_name["from-claude"].path == tmp_path / ".claude" / "skills" / "from-claude" / "SKILL.md"
    )


# --- the shipped skills ----------------------------------------------------------------------

SHIPPED_DIR = resources.package_path("skills")


def test_the_package_ships_exactly_the_seven_skills():
    assert {p.name for p in SHIPPED_DIR.iterdir() if p.is_dir()} == SHIPPED


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_skill_is_valid(name):
    file = SHIPPED_DIR / name / "SKILL.md"
    _, yaml_text, body = split_frontmatter(str(file), file.read_text(encoding="utf-8"))
    meta = load_yaml_mapping(str(file), yaml_text)
    assert set(meta) == {"name", "description"}
    assert meta["name"] == name
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)
    description = meta["description"]
    assert isinstance(description, str) and description.startswith("Use when ")
    assert "\n" not in description and description.endswith(".")
    assert description.count(". ") == 0, "one sentence"
    lines = body.strip().splitlines()
    assert 20 <= len(lines) <= 80
    assert lines[0].startswith("# ")


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_skill_fences_are_balanced(name):
    body = (SHIPPED_DIR / name / "SKILL.md").read_text(encoding="utf-8")
    fences = [line for line in body.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0
