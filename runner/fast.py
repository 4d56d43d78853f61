"""`genome-tick`: what a timer runs every few minutes. When the next tick is not due it exits 0
before importing anything heavy (no click, no SDK, no GitPython); only a due tick loads the rest."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from runner.due import is_due


def main() -> None:
    args = sys.argv[1:]
    if not args:
        root = _project_root()
        if not is_due(root, datetime.now(timezone.utc)):
            sys.exit(0)
    from runner.cli import cli

    cli(["tick", *args], prog_name="genome-tick")


def _project_root() -> Path:
    here = Path.cwd()
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory
    return here
