"""The small git plumbing the read-only commands (status, review, the spend ledger) share. Stdlib
only, one git process per question, so it stays cheap on long histories."""

from __future__ import annotations

import subprocess
from pathlib import Path

from runner.errors import UsageError

# Settings that would change what git prints (signatures, colour, prefixes, quoted names) are
# pinned.
GIT = (
    "git",
    "-c",
    "core.quotepath=false",
    "-c",
    "log.showSignature=false",
    "-c",
    "color.ui=never",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
)


# ------------------------------------------------------------------------------------------- git


def git_text(root: Path, *args: str) -> str:
    """Run git in ``root`` and return its output; a failure is a ``UsageError`` saying what is
    wrong."""
    done = subprocess.run([*GIT, "-C", str(root), *args], capture_output=True)
    if done.returncode != 0:
        head_sha(root)  # names the usual causes: not a repository, no commit yet
        said = done.stderr.decode("utf-8", errors="replace").strip()
        raise UsageError(f"`git {args[0]}` failed in {root}: {said}")
    return done.stdout.decode("utf-8", errors="replace")


def head_sha(root: Path) -> str:
    """The commit HEAD names; a ``UsageError`` outside a repository or before its first commit."""
    done = subprocess.run(
        [*GIT, "-C", str(root), "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
        capture_output=True,
        text=True,
    )
    if done.returncode == 0:
        return done.stdout.strip()
    inside = subprocess.run([*GIT, "-C", str(root), "rev-parse", "--git-dir"], capture_output=True)
    if inside.returncode != 0:
        raise UsageError(
            f"{root} is not a git repository. Run `git init && genome init` there first"
        )
    raise UsageError(f"{root} has no commit yet; run `genome init` (it makes the first commit)")


def read_blobs(root: Path, specs: list[str]) -> dict[str, str | None]:
    """``REV:PATH`` → the file's text (None when it does not exist there), all in one git
    process."""
    done = subprocess.run(
        [*GIT, "-C", str(root), "cat-file", "--batch"],
        capture_output=True,
        input="".join(f"{spec}\n" for spec in specs).encode("utf-8"),
    )
    out, at = done.stdout, 0
    found: dict[str, str | None] = {}
    for spec in specs:
        end = out.find(b"\n", at)
        if end < 0:
            found[spec] = None
            continue
        header = out[at:end].decode("utf-8", errors="replace").split()
        at = end + 1
        if len(header) == 3 and header[2].isdigit():
            size = int(header[2])
            found[spec] = (
                out[at : at + size].decode("utf-8", errors="replace")
                if header[1] == "blob"
                else None
            )
            at += size + 1
        else:
            found[spec] = None  # "<spec> missing"
    return found
