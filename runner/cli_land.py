"""`genome land`: the work waiting on `genome/<branch>` brought onto the branch, its gates run
again."""

from __future__ import annotations

import sys

import click

from runner.errors import EXIT_CODES_HELP, Refused, TickStop


@click.command(epilog=EXIT_CODES_HELP)
def land() -> None:
    """Land the commits waiting on genome/<branch> onto the current branch.

    \b
    Examples:
      genome land        after a tick said its work waits on genome/main

    Ticks wait there when your tree had uncommitted changes to tracked files, a replay on your new
    commits conflicted, or `deliver:` is `branch` or `pr`. The gates run again (on the replayed
    result when the branch has moved) before the branch moves, and a checked-out branch moves only
    by a fast-forward of its clean tree. Your uncommitted changes are never touched.
    """
    from runner.cli import fail, project_root
    from runner.deliver import waiting_ref
    from runner.gitops import Git
    from runner.lock import TickLock
    from runner.progress import Printer
    from runner.state import read_project
    from runner.tick import land_work

    root = project_root()
    try:
        with Git(root) as git, TickLock(root):
            start = git.branch_snapshot()
            waiting = git.ref_sha(waiting_ref(start.branch))
            if waiting is None:
                click.echo(f"nothing waits on genome/{start.branch}")
                return
            if git.is_ancestor(waiting, start.head):
                git.delete_ref(waiting_ref(start.branch), waiting)
                click.echo(f"genome/{start.branch} is already on {start.branch}; removed it")
                return
            project = read_project(git, start.head)  # the gates as committed on your branch
            landing = land_work(git, project.config, start.branch, waiting, Printer())
    except TickStop as stop:
        fail(stop.message, stop.exit_code)
        return
    if not landing.landed:
        fail(
            Refused(
                f"not landed: {landing.reason}. The commits stay on genome/{start.branch}"
            ).message,
            Refused.exit_code,
        )
    click.echo(landing.describe())
    sys.exit(0)
