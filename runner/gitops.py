"""Git, behind one small seam. GitPython for reads; the git CLI where its semantics are the ones we
want (``add -A`` honours .gitattributes and deletions; ``commit`` with an explicit identity)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from git import Actor, Repo
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from genome.records import LOG_FORMAT, CodeTrailers, RecordTrailers, parse_log
from runner.errors import Refused, UsageError
from runner.proc import scrubbed_env

DEFAULT_AUTHOR = "genome runner <genome@localhost>"
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or `git am`",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}


@dataclass(frozen=True)
class GitInternals:
    files: dict[str, bytes]
    flagged: tuple[str, ...]
    with_flags: bool = True  # False: the index flags were not looked at
    replace_refs: tuple[tuple[str, str], ...] = ()  # (ref, object): what ``git replace`` made


@dataclass(frozen=True)
class Snapshot:
    """Where the tick starts: the commit it builds on and the branch its work is for (and where
    that branch pointed, when the tick builds on work waiting on ``genome/<branch>`` instead)."""

    head: str
    branch: str
    branch_head: str = ""

    def __post_init__(self):
        if not self.branch_head:
            object.__setattr__(self, "branch_head", self.head)


class Git:
    def __init__(self, root: Path):
        try:
            self.repo = Repo(root)
        except (InvalidGitRepositoryError, NoSuchPathError):
            raise UsageError(
                f"{root} is not a git repository. Run `git init && genome init` there first"
            ) from None
        if self.repo.bare:
            raise UsageError(
                f"{root} is a bare repository; run the tick in a clone with a work tree"
            )
        assert self.repo.working_tree_dir is not None, "a repository that is not bare has one"
        self.root = Path(self.repo.working_tree_dir).resolve()
        self._identities: dict[str, Actor] = {}
        self._objects_env: dict[str, str] = {}  # set while new objects go to a quarantine

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> Git:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- guard
    def refuse_unless_clean(self, again: str = "tick again") -> Snapshot:
        """The person's uncommitted work is never touched: refuse rather than stash or reset."""
        git_dir = Path(self.repo.git_dir)
        for marker, what in _IN_PROGRESS.items():
            if (git_dir / marker).exists():
                raise Refused(
                    f"the repository is in the middle of {what}; finish or abort it, then {again}"
                )
        if self.repo.head.is_detached:
            raise Refused(
                "HEAD is detached; `git switch <branch>` first, so the tick's commits land on a "
                "branch"
            )
        if not self.repo.head.is_valid():
            raise Refused(
                "the repository has no commit yet; run `genome init` (it makes the first commit)"
            )
        if (git_dir / "index.lock").exists():
            raise Refused(
                f"{git_dir / 'index.lock'} exists: another git command is running, or one was "
                f"killed. If no git process is running, delete that file and {again}"
            )
        changed = self.changed_paths()
        if changed:
            shown = ", ".join(changed[:5]) + (
                f" and {len(changed) - 5} more" if len(changed) > 5 else ""
            )
            raise Refused(
                f"the working tree has uncommitted changes ({shown}); commit or stash them, "
                f"then {again}. The runner never touches work it did not make"
            )
        return Snapshot(head=self.repo.head.commit.hexsha, branch=self.repo.active_branch.name)

    def branch_snapshot(self) -> Snapshot:
        """The branch and commit a tick starts from. The tick never writes the person's tree, so
        uncommitted work or a merge in progress there is no reason to refuse; a detached HEAD is
        (the tick's commits need a branch to land on)."""
        if not self.repo.head.is_valid():
            raise Refused(
                "the repository has no commit yet; run `genome init` (it makes the first commit)"
            )
        if self.repo.head.is_detached:
            git_dir = Path(self.repo.git_dir)
            doing = next(
                (what for marker, what in _IN_PROGRESS.items() if (git_dir / marker).exists()), ""
            )
            raise Refused(
                (
                    f"the repository is in the middle of {doing} (HEAD is detached); finish or "
                    "abort it, then tick again"
                )
                if doing
                else (
                    "HEAD is detached; `git switch <branch>` first, so the tick's commits land on "
                    "a branch"
                )
            )
        return Snapshot(head=self.repo.head.commit.hexsha, branch=self.repo.active_branch.name)

    # ---------------------------------------------------------------- reads
    def head_file(self, path: str) -> bytes | None:
        """The committed bytes of ``path`` at HEAD, or None when HEAD has no such file."""
        try:
            return (self.repo.head.commit.tree / path).data_stream.read()
        except KeyError:
            return None

    def changed_paths(self) -> list[str]:
        """Every path that differs from HEAD: modified, deleted, staged, and untracked (not
        ignored)."""
        return sorted(self.status())

    def status(self) -> dict[str, str]:
        """Changed path → its two-letter porcelain code (``??`` for untracked; a folder ends in
        ``/``)."""
        out = self.run_git("status", "--porcelain=v1", "-z", "--untracked-files=all")
        codes, entries, i = {}, out.split("\0"), 0
        while i < len(entries):
            entry = entries[i]
            if len(entry) > 3:
                codes[entry[3:]] = entry[:2]
                if entry[0] in "RC":  # a rename's source path follows as its own entry
                    i += 1
                    codes[entries[i]] = entry[:2]
            i += 1
        return codes

    def added_lines(self, paths: list[str]) -> dict[str, set[int] | None]:
        """Per changed path, the line numbers the change adds; None for a new file (every line)."""
        codes = self.status()
        added: dict[str, set[int] | None] = {
            p: None for p in paths if codes.get(p, "??") in ("??", "A ", "AM")
        }
        tracked = {p for p in paths if p not in added}
        if not tracked:
            return added
        current = ""
        # the whole tree's diff (a pathspec list could be longer than a command line); every path in
        # it
        # is a changed one
        diff = self.run_git("diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", "HEAD")
        for line in diff.splitlines():
            if line.startswith("+++ "):
                current = line[6:] if line.startswith("+++ b/") and line[6:] in tracked else ""
                if current:
                    added.setdefault(current, set())
            elif line.startswith("@@") and current:
                start, _, count = line.split("+", 1)[1].split(" ", 1)[0].partition(",")
                first, length = int(start), int(count) if count else 1
                lines = added[current]
                assert lines is not None, "a tracked path's entry is a set"
                lines.update(range(first, first + length))
        return added

    def added_lines_between(self, old: str, new: str) -> dict[str, set[int] | None]:
        """Per path changed from ``old`` to ``new`` (trees or commits), the line numbers the change
        adds; None for a new file (every line). Read from objects: exactly what would be
        committed."""
        added: dict[str, set[int] | None] = {}
        current, new_file = "", False
        diff = self.run_git(
            "diff-tree",
            "-r",
            "-p",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--no-renames",
            old,
            new,
        )
        for line in diff.splitlines():
            if line.startswith("--- "):
                new_file = line == "--- /dev/null"
            elif line.startswith("+++ "):
                current = line[6:] if line.startswith("+++ b/") else ""
                if current:
                    added[current] = None if new_file else added.get(current) or set()
            elif line.startswith("@@") and current and (lines := added.get(current)) is not None:
                start, _, count = line.split("+", 1)[1].split(" ", 1)[0].partition(",")
                first, length = int(start), int(count) if count else 1
                lines.update(range(first, first + length))
        return added

    def head_sha(self) -> str:
        return self.repo.head.commit.hexsha

    def is_ignored(self, rel: str) -> bool:
        try:
            # check-ignore takes no pathspec magic, literal included
            self.run_git("check-ignore", "-q", "--", rel, env={"GIT_LITERAL_PATHSPECS": "0"})
            return True
        except GitCommandError:
            return False

    # ---------------------------------------------------------------- git's own settings
    def internals(self, flags: bool = True) -> GitInternals:
        """What in ``.git/`` could change how git behaves for the runner or hide a change from it:
        config, info/ (exclude, attributes), hooks, (with ``flags``) the index entries flagged
        assume-unchanged or skip-worktree, and replace refs (another history for every git that
        honours them)."""
        git_dir = Path(self.repo.git_dir)
        files = {}
        for path in [
            git_dir / "config",
            *sorted((git_dir / "info").glob("*")),
            *sorted((git_dir / "hooks").glob("*")),
        ]:
            if path.is_file():
                files[str(path.relative_to(git_dir))] = path.read_bytes()
        flagged = (
            tuple(
                line[2:]
                for line in self.run_git("ls-files", "-v", "-z").split("\0")
                if len(line) > 2 and (line[0].islower() or line[0] == "S")
            )
            if flags
            else ()
        )
        listed = self.run_git("for-each-ref", "--format=%(refname) %(objectname)", "refs/replace/")
        pairs = (line.partition(" ") for line in listed.splitlines())  # a ref name has no space
        replace_refs = tuple((ref, sha) for ref, _, sha in pairs if sha)
        return GitInternals(
            files=files, flagged=flagged, with_flags=flags, replace_refs=replace_refs
        )

    def put_back_internals(self, saved: GitInternals) -> None:
        git_dir = Path(self.repo.git_dir)
        now = self.internals(flags=saved.with_flags)
        for name in set(now.files) - set(saved.files):
            (git_dir / name).unlink(missing_ok=True)
        for name, data in saved.files.items():
            if now.files.get(name) != data:
                (git_dir / name).write_bytes(data)
        extra = [p for p in now.flagged if p not in saved.flagged]
        if extra:
            self.run_git(
                "update-index", "--no-assume-unchanged", "--no-skip-worktree", "--", *extra
            )
        if now.replace_refs != saved.replace_refs:
            kept = dict(saved.replace_refs)
            lines = [f"delete {ref}" for ref, _ in now.replace_refs if ref not in kept]
            lines += [f"update {ref} {sha}" for ref, sha in saved.replace_refs]
            script = "".join(f"{line}\n" for line in lines).encode()
            self.run_git("update-ref", "--no-deref", "--stdin", stdin=script)

    def current_branch(self) -> str:
        return "" if self.repo.head.is_detached else self.repo.active_branch.name

    def identity(self, configured: str) -> Actor:
        """config ``author`` → the repo's user.name/email → the runner's own name (asked once)."""
        if configured not in self._identities:
            self._identities[configured] = self._identity(configured)
        return self._identities[configured]

    def _identity(self, configured: str) -> Actor:
        text = configured.strip()
        if not text:
            name, email = self._config("user.name"), self._config("user.email")
            text = f"{name} <{email}>" if name and email else DEFAULT_AUTHOR
        name, _, email = text.partition("<")
        return Actor(
            name.strip() or "genome runner", email.rstrip(">").strip() or "genome@localhost"
        )

    def _config(self, key: str) -> str:
        """A git config value as the git CLI sees it (GitPython's reader skips
        GIT_CONFIG_GLOBAL)."""
        try:
            return self.repo.git.config("--get", key).strip()
        except GitCommandError:
            return ""

    def message_of(self, sha: str) -> str:
        """A commit's message exactly as stored."""
        raw = self.run_git("cat-file", "commit", sha)
        return raw.partition("\n\n")[2]

    def record_commit_lever(self, sha: str) -> str | None:
        """The lever a record commit was for (empty for an idle tick); None for other commits."""
        found = RecordTrailers.parse(self.message_of(sha))
        return None if found is None else found.lever

    def is_code_commit_of(self, sha: str, parent: str, lever: str) -> bool:
        """Whether ``sha`` is the runner's code commit for ``lever`` made right on ``parent``."""
        commit = self.repo.commit(sha)
        found = CodeTrailers.parse(self.message_of(sha))
        return (
            [p.hexsha for p in commit.parents] == [parent]
            and found is not None
            and found.lever == lever
        )

    def tick_history(self, limit: int = 1000) -> list[RecordTrailers]:
        """The record commits' trailers among the newest ``limit`` commits, oldest first."""
        out = self.run_git("log", "-z", f"-n{limit}", f"--format={LOG_FORMAT}")
        found = [RecordTrailers.parse(commit.message) for commit in parse_log(out)]
        return [record for record in reversed(found) if record is not None]

    def file_versions(self, path: str, limit: int = 200):
        """The committed texts of ``path``, newest first (for finding an earlier genome)."""
        for sha in self.repo.git.log(f"-n{limit}", "--format=%H", "--", path).split():
            try:
                yield (
                    (self.repo.commit(sha).tree / path)
                    .data_stream.read()
                    .decode("utf-8", "replace")
                )
            except KeyError:
                continue

    def clear_stale_index_lock(self) -> None:
        """Called only while the tick lock is held and an interrupted tick's record exists: an
        ``index.lock`` then belongs to a git the dead tick started, which died with it."""
        (Path(self.repo.git_dir) / "index.lock").unlink(missing_ok=True)

    # ---------------------------------------------------------------- remote
    def upstream(self, name: str | None = None) -> tuple[str, str]:
        """(remote, branch) the branch ``name`` (default: the current one) pushes to; UsageError
        when there is none."""
        branch = self.repo.heads[name] if name else self.repo.active_branch
        tracking = branch.tracking_branch()
        if tracking is None:
            raise UsageError(
                f"`push: true` needs an upstream for {branch.name}: "
                f"run `git push -u origin {branch.name}` once"
            )
        return tracking.remote_name, tracking.remote_head

    def fetch(self, remote: str) -> None:
        self.repo.git.fetch("-q", remote)

    def remote_sha(self, remote: str, branch: str) -> str:
        return self.repo.git.rev_parse(f"refs/remotes/{remote}/{branch}").strip()

    def fast_forward(self, sha: str) -> None:
        self.repo.git.merge("-q", "--ff-only", sha)

    def is_ancestor(self, older: str, newer: str) -> bool:
        try:
            self.repo.git.merge_base("--is-ancestor", older, newer)
            return True
        except GitCommandError:
            return False

    def merge_base(self, one: str, other: str) -> str:
        return self.run_git("merge-base", one, other).strip()

    def push_with_lease(self, remote: str, branch: str, expected: str, sha: str = "HEAD") -> bool:
        """Push ``sha`` to ``remote/branch`` only if it still points at ``expected``; False if it
        moved."""
        done = subprocess.run(
            [
                "git",
                "push",
                "--porcelain",
                f"--force-with-lease=refs/heads/{branch}:{expected}",
                remote,
                f"{sha}:refs/heads/{branch}",
            ],
            cwd=self.root,
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            return True
        if "stale info" in done.stdout + done.stderr or "rejected" in done.stdout + done.stderr:
            return False
        raise GitCommandError(["git", "push"], done.returncode, done.stderr)

    def reset_hard(self, sha: str) -> None:
        """Only on a tree the runner just committed itself (clean by construction)."""
        self.repo.git.reset("-q", "--hard", sha)

    # ---------------------------------------------------------------- writes
    def commit(self, paths: list[str], message: str, author: Actor) -> str:
        """Stage and commit exactly ``paths`` (never ``add .``) with an explicit identity; anything
        else that happens to be staged stays staged and out of the commit."""
        self.run_git("add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul", paths=paths)
        identity = _identity_env(author)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", suffix=".txt", newline=""
        ) as message_file:
            message_file.write(message if message.endswith("\n") else message + "\n")
            message_file.flush()
            # signing and hooks are the person's interactive tools; the gates are the tick's checks
            self.run_git(
                "-c",
                "commit.gpgsign=false",
                "-c",
                "i18n.commitEncoding=UTF-8",
                "commit",
                "--no-verify",
                "--quiet",
                "--cleanup=verbatim",
                "-F",
                message_file.name,
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
                paths=paths,
                env=identity,
            )
        return self.head_sha()

    def pre_commit_hook(self) -> Path | None:
        """The person's pre-commit hook (core.hooksPath honoured), when one would run on a commit.
        The tick's commits skip it (``--no-verify``): its checks belong in a gate."""
        try:
            rel = self.repo.git.rev_parse("--git-path", "hooks/pre-commit")
        except GitCommandError:
            return None
        hook = self.root / rel
        return hook if hook.is_file() and os.access(hook, os.X_OK) else None

    def run_git(
        self,
        *args: str,
        paths: list[str] | None = None,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> str:
        """The git CLI as the runner uses it: no hooks, no fsmonitor, literal paths (given on stdin,
        so any number fits), and an environment without the API key. ``cwd`` runs it in another
        worktree of the same repository (the runner's own)."""
        if paths is not None:
            stdin = b"".join(p.encode("utf-8") + b"\0" for p in paths)
        done = subprocess.run(
            [
                "git",
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "core.fsmonitor=false",
                "-c",
                "core.untrackedCache=true",
                *args,
            ],
            input=stdin,
            cwd=cwd or self.root,
            capture_output=True,
            env={
                **scrubbed_env(),
                "GIT_LITERAL_PATHSPECS": "1",
                **self._objects_env,
                **(env or {}),
            },
        )
        if done.returncode != 0:
            raise GitCommandError(["git", *args], done.returncode, done.stderr)
        return done.stdout.decode("utf-8", "replace")

    # ---------------------------------------------------------------- objects and refs
    # A tick writes only objects and refs: its commits are made from tree objects, never through
    # the person's index or working tree.

    def file_at(self, rev: str, path: str) -> bytes | None:
        """The committed bytes of ``path`` in commit ``rev``, or None when it has no such file."""
        done = subprocess.run(
            ["git", "cat-file", "blob", f"{rev}:{path}"],
            cwd=self.root,
            capture_output=True,
            env={**scrubbed_env(), **self._objects_env},
        )
        return done.stdout if done.returncode == 0 else None

    # A tick's candidate trees are written to a quarantine object folder (as git's own receive-pack
    # does with a push): what a red tick wrote, a secret included, never enters the repository.
    def quarantine(self, folder: Path) -> None:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        self._objects_env = {
            "GIT_OBJECT_DIRECTORY": str(folder),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(self._objects_dir()),
        }

    def end_quarantine(self, keep: bool) -> None:
        """Move the quarantined objects into the repository (``keep``) or drop them."""
        if not self._objects_env:
            return
        folder = Path(self._objects_env["GIT_OBJECT_DIRECTORY"])
        self._objects_env = {}
        if keep:
            target = self._objects_dir()
            for source in sorted(folder.glob("??/*")):
                destination = target / source.parent.name / source.name
                if not destination.exists():
                    destination.parent.mkdir(exist_ok=True)
                    shutil.copyfile(source, destination.with_suffix(".tmp"))
                    os.replace(destination.with_suffix(".tmp"), destination)
        shutil.rmtree(folder, ignore_errors=True)

    def _objects_dir(self) -> Path:
        return Path(self.repo.common_dir).resolve() / "objects"

    def tree_of(self, rev: str) -> str:
        return self.run_git("rev-parse", f"{rev}^{{tree}}").strip()

    def ref_sha(self, ref: str) -> str | None:
        """What ``ref`` (a full name such as ``refs/heads/main``) points at, or None when it does
        not exist."""
        try:
            return self.run_git("rev-parse", "-q", "--verify", f"{ref}^{{commit}}").strip() or None
        except GitCommandError:
            return None

    def update_ref(
        self, ref: str, new: str, old: str | None, reason: str = "genome runner"
    ) -> bool:
        """Move ``ref`` to ``new`` only if it still points at ``old`` (``None``: only if it does not
        exist yet): compare-and-swap, so a person's commit made meanwhile is never overwritten."""
        try:
            self.run_git("update-ref", "-m", reason, ref, new, old or "0" * 40)
            return True
        except GitCommandError:
            return False

    def delete_ref(self, ref: str, old: str) -> bool:
        try:
            self.run_git("update-ref", "-d", ref, old)
            return True
        except GitCommandError:
            return False

    def tree_with(self, base_tree: str, files: dict[str, bytes]) -> str:
        """A tree object: ``base_tree`` with ``files`` (path -> bytes, regular files) put in. Only
        the folders on those paths are rewritten, so the cost does not grow with the repository."""
        by_top: dict[str, dict[str, bytes]] = {}
        blobs: dict[str, bytes] = {}
        for path, data in files.items():
            head, _, rest = path.partition("/")
            if rest:
                by_top.setdefault(head, {})[rest] = data
            else:
                blobs[head] = data
        entries: dict[str, str] = {}
        if base_tree:
            for line in self.run_git("ls-tree", "-z", base_tree).split("\0"):
                if line:
                    meta, name = line.split("\t", 1)
                    entries[name] = meta
        for name, data in blobs.items():
            sha = self.run_git("hash-object", "-w", "--stdin", stdin=data).strip()
            entries[name] = f"100644 blob {sha}"
        for name, inner in by_top.items():
            meta = entries.get(name, "")
            sub = meta.split()[2] if meta.split()[1:2] == ["tree"] else ""
            entries[name] = f"040000 tree {self.tree_with(sub, inner)}"
        listing = b"".join(f"{meta}\t{name}".encode() + b"\0" for name, meta in entries.items())
        return self.run_git("mktree", "-z", stdin=listing).strip()

    def commit_tree(self, tree: str, parent: str, message: str, author: Actor) -> str:
        """A commit object of ``tree`` on ``parent``; no ref, index or working tree is touched."""
        identity = _identity_env(author)
        return self.run_git(
            "commit-tree",
            tree,
            "-p",
            parent,
            "-F",
            "-",
            stdin=message.encode("utf-8"),
            env=identity,
        ).strip()

    def diff_names(self, old: str, new: str) -> list[str]:
        """The paths that differ between two trees or commits (no rename detection)."""
        out = self.run_git("diff-tree", "-r", "-z", "--no-renames", "--name-only", old, new)
        return sorted(p for p in out.split("\0") if p)

    def restore(self, start: Snapshot) -> list[str]:
        """Put back exactly what changed since ``start``: tracked files to HEAD, new files and
        folders (a nested repository shows as one) removed.

        Ignored files are left alone: they may be the person's (.env, caches) and git cannot restore
        them.
        """
        if self.current_branch() != start.branch or self.head_sha() != start.head:
            # -B also brings back a branch the model deleted
            self.run_git("checkout", "-q", "-f", "-B", start.branch, start.head)
        self.run_git("reset", "-q")
        codes = self.status()  # with the index reset, anything but ?? is a file HEAD has
        changed = sorted(codes)
        tracked = [p for p in changed if codes[p] != "??"]
        if tracked:
            self.run_git(
                "checkout", "HEAD", "--pathspec-from-file=-", "--pathspec-file-nul", paths=tracked
            )
        for rel in changed:
            if codes[rel] != "??":
                continue
            path = self.root / rel
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            _remove_empty_parents(path.parent, self.root)
        return changed


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def git_error_text(exc: GitCommandError) -> str:
    return (exc.stderr or str(exc)).strip()


def _identity_env(author: Actor) -> dict[str, str]:
    """The environment that makes git record ``author`` as both author and committer."""
    assert author.name is not None and author.email is not None, "Git.identity() sets both"
    return {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
    }
