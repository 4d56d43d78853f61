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
    if not args and not is_due(project_root()):
        sys.exit(0)
    from runner.cli import cli

    cli(["tick", *args], prog_name="genome-tick")


def is_due(root: str) -> bool:
    try:
        with open(os.path.join(root, ".genome", "next-due"), encoding="utf-8") as handle:
            text = handle.read().strip()
    except (OSError, ValueError):
        return True         # no record, or an unreadable one: due now
    if len(text) != 20 or text[10] != "T" or text[19] != "Z" or not text[:4].isdigit():
        from datetime import datetime, timezone     # another shape (written by hand): parse it properly
        from pathlib import Path

        from runner import due
        return due.is_due(Path(root), datetime.now(timezone.utc))
    return time.strftime(STAMP, time.gmtime()) >= text


def project_root() -> str:
    here = directory = os.getcwd()
    while not os.path.exists(os.path.join(directory, ".git")):
        parent = os.path.dirname(directory)
        if parent == directory:
            return here
        directory = parent
    return directory
