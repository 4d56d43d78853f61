"""Several machines, one genome: start from the remote's latest, push with a lease, lose a race cleanly."""

from __future__ import annotations

from typing import Callable, TypeVar

from git.exc import GitCommandError

from runner.errors import Refused
from runner.gitops import Git, Snapshot, git_error_text
from runner.progress import Printer
from runner.state import Tick

T = TypeVar("T")


def sync_with_remote(git: Git, printer: Printer) -> Snapshot:
    """With ``push: true``, a tick starts from the remote's latest commit: fetch, fast-forward, never merge."""
    remote, branch = git.upstream()
    reach(lambda: git.fetch(remote), f"could not fetch from {remote}")
    theirs, ours = git.remote_sha(remote, branch), git.head_sha()
    if theirs != ours and git.is_ancestor(ours, theirs):
        git.fast_forward(theirs)
        printer.say(f"fast-forwarded to {remote}/{branch} ({theirs[:12]})")
    elif theirs != ours and not git.is_ancestor(theirs, ours):
        raise Refused(f"{git.current_branch()} and {remote}/{branch} have diverged; reconcile them "
                      "(`git pull --rebase`), then tick again")
    return Snapshot(head=git.head_sha(), branch=git.current_branch())


def publish(tick: Tick, start: Snapshot) -> None:
    """Push with a lease on what the remote held when the tick started. If another machine ticked
    meanwhile, this tick's commits are dropped: the race is lost cleanly, nothing is merged."""
    git = tick.git
    remote, branch = git.upstream()
    pushed = reach(lambda: git.push_with_lease(remote, branch, git.remote_sha(remote, branch)),
                   f"could not push to {remote} (the commits stay here; the next tick pushes them)")
    if pushed:
        tick.printer.say(f"pushed to {remote}/{branch}")
        return
    reach(lambda: git.fetch(remote), f"could not fetch from {remote}")
    git.reset_hard(start.head)
    raise Refused(f"lost the race: {remote}/{branch} moved during this tick (another machine ticked). "
                  "This tick's commits were dropped and the tree is clean; the next tick starts from theirs")


def reach(action: Callable[[], T], failure: str) -> T:
    """A remote that cannot be reached refuses the tick (exit 3) with git's own words, never a traceback."""
    try:
        return action()
    except GitCommandError as error:
        raise Refused(f"{failure}: {git_error_text(error)}") from None
