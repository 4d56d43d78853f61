"""Skills: short procedures the model can load by name while it works.

A skill is a folder ``NAME/SKILL.md`` whose frontmatter holds ``name`` and ``description``. The
model sees only the listing (names and descriptions) in its system prompt and loads a body with
the ``load_skill`` tool, so discovery reads frontmatter only and bodies are read on demand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from genome.errors import GenomeFileError
from genome.text import decode, key_line, load_yaml_mapping, split_frontmatter
from runner import resources

SKILL_FILE = "SKILL.md"
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Frontmatter past this size is a file that never closes its `---`; stop reading rather than
# pull a large body into memory at discovery.
_MAX_FRONTMATTER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    path: Path  # the SKILL.md
    source: str  # "package" | "project" | "claude"


class SkillSet:
    def __init__(self, skills: dict[str, Skill]):
        self._skills = dict(sorted(skills.items()))

    @classmethod
    def discover(
        cls, project_root: Path, *, warn: Callable[[str], None] = lambda m: None
    ) -> SkillSet:
        """Shipped skills, then the project's ``skills/``, then ``.claude/skills/``; later wins by
        name.

        A malformed skill is skipped and ``warn`` gets a message naming its file and the fix.
        """
        sources = [
            ("package", resources.package_path("skills")),
            ("project", project_root / "skills"),
            ("claude", project_root / ".claude" / "skills"),
        ]
        found: dict[str, Skill] = {}
        for source, folder in sources:
            for skill_dir in _skill_dirs(folder):
                try:
                    skill = _read_skill(skill_dir, source, project_root)
                except GenomeFileError as exc:
                    warn(f"skipped skill: {exc}")
                    continue
                found[skill.name] = skill
        return cls(found)

    def __iter__(self) -> Iterator[Skill]:
        return iter(self._skills.values())

    def names(self) -> list[str]:
        return list(self._skills)

    def listing(self) -> str:
        """``- name: description`` lines for the system prompt; ``""`` when there are no skills."""
        return "".join(f"- {s.name}: {s.description}\n" for s in self._skills.values())

    def load(self, name: str) -> str:
        """The body of a skill, without its frontmatter.

        KeyError for an unknown name; GenomeFileError when the file stopped being readable text
        since discovery.
        """
        skill = self._skills.get(name)
        if skill is None:
            available = ", ".join(self._skills) or "none"
            raise KeyError(f"no skill named {name!r}; available skills: {available}")
        file = str(skill.path)
        try:
            data = skill.path.read_bytes()
        except OSError as exc:
            raise GenomeFileError(
                file,
                None,
                f"cannot read the skill ({exc.strerror})",
                "Restore the file or remove the skill's folder",
            ) from None
        _, _, body = split_frontmatter(file, decode(file, data))
        return body.lstrip("\r\n")


def _skill_dirs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read_skill(skill_dir: Path, source: str, project_root: Path) -> Skill:
    path = skill_dir / SKILL_FILE
    file = _display_path(path, project_root)
    if not path.is_file():
        raise GenomeFileError(
            file,
            None,
            f"the folder has no {SKILL_FILE}",
            f"Add {SKILL_FILE} with `name` and `description` frontmatter, or remove the folder",
        )
    _, yaml_text, _ = split_frontmatter(file, _read_frontmatter(path, file))
    meta = load_yaml_mapping(file, yaml_text)
    name = meta.get("name")
    description = meta.get("description")
    if not isinstance(name, str) or not name:
        raise GenomeFileError(
            file,
            key_line(yaml_text, "name"),
            "the frontmatter's `name` is missing or not text",
            f"Add `name: {skill_dir.name}` to the frontmatter",
        )
    if name != skill_dir.name or not _NAME.match(name):
        raise GenomeFileError(
            file,
            key_line(yaml_text, "name"),
            f"the skill's name {name!r} must equal its folder name {skill_dir.name!r} "
            "and use only lowercase letters, digits and hyphens",
            "Rename the folder or the `name` so they match, e.g. `verify-artifact`",
        )
    if not isinstance(description, str) or not description.strip():
        raise GenomeFileError(
            file,
            key_line(yaml_text, "description"),
            "the frontmatter's `description` is missing or not text",
            "Add `description:` with one sentence saying when to use the skill",
        )
    return Skill(name=name, description=" ".join(description.split()), path=path, source=source)


def _read_frontmatter(path: Path, file: str) -> str:
    """The file's text up to and including the closing ``---``, reading no further."""
    lines: list[str] = []
    size = 0
    with path.open("rb") as handle:
        for raw in handle:
            if not lines:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            size += len(raw)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise GenomeFileError(
                    file,
                    len(lines) + 1,
                    "the frontmatter is not valid UTF-8",
                    "Save the file as UTF-8",
                ) from None
            lines.append(line)
            if len(lines) == 1 and line.rstrip("\r\n").rstrip(" \t") != "---":
                break  # not frontmatter; split_frontmatter says so
            if len(lines) > 1 and line.rstrip("\r\n").rstrip(" \t") == "---":
                break
            if size > _MAX_FRONTMATTER_BYTES:
                break  # unclosed; split_frontmatter says so
    return "".join(lines)


def _display_path(path: Path, project_root: Path) -> str:
    """Project skills by their path in the project; shipped ones by their full path."""
    try:
        return str(path.relative_to(project_root))
    except ValueError:
        return str(path)
