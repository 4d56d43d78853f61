"""Where a tick's commits land (``deliver:`` in loop-prompt.md), without ever writing a tree or an
index the person is using, and without ever moving a checked-out branch ahead of its working tree.

- ``commit`` (the default): onto the branch the tick started from. When that branch is checked out,
  it moves only by ``git merge --ff-only`` in that tree, and only while the tree has no uncommitted
  change to a tracked file and sits at the tick's start commit; when it is not checked out, by a
  compare-and-swap of the ref. When the person committed meanwhile, the tick's commits are replayed
  on the new tip in the gate worktree and the gates run again on the result before it lands. When
  none of that is safe, the commits wait on ``genome/<branch>``.
- ``branch``: always onto ``genome/<branch>``; ``genome land`` brings them over (gates re-run).
- ``pr``: as ``branch``, then the branch is pushed and one draft pull request opened or updated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from git import Actor
from git.exc import GitCommandError

from runner import sandbox
from runner.gates import GateSpec
from runner.gates import run_gates as run_gate_specs
from runner.gitops import Git, git_error_text

MODES = ("commit", "branch", "pr")
WAITING_PREFIX = "genome/"

# Runs the gates in a folder, answers None when green or a one-line reason when red.
GateRunner = Callable[[Path], "str | None"]


@dataclass(frozen=True)
class Landing:
    landed: bool  # on the person's branch (else waiting on genome/<branch>)
    tip: str  # the commit now at the tip of where it went
    ref: str  # refs/heads/<branch> or refs/heads/genome/<branch>
    reason: str = ""  # why it waits, when it waits

    def describe(self) -> str:
        name = self.ref.removeprefix("refs/heads/")
        if self.landed:
            return f"landed on {name} ({self.tip[:12]})"
        return f"waiting on {name} ({self.tip[:12]}): {self.reason}; `genome land` brings it over"


def waiting_ref(branch: str) -> str:
    return f"refs/heads/{WAITING_PREFIX}{branch}"


def branch_ref(branch: str) -> str:
    return f"refs/heads/{branch}"


def checked_out_at(git: Git, branch: str) -> Path | None:
    """The worktree (the person's own or another) that has ``branch`` checked out, if any."""
    out = git.run_git("worktree", "list", "--porcelain", "-z")
    path = None
    for field in out.split("\0"):
        if field.startswith("worktree "):
            path = Path(field[len("worktree ") :])
        elif field == f"branch {branch_ref(branch)}" and path is not None:
            return path
    return None


def start_point(git: Git, branch: str, head: str) -> str:
    """The commit a tick builds on: the branch's tip, or the work already waiting on
    ``genome/<branch>`` (so a lever done there is not done twice)."""
    waiting = git.ref_sha(waiting_ref(branch))
    return waiting or head


def land_on_branch(git: Git, branch: str, expected: str, tip: str) -> str:
    """Move ``branch`` from ``expected`` to ``tip`` (a descendant): '' when done, else why not."""
    ref = branch_ref(branch)
    if git.ref_sha(ref) != expected:
        return f"{branch} moved during the tick"
    tree = checked_out_at(git, branch)
    if tree is None:
        return "" if git.update_ref(ref, tip, expected) else f"{branch} moved during the tick"
    admin = Path(git.run_git("rev-parse", "--git-dir", cwd=tree).strip())
    admin = admin if admin.is_absolute() else tree / admin
    for marker in ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge", "rebase-apply"):
        if (admin / marker).exists():
            return f"a merge, rebase or cherry-pick is in progress in {tree}"
    if git.run_git("status", "--porcelain", "-z", "--untracked-files=no", cwd=tree).strip("\0"):
        return f"{branch} is checked out at {tree} with uncommitted changes"
    in_the_way = untracked_in_the_way(git, tree, expected, tip)
    if in_the_way:
        return f"the commits add {in_the_way[0]}, which is an untracked or ignored file in {tree}"
    try:
        if git.run_git("symbolic-ref", "-q", "HEAD", cwd=tree).strip() != ref:
            return f"{tree} switched branches during the tick"
        git.run_git("merge", "-q", "--ff-only", "--no-edit", tip, cwd=tree)
    except GitCommandError as error:
        return (
            f"git could not fast-forward {tree}: {(git_error_text(error).splitlines() or [''])[-1]}"
        )
    return ""


def untracked_in_the_way(git: Git, tree: Path, expected: str, tip: str) -> list[str]:
    """Paths the commits ``expected..tip`` add where ``tree`` holds something git does not track:
    git counts an ignored file as expendable and a fast-forward would write over it (an
    untracked one it refuses; both are caught here, before anything is written)."""
    added = git.run_git(
        "diff-tree", "-r", "-z", "--no-renames", "--name-only", "--diff-filter=A", expected, tip
    )
    found = []
    for path in filter(None, added.split("\0")):
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            place = tree / prefix
            if depth < len(parts) and place.is_dir() and not place.is_symlink():
                continue  # a folder on the way: only the file itself, or a file in its place
            present = place.exists() or place.is_symlink()
            if present and not git.run_git("ls-tree", "-z", expected, "--", prefix):
                found.append(prefix)
            break
    return sorted(set(found))


def park(git: Git, branch: str, tip: str, reason: str) -> Landing:
    """The commits wait on ``genome/<branch>``. The ref is only ever moved forward, or set when
    absent."""
    ref = waiting_ref(branch)
    old = git.ref_sha(ref)
    if old != tip:
        git.run_git(
            "update-ref", "-m", "genome runner: waiting", ref, tip, *([old] if old else ["0" * 40])
        )
    return Landing(False, tip, ref, reason)


def replay(git: Git, gate_dir: Path, onto: str, base: str, tip: str, author: Actor) -> str | None:
    """The commits ``base..tip`` cherry-picked onto ``onto`` in the gate worktree; the new tip, or
    None when they conflict (the gate worktree is then put back at ``onto``)."""
    assert author.name is not None and author.email is not None, "Git.identity() sets both"
    identity = {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_COMMITTER_NAME": author.name,
        "GIT_COMMITTER_EMAIL": author.email,
    }
    git.run_git("checkout", "-q", "-f", "--detach", onto, cwd=gate_dir)
    git.run_git("clean", "-q", "-ffd", cwd=gate_dir)
    try:
        git.run_git(
            "-c",
            "commit.gpgsign=false",
            "cherry-pick",
            "--allow-empty",
            "--keep-redundant-commits",
            f"{base}..{tip}",
            cwd=gate_dir,
            env=identity,
        )
    except GitCommandError:
        try:
            git.run_git("cherry-pick", "--abort", cwd=gate_dir)
        except GitCommandError:
            pass
        git.run_git("checkout", "-q", "-f", "--detach", onto, cwd=gate_dir)
        return None
    return git.run_git("rev-parse", "HEAD", cwd=gate_dir).strip()


def deliver(
    git: Git,
    *,
    mode: str,
    branch: str,
    base: str,
    tip: str,
    gate_dir: Path,
    run_gates: GateRunner,
    author: Actor,
) -> Landing:
    """Land ``base..tip`` as ``mode`` says; see the module's text for the rules."""
    if tip == base:
        return Landing(git.ref_sha(branch_ref(branch)) == base, tip, branch_ref(branch))
    if mode != "commit":
        return park(git, branch, tip, f"`deliver: {mode}`")
    return land_or_park(
        git,
        branch=branch,
        base=base,
        tip=tip,
        gate_dir=gate_dir,
        run_gates=run_gates,
        author=author,
    )


def land_or_park(
    git: Git,
    *,
    branch: str,
    base: str,
    tip: str,
    gate_dir: Path,
    run_gates: GateRunner,
    author: Actor,
    gates_ran_on_tip: bool = True,
) -> Landing:
    """Fast-forward the branch when it is still at ``base``; replay (gates again) when it moved."""
    now = git.ref_sha(branch_ref(branch))
    if now is None:
        return park(git, branch, tip, f"the branch {branch} no longer exists")
    if now != base and git.is_ancestor(now, tip):
        base = now  # already holds part of the chain (landed earlier)
    if now == base:
        if not gates_ran_on_tip:
            red = run_gates_on(git, gate_dir, tip, run_gates)
            if red:
                return park(git, branch, tip, red)
        why = land_on_branch(git, branch, base, tip)
        if not why:
            clear_waiting(git, branch, tip)
            return Landing(True, tip, branch_ref(branch))
        if "moved" not in why:
            return park(git, branch, tip, why)
        now = git.ref_sha(branch_ref(branch)) or now
    # the person committed meanwhile: replay on their tip, gate the result, land it
    replayed = replay(git, gate_dir, now, git.merge_base(now, tip), tip, author)
    if replayed is None:
        return park(git, branch, tip, f"replaying on {branch}'s new commits conflicts")
    red = run_gates(gate_dir)
    if red:
        return park(git, branch, tip, f"after replaying on {branch}'s new commits, {red}")
    why = land_on_branch(git, branch, now, replayed)
    if why:
        return park(git, branch, tip, why)
    clear_waiting(git, branch, tip)
    return Landing(True, replayed, branch_ref(branch))


def run_gates_on(git: Git, gate_dir: Path, commit: str, run_gates: GateRunner) -> str | None:
    git.run_git("checkout", "-q", "-f", "--detach", commit, cwd=gate_dir)
    git.run_git("clean", "-q", "-ffd", cwd=gate_dir)
    return run_gates(gate_dir)


def clear_waiting(git: Git, branch: str, landed_from: str) -> None:
    """Once what waited is on the branch, ``genome/<branch>`` goes (only if it still points
    there)."""
    ref = waiting_ref(branch)
    waiting = git.ref_sha(ref)
    if waiting is not None and waiting == landed_from:
        git.delete_ref(ref, waiting)


def config_gates(config, printer, lever=None) -> GateRunner:
    """The configured gates (and the lever's checks, when given) as a ``GateRunner``."""
    specs = [GateSpec(g.name, g.run, g.timeout) for g in config.gates]
    if lever is not None:
        specs += [
            GateSpec(f"check-{i}", c, config.command_timeout) for i, c in enumerate(lever.checks, 1)
        ]

    def run(where: Path) -> str | None:
        results = run_gate_specs(specs, where, sandbox=sandbox.for_place(where, config))
        for result in results:
            printer.say(f"gate {result.summary()}")
        red = [r for r in results if not r.passed]
        return f"gate {red[0].name} failed" if red else None

    return run
