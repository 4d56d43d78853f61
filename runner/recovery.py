"""Recovery from a tick that was killed: its leftovers undone exactly, before anything else happens."""

from __future__ import annotations

import shutil

from datetime import datetime
from pathlib import Path

from genome.journal import TickRecord
from genome.loop_prompt import Config
from runner import due, intent
from runner.errors import Refused
from runner.gitops import Git, Snapshot
from runner.model import Model
from runner.prices import price_for
from runner.progress import Printer
from runner.record import write_record
from runner.session import Limits, Meter, Reflection
from runner.state import Tick, read_project


def recover(root: Path, git: Git, now: datetime, printer: Printer) -> None:
    """Undo what a killed tick left behind, exactly, before anything else happens.

    Only paths whose bytes are still what the dead tick recorded are touched; anything else changed
    since means a person has been at work, and the tick refuses rather than guess."""
    left = intent.load(root)
    if left is None:
        return
    printer.phase("recover", f"a tick was interrupted during {left.phase} ({left.lever or 'idle'})")
    if left.phase == "unreadable":
        raise Refused(f"{intent.path_of(root)} is unreadable. Check `git status` and `git log`, put back by hand "
                      "anything an interrupted tick left, then delete that file")
    git.clear_stale_index_lock()
    head = git.head_sha()
    record_for = git.record_commit_lever(head)
    if record_for is not None and record_for == left.lever and head != left.base:
        intent.clear(root)       # the dead tick finished its record; only the intent file was left
        return
    shipped = head if head == left.commit or (left.phase == "commit" and git.is_code_commit_of(head, left.base, left.lever)) else ""
    if head != left.base and not shipped:
        raise Refused(f"a tick was interrupted, and HEAD has moved since (now {head[:12]}, the tick started at "
                      f"{left.base[:12]}). Check `git status` and `git log`, then delete {intent.path_of(root)}")
    changed = git.changed_paths()
    now_prints = intent.fingerprint(root, changed)
    foreign = [p for p in changed if left.touched.get(p) != now_prints[p]
               and not (left.new_files_are_ours and git.head_file(p) is None and p not in left.touched)]
    if foreign:
        raise Refused(f"a tick was interrupted, and {', '.join(foreign[:5])} changed since (not by the tick). "
                      "Nothing was touched. Commit or discard those changes, then tick again")
    # New files the dead tick's gates may have made, or a person may have made since: not deleted,
    # kept aside where the person can look
    unknown = [p for p in changed if p not in left.touched]
    if unknown:
        kept = due.state_dir(root) / "recovered" / now.strftime("%Y%m%dT%H%M%SZ")
        for rel in unknown:
            (kept / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(root / rel), str(kept / rel))
        printer.warn(f"moved {len(unknown)} new file{'s' if len(unknown) != 1 else ''} the interrupted tick "
                     f"did not record to {kept.relative_to(root)}/ ({', '.join(unknown[:3])})")
    start = Snapshot(head=head, branch=left.branch or git.current_branch())
    git.restore(start)
    project = read_project(git)
    project.levers.assign_ids()
    lever = next((l for l in project.levers.levers if l.id == left.lever), None) if left.lever else None
    price, _ = price_for(project.config.model, project.config.prices)
    record = TickRecord(time=now.strftime("%Y-%m-%dT%H:%M:%SZ"), outcome="shipped" if shipped else "interrupted",
                        lever=left.lever, title=lever.title if lever else "", version=project.genome.label,
                        commit=shipped[:12], reason=f"interrupted during {left.phase}")
    tick = Tick(root=root, git=git, start=start, now=now, project=project, printer=printer,
                make_model=_no_model, meter=Meter(price=price), limits=Limits(turns=0, deadline=0), record=record,
                lever=lever)
    tick.recorded_cost = left.cost_usd
    tick.recorded_tokens = left.tokens
    write_record(tick, Reflection())
    intent.clear(root)
    printer.say(f"recovered: restored {len(changed)} path{'s' if len(changed) != 1 else ''}"
                + (f", kept the shipped commit {shipped[:12]}" if shipped else ""))


def _no_model(config: Config) -> Model:
    raise AssertionError("recovery never calls the model")
