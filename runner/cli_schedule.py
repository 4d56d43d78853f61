"""``genome schedule install|remove|show``: put ticks on a timer, take them off, say what is set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from genome.errors import GenomeFileError
from genome.loop_prompt import Config, LoopPromptDoc
from genome.text import decode, parse_duration
from runner import install_source
from runner import schedule as sched
from runner.errors import INVALID
from runner.secrets import mask_secrets

DEFAULT_CADENCE = "30m"


def config_of(project: Path) -> Config:
    """The project's loop-prompt.md settings (validated like every tick validates them); the
    defaults when the file is missing."""
    path = project / "loop-prompt.md"
    if not path.is_file():
        return Config()
    return LoopPromptDoc.parse(decode("loop-prompt.md", path.read_bytes())).config


def cadence_from_loop_prompt(project: Path) -> str:
    """The ``cadence:`` of the project's loop-prompt.md; ``30m`` without the file or the setting."""
    return config_of(project).cadence if (project / "loop-prompt.md").is_file() else DEFAULT_CADENCE


def _remote(backend: str, spec: str | None, project: Path) -> sched.Remote | None:
    """What a runner elsewhere installs; None for the local timers (where --install is refused)."""
    if backend not in ("github-actions", "kubernetes"):
        if spec:
            raise click.UsageError(
                "--install is for --github-actions and --kubernetes; a local timer runs "
                "the genome-tick installed here"
            )
        return None
    config = config_of(project)
    # `setup:` prepares the project's dependencies where the config has it
    return sched.Remote(
        install=install_source.resolve(spec),
        setup=tuple(getattr(config, "setup", ())),
        tick_minutes=config.budget.tick_minutes,
    )


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {mask_secrets(message)}", err=True)
    click.get_current_context().exit(INVALID)


def _backend_options(command: Callable) -> Callable:
    flags = [
        ("--systemd", "A systemd user timer (the default where a user manager runs)."),
        ("--cron", "A line in your crontab, under flock (the default elsewhere)."),
        ("--github-actions", "A workflow in .github/workflows/ that ticks on GitHub's runners."),
        ("--kubernetes", "A Kubernetes CronJob manifest, printed, never applied."),
    ]
    for flag, help_text in reversed(flags):
        command = click.option(flag, is_flag=True, help=help_text)(command)
    return command


def _chosen_backend(
    systemd: bool, cron: bool, github_actions: bool, kubernetes: bool
) -> str | None:
    chosen = [
        name
        for name, on in zip(
            sched.BACKENDS, (systemd, cron, github_actions, kubernetes), strict=True
        )
        if on
    ]
    if len(chosen) > 1:
        raise click.UsageError(
            "choose one of --systemd, --cron, --github-actions, --kubernetes "
            f"(got --{' and --'.join(chosen)})"
        )
    return chosen[0] if chosen else None


_project_option = click.option(
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    callback=lambda ctx, param, value: value or _repository_top(),
    show_default="the repository this folder is in",
    help="The project folder the timer ticks in.",
)


def _repository_top() -> Path:
    from runner.fast import project_root

    return Path(project_root())


_dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Print every file, crontab line and command it would write or run; change nothing.",
)


def _report(plan: sched.Plan, host: sched.Host, dry_run: bool) -> None:
    """Everything printed goes through ``mask_secrets``: a crontab holds the API key the README says
    to put there, and a dry run or an error must not show it."""
    if dry_run:
        click.echo(mask_secrets(sched.describe(plan)), nl=False)
    else:
        for line in sched.apply(plan, host):
            click.echo(mask_secrets(line))
    click.echo(mask_secrets(plan.output), nl=False)
    for note in plan.notes:
        click.echo(mask_secrets(note))
    for warning in plan.warnings:
        click.echo(f"warning: {mask_secrets(warning)}", err=True)
    if dry_run:
        click.echo("(dry run: nothing was changed)", err=True)


def _every_seconds(every: str | None, project: Path) -> int:
    if every:
        seconds = parse_duration(every)
        sched.check_interval(seconds)
        return seconds
    cadence = cadence_from_loop_prompt(project)
    seconds = parse_duration(cadence)
    try:
        sched.check_interval(seconds)
    except ValueError as exc:
        raise ValueError(
            f"the cadence in loop-prompt.md ({cadence}) cannot be a timer's interval: {exc}"
        ) from None
    return seconds


@click.group(name="schedule")
def schedule() -> None:
    """Run ticks on a timer, unattended.

    A timer starts `genome-tick` every so often; the tick exits at once when nothing is due, so
    waking often is cheap. Installing twice replaces the first install; nothing else in your
    crontab or unit folder is touched.

    \b
    Examples:
      genome schedule install                    # systemd user timer, or cron, at the \
project's cadence
      genome schedule install --every 2h --cron  # a crontab line every two hours
      genome schedule install --dry-run          # show the files and commands, change nothing
      genome schedule install --github-actions   # tick on GitHub's runners instead
      genome schedule install --kubernetes > genome-tick.yaml
      genome schedule show                       # what is installed, and when the next tick is due
      genome schedule remove                     # take every timer of this project off
    """


@schedule.command(short_help="Put this project's ticks on a timer.")
@click.option(
    "--every",
    metavar="DURATION",
    help="How often the timer wakes: 1m-30m dividing an hour, 1h-12h dividing a day, 1d or 7d. "
    "Default: `cadence:` in loop-prompt.md, else 30m.",
)
@click.option(
    "--install",
    "install_spec",
    metavar="SPEC",
    help="With --github-actions or --kubernetes: the genome runner to install there, "
    "pinned: a version (0.1.0) or a VCS URL at a full commit "
    "(git+https://host/repo@COMMIT). Default: where this installation came from, "
    "when that can be known.",
)
@_backend_options
@_dry_run_option
@_project_option
def install(
    every: str | None,
    install_spec: str | None,
    systemd: bool,
    cron: bool,
    github_actions: bool,
    kubernetes: bool,
    dry_run: bool,
    project: Path,
) -> None:
    """Put this project's ticks on a timer (again: replaces the earlier one).

    \b
    systemd: writes ~/.config/systemd/user/genome-tick-NAME.{service,timer}, an env file for
      the API key (~/.config/genome/NAME.env, mode 600), then enables the timer. Warns when
      linger is off, since user timers then stop at logout.
    cron: adds one marked line to your crontab, under `flock -n` so runs never overlap.
    github-actions: writes .github/workflows/genome-tick.yml; commit and push it.
    kubernetes: prints a CronJob manifest; nothing is applied.

    \b
    Examples:
      genome schedule install --every 30m
      genome schedule install --cron --every 1h --project ~/src/my-app
      genome schedule install --kubernetes | kubectl apply -f -
    """
    backend = _chosen_backend(systemd, cron, github_actions, kubernetes)
    host = sched.Host.from_environ()
    try:
        seconds = _every_seconds(every, project)
        backend = backend or sched.default_backend(host)
        remote = _remote(backend, install_spec, project)
        plan = sched.plan_install(backend, project, seconds, host, remote)
        _report(plan, host, dry_run)
    except (
        sched.ScheduleError,
        ValueError,
        GenomeFileError,
        install_source.InstallSourceError,
    ) as exc:
        _fail(str(exc))


@schedule.command(short_help="Take this project's timers off.")
@_backend_options
@_dry_run_option
@_project_option
def remove(
    systemd: bool, cron: bool, github_actions: bool, kubernetes: bool, dry_run: bool, project: Path
) -> None:
    """Take this project's timers off (without a backend flag: every one installed).

    Deletes exactly what install wrote: the two unit files, the marked crontab line, the
    workflow file. Other lines and units are left alone; the env file with your key is kept.

    \b
    Examples:
      genome schedule remove
      genome schedule remove --cron --dry-run
      genome schedule remove --kubernetes        # prints the kubectl command to run
    """
    backend = _chosen_backend(systemd, cron, github_actions, kubernetes)
    host = sched.Host.from_environ()
    try:
        backends = [backend] if backend else sched.installed_backends(project, host)
        if not backends:
            click.echo(f"nothing to remove: no timer is installed for {project.resolve()}")
            return
        plan = sched.Plan()
        for name in backends:
            plan.extend(sched.plan_remove(name, project, host))
        _report(plan, host, dry_run)
    except sched.ScheduleError as exc:
        _fail(str(exc))


@schedule.command(short_help="Which timers tick this project; when the next tick is due.")
@_project_option
def show(project: Path) -> None:
    """Which timers tick this project, how often, and when the next tick is due.

    The due time is what the last tick wrote to .genome/next-due; without that file the next
    tick runs as soon as a timer wakes it.

    \b
    Example:
      genome schedule show --project ~/src/my-app
    """
    host = sched.Host.from_environ()
    try:
        click.echo(sched.render_status(sched.schedule_status(project, host)), nl=False)
    except sched.ScheduleError as exc:
        _fail(str(exc))
