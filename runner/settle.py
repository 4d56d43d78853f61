"""Settling a lever from the morning review: ``genome revert``, ``retry``, ``drop`` and ``promote``.

Each is one commit by the person (their git identity) with a record: the lever's status-log line in
levers.md and a trailer block the runner writes (``Lever``, ``Decision``, and for a revert
``Reverts: <sha>``). Like a tick, each refuses (exit 3) on a dirty tree or while a tick holds the
lock, and leaves the repository exactly as it was whenever it does not commit.

A revert undoes the newest code commit of the lever that is not reverted yet. It is refused when
later commits touch the same files (they may build on it) or when the reverse patch does not apply;
otherwise the config's gates run on the result, as they would for a tick, and a red gate means
nothing is committed (exit 1). The reason becomes a lesson in loop-prompt.md and a note the next
tick reads first (``.genome/feedback/``).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from genome.levers import Lever, LeverDoc
from genome.loop_prompt import Lesson
from genome.records import (
    LOG_FORMAT,
    CodeTrailers,
    DecisionTrailers,
    decision_message,
    one_line,
    parse_log,
    subject_of,
)
from runner import feedback, sealed
from runner.errors import LEVER_FAILED, Refused, TickStop, UsageError
from runner.gates import GateSpec, red_gate_excerpt, run_gates
from runner.gitops import Git, Snapshot
from runner.lock import TickLock
from runner.proc import scrubbed_env
from runner.state import LEVERS, LOOP_PROMPT, Project, read_project


class GatesRed(TickStop):
    """The reverted tree did not pass the gates: nothing was committed."""

    exit_code = LEVER_FAILED


@dataclass(frozen=True)
class Settled:
    sha: str  # the decision's commit; "" when there was nothing to change
    message: str  # what was done, for the person


@dataclass
class _Change:
    """What a settle command wants committed, built while the repository is locked and clean."""

    levers: LeverDoc
    subject: str
    body: str
    trailers: dict[str, str]
    loop_prompt: str | None = None  # loop-prompt.md's new text, when a lesson was added
    paths: tuple[str, ...] = ()  # further paths the commit takes (a revert's files)
    note: str = ""  # for the next tick, stored once the commit is made


def revert(
    root: Path,
    lever_id: str,
    reason: str = "",
    drop: bool = False,
    now: datetime | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> Settled:
    """Revert what the lever shipped, gated like a tick; reopen the lever (or drop it)."""

    def change(git: Git, project: Project, lever: Lever, stamp: str) -> _Change:
        assert lever.id is not None  # found in levers.md by its id
        if lever.status == "blocked":
            raise UsageError(
                f"{lever.id} is blocked and shipped nothing to revert; "
                f"`genome retry {lever.id}` reopens it, `genome drop {lever.id}` drops it"
            )
        sha = _code_commit_to_revert(git, lever.id)
        files = _changed_files(git, sha)
        _refuse_dependents(git, lever.id, sha, files)
        _apply_reverse(git, lever.id, sha)
        _gate(git, project, say)
        _gate_sealed(git, lever.id, stamp, say)
        levers = project.levers
        levers.set_status(lever.id, "dropped" if drop else "open")
        what = "and dropped by a person" if drop else "and reopened by a person"
        levers.append_log(
            lever.id, f"{stamp} reverted {sha[:7]} {what}" + (f": {reason}" if reason else "")
        )
        loop = None
        if reason:
            lesson = Lesson(
                project.genome.label,
                stamp[:10],
                f"{lever.id} {lever.title} was reverted by a person: {reason}",
            )
            loop = project.loop.with_lesson(lesson).render()
        note = f"{lever.id} {lever.title} was reverted ({sha[:7]})" + (
            f": {reason}" if reason else ""
        )
        return _Change(
            levers,
            f"revert {lever.id} {lever.title}",
            reason,
            {"Lever": lever.id, "Decision": "revert", "Reverts": sha},
            loop,
            tuple(files),
            note,
        )

    return _settle(root, lever_id, now, change, "revert")


def retry(root: Path, lever_id: str, hint: str = "", now: datetime | None = None) -> Settled:
    """Reopen a blocked lever; its attempts count from zero and the next attempt sees the hint."""

    def change(git: Git, project: Project, lever: Lever, stamp: str) -> _Change:
        assert lever.id is not None  # found in levers.md by its id
        if lever.status != "blocked":
            raise UsageError(
                f"{lever.id} is {lever.status}, not blocked: only a blocked lever is retried"
                + _instead(lever)
            )
        levers = project.levers
        levers.set_status(lever.id, "open")
        levers.append_log(
            lever.id, f"{stamp} reopened by a person" + (f": hint: {hint}" if hint else "")
        )
        note = f"{lever.id} {lever.title}: {hint}" if hint else ""
        return _Change(
            levers,
            f"retry {lever.id} {lever.title}",
            hint and f"Hint: {hint}",
            {"Lever": lever.id, "Decision": "retry"},
            note=note,
        )

    return _settle(root, lever_id, now, change, "retry")


def drop(root: Path, lever_id: str, reason: str = "", now: datetime | None = None) -> Settled:
    """Mark the lever dropped: no tick takes it again."""

    def change(git: Git, project: Project, lever: Lever, stamp: str) -> _Change:
        assert lever.id is not None  # found in levers.md by its id
        if lever.status in ("dropped", "done"):
            raise UsageError(f"{lever.id} is {lever.status} already" + _instead(lever))
        levers = project.levers
        levers.set_status(lever.id, "dropped")
        levers.append_log(
            lever.id, f"{stamp} dropped by a person" + (f": {reason}" if reason else "")
        )
        return _Change(
            levers,
            f"drop {lever.id} {lever.title}",
            reason,
            {"Lever": lever.id, "Decision": "drop"},
        )

    return _settle(root, lever_id, now, change, "drop")


def promote(root: Path, lever_id: str, now: datetime | None = None) -> Settled:
    """Move an open lever to the top of levers.md: the next tick takes it."""

    def change(git: Git, project: Project, lever: Lever, stamp: str) -> _Change | None:
        assert lever.id is not None  # found in levers.md by its id
        if lever.status != "open":
            raise UsageError(
                f"{lever.id} is {lever.status}: only an open lever is promoted" + _instead(lever)
            )
        levers = project.levers
        if levers.levers[0].id == lever.id:
            return None
        levers.move_to_top(lever.id)
        levers.append_log(lever.id, f"{stamp} moved to the top by a person")
        return _Change(
            levers,
            f"promote {lever.id} {lever.title}",
            "",
            {"Lever": lever.id, "Decision": "promote"},
        )

    return _settle(root, lever_id, now, change, "promote")


# ---------------------------------------------------------------------------------------- the frame


def _settle(
    root: Path,
    lever_id: str,
    now: datetime | None,
    change: Callable[[Git, Project, Lever, str], _Change | None],
    command: str,
) -> Settled:
    """Clean tree, the tick lock, the lever from HEAD; then one commit, or the tree put back."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H:%MZ")
    again = f"run `genome {command} {lever_id}` again"
    with Git(root) as git:
        git.refuse_unless_clean(
            again
        )  # before the lock: a refusal creates nothing, not even .genome/
        with TickLock(root):
            start = git.refuse_unless_clean(again)
            project = read_project(git)
            try:
                lever = project.levers.get(lever_id)
            except KeyError:
                raise UsageError(
                    f"levers.md has no lever {lever_id}; `genome status` shows the levers "
                    "(give its id, such as L-004)"
                ) from None
            note = None
            try:
                planned = change(git, project, lever, stamp)
                if planned is None:
                    return Settled("", f"{lever.id} is already the top lever; nothing to change")
                # the note first: one that cannot be kept (too long, a disk error) stops the
                # command before anything is committed
                note = _store_note(root, planned.note, now) if planned.note else None
                sha = _commit(git, start, planned)
            except BaseException:
                if note is not None:
                    note.path.unlink(missing_ok=True)
                git.restore(start)
                raise
    return Settled(sha, f"{planned.subject}: committed {sha[:12]}")


def _store_note(root: Path, text: str, now: datetime) -> feedback.Note:
    try:
        return feedback.store(root, text, now)
    except (ValueError, OSError) as exc:
        raise UsageError(
            f"the note for the next tick cannot be kept, so nothing was committed: {exc}"
        ) from None


def _commit(git: Git, start: Snapshot, planned: _Change) -> str:
    files = {LEVERS: planned.levers.render()}
    if planned.loop_prompt is not None:
        files[LOOP_PROMPT] = planned.loop_prompt
    for name, text in files.items():
        (git.root / name).write_text(text, encoding="utf-8", newline="")
    paths = [*planned.paths, *files]
    stray = [p for p in git.changed_paths() if p not in paths]
    if stray:  # a gate wrote something: it is not part of the decision
        _put_back(git, stray)
    decision = DecisionTrailers(
        lever=planned.trailers["Lever"],
        decision=planned.trailers["Decision"],
        reverts=planned.trailers.get("Reverts", ""),
    )
    message = decision_message(planned.subject, one_line(planned.body), decision)
    return git.commit(paths, message, git.identity(""))


def _put_back(git: Git, paths: list[str]) -> None:
    codes = git.status()
    tracked = [p for p in paths if codes.get(p) != "??"]
    if tracked:
        git.run_git(
            "checkout", "HEAD", "--pathspec-from-file=-", "--pathspec-file-nul", paths=tracked
        )
    for rel in paths:
        if codes.get(rel) == "??":
            path = git.root / rel
            if path.is_file() or path.is_symlink():
                path.unlink()


def _instead(lever: Lever) -> str:
    return {
        "blocked": f"; `genome retry {lever.id} --hint TEXT` reopens it",
        "done": f"; it shipped: `genome revert {lever.id}` undoes it (add --drop to drop it too)",
        "dropped": "; to take it up again, mark it `[ ]` in levers.md and commit",
        "open": f"; it waits its turn (`genome promote {lever.id}` makes it next)",
    }[lever.status]


# ---------------------------------------------------------------------------------------- revert


def _code_commit_to_revert(git: Git, lever_id: str) -> str:
    """The newest code commit of the lever on this branch that no revert has undone yet."""
    shipped, reverted = [], set()
    for commit in parse_log(git.run_git("log", "-z", f"--format={LOG_FORMAT}", "HEAD", "--")):
        decision = DecisionTrailers.parse(commit.message)
        code = CodeTrailers.parse(commit.message)
        if decision is not None and decision.decision == "revert":
            reverted.add(decision.reverts)
        elif code is not None and code.lever == lever_id:
            shipped.append(commit.sha)
    waiting = [sha for sha in shipped if sha not in reverted]
    if waiting:
        return waiting[0]
    if shipped:
        raise UsageError(
            f"what {lever_id} shipped ({', '.join(s[:8] for s in shipped)}) is reverted already"
        )
    raise UsageError(f"{lever_id} has no code commit on this branch: there is nothing to revert")


def _changed_files(git: Git, sha: str) -> list[str]:
    out = git.run_git(
        "diff-tree", "--no-commit-id", "--no-renames", "-r", "-z", "--name-only", f"{sha}^", sha
    )
    return [path for path in out.split("\0") if path]


def _refuse_dependents(git: Git, lever_id: str, sha: str, files: list[str]) -> None:
    """Later commits that change the same files may build on this one; a revert and what it reverted
    cancel out, and do not count."""
    later: list[tuple[str, str]] = []
    reverted: set[str] = set()
    logged = git.run_git("log", "-z", f"--format={LOG_FORMAT}", f"{sha}..HEAD", "--", *files)
    for commit in parse_log(logged):
        decision = DecisionTrailers.parse(commit.message)
        if decision is not None and decision.decision == "revert":
            reverted.update((commit.sha, decision.reverts))
        else:
            later.append((commit.sha, subject_of(commit.message)))
    building = [f"{other[:7]} {subject}" for other, subject in later if other not in reverted]
    if building:
        shown = "; ".join(building[:3]) + (
            f" and {len(building) - 3} more" if len(building) > 3 else ""
        )
        raise Refused(
            f"later commits change the files {lever_id} shipped ({shown}): "
            "they may build on it, so "
            f"reverting {lever_id} alone could break them. Revert those first, or undo it by hand "
            f"with `git revert {sha[:12]}`"
        )


def _apply_reverse(git: Git, lever_id: str, sha: str) -> None:
    patch = _git_bytes(
        git,
        "diff",
        "--binary",
        "--no-renames",
        "--no-ext-diff",
        "--no-textconv",
        "--no-color",
        f"{sha}^",
        sha,
    )
    done = _git_bytes(git, "apply", "--reverse", "--whitespace=nowarn", stdin=patch.stdout)
    if patch.returncode != 0 or done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise Refused(
            f"what {lever_id} shipped ({sha[:12]}) no longer reverts cleanly"
            + (f" ({why[0]})" if why else "")
            + f": undo it by hand with `git revert {sha[:12]}`"
        )


def _git_bytes(git: Git, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Git with bytes in and out: a patch is not text in any one encoding."""
    return subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", *args],
        input=stdin,
        cwd=git.root,
        capture_output=True,
        env=scrubbed_env(),
    )


def _gate_sealed(git: Git, lever_id: str, stamp: str, say: Callable[[str], None]) -> None:
    """The project's sealed gates, after the visible ones, as a tick runs them. The person runs the
    revert, so the message may say where their names and output are."""
    gates = sealed.load(git)
    if not gates:
        return
    run = sealed.run(git, git.root, gates, time=stamp, lever=lever_id)
    say(f"gate {run.summary.summary()}")
    if not run.passed:
        raise GatesRed(
            "a sealed gate is red after the revert, so nothing was committed; which one and its "
            f"output: `genome review`, or {sealed.results_file(git.root)}"
        )


def _gate(git: Git, project: Project, say: Callable[[str], None]) -> None:
    from runner import sandbox

    specs = [GateSpec(g.name, g.run, g.timeout) for g in project.config.gates]
    contained = sandbox.for_tick(git.root, project.config)  # the same sandbox a tick's gates get
    if not contained.enabled:
        say(contained.why_not)
    results = run_gates(specs, git.root, sandbox=contained)
    for result in results:
        say(f"gate {result.summary()}")
    red = [r for r in results if not r.passed]
    if red:
        lines = red_gate_excerpt(results, project.config.secrets_allow)
        raise GatesRed(
            f"the gates are red after the revert, so nothing was committed: gate {red[0].name} "
            "failed\n" + "\n".join(f"  {line}" for line in lines)
        )
