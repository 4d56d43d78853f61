"""The person's side of the loop: ``genome status``, ``genome review`` and ``genome feedback``."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

import click

from runner.errors import INVALID, TickStop

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_CODES = """\b
Exit codes:
  0  done
  2  not a genome project, a bad option, or a project file that cannot be read (named, \
with its line)
"""


def _root() -> Path:
    from runner.cli import project_root

    return project_root()


def _fail(message: str, code: int = INVALID) -> NoReturn:
    click.echo(f"genome: {message}", err=True)
    sys.exit(code)


def _colour() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


# ---------------------------------------------------------------------------------------- status


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
def status() -> None:
    """Where the loop stands, at a glance.

    \b
    Shows:
      the genome version, the next lever (the first open one in levers.md),
      how many levers are open, blocked and done, the last tick's outcome and time,
      spend today and this week against the budgets in loop-prompt.md,
      when the next tick is due, whether a timer is installed, notes waiting for the next tick

    \b
    Examples:
      genome status                  in the project, or any folder inside it
      watch -n 60 genome status      keep it on a screen

    Everything but the due time and your notes comes from git, so it works in a fresh clone.
    Exits 2 when a project file cannot be read (the problem is named, with its line).
    """
    from runner.status import gather, render

    try:
        found = gather(_root())
    except TickStop as stop:
        _fail(stop.message, stop.exit_code)
    click.echo(render(found, colour=_colour()), nl=False)
    if found.problems:
        sys.exit(INVALID)


# ---------------------------------------------------------------------------------------- review


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.option(
    "--since",
    default="24h",
    show_default=True,
    metavar="24h|DATE|SHA",
    help="Where the window starts: a duration back from now (30m, 24h, 7d), a UTC date or time "
    "(2026-11-23, 2026-11-23T06:00), or a commit (SHA, tag, branch): what came after it.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "md"]),
    help="text: aligned columns, coloured on a terminal; md: markdown. "
    "[default: text on a terminal, md when piped]",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the review as one self-contained HTML page (charts, coloured code diffs; "
    "nothing fetched, fine on a phone). Prints the text review too only with --format.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the review as JSON (schema genome-review/1, documented in the README) "
    "instead of "
    "text or markdown.",
)
def review(since: str, output_format: str | None, html_path: Path | None, as_json: bool) -> None:
    """The morning review: what the loop did, from git alone (a fresh clone works).

    \b
    Shows, for the window:
      every tick (time, lever, outcome, gates, tokens, cost)
      the levers shipped, with commit and diffstat
      the levers that failed or became blocked, and why
      the genome's diff from the first version in the window to the last
      lessons added and levers the loop proposed, the total cost
      what needs you: blocked levers, refused secrets, budget and model stops

    \b
    Examples:
      genome review                          the last 24 hours, on the terminal
      genome review --since 7d               the last week
      genome review --since 2026-11-20       since midnight UTC that day
      genome review --since v1.2             everything after the tag v1.2
      genome review > review.md              markdown, for a PR or a note
      genome review --html review.html       a page with charts; open it anywhere
      genome review --json | jq .decisions   the same data for a program

    Each lever that waits on you is listed with the exact command that settles it
    (genome retry, drop, revert or promote).
    """
    from runner.review import build_review, render_html, render_json, render_markdown, render_text

    if as_json and output_format is not None:
        _fail("--json and --format each choose the output; give one of them")

    try:
        found = build_review(_root(), since)
    except TickStop as stop:
        _fail(stop.message, stop.exit_code)
    if html_path is not None:
        try:
            html_path.write_text(render_html(found), encoding="utf-8")
        except OSError as error:
            _fail(f"cannot write {html_path}: {error.strerror or error}")
        click.echo(
            f"wrote {html_path} ({len(found.ticks)} ticks, ${found.cost:.2f}); open it in a "
            "browser",
            err=True,
        )
        if output_format is None and not as_json:
            return
    if as_json:
        click.echo(render_json(found), nl=False)
        return
    if output_format is None:
        output_format = "text" if sys.stdout.isatty() else "md"
    if output_format == "md":
        click.echo(render_markdown(found), nl=False)
    else:
        width = shutil.get_terminal_size((100, 24)).columns
        click.echo(render_text(found, colour=_colour(), width=width), nl=False)


# ---------------------------------------------------------------------------------------- feedback


@click.command(context_settings=CONTEXT, epilog=EXIT_CODES)
@click.argument("text", nargs=-1)
def feedback(text: tuple[str, ...]) -> None:
    """Leave a note for the next tick; its model reads it first.

    \b
    Examples:
      genome feedback "L-004: the v1 endpoint is gone, use /v2/items"
      genome feedback focus on the parser before the CLI      (no quotes needed)
      genome feedback - < notes.txt                           the note from stdin
      genome feedback                                         type it, end with Ctrl-D

    The note is kept in .genome/feedback/ (ignored by git, so it never blocks a tick as a dirty
    tree). The next tick shows it to the model and records it in the journal as read;
    `genome status` says how many notes are waiting.
    """
    from runner import feedback as notes

    if not text or text == ("-",):
        if sys.stdin.isatty():
            click.echo("Type the note for the next tick; end it with Ctrl-D.", err=True)
        body = sys.stdin.read()
    else:
        body = " ".join(text)
    root = _root()
    try:
        note = notes.store(root, body)
    except ValueError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"cannot store the note under {root / '.genome'}: {error}")
    waiting = len(notes.pending(root))
    others = (
        f"; {waiting - 1} other note{'s' if waiting != 2 else ''} waiting too"
        if waiting > 1
        else ""
    )
    click.echo(f"noted for the next tick: {note.path.relative_to(root)}{others}")
