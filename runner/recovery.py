"""Recovery from a tick that was killed: the attempt recorded, and its commits landed if it made
them.

A tick never writes the person's tree, so there is nothing of theirs to undo: the runner's own
worktrees are reset by the next tick anyway. What a killed tick leaves is its intent record (what
it spent, the commit it had made), git objects, and at most a half-done fast-forward of the person's
branch, which git itself guards with ``index.lock``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from genome.journal import TickRecord
from genome.loop_prompt import Config
from runner import deliver, intent
from runner.gitops import Git, Snapshot
from runner.model import Model
from runner.progress import Printer
from runner.record import land, write_record
from runner.session import Reflection
from runner.spend import Limits, meter_for
from runner.state import Tick, read_project
from runner.worktrees import Worktrees


def recover(root: Path, git: Git, now: datetime, printer: Printer) -> None:
    """Record what a killed tick did (and spent), and deliver a commit it made after its gates
    passed."""
    left = intent.load(root)
    if left is None:
        return
    printer.phase("recover", f"a tick was interrupted during {left.phase} ({left.lever or 'idle'})")
    places = Worktrees(git)
    if left.phase == "forged":
        # a record no tick of this runner signed, or one holding an impossible spend: a command
        # wrote it; nothing in it is booked
        printer.warn(
            f"{intent.path_of(root)} was not written by the runner "
            "(its signature does not match, or "
            "it holds an impossible spend): nothing is recorded from it. "
            "The runner's worktrees are "
            "reset; your tree was never written"
        )
        places.remove()
        intent.clear(root)
        return
    if (
        left.phase == "unreadable"
        or not left.base
        or not left.branch
        or git.ref_sha(left.base) is None
    ):
        printer.warn(
            f"{intent.path_of(root)} was unreadable or names no known commit; the interrupted tick "
            "cannot be recorded. The runner's worktrees are reset; your tree was never written"
        )
        places.remove()
        intent.clear(root)
        return
    if left.phase == "deliver":
        _remove_the_dead_merges_lock(root, git, left.branch, printer)
    if left.record and _delivered(git, left.branch, left.record):
        intent.clear(root)  # the dead tick's commits had landed; only the intent file was left
        return
    start = Snapshot(head=left.base, branch=left.branch)
    project = read_project(git, left.base)
    project.levers.assign_ids()
    lever = (
        next((each for each in project.levers.levers if each.id == left.lever), None)
        if left.lever
        else None
    )
    shipped = left.commit if left.commit and git.ref_sha(left.commit) else ""
    record = TickRecord(
        time=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        outcome="shipped" if shipped else "interrupted",
        lever=left.lever,
        title=lever.title if lever else "",
        version=project.genome.label,
        commit=shipped[:12],
        reason=f"interrupted during {left.phase}",
    )
    tick = Tick(
        root=root,
        git=git,
        start=start,
        now=now,
        project=project,
        printer=printer,
        make_model=_no_model,
        meter=meter_for(project.config),
        limits=Limits(turns=0, deadline=0),
        record=record,
        lever=lever,
        places=places,
        tip=shipped or left.base,
    )
    tick.meter.carry(left.cost_usd, left.tokens)
    if left.record and git.ref_sha(left.record):
        tick.tip = left.record  # its record commit was made: deliver that, as it was
        land(tick)
    else:
        write_record(tick, Reflection())
    intent.clear(root)
    printer.say(
        "recovered: recorded the interrupted tick"
        + (f", and delivered its gated commit {shipped[:12]}" if shipped else "")
        + (f" ({tick.landing.describe()})" if tick.landing else "")
    )


def _delivered(git: Git, branch: str, sha: str) -> bool:
    for ref in (deliver.branch_ref(branch), deliver.waiting_ref(branch)):
        tip = git.ref_sha(ref)
        if tip is not None and git.is_ancestor(sha, tip):
            return True
    return False


def _no_model(config: Config) -> Model:
    raise AssertionError("recovery never calls the model")


# The deliver phase's fast-forward of one change takes seconds; a lock made later than this after
# the intent record was written is not the dead merge's.
DEAD_MERGE_SECONDS = 120


def _remove_the_dead_merges_lock(root: Path, git: Git, branch: str, printer: Printer) -> None:
    """Killed inside `git merge --ff-only` in the person's tree, that git died with the tick and
    left its ``index.lock``. While it stood, no other git could take the lock, so a lock made
    within the merge's time is that git's; a later one is the person's own (a commit with its
    editor open) and is never removed."""
    tree = deliver.checked_out_at(git, branch)
    if tree is None:
        return
    git_dir = Path(git.run_git("rev-parse", "--git-dir", cwd=tree).strip())
    lock = (git_dir if git_dir.is_absolute() else tree / git_dir) / "index.lock"
    try:
        made = lock.stat().st_mtime
    except FileNotFoundError:
        return
    if made <= intent.path_of(root).stat().st_mtime + DEAD_MERGE_SECONDS:
        lock.unlink(missing_ok=True)
    else:
        printer.warn(
            f"{lock} is newer than the interrupted tick, so it is left in place; if no git command "
            "is running in your tree, delete it"
        )
