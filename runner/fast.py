"""`genome-tick`: what a timer runs every few minutes. When the next tick is not due it exits 0
having imported nothing beyond what the interpreter loads anyway (os, sys, time); only a due tick
loads the rest."""

from __future__ import annotations

import os
import sys
import time

# How runner.due writes the next due time. Text in exactly this shape sorts as the time it names,
# so "not due yet" is one string comparison.
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def main() -> None:
    args = sys.argv[1:]
    if not args:
        root = project_root()
        if not is_due(root):
            log_not_due(root)
            sys.exit(0)
    from runner.cli import cli

    cli(["tick", *args], prog_name="genome-tick")


def is_due(root: str) -> bool:
    try:
        with open(os.path.join(root, ".genome", "next-due"), encoding="utf-8") as handle:
            text = handle.read().strip()
    except (OSError, ValueError):
        return True  # no record, or an unreadable one: due now
    if len(text) != 20 or text[10] != "T" or text[19] != "Z" or not text[:4].isdigit():
        from datetime import (
            datetime,
            timezone,
        )  # another shape (written by hand): parse it properly
        from pathlib import Path

        from runner import due

        return due.is_due(Path(root), datetime.now(timezone.utc))
    return time.strftime(STAMP, time.gmtime()) >= text


# runner.watch reads this log; a line is "<UTC time> <what happened>".
FIRINGS = os.path.join(".genome", "firings")
FIRINGS_MAX_BYTES = 128 * 1024


def log_not_due(root: str) -> None:
    """One line in the firings log, with os-level calls only: a schedule that fires is visible."""
    try:
        fd = os.open(os.path.join(root, FIRINGS), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (time.strftime(STAMP, time.gmtime()) + " not-due\n").encode())
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
    except OSError:
        return
    if size > FIRINGS_MAX_BYTES:  # rare: once in thousands of firings
        from pathlib import Path

        from runner.watch import trim_firings

        trim_firings(Path(root, FIRINGS))


def project_root() -> str:
    here = directory = os.getcwd()
    while not os.path.exists(os.path.join(directory, ".git")):
        parent = os.path.dirname(directory)
        if parent == directory:
            return here
        directory = parent
    return directory
