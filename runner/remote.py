"""Several machines, one genome: start from the remote's latest, push with a lease, lose a race
cleanly."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from git.exc import GitCommandError

from runner.deliver import branch_ref, checked_out_at, land_on_branch
from runner.errors import Refused
from runner.gitops import Git, Snapshot, git_error_text
from runner.progress import Printer
from runner.state import Tick

T = TypeVar("T")


def sync_with_remote(git: Git, printer: Printer) -> Snapshot:
    """With ``push: true``, a tick starts from the remote's latest commit: fetch, fast-forward,
    never merge."""
    start = git.branch_snapshot()
    remote, branch = git.upstream(start.branch)
    ours = start.head
    reach(lambda: git.fetch(remote), f"could not fetch from {remote}")
    theirs = git.remote_sha(remote, branch)
    if theirs != ours and git.is_ancestor(ours, theirs):
        # the same rules as landing a tick's own commits: a checked-out tree moves with its branch
        why = land_on_branch(git, branch, ours, theirs)
        if why:
            raise Refused(f"could not fast-forward to {remote}/{branch}: {why}")
        printer.say(f"fast-forwarded to {remote}/{branch} ({theirs[:12]})")
    elif theirs != ours and not git.is_ancestor(theirs, ours):
        raise Refused(
            f"{git.current_branch()} and {remote}/{branch} have diverged; reconcile them "
            "(`git pull --rebase`), then tick again"
        )
    return Snapshot(head=git.ref_sha(branch_ref(branch)) or ours, branch=branch)


def publish(tick: Tick, start: Snapshot) -> None:
    """Push with a lease on what the remote held when the tick started. If another machine ticked
    meanwhile, this tick's commits are dropped: the race is lost cleanly, nothing is merged."""
    git = tick.git
    if tick.landing is None or not tick.landing.landed:
        return  # nothing new on the branch (the work waits on genome/<branch>)
    remote, branch = git.upstream(start.branch)
    landed = tick.landing.tip
    pushed = reach(
        lambda: git.push_with_lease(remote, branch, git.remote_sha(remote, branch), landed),
        f"could not push to {remote} (the commits stay here; the next tick pushes them)",
    )
    if pushed:
        tick.printer.say(f"pushed to {remote}/{branch}")
        return
    reach(lambda: git.fetch(remote), f"could not fetch from {remote}")
    undone = undo_landing(git, start.branch, landed, start.head)
    raise Refused(
        f"lost the race: {remote}/{branch} moved during this tick (another machine ticked). "
        + (
            "This tick's commits were dropped; the next tick starts from theirs"
            if undone
            else f"This tick's commits stay on {start.branch} (your tree has changed since); "
            "reconcile with `git pull --rebase`"
        )
    )


def undo_landing(git: Git, branch: str, landed: str, start: str) -> bool:
    """Move ``branch`` back from ``landed`` to ``start``: by ``git reset --keep`` where it is
    checked out (which refuses rather than lose an uncommitted change), by compare-and-swap
    elsewhere."""
    tree = checked_out_at(git, branch)
    if tree is None:
        return git.update_ref(branch_ref(branch), start, landed)
    try:
        if git.run_git("rev-parse", "HEAD", cwd=tree).strip() != landed:
            return False
        git.run_git("reset", "-q", "--keep", start, cwd=tree)
        return True
    except GitCommandError:
        return False


def reach(action: Callable[[], T], failure: str) -> T:
    """A remote that cannot be reached refuses the tick (exit 3) with git's own words, never a
    traceback."""
    try:
        return action()
    except GitCommandError as error:
        raise Refused(f"{failure}: {git_error_text(error)}") from None
