"""``genome check``, ``genome pause`` and ``genome resume``: the watchdog and the person's brake."""

from __future__ import annotations

import click

from runner import watch
from runner.errors import INVALID, TickStop

NEEDS_PERSON = 1


def _root():
    from runner.cli import project_root

    return project_root()


@click.command(
    epilog="Exit codes: 0 nothing needs you · 1 the loop needs you (one line per reason) · "
    "2 not a genome project"
)
@click.option(
    "--notify",
    "send",
    is_flag=True,
    help="Also send the reasons to the `notify` command of loop-prompt.md (what the daily check "
    "that `genome schedule install` sets up does).",
)
def check(send: bool) -> None:
    """Exit non-zero, one line per reason, when the loop needs a person.

    \b
    Reasons: overdue (a timer is installed but no tick ran for more than 3 cadences after one
    was due), paused, all levers blocked, the day budget spent for days running, unsandboxed
    when `sandbox: required`, and project files that cannot be read.

    \b
    Examples:
      genome check                       # from any monitoring: exit 1 and the reasons, or exit 0
      genome check --notify              # and tell the notify command
    """
    root = _root()
    try:
        found = watch.reasons(root)
    except TickStop as stop:
        click.echo(f"genome: {stop.message}", err=True)
        raise SystemExit(INVALID) from None
    if not found:
        click.echo("ok: nothing needs you")
        return
    for reason in found:
        click.echo(reason)
    if send:
        config = watch._config(root)
        command = config.notify if config else ""
        if not command.strip():
            click.echo(
                "warning: no `notify` command in loop-prompt.md; nobody else heard this", err=True
            )
        from runner import notify

        notify.notify(
            command,
            {
                "outcome": "check",
                "message": "; ".join(found),
                "needs_person": True,
                "reasons": found,
                "lever": "",
                "title": "",
                "version": "",
                "gates": "",
                "tokens": 0,
                "cost_usd": 0.0,
                "commit": "",
            },
            root,
            lambda message: click.echo(f"warning: {message}", err=True),
        )
    raise SystemExit(NEEDS_PERSON)


@click.command()
@click.option(
    "--reason",
    default="paused by hand",
    show_default=True,
    help="Why, for `genome status` and check.",
)
def pause(reason: str) -> None:
    """Stop ticking until `genome resume`: timers still fire, but nothing runs and nothing is spent.

    \b
    Example:
      genome pause --reason "reviewing last night's changes"
    """
    root = _root()
    found = watch.pause(root, reason.strip() or "paused by hand")
    click.echo(f"paused since {found.since}: {found.reason}. `genome resume` to go on")


@click.command()
def resume() -> None:
    """Go on ticking after a pause (yours, or the loop's own); the failure streak starts over.

    \b
    Example:
      genome resume
    """
    found = watch.resume(_root())
    if found is None:
        click.echo("not paused: nothing to resume")
    else:
        click.echo(f"resumed (paused since {found.since}: {found.reason})")
