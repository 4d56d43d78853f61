"""The `genome` command line: one click group, small commands, help that teaches."""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import click

from genome.errors import GenomeFileError
from runner.errors import EXIT_CODES_HELP, INVALID, LEVER_FAILED, TickStop

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SETTLE_COMMANDS = ("revert", "retry", "drop", "promote")  # in runner/cli_settle.py


class LazyGroup(click.Group):
    """Commands kept in their own modules are imported only when run (or listed), so `genome status`
    does not pay for the scheduler or the review renderer."""

    lazy = {
        "schedule": "runner.cli_schedule",
        "status": "runner.cli_review",
        "review": "runner.cli_review",
        "feedback": "runner.cli_review",
        **{name: "runner.cli_settle" for name in SETTLE_COMMANDS},
    }
    lazy.update(
        {"check": "runner.cli_watch", "pause": "runner.cli_watch", "resume": "runner.cli_watch"}
    )
    lazy["land"] = "runner.cli_land"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            return getattr(importlib.import_module(self.lazy[name]), name)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.version_option(package_name="genome-runner")
def cli() -> None:
    """Let a model improve this git project one small, gated, committed step at a time.

    \b
    The day:
      genome init                           copy genome.md, levers.md, loop-prompt.md in and commit
      $EDITOR genome.md levers.md           write the mission and a ranked backlog
      genome tick --now                     one tick in the foreground, with live progress
      genome schedule install --every 30m   ticks on a timer (systemd user timer or cron)
      genome review                         the next morning: what shipped, what failed, the cost

    Every tick takes the first open lever in levers.md, lets the model work on it through sandboxed
    tools, runs the gates from loop-prompt.md, and commits only when they pass. The tick works in
    worktrees of its own under .genome/worktrees/: your working tree and index are never written by
    it, and you may edit, commit and switch branches while it runs.
    """


def main() -> None:
    cli(prog_name="genome")


def project_root() -> Path:
    """The repository's top, found from the current directory (ticks may be started in a
    subfolder)."""
    from runner.fast import project_root as top

    return Path(top())


def fail(message: str, code: int) -> None:
    click.echo(f"genome: {message}", err=True)
    sys.exit(code)


# ---------------------------------------------------------------------------------------- init


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
def init(directory: Path) -> None:
    """Copy the templates into DIRECTORY (default: here) and commit them.

    \b
    Examples:
      genome init                 in the current repository
      genome init ../my-project   somewhere else

    Existing files are never overwritten: each one kept is named. `.genome/` (the lock, the next due
    time, logs) is added to .gitignore. Running it twice changes nothing.
    """
    from runner.init import init_project

    try:
        for line in init_project(directory.resolve()):
            click.echo(line)
    except TickStop as stop:
        fail(stop.message, stop.exit_code)
    except (OSError, UnicodeError) as error:
        fail(f"could not set up {directory}: {error}", INVALID)


# ---------------------------------------------------------------------------------------- tick


@cli.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--now", is_flag=True, help="Tick even if the schedule says the next tick is not due yet."
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Print the model's own words and every tool call's input and output.",
)
@click.option(
    "--push",
    is_flag=True,
    default=None,
    help="Push the tick's commits with a lease (as `push: true` in loop-prompt.md does).",
)
def tick(now: bool, verbose: bool, push: bool | None) -> None:
    """Run one tick if it is due (`genome-tick` is the same command).

    \b
    Examples:
      genome tick --now        work on the top lever right away
      genome-tick              what a timer runs: exits at once if not due
      genome tick --now -v     show each tool call the model makes

    The tick refuses (exit 3) on a detached HEAD (a rebase in progress included) and when another
    tick holds the lock; uncommitted changes are left alone, never refused or touched. It needs
    ANTHROPIC_API_KEY, or ANTHROPIC_BASE_URL for a local Anthropic-compatible server (Ollama, vLLM,
    llama.cpp, LiteLLM). SIGTERM lets the tick finish its phase and commit or roll back cleanly.
    """
    from runner.progress import Printer

    stop_on_signals(signal.SIGTERM)
    root = project_root()
    if not now:
        from datetime import datetime, timezone

        from runner.due import is_due, read_next_due

        if not is_due(root, datetime.now(timezone.utc)):
            from runner.watch import log_firing

            log_firing(root, "not-due")
            click.echo(
                f"not due until {read_next_due(root):%Y-%m-%d %H:%M}Z (use --now to tick anyway)"
            )
            return
    sys.exit(run_one_tick(root, Printer(verbose=verbose), push=push))


def run_one_tick(root: Path, printer, make_model=None, push: bool | None = None) -> int:
    """One tick with every documented failure turned into its exit code and a plain message."""
    from git.exc import GitCommandError

    from runner.tick import run_tick

    try:
        from runner.watch import accounted  # the firing logged; paused, or paused after it

        result = accounted(
            root,
            lambda: run_tick(
                root, make_model=make_model or model_from_env, printer=printer, push=push
            ),
        )
    except GenomeFileError as error:
        printer.say(f"invalid project file: {error}")
        return INVALID
    except TickStop as stop:
        printer.say(f"{type(stop).__name__.lower()}: {stop.message}")
        return stop.exit_code
    except (GitCommandError, OSError) as error:
        # the tick has put the tree back; its intent record lets the next tick account for the
        # attempt
        detail = (getattr(error, "stderr", "") or str(error)).strip()
        printer.say(
            f"error: the tick stopped on {type(error).__name__}: {detail}. The tree was restored; "
            "the next tick records the attempt"
        )
        return LEVER_FAILED
    printer.say(result.message)
    return result.exit_code


def stop_on_signals(*signals: int) -> None:
    """The first signal asks the tick in flight to finish cleanly; a second Ctrl-C interrupts at
    once (the tick then restores the tree before it exits)."""
    from runner.session import STOP

    def handler(signum, frame):
        if STOP.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        STOP.set()
        click.echo(
            "genome: stopping after the current phase (the tick commits or rolls back first)",
            err=True,
        )

    for signum in signals:
        signal.signal(signum, handler)


def model_from_env(config):
    import gc

    # The SDK builds ~150k objects at import. With the collector paused they are not walked again
    # and again during the import, and once frozen not at exit either: ~0.8 s off every tick.
    gc.disable()
    try:
        from runner.anthropic_model import AnthropicModel
    finally:
        gc.freeze()
        gc.enable()
    return AnthropicModel.from_env(os.environ)


# ---------------------------------------------------------------------------------------- run


@cli.command(epilog=EXIT_CODES_HELP)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Print the model's own words and every tool call's input and output.",
)
@click.option(
    "--poll",
    type=click.IntRange(1, 3600),
    default=30,
    show_default=True,
    help="Seconds between checks of the next due time.",
)
def run(verbose: bool, poll: int) -> None:
    """Tick whenever due, in the foreground, until SIGTERM or Ctrl-C.

    \b
    Examples:
      genome run                   in tmux, or as a container's main process
      genome run -v --poll 10

    For machines without systemd or cron. A signal during a tick lets it finish its phase and commit
    or roll back cleanly; then it exits 0. A second Ctrl-C interrupts at once (the tree is still
    restored). Refusals and errors are printed and retried at the next check.
    """
    from datetime import datetime, timezone

    from runner.due import is_due
    from runner.progress import Printer
    from runner.session import STOP

    stop_on_signals(signal.SIGTERM, signal.SIGINT)
    root = project_root()
    printer = Printer(verbose=verbose)
    printer.say(f"running in {root}; checking every {poll}s (Ctrl-C to stop)")
    while not STOP.is_set():
        if is_due(root, datetime.now(timezone.utc)):
            code = run_one_tick(root, printer)
            if code not in (0, 1) and is_due(root, datetime.now(timezone.utc)):
                STOP.wait(max(poll, 60))  # refused or unavailable: do not spin on it
                continue
        STOP.wait(poll)
    printer.say("stopped")


# ---------------------------------------------------------------------------------------- demo


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--keep", is_flag=True, help="Keep the demo project and print where it is.")
def demo(keep: bool) -> None:
    """Run one complete tick in a throwaway project, acted by a scripted model (no API call).

    Shows what a real tick does: lock, guard, read, pick, act (tool calls), gates, commit,
    reflection (a lesson and a genome rewrite), the journal and the next due time.
    """
    from runner.demo import demo_model, make_demo_project
    from runner.progress import Printer

    click.echo(
        "genome demo: a SCRIPTED model is acting; no API is called and nothing is charged (the "
        "costs\n"
        "shown are what a real model would charge for the same tokens).\n"
    )
    directory = Path(tempfile.mkdtemp(prefix="genome-demo-"))
    try:
        make_demo_project(directory)
        code = run_one_tick(
            directory, Printer(verbose=True), make_model=lambda config: demo_model()
        )
        click.echo("\n" + _git_log(directory))
        if keep:
            click.echo(f"the demo project is at {directory}")
    finally:
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)
    sys.exit(code)


def _git_log(directory: Path) -> str:
    import subprocess

    return subprocess.run(
        ["git", "log", "--format=%h %s%n%(trailers:only,unfold)", "-n", "3"],
        cwd=directory,
        capture_output=True,
        text=True,
    ).stdout.rstrip()
