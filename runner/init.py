"""`genome init`: the templates into a project, `.genome/` ignored, one commit. Never overwrites."""

from __future__ import annotations

import shutil
from pathlib import Path

from runner.errors import UsageError
from runner.resources import package_path

TEMPLATES = ("genome.md", "levers.md", "loop-prompt.md")
IGNORE_LINE = ".genome/"


def init_project(directory: Path) -> list[str]:
    """Returns what it did, line by line, for the person to read."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file, not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    templates = package_path("templates")
    said, created = [], []
    for name in TEMPLATES:
        target = directory / name
        if target.exists():
            said.append(f"kept {name} (it exists; nothing overwritten)")
            continue
        shutil.copyfile(templates / name, target)
        created.append(name)
        said.append(f"created {name}")
    if _ensure_ignored(directory / ".gitignore"):
        created.append(".gitignore")
        said.append(f"added {IGNORE_LINE} to .gitignore")
    if not created:
        return said + ["nothing to do: the project is already set up"]
    said += _commit(directory, created)
    return said


def _ensure_ignored(gitignore: Path) -> bool:
    text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if any(line.strip() in (IGNORE_LINE, ".genome", "/.genome/", "/.genome") for line in text.splitlines()):
        return False
    gitignore.write_text(text + ("" if not text or text.endswith("\n") else "\n") + IGNORE_LINE + "\n",
                         encoding="utf-8")
    return True


def _commit(directory: Path, created: list[str]) -> list[str]:
    from git import InvalidGitRepositoryError, Repo

    try:
        repo = Repo(directory)
    except InvalidGitRepositoryError:
        return [f"{directory} is not a git repository, so nothing was committed.",
                "Start one and commit the files:  git init && git add -A && git commit -m 'genome: start'"]
    with repo:
        from runner.gitops import Git

        git = Git(directory)
        try:
            top = git.root
            paths = [str((directory / name).resolve().relative_to(top)) for name in created]
            git.commit(paths, "genome: start the loop\n\nAdds genome.md, levers.md and loop-prompt.md "
                              "from the genome-runner templates.", git.identity(""))
        finally:
            git.close()
    return ["committed: genome: start the loop",
            "next: write your mission in genome.md and your levers in levers.md, commit, then `genome tick --now`"]
