"""Settling a lever from the review: ``genome revert``, ``retry``, ``drop`` and ``promote``.

Each is one commit (see ``runner.settle``); the review prints the exact command for each lever that
waits on a decision.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from genome.errors import GenomeFileError
from runner.errors import INVALID, TickStop

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_CODES = """\b
Exit codes:
  0  done (one commit), or nothing to change
  1  revert only: the gates are red on the reverted tree; nothing was committed
  2  no such lever, the lever is not in a state this command settles, or a project file is invalid
  3  refused, nothing written: uncommitted changes, a tick is running, detached HEAD or a merge in
     progress; for revert also: later commits change the same files, or it no longer applies
"""


def _run(settle, *args, **kwargs) -> None:
    from runner.cli import project_root

    try:
        done = settle(project_root(), *args, **kwargs)
    except TickStop as stop:
        _fail(stop.message, stop.exit_code)
    except GenomeFileError as error:
        _fail(str(error), INVALID)
    except OSError as error:  # a disk or permission error: said, not a traceback
        _fail(f"{error}; nothing was committed", INVALID)
    click.echo(done.message)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"genome: {message}", err=True)
    sys.exit(code)


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.argument("lever")
@click.option(
    "--reason",
    default="",
    metavar="TEXT",
    help="Why: kept in the commit, as a lesson in loop-prompt.md, and as a note "
    "the next tick reads.",
)
@click.option(
    "--drop", "drop_lever", is_flag=True, help="Drop the lever too, instead of reopening it."
)
def revert(lever: str, reason: str, drop_lever: bool) -> None:
    """Undo what LEVER shipped, in one gated commit, and reopen the lever.

    \b
    Examples:
      genome revert L-004
      genome revert L-004 --reason "the v1 endpoint must stay; add v2 beside it"
      genome revert L-004 --drop --reason "not worth it"

    The newest code commit of the lever is reverted and the gates from loop-prompt.md run on the
    result, as for a tick: a red gate commits nothing. Refused when later commits change the same
    files (they may build on it): revert those first.
    """
    from runner import settle

    _run(settle.revert, lever, reason=reason, drop=drop_lever, say=click.echo)


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.argument("lever")
@click.option(
    "--hint",
    default="",
    metavar="TEXT",
    help="What the next attempt should know; it reads it in the lever's log and as a note.",
)
def retry(lever: str, hint: str) -> None:
    """Reopen a blocked LEVER; its attempts count from zero.

    \b
    Examples:
      genome retry L-007
      genome retry L-007 --hint "the fixture lives in tests/data, not tests/fixtures"
    """
    from runner import settle

    _run(settle.retry, lever, hint=hint)


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.argument("lever")
@click.option(
    "--reason", default="", metavar="TEXT", help="Why, kept in the lever's log and the commit."
)
def drop(lever: str, reason: str) -> None:
    """Drop LEVER: no tick takes it again.

    \b
    Examples:
      genome drop L-007
      genome drop L-012 --reason "out of scope for this project"
    """
    from runner import settle

    _run(settle.drop, lever, reason=reason)


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.argument("lever")
def promote(lever: str) -> None:
    """Move an open LEVER to the top of levers.md: the next tick takes it.

    \b
    Examples:
      genome promote L-012
    """
    from runner import settle

    _run(settle.promote, lever)
