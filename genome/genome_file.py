"""genome.md: the versioned strategy. Frontmatter holds an integer version; the body is free markdown
made of ``## `` sections the loop may rewrite one at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass

from genome.errors import GenomeFileError
from genome.text import key_line, load_yaml_mapping, split_frontmatter

FILE = "genome.md"
_VERSION_LINE = re.compile(r"^(version[ \t]*:[ \t]*)(\S+)(.*)$", re.MULTILINE)
_SECTION = re.compile(r"^## +(.+?)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class GenomeDoc:
    head: str      # the frontmatter block, both `---` lines included
    version: int
    body: str

    @classmethod
    def parse(cls, text: str, file: str = FILE) -> "GenomeDoc":
        head, yaml_text, body = split_frontmatter(file, text)
        meta = load_yaml_mapping(file, yaml_text)
        version = meta.get("version")
        if "version" not in meta:
            raise GenomeFileError(file, 2, "the frontmatter has no `version`",
                                  "Add a line `version: 1` between the `---` lines")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise GenomeFileError(file, key_line(yaml_text, "version"),
                                  f"`version` must be a whole number from 1 up, not {version!r}",
                                  "Write it as `version: 3` (the runner shows it as v003)")
        if not _VERSION_LINE.search(yaml_text):
            raise GenomeFileError(file, 2, "`version` must be written on one line as `version: N`",
                                  "Rewrite it as `version: 1`")
        return cls(head=head, version=version, body=body)

    def render(self) -> str:
        return self.head + self.body

    @property
    def label(self) -> str:
        return version_label(self.version)

    def sections(self) -> dict[str, str]:
        """Heading → the text under it (up to the next ``## ``), as written."""
        found = list(_SECTION.finditer(self.body))
        return {m.group(1): self.body[m.end():(found[i + 1].start() if i + 1 < len(found) else len(self.body))]
                .strip("\n") for i, m in enumerate(found)}

    def with_section(self, heading: str, text: str) -> "GenomeDoc":
        """Replace the text under ``## heading`` (added at the end when absent); other bytes unchanged."""
        heading = " ".join(heading.lstrip("#").split())
        new_text = text.strip("\n")
        found = list(_SECTION.finditer(self.body))
        for i, match in enumerate(found):
            if match.group(1) == heading:
                end = found[i + 1].start() if i + 1 < len(found) else len(self.body)
                tail = "\n\n" if i + 1 < len(found) else "\n"
                body = self.body[:match.end()] + "\n" + new_text + tail + self.body[end:].lstrip("\n")
                return GenomeDoc(self.head, self.version, body)
        sep = "" if not self.body or self.body.endswith("\n\n") else ("\n" if self.body.endswith("\n") else "\n\n")
        return GenomeDoc(self.head, self.version, f"{self.body}{sep}## {heading}\n{new_text}\n")

    def with_version(self, version: int) -> "GenomeDoc":
        """Only the number on the ``version:`` line changes; comments and other keys stay."""
        head = _VERSION_LINE.sub(lambda m: f"{m.group(1)}{version}{m.group(3)}", self.head, count=1)
        return GenomeDoc(head, version, self.body)

    def with_body(self, body: str) -> "GenomeDoc":
        return GenomeDoc(self.head, self.version, body)


def version_label(version: int) -> str:
    return f"v{version:03d}"
