"""The runner's own two worktrees, so that a tick never writes the person's working tree or index.

- The **act worktree** (``.genome/worktrees/act``): the model's file tools, its commands, the
  project's tools and an executor work here, detached at the commit the tick starts from.
- The **gate worktree** (``.genome/worktrees/gate``): once the act ends, the candidate tree (every
  non-ignored change in the act worktree, fixed as one git tree object) is checked out here, and
  the gates, the lever's checks and ``setup:`` run here, where no process of the act ever ran. The
  code commit is made from that tree object, so what the gates attested is what lands, byte for
  byte.

Both are ``git worktree``s of the person's repository, kept between ticks and reset at the start of
each one: updating them costs about what ``git checkout`` of the difference costs. They live under
``.genome/`` (ignored, and never a path the tools accept) in folders of their own, so a sandbox can
bind each one writable without exposing the rest of ``.genome/``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from git.exc import GitCommandError

from runner.gitops import Git
from runner.local_state import WORKTREES, state_dir

ACT, GATE = "act", "gate"


@dataclass(frozen=True)
class Candidate:
    """The act's result, fixed: a tree object and the paths where it differs from the start
    commit."""

    tree: str
    changed: list[str]
    gitlinks: list[str]  # changed paths that are submodules (or repositories made by a command)


class Worktrees:
    def __init__(self, git: Git):
        self.git = git
        self.base = state_dir(git.root) / WORKTREES
        self.act = self.base / ACT
        self.gate = self.base / GATE
        self.quarantine = self.base / "objects"  # new objects of a tick until it ships

    # ------------------------------------------------------------------ act
    def prepare_act(self, start: str, *, keep_ignored: bool = False) -> Path:
        """The act worktree at ``start``, with nothing left of an earlier tick (ignored files too,
        unless ``keep_ignored``: a ``setup:`` whose inputs did not change)."""
        self._at(self.act, start)
        self._clean(self.act, ignored=not keep_ignored)
        self._empty_submodules(self.act, start)
        return self.act

    def act_exists(self) -> bool:
        return self._usable(self.act)

    def gate_exists(self) -> bool:
        return self._usable(self.gate)

    def candidate(self, start: str) -> Candidate:
        """Fix the act's result as a tree: every non-ignored change in the act worktree, staged in a
        copy of the act worktree's index (so its stat data spares rehashing every file, and the act
        worktree's own index stays at the start commit) and written as a tree object."""
        index = self.base / "candidate.index"
        act_index = Path(
            self.git.run_git(
                "rev-parse", "--path-format=absolute", "--git-path", "index", cwd=self.act
            ).strip()
        )
        shutil.copy2(act_index, index)  # its mtime too: git judges racily clean entries by it
        env = {"GIT_INDEX_FILE": str(index)}
        # an assume-unchanged or skip-worktree flag would hide a change from `add`: none is honoured
        flagged = [
            line[2:]
            for line in self.git.run_git("ls-files", "-v", "-z", cwd=self.act, env=env).split("\0")
            if len(line) > 2 and (line[0].islower() or line[0] == "S")
        ]
        if flagged:
            self.git.run_git(
                "update-index",
                "--no-assume-unchanged",
                "--no-skip-worktree",
                "-z",
                "--stdin",
                paths=flagged,
                cwd=self.act,
                env=env,
            )
        self.git.run_git("add", "-A", "--", ".", cwd=self.act, env=env)
        tree = self.git.run_git("write-tree", cwd=self.act, env=env).strip()
        out = self.git.run_git("diff-tree", "-r", "-z", "--no-renames", "--raw", start, tree)
        changed, gitlinks = [], []
        fields = out.split("\0")
        # the output ends with a NUL, so the metadata half has one (empty) field more
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            if not meta.startswith(":"):
                continue
            old_mode, new_mode = meta[1:].split()[:2]
            changed.append(path)
            if "160000" in (old_mode, new_mode):
                gitlinks.append(path)
        return Candidate(tree=tree, changed=sorted(changed), gitlinks=sorted(gitlinks))

    def submodules(self, start: str) -> list[str]:
        """The submodule paths ``.gitmodules`` names at ``start``."""
        try:
            out = self.git.run_git(
                "config",
                "--blob",
                f"{start}:.gitmodules",
                "-z",
                "--get-regexp",
                r"^submodule\..*\.path$",
            )
        except GitCommandError:  # no .gitmodules, or no path in it
            return []
        return sorted(
            entry.split("\n", 1)[1].strip("/") for entry in out.split("\0") if "\n" in entry
        )

    def inside_submodules(self, start: str) -> list[str]:
        """Submodule folders in the act worktree that hold anything: the runner never checks a
        submodule out there, so whatever is inside was put there during the tick."""
        return [
            path
            for path in self.submodules(start)
            if (self.act / path).is_dir() and any((self.act / path).iterdir())
        ]

    def _empty_submodules(self, path: Path, start: str) -> None:
        for sub in self.submodules(start):
            folder = path / sub
            if folder.is_dir() and not folder.is_symlink():
                for child in folder.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()

    def act_changed_paths(self) -> list[str]:
        """What (not ignored) differs from the act worktree's HEAD, path by path."""
        out = self.git.run_git(
            "status", "--porcelain=v1", "-z", "--untracked-files=all", cwd=self.act
        )
        return sorted(entry[3:] for entry in out.split("\0") if len(entry) > 3)

    # ------------------------------------------------------------------ gate
    def prepare_gate(self, start: str, tree: str, *, keep_ignored: bool) -> Path:
        """The gate worktree with HEAD at ``start`` and the index and files at the candidate
        ``tree`` (as the act left them, uncommitted), and nothing untracked. Ignored files are kept
        only when ``keep_ignored`` (a ``setup:`` whose inputs did not change: its virtualenv,
        caches)."""
        if self._usable(self.gate):
            try:
                return self.restore_gate(start, tree, keep_ignored=keep_ignored)
            except GitCommandError:
                pass  # a broken worktree: made anew below
        self._create(self.gate, start)
        self.git.run_git("read-tree", "--reset", "-u", tree, cwd=self.gate)
        self._clean(self.gate, ignored=not keep_ignored)
        return self.gate

    def restore_gate(self, start: str, tree: str, *, keep_ignored: bool = True) -> Path:
        """The existing gate worktree back at HEAD ``start`` with the index and files at ``tree``
        and nothing untracked: what a gate's run wrote there (a rewritten test, a file a later
        check reads) is gone before anything else is judged on it."""
        # one pass over the files: HEAD moved alone, then the index and files to the tree
        self.git.run_git("update-ref", "--no-deref", "HEAD", start, cwd=self.gate)
        self.git.run_git("read-tree", "--reset", "-u", tree, cwd=self.gate)
        self._clean(self.gate, ignored=not keep_ignored)
        return self.gate

    def gate_ready(self, start: str) -> Path:
        """The gate worktree, made (at ``start``) if it does not exist yet; left as it is
        otherwise."""
        if not self._usable(self.gate):
            self._create(self.gate, start)
        return self.gate

    # ------------------------------------------------------------------ both
    def reset(self, start: str) -> None:
        """After a red tick: nothing of its change stays on disk (a refused secret included). The
        gate worktree keeps its ignored files (a ``setup:`` virtualenv)."""
        if self._usable(self.act):
            self.prepare_act(start, keep_ignored=True)  # a setup's virtualenv stays
        if self._usable(self.gate):
            self._at(self.gate, start)
            self._clean(self.gate, ignored=False)

    def _at(self, path: Path, start: str) -> None:
        """``path`` as a worktree detached at ``start``, its tracked files as committed there."""
        if not self._usable(path):
            self._create(path, start)
            return
        try:
            self.git.run_git("checkout", "-q", "-f", "--detach", start, cwd=path)
        except GitCommandError:  # a broken worktree (killed mid-checkout, edited by hand): anew
            self._create(path, start)

    def _usable(self, path: Path) -> bool:
        marker = path / ".git"
        if not marker.is_file():
            return False
        admin = marker.read_text(encoding="utf-8", errors="replace").partition("gitdir:")[2].strip()
        return bool(admin) and Path(admin).is_dir()

    def _create(self, path: Path, start: str) -> None:
        if path.exists() or path.is_symlink():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.git.run_git("worktree", "prune")
        self.git.run_git(
            "worktree", "add", "-q", "-f", "--detach", "--no-checkout", str(path), start
        )
        self.git.run_git("checkout", "-q", "-f", "--detach", start, cwd=path)

    def _clean(self, path: Path, *, ignored: bool) -> None:
        # -ff: also a repository a command made inside the worktree
        self.git.run_git("clean", "-q", "-ffd" + ("x" if ignored else ""), cwd=path)

    def remove(self) -> None:
        """Both worktrees gone (and their entries in the repository's admin folder)."""
        for path in (self.act, self.gate):
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
        try:
            self.git.run_git("worktree", "prune")
        except GitCommandError:
            pass
