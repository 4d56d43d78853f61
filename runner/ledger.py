"""Git as the ledger: the small git plumbing the read-only commands share, and the tick records'
spend, read the same way by the budget guard and by `genome status`. Stdlib only, one git process
per question, so it stays cheap on long histories."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from runner.errors import UsageError

# Settings that would change what git prints (signatures, colour, prefixes, quoted names) are pinned.
GIT = ("git", "-c", "core.quotepath=false", "-c", "log.showSignature=false", "-c", "color.ui=never",
       "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false")


# ------------------------------------------------------------------------------------------- git

def git_text(root: Path, *args: str) -> str:
    """Run git in ``root`` and return its output; a failure is a ``UsageError`` saying what is wrong."""
    done = subprocess.run([*GIT, "-C", str(root), *args], capture_output=True)
    if done.returncode != 0:
        head_sha(root)       # names the usual causes: not a repository, no commit yet
        said = done.stderr.decode("utf-8", errors="replace").strip()
        raise UsageError(f"`git {args[0]}` failed in {root}: {said}")
    return done.stdout.decode("utf-8", errors="replace")


def head_sha(root: Path) -> str:
    """The commit HEAD names; a ``UsageError`` outside a repository or before its first commit."""
    done = subprocess.run([*GIT, "-C", str(root), "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
                          capture_output=True, text=True)
    if done.returncode == 0:
        return done.stdout.strip()
    inside = subprocess.run([*GIT, "-C", str(root), "rev-parse", "--git-dir"], capture_output=True)
    if inside.returncode != 0:
        raise UsageError(f"{root} is not a git repository. Run `git init && genome init` there first")
    raise UsageError(f"{root} has no commit yet; run `genome init` (it makes the first commit)")


def read_blobs(root: Path, specs: list[str]) -> dict[str, str | None]:
    """``REV:PATH`` → the file's text (None when it does not exist there), all in one git process."""
    done = subprocess.run([*GIT, "-C", str(root), "cat-file", "--batch"], capture_output=True,
                          input="".join(f"{spec}\n" for spec in specs).encode("utf-8"))
    out, at, found = done.stdout, 0, {}
    for spec in specs:
        end = out.find(b"\n", at)
        if end < 0:
            found[spec] = None
            continue
        header = out[at:end].decode("utf-8", errors="replace").split()
        at = end + 1
        if len(header) == 3 and header[2].isdigit():
            size = int(header[2])
            found[spec] = out[at:at + size].decode("utf-8", errors="replace") if header[1] == "blob" else None
            at += size + 1
        else:
            found[spec] = None      # "<spec> missing"
    return found




_TICK_FORMAT = "%ct%x1f%(trailers:key=Outcome,valueonly)%x1f%(trailers:key=Lever,valueonly)%x1f" \
               "%(trailers:key=Cost-USD,valueonly)%x1e"


def record_commits(root: Path, *selection: str) -> list[tuple[datetime, str, str, float]]:
    """(commit time, outcome, lever, cost) of the tick records ``git log`` selects, newest first.

    Git is the ledger (the tick budgets from the same trailers), so a fresh clone knows the spend too.
    """
    out = git_text(root, "log", *selection, f"--format={_TICK_FORMAT}", "HEAD", "--")
    found = []
    for entry in out.split("\x1e"):
        parts = [part.strip() for part in entry.split("\x1f")]
        if len(parts) != 4 or not parts[1]:
            continue
        try:
            cost = float(parts[3].splitlines()[0]) if parts[3] else 0.0
        except ValueError:
            cost = 0.0
        found.append((datetime.fromtimestamp(int(parts[0]), timezone.utc), parts[1], parts[2], cost))
    return found


@dataclass(frozen=True)
class Spend:
    today: float
    this_week: float
    ticks: list[tuple[datetime, str, str, float]]     # this week's records, newest first


def spend(root: Path, now: datetime) -> Spend:
    """Dollars the ticks recorded since UTC midnight and since Monday, in one ``git log``."""
    day_start = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - timedelta(days=day_start.weekday())
    ticks = record_commits(root, f"--since={week_start.strftime('%Y-%m-%d %H:%M:%S +0000')}")
    return Spend(today=sum(cost for when, _, _, cost in ticks if when >= day_start),
                 this_week=sum(cost for when, _, _, cost in ticks if when >= week_start), ticks=ticks)
