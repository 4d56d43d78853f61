"""One error type for every problem a person can fix in their genome files."""

from __future__ import annotations


class GenomeFileError(Exception):
    """A problem in one of the project's files, said so a person can fix it.

    ``line`` is 1-based and counts from the top of the file (frontmatter included);
    ``None`` when the problem is the file as a whole (missing, empty, not text).
    """

    def __init__(self, file: str, line: int | None, problem: str, fix: str):
        self.file = file
        self.line = line
        self.problem = problem
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.problem}. {self.fix}"
