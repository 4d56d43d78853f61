"""Several machines, one genome: start from the remote's latest, push with a lease, lose a race cleanly."""

from __future__ import annotations

from runner.errors import Refused
from runner.gitops import Git, Snapshot
from runner.progress import Printer
from runner.state import Tick


def sync_with_remote(git: Git, printer: Printer) -> Snapshot:
    """With ``push: true``, a tick starts from the remote's latest commit: fetch, fast-forward, never merge."""
    remote, branch = git.upstream()
    git.fetch(remote)
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
    if git.push_with_lease(remote, branch, git.remote_sha(remote, branch)):
        tick.printer.say(f"pushed to {remote}/{branch}")
        return
    git.fetch(remote)
    git.reset_hard(start.head)
    raise Refused(f"lost the race: {remote}/{branch} moved during this tick (another machine ticked). "
                  "This tick's commits were dropped and the tree is clean; the next tick starts from theirs")
