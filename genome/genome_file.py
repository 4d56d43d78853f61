"""genome.md: the versioned strategy. Frontmatter holds an integer version; the body is free
markdown made of ``## `` sections the loop may rewrite one at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from genome.errors import GenomeFileError
from genome.text import key_line, load_yaml_mapping, split_frontmatter

FILE = "genome.md"
# one frontmatter line that is only `version: N`, optionally with a comment (no tag, anchor or
# quotes)
_VERSION_LINE = re.compile(r"^(version[ \t]*:[ \t]*)([-+]?[0-9][0-9A-Za-z_:]*)([ \t]*(?:#.*)?)$")
PLACEHOLDER_MISSION = (
    "genome.md still holds the template's placeholder mission: write under "
    "`## Mission` who the project is for and what it must do, so the loop knows "
    "what it works towards"
)
_SECTION = re.compile(r"^## +(.+?)[ \t]*(?=\r?$)", re.MULTILINE)


@dataclass(frozen=True)
class GenomeDoc:
    head: str  # the frontmatter block, both `---` lines included
    version: int
    body: str

    @classmethod
    def parse(cls, text: str, file: str = FILE) -> GenomeDoc:
        head, yaml_text, body = split_frontmatter(file, text)
        meta = load_yaml_mapping(file, yaml_text)
        version = meta.get("version")
        if "version" not in meta:
            raise GenomeFileError(
                file,
                2,
                "the frontmatter has no `version`",
                "Add a line `version: 1` between the `---` lines",
            )
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise GenomeFileError(
                file,
                key_line(yaml_text, "version"),
                f"`version` must be a whole number from 1 up, not {version!r}",
                "Write it as `version: 3` (the runner shows it as v003)",
            )
        # with_version rewrites one line, so the version must come from one plain `version: N` line
        if _version_line(head) is None:
            key = _version_key_line(yaml_text)
            raise GenomeFileError(
                file,
                key_line(yaml_text, "version") if key is None else 2 + key,
                "`version` must be written on one line as `version: N`",
                "Rewrite it as `version: 1`",
            )
        return cls(head=head, version=version, body=body)

    def render(self) -> str:
        return self.head + self.body

    @property
    def label(self) -> str:
        return version_label(self.version)

    @property
    def mission_is_placeholder(self) -> bool:
        """True while ``## Mission`` says nothing but the template's comment (or is missing): the
        loop then works without knowing what the project is for."""
        mission = self.sections().get("Mission", "")
        return not re.sub(r"<!--.*?-->", "", mission, flags=re.DOTALL).strip()

    def sections(self) -> dict[str, str]:
        """Heading → the text under it (up to the next ``## ``), as written."""
        found = list(_SECTION.finditer(self.body))
        return {
            m.group(1): self.body[
                m.end() : (found[i + 1].start() if i + 1 < len(found) else len(self.body))
            ].strip("\r\n")
            for i, m in enumerate(found)
        }

    def with_section(self, heading: str, text: str) -> GenomeDoc:
        """Replace the text under ``## heading`` (added at the end when absent); other bytes
        unchanged.

        The line breaks around the old text stay as they were, so writing back what ``sections()``
        gave changes nothing.
        """
        heading = _heading_key(heading.lstrip("#"))
        newline = "\r\n" if "\r\n" in self.render() else "\n"
        new_text = newline.join(re.split(r"\r?\n", text.strip("\r\n")))
        found = list(_SECTION.finditer(self.body))
        for i, match in enumerate(found):
            if _heading_key(match.group(1)) == heading:
                end = found[i + 1].start() if i + 1 < len(found) else len(self.body)
                old = self.body[match.end() : end]
                old_text = old.strip("\r\n")
                if not old_text and not new_text:
                    return self
                if old_text:
                    lead, trail = (
                        old[: len(old) - len(old.lstrip("\r\n"))],
                        old[len(old.rstrip("\r\n")) :],
                    )
                else:  # an empty section: the text goes on the line under the heading
                    first_break = re.match(r"\r?\n", old)
                    lead, trail = newline, newline + old[first_break.end() if first_break else 0 :]
                body = self.body[: match.end()] + lead + new_text + trail + self.body[end:]
                return GenomeDoc(self.head, self.version, body)
        body = self.body
        if not body:
            sep = "" if self.head.endswith(("\n", "\r")) else newline
        elif body.endswith(("\n\n", "\n\r\n")):
            sep = ""
        else:
            sep = newline if body.endswith("\n") else newline * 2
        return GenomeDoc(
            self.head, self.version, f"{body}{sep}## {heading}{newline}{new_text}{newline}"
        )

    def with_version(self, version: int) -> GenomeDoc:
        """Only the number on the ``version:`` line changes; comments and other keys stay."""
        found = _version_line(self.head)
        assert found is not None  # parse accepts only a head with a plain `version: N` line
        start, match = found
        head = (
            self.head[: start + match.start(2)] + str(version) + self.head[start + match.end(2) :]
        )
        return GenomeDoc(head, version, self.body)

    def with_body(self, body: str) -> GenomeDoc:
        return GenomeDoc(self.head, self.version, body)


def _version_key_line(yaml_text: str) -> int | None:
    """The 0-based line of the frontmatter's top-level ``version`` key (None when it comes from a
    merge).
    """
    root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    assert root is not None  # only called on frontmatter that holds a `version` key
    return next(
        (
            key.start_mark.line
            for key, _ in root.value
            if isinstance(key, yaml.ScalarNode) and key.value == "version"
        ),
        None,
    )


def _version_line(head: str) -> tuple[int, re.Match] | None:
    """Where in ``head`` the line YAML reads the version from starts, and that line's match;
    ``None`` unless it is a plain ``version: N`` line."""
    lines = head.splitlines(keepends=True)  # split where YAML splits, a lone carriage return too
    index = _version_key_line("".join(lines[1:-1]))
    if index is None:
        return None
    match = _VERSION_LINE.match(lines[index + 1].splitlines()[0])
    return (len("".join(lines[: index + 1])), match) if match else None


def _heading_key(heading: str) -> str:
    return " ".join(heading.split())


def version_label(version: int) -> str:
    return f"v{version:03d}"
