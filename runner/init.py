"""`genome init`: the templates into a project, `.genome/` ignored, one commit. Never overwrites."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from runner.errors import UsageError
from runner.resources import package_path

TEMPLATES = ("genome.md", "levers.md", "loop-prompt.md")
IGNORE_LINE = ".genome/"


def init_project(directory: Path) -> list[str]:
    """Returns what it did, line by line, for the person to read."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file, not a directory")
    top = _repository_top(directory)
    if top is not None and top != directory.resolve():
        raise UsageError(
            f"{directory} is inside the repository {top}; the loop works on a whole repository, "
            f"so run `genome init` at its top: genome init {top}"
        )
    directory.mkdir(parents=True, exist_ok=True)
    gitignore_was_dirty = top is not None and _is_dirty(top, ".gitignore")
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
        said.append(f"added {IGNORE_LINE} to .gitignore")
        if gitignore_was_dirty:
            said.append(
                ".gitignore had your uncommitted edits, so it is not in the commit: commit it "
                "yourself"
            )
        else:
            created.append(".gitignore")
    if not created:
        return said + ["nothing to do: the project is already set up"]
    if top is None:
        return said + [
            f"{directory} is not a git repository, so nothing was committed.",
            "Start one and commit the files:  git init && git add -A && git commit -m 'genome: "
            "start'",
        ]
    return said + _commit(top, created)


def _repository_top(directory: Path) -> Path | None:
    """The work tree ``directory`` is in (it may not exist yet); None outside any repository."""
    probe = directory
    while not probe.exists():
        probe = probe.parent

    def ask(*question: str) -> str | None:
        done = subprocess.run(
            ["git", "-C", str(probe), "rev-parse", *question], capture_output=True, text=True
        )
        return done.stdout.strip() if done.returncode == 0 else None

    if ask("--is-bare-repository") == "true":
        raise UsageError(
            f"{directory} is a bare repository; run `genome init` in a clone with a work tree"
        )
    top = ask("--show-toplevel")
    return Path(top).resolve() if top else None


def _is_dirty(top: Path, name: str) -> bool:
    return bool(
        subprocess.run(
            ["git", "-C", str(top), "status", "--porcelain", "--", name],
            capture_output=True,
            text=True,
        ).stdout.strip()
    )


def _ensure_ignored(gitignore: Path) -> bool:
    data = gitignore.read_bytes() if gitignore.exists() else b""
    known = {line.strip() for line in data.split(b"\n")}
    if known & {b".genome/", b".genome", b"/.genome/", b"/.genome"}:
        return False
    gitignore.write_bytes(
        data + (b"" if not data or data.endswith(b"\n") else b"\n") + IGNORE_LINE.encode() + b"\n"
    )
    return True


def _commit(top: Path, created: list[str]) -> list[str]:
    from runner.gitops import Git

    with Git(top) as git:
        git.commit(
            created,
            "genome: start the loop\n\nAdds genome.md, levers.md and loop-prompt.md "
            "from the genome-runner templates.",
            git.identity(""),
        )
    return [
        "committed: genome: start the loop",
        "next: write your mission in genome.md and your levers in levers.md, commit, then `genome "
        "tick --now`",
    ]
