"""Putting ticks on a timer: systemd user units, a crontab line, a GitHub workflow, a Kubernetes
CronJob.

Every change is first built as a ``Plan`` (files to write or delete, commands to run), so
``--dry-run`` prints exactly what ``install`` and ``remove`` would do and the real run does just
that. Every external command goes through one runner function, and the commands themselves are
named by ``GENOME_CRONTAB``, ``GENOME_SYSTEMCTL`` and ``GENOME_LOGINCTL``, so tests put fakes in
front of the real ones.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from runner import local_state
from runner.install_source import InstallSource
from runner.local_state import NEXT_DUE, STATE_DIR, read_next_due

BACKENDS = ("systemd", "cron", "github-actions", "kubernetes")
WORKFLOW_PATH = Path(".github/workflows/genome-tick.yml")
NEXT_DUE_PATH = Path(STATE_DIR) / NEXT_DUE
CRON_MARKER_PREFIX = "# genome-runner:"
# Not the tick's own lock file: the tick locks that itself, and flock(1) holding the same file
# would make every tick it starts find the project locked.
CRON_LOCK = f"{STATE_DIR}/{local_state.CRON_LOCK}"
CRON_LOG = f"{STATE_DIR}/{local_state.CRON_LOG}"
CHECK_LOG = f"{STATE_DIR}/{local_state.CHECK_LOG}"
CHECK_HOUR = 7  # the daily check runs at 07:MM (UTC on GitHub, local time elsewhere)
K8S_SECRET = "genome-runner"
K8S_GIT_SECRET = "genome-runner-git"  # a deploy key (ssh) or a token (https) that may push
REPO_URL_PLACEHOLDER = "REPLACE-WITH-YOUR-REPOSITORY-URL"
GITHUB_MIN_SECONDS = 5 * 60  # GitHub runs scheduled workflows at most every 5 minutes
COMMAND_TIMEOUT_SECONDS = 60


class ScheduleError(Exception):
    """Something the person can fix; the message says what and how."""


# --- intervals ---------------------------------------------------------------------------------
# cron and OnCalendar fire on the wall clock, so an interval is only honest when it divides the
# next larger unit evenly: */45 fires at :00 and :45, i.e. 45 then 15 minutes apart.

_MINUTE_STEPS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_HOUR_STEPS = (1, 2, 3, 4, 6, 8, 12)
_DAY = 86_400
_WEEK = 7 * _DAY
SUPPORTED_SECONDS = (
    *(m * 60 for m in _MINUTE_STEPS),
    *(h * 3600 for h in _HOUR_STEPS),
    _DAY,
    _WEEK,
)


def format_every(seconds: int) -> str:
    """1800 → ``30m``: the largest unit that divides it, the way ``--every`` is written."""
    for unit, size in (("d", _DAY), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_interval(seconds: int) -> None:
    """ValueError, saying which intervals work, unless cron and OnCalendar can both fire every
    ``seconds``."""
    if seconds < 60:
        raise ValueError(
            f"every {format_every(seconds)} is under a minute; cron and systemd timers "
            "wake at most once a minute. Use --every 1m or more"
        )
    if seconds in SUPPORTED_SECONDS:
        return
    supported = " ".join(format_every(s) for s in SUPPORTED_SECONDS)
    message = (
        f"every {format_every(seconds)} does not divide the clock evenly, so a cron or "
        f"OnCalendar timer cannot fire at that interval (it would bunch up at the hour or day "
        f"boundary). Supported: {supported}."
    )
    # Waking more often is harmless (the tick exits when not due), so suggest a value below.
    below = [s for s in SUPPORTED_SECONDS if seconds % s == 0] or [
        s for s in SUPPORTED_SECONDS if s < seconds
    ]
    nearest = format_every(below[-1])
    raise ValueError(
        f"{message} Use --every {nearest}: the timer then wakes every {nearest}, and the tick "
        "still runs only when its own cadence says it is due"
    )


def every_to_oncalendar(seconds: int) -> str:
    """A systemd ``OnCalendar=`` expression firing every ``seconds``; ValueError when none is
    honest."""
    check_interval(seconds)
    if seconds == _WEEK:
        return "Mon *-*-* 00:00:00"
    if seconds == _DAY:
        return "*-*-* 00:00:00"
    if seconds % 3600 == 0:
        return f"0/{seconds // 3600}:00"
    return f"*:0/{seconds // 60}"


def every_to_cron(seconds: int, minute: int = 0) -> str:
    """A five-field cron expression firing every ``seconds``; ValueError when none is honest.

    ``minute`` (1-59, see ``project_minute``) moves the firings off the full hour, where GitHub
    delays or drops scheduled runs and every machine calls the API at once; 0 keeps them on it."""
    check_interval(seconds)
    if seconds >= 3600:
        if seconds == _WEEK:
            return f"{minute} 0 * * 1"
        if seconds == _DAY:
            return f"{minute} 0 * * *"
        hours = seconds // 3600
        return f"{minute} * * * *" if hours == 1 else f"{minute} */{hours} * * *"
    minutes = seconds // 60
    if minutes == 1:
        return "* * * * *"
    if minute == 0:
        return f"*/{minutes} * * * *"
    return (
        f"{1 + (minute - 1) % (minutes - 1)}-59/{minutes} * * * *"  # a first firing in 1..minutes-1
    )


def project_minute(project: Path, host: Host) -> int:
    """A minute past the hour, 1-59, stable for the project and different between projects: from
    its ``origin`` URL (the same on every machine), else from its folder."""
    name = origin_url(project, host) or unit_name(project)
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 59 + 1


def cron_every(expression: str) -> int | None:
    """The interval of a cron expression install writes (any minute); None for a hand-edited one."""
    for minute in range(60):
        found = _every_from_expression(expression, functools.partial(_cron_at, minute=minute))
        if found:
            return found
    return None


def _cron_at(seconds: int, minute: int) -> str:
    return every_to_cron(seconds, minute)


def _every_from_expression(expression: str, to_expression: Callable[[int], str]) -> int | None:
    """The interval an expression install writes stands for; None for one edited by hand."""
    for seconds in SUPPORTED_SECONDS:
        if to_expression(seconds) == expression:
            return seconds
    return None


# --- the project's names -----------------------------------------------------------------------


def project_id(project: Path) -> str:
    """``<slug>-<hash>``: readable, and distinct for two projects sharing a folder name."""
    absolute = Path(project).resolve()
    slug = re.sub(r"[^a-z0-9]+", "-", absolute.name.lower()).strip("-")[:24].strip("-") or "project"
    digest = hashlib.sha256(str(absolute).encode()).hexdigest()[:8]
    return f"{slug}-{digest}"


def unit_name(project: Path) -> str:
    """The systemd unit (and cron marker, and CronJob) name: ``genome-tick-<slug>-<hash>``.

    At most 45 characters, lower case letters, digits and dashes, so it is a valid Kubernetes name.
    """
    return f"genome-tick-{project_id(project)}"


def cron_marker(project: Path) -> str:
    return CRON_MARKER_PREFIX + unit_name(project)


def cron_check_marker(project: Path) -> str:
    return f"{CRON_MARKER_PREFIX}check-{unit_name(project)}"


def check_cron(project: Path, host: Host) -> str:
    """When the daily check runs: a cron expression at the project's minute."""
    return f"{project_minute(project, host)} {CHECK_HOUR} * * *"


# --- the host: commands, config dir, the tick executable ----------------------------------------

Runner = Callable[[Sequence[str], str | None], subprocess.CompletedProcess]


def run_external(argv: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command and capture its output; a missing command is exit 127, not an exception."""
    try:
        # surrogateescape: a crontab in another encoding goes back out byte for byte
        return subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            errors="surrogateescape",
            timeout=COMMAND_TIMEOUT_SECONDS,
        )
    except FileNotFoundError:
        return subprocess.CompletedProcess(list(argv), 127, "", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(
            list(argv), 124, "", f"{argv[0]} gave no answer within {COMMAND_TIMEOUT_SECONDS} s"
        )


def find_genome_tick() -> str | None:
    """The absolute path of ``genome-tick``: beside the running Python first (a venv or pipx), then
    PATH."""
    beside = shutil.which("genome-tick", path=str(Path(sys.executable).parent))
    found = beside or shutil.which("genome-tick")
    return os.path.abspath(found) if found else None


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container uid with no passwd entry; loginctl takes a uid too
        return str(os.getuid())


@dataclass(frozen=True)
class Host:
    """Everything outside the project a schedule touches or asks."""

    config_home: Path
    user: str
    genome_tick: str | None
    crontab: str = "crontab"
    systemctl: str = "systemctl"
    loginctl: str = "loginctl"
    run: Runner = run_external
    path: str = ""  # the PATH install runs with: what the tick's gates found their tools on

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, run: Runner = run_external
    ) -> Host:
        env = os.environ if environ is None else environ
        xdg = env.get("XDG_CONFIG_HOME", "")
        # The XDG spec says a relative value is invalid and must be ignored.
        config_home = (
            Path(xdg) if os.path.isabs(xdg) else Path(env.get("HOME") or Path.home()) / ".config"
        )
        user = env.get("USER") or env.get("LOGNAME") or _login_name()
        return cls(
            config_home=config_home,
            user=user,
            genome_tick=find_genome_tick(),
            crontab=env.get("GENOME_CRONTAB") or "crontab",
            systemctl=env.get("GENOME_SYSTEMCTL") or "systemctl",
            loginctl=env.get("GENOME_LOGINCTL") or "loginctl",
            run=run,
            path=env.get("PATH", ""),
        )

    def tick_executable(self) -> str:
        if not self.genome_tick:
            raise ScheduleError(
                "genome-tick was found neither beside this Python nor on PATH; "
                "reinstall genome-runner (pip install genome-runner) and try again"
            )
        return self.genome_tick

    def genome_executable(self) -> str:
        """``genome`` beside ``genome-tick`` (one installation), for the daily check."""
        return str(Path(self.tick_executable()).with_name("genome"))

    def carried_path(self) -> str:
        """The PATH a timer's command gets: this one, with the folder of genome-tick first, without
        empty or relative entries (they would mean the project folder to cron)."""
        tick_dir = str(Path(self.tick_executable()).parent)
        given = (self.path or os.defpath).split(os.pathsep)
        entries = [tick_dir, *(entry for entry in given if os.path.isabs(entry))]
        return os.pathsep.join(dict.fromkeys(entries))

    def systemd_dir(self) -> Path:
        return self.config_home / "systemd" / "user"

    def env_file(self, project: Path) -> Path:
        return self.config_home / "genome" / f"{project_id(project)}.env"


def default_backend(host: Host) -> str:
    """systemd where a user manager answers, else cron (containers, WSL without systemd, some
    SSH)."""
    answer = host.run([host.systemctl, "--user", "show-environment"], None)
    return "systemd" if answer.returncode == 0 else "cron"


# --- plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteFile:
    path: Path
    content: str
    mode: int = 0o644
    only_if_missing: bool = False  # a file the person edits afterwards (the env file)


@dataclass(frozen=True)
class DeleteFile:
    path: Path


@dataclass(frozen=True)
class RunCommand:
    argv: tuple[str, ...]
    stdin: str | None = None
    must_succeed: bool = True
    if_it_fails: str = ""  # what the person can do, added to the error


Step = WriteFile | DeleteFile | RunCommand


@dataclass
class Plan:
    """What one install or remove does; ``output`` is printed as is (a manifest, a command)."""

    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    output: str = ""
    on_failure: list[RunCommand] = field(default_factory=list)  # after a failed apply is undone

    def extend(self, other: Plan) -> None:
        self.steps += other.steps
        self.on_failure += other.on_failure
        self.notes += other.notes
        self.warnings += other.warnings
        self.output += other.output


@dataclass(frozen=True)
class InstalledTimer:
    """One timer ``show`` found for the project."""

    backend: str
    where: str  # the timer file, the workflow file, or "crontab"
    expression: str  # as written there
    every: int | None  # seconds, when the expression is one install writes


def _indented(text: str) -> str:
    return "".join(
        f"    {line}" if line.strip() else "\n" for line in text.splitlines(keepends=True)
    )


def describe(plan: Plan) -> str:
    """The dry run: every file with its full content, every command with its input."""
    out = []
    for step in plan.steps:
        if isinstance(step, WriteFile):
            if step.only_if_missing and step.path.exists():
                out.append(f"would keep {step.path} (it exists; it is never overwritten)\n")
                continue
            condition = ", only if missing" if step.only_if_missing else ""
            out.append(
                f"would write {step.path} (mode "
                f"{step.mode:o}{condition}):\n{_indented(step.content)}"
            )
        elif isinstance(step, DeleteFile):
            if step.path.exists():
                out.append(f"would delete {step.path}\n")
        elif step.stdin is None:
            out.append(f"would run: {shlex.join(step.argv)}\n")
        else:
            out.append(
                f"would run: {shlex.join(step.argv)} with this input:\n{_indented(step.stdin)}"
            )
    return "".join(out)


def apply(plan: Plan, host: Host) -> list[str]:
    """Carry the plan out, step by step; returns one line per step saying what happened.

    All or nothing: when a step fails, every file the plan wrote or deleted so far is put back as
    it was (a timer whose enable failed must not stay behind, half installed), then the error is
    raised."""
    done: list[str] = []
    undo: list[tuple[Path, bytes | None, int]] = []  # (path, content before or None, mode before)
    made_dirs: list[Path] = []
    try:
        for step in plan.steps:
            if isinstance(step, (WriteFile, DeleteFile)):
                before = step.path.read_bytes() if step.path.is_file() else None
                mode = step.path.stat().st_mode & 0o777 if before is not None else 0
                undo.append((step.path, before, mode))
                made_dirs += [d for d in step.path.parents if not d.exists() and d not in made_dirs]
            if isinstance(step, WriteFile):
                done.append(_write(step))
            elif isinstance(step, DeleteFile):
                if step.path.exists():
                    step.path.unlink()
                    done.append(f"deleted {step.path}")
            else:
                done.append(_run_step(step, host))
    except BaseException:
        for path, before, mode in reversed(undo):
            _put_back(path, before, mode)
        for directory in sorted(made_dirs, key=lambda d: len(d.parts), reverse=True):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        for command in plan.on_failure:
            host.run(command.argv, command.stdin)
        raise
    return done


def _put_back(path: Path, content: bytes | None, mode: int) -> None:
    if content is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    path.chmod(mode)


def _write(step: WriteFile) -> str:
    step.path.parent.mkdir(parents=True, exist_ok=True)
    if step.only_if_missing:
        try:
            fd = os.open(step.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, step.mode)
        except FileExistsError:
            return f"kept {step.path} (it exists)"
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), step.mode)  # exactly this mode, whatever the umask
            handle.write(step.content)
        return f"created {step.path} (mode {step.mode:o})"
    if (
        step.path.is_file()
        and step.path.read_text(encoding="utf-8") == step.content
        and step.path.stat().st_mode & 0o777 == step.mode
    ):
        return f"unchanged {step.path}"
    fd, tmp = tempfile.mkstemp(dir=step.path.parent, prefix=f".{step.path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), step.mode)
            handle.write(step.content)
        os.replace(tmp, step.path)
    except BaseException:
        os.unlink(tmp)
        raise
    return f"wrote {step.path}"


def _run_step(step: RunCommand, host: Host) -> str:
    result = host.run(step.argv, step.stdin)
    shown = shlex.join(step.argv)
    if result.returncode == 0:
        return f"ran: {shown}"
    said = (result.stderr or result.stdout).strip() or "no output"
    if step.must_succeed:
        hint = f" {step.if_it_fails}" if step.if_it_fails else ""
        raise ScheduleError(f"`{shown}` failed (exit {result.returncode}): {said}.{hint}")
    return f"ran: {shown} (exit {result.returncode}: {said})"


# --- text helpers --------------------------------------------------------------------------------


def _refuse_newlines(project: Path) -> None:
    if "\n" in str(project) or "\r" in str(project):
        raise ScheduleError(
            f"the project path {str(project)!r} contains a line break, which no unit "
            "file or crontab line can hold; move the project to a plain path"
        )


def _unit_text(value: str) -> str:
    """A value in a unit file: ``%`` starts a specifier, so it is doubled."""
    return value.replace("%", "%%")


def _unit_exec(path: str) -> str:
    """One ExecStart word: ``$`` and ``%`` are systemd's, quotes keep spaces in."""
    word = path.replace("%", "%%").replace("$", "$$")
    if re.search(r"[\s\"'\\]", word):
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def _single_quoted(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


# --- systemd -------------------------------------------------------------------------------------


def systemd_paths(project: Path, host: Host) -> tuple[Path, Path]:
    unit = unit_name(project)
    return host.systemd_dir() / f"{unit}.service", host.systemd_dir() / f"{unit}.timer"


def systemd_check_paths(project: Path, host: Host) -> tuple[Path, Path]:
    unit = f"{unit_name(project)}-check"
    return host.systemd_dir() / f"{unit}.service", host.systemd_dir() / f"{unit}.timer"


def _check_service_text(project: Path, host: Host) -> str:
    return (
        "[Unit]\n"
        f"Description=genome runner: daily check of {_unit_text(str(project))}\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"WorkingDirectory={_unit_text(str(project))}\n"
        f"Environment={_unit_exec('PATH=' + host.carried_path())}\n"
        f"ExecStart={_unit_exec(host.genome_executable())} check --notify\n"
        # exit 1 means "the loop needs a person": the notify command has said so; not a unit failure
        "SuccessExitStatus=1\n"
    )


def _check_timer_text(project: Path, host: Host) -> str:
    unit = unit_name(project)
    return (
        "[Unit]\n"
        f"Description=genome runner: check {_unit_text(str(project))} daily\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {CHECK_HOUR:02d}:{project_minute(project, host):02d}:00\n"
        "Persistent=true\n"
        f"Unit={unit}-check.service\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )


def _service_text(project: Path, host: Host) -> str:
    return (
        "[Unit]\n"
        f"Description=genome runner: one tick in {_unit_text(str(project))}\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"WorkingDirectory={_unit_text(str(project))}\n"
        f"ExecStart={_unit_exec(host.tick_executable())}\n"
        # the user manager's PATH is short: the gates get the one install ran with (the env file may
        # set another, since it is read after this line)
        f"Environment={_unit_exec('PATH=' + host.carried_path())}\n"
        f"EnvironmentFile=-{_unit_text(str(host.env_file(project)))}\n"
        # A tick runs builds and tests in the background: let the person's own work come first.
        "Nice=10\n"
        "IOSchedulingClass=best-effort\n"
        "IOSchedulingPriority=7\n"
    )


def _timer_text(project: Path, seconds: int) -> str:
    unit = unit_name(project)
    # A little jitter keeps many projects (and machines) from all calling the API on the minute.
    jitter = min(300, seconds // 10)
    return (
        "[Unit]\n"
        f"Description=genome runner: tick {_unit_text(str(project))} every "
        f"{format_every(seconds)}\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar={every_to_oncalendar(seconds)}\n"
        "Persistent=true\n"
        f"RandomizedDelaySec={jitter}\n"
        # the same delay at every firing, so firings stay one interval apart and none lands early
        "FixedRandomDelay=true\n"
        f"Unit={unit}.service\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )


def _env_file_text(project: Path, unit: str) -> str:
    return (
        f"# Environment of the genome-tick timer for {project} ({unit}.service).\n"
        "# Only you can read this file (mode 600). Remove the # and fill in what the tick needs:\n"
        "# ANTHROPIC_API_KEY=...\n"
        "# ANTHROPIC_BASE_URL=http://localhost:11434\n"
        "# Timers start with a short PATH; if your gates need more (node, cargo, ...), set it "
        "here:\n"
        "# PATH=/usr/local/bin:/usr/bin:/bin\n"
    )


def _linger_warning(host: Host) -> str | None:
    answer = host.run([host.loginctl, "show-user", host.user, "-p", "Linger"], None)
    if answer.returncode == 0 and answer.stdout.strip() == "Linger=yes":
        return None
    enable = f"loginctl enable-linger {host.user}"
    if answer.returncode == 0 and answer.stdout.strip() == "Linger=no":
        return (
            f"linger is off for {host.user}: user timers stop when you log out. "
            f"To keep ticking while logged out run: {enable}"
        )
    said = (answer.stderr or answer.stdout).strip() or f"exit {answer.returncode}"
    return (
        f"could not tell whether linger is on for {host.user} ({said}). Without linger user "
        f"timers stop when you log out; to keep them running: {enable}"
    )


def plan_install_systemd(project: Path, seconds: int, host: Host) -> Plan:
    unit = unit_name(project)
    service, timer = systemd_paths(project, host)
    env_file = host.env_file(project)
    systemctl = (host.systemctl, "--user")
    no_manager = (
        "The unit files are written; where no systemd user manager runs "
        "(containers, some SSH sessions) use --cron instead."
    )
    plan = Plan(
        steps=[
            WriteFile(service, _service_text(project, host)),
            WriteFile(timer, _timer_text(project, seconds)),
            WriteFile(env_file, _env_file_text(project, unit), mode=0o600, only_if_missing=True),
            WriteFile(systemd_check_paths(project, host)[0], _check_service_text(project, host)),
            WriteFile(systemd_check_paths(project, host)[1], _check_timer_text(project, host)),
            RunCommand((*systemctl, "daemon-reload"), if_it_fails=no_manager),
            RunCommand(
                (*systemctl, "enable", "--now", f"{unit}.timer", f"{unit}-check.timer"),
                if_it_fails=no_manager,
            ),
        ]
    )
    # Should enabling fail, the unit files are taken back (apply undoes the writes); the manager
    # then forgets them too.
    plan.on_failure.append(RunCommand((*systemctl, "daemon-reload"), must_succeed=False))
    plan.notes += [
        f"ticks every {format_every(seconds)} (OnCalendar={every_to_oncalendar(seconds)}); "
        f"the API key goes in {env_file}",
        f"when it runs next: systemctl --user list-timers {unit}.timer",
        f"logs: journalctl --user -u {unit}.service",
        f"a daily check ({unit}-check.timer) runs `genome check --notify`: the notify command "
        "hears when the loop needs you",
        f"carried into the units: PATH={host.carried_path()}",
    ]
    warning = _linger_warning(host)
    if warning:
        plan.warnings.append(warning)
    if _find_cron_line(project, host):
        plan.warnings.append(
            "a crontab line for this project is installed too, so it would tick twice; "
            "remove it with: genome schedule remove --cron"
        )
    return plan


def plan_remove_systemd(project: Path, host: Host) -> Plan:
    unit = unit_name(project)
    service, timer = systemd_paths(project, host)
    if not service.exists() and not timer.exists():
        return Plan(notes=[f"systemd: no units for this project in {host.systemd_dir()}"])
    env_file = host.env_file(project)
    plan = Plan(
        steps=[
            # Tolerated: with no user manager running there is nothing to stop, the files still go.
            RunCommand(
                (
                    host.systemctl,
                    "--user",
                    "disable",
                    "--now",
                    f"{unit}.timer",
                    f"{unit}-check.timer",
                ),
                must_succeed=False,
            ),
            DeleteFile(timer),
            DeleteFile(service),
            *(DeleteFile(path) for path in systemd_check_paths(project, host)),
            RunCommand((host.systemctl, "--user", "daemon-reload"), must_succeed=False),
        ]
    )
    if env_file.exists():
        plan.notes.append(
            f"kept {env_file}: it may hold your API key; delete it when you no longer need it"
        )
    return plan


def _systemd_installed(project: Path, host: Host) -> InstalledTimer | None:
    service, timer = systemd_paths(project, host)
    if not service.exists() and not timer.exists():
        return None
    expression = ""
    if timer.exists():
        found = re.search(r"^OnCalendar=(.*)$", timer.read_text(encoding="utf-8"), re.MULTILINE)
        expression = found.group(1).strip() if found else ""
    return InstalledTimer(
        "systemd",
        str(timer),
        f"OnCalendar={expression}" if expression else "no OnCalendar",
        _every_from_expression(expression, every_to_oncalendar),
    )


# --- cron ----------------------------------------------------------------------------------------


def cron_line(project: Path, seconds: int, host: Host) -> str:
    """The one crontab line for this project, ending in its marker so remove finds exactly it.

    cron starts commands with PATH=/usr/bin:/bin, so the line carries the PATH install ran with:
    the gates find the same tools (pytest, node, cargo) as when the person ran them."""
    # mkdir: the line logs into .genome/ before any tick could make it again
    command = (
        f"cd {_single_quoted(str(project))} && mkdir -p .genome && "
        f"PATH={_single_quoted(host.carried_path())} flock -n {CRON_LOCK} "
        f"{shlex.quote(host.tick_executable())} >> {CRON_LOG} 2>&1"
    )
    expression = every_to_cron(seconds, project_minute(project, host))
    return f"{expression} {_cron_escaped(command)} {cron_marker(project)}"


def cron_check_line(project: Path, host: Host) -> str:
    """The daily watchdog: ``genome check --notify`` once a day, its own marker."""
    command = (
        f"cd {_single_quoted(str(project))} && mkdir -p .genome && "
        f"PATH={_single_quoted(host.carried_path())} "
        f"{shlex.quote(host.genome_executable())} check --notify >> {CHECK_LOG} 2>&1"
    )
    return f"{check_cron(project, host)} {_cron_escaped(command)} {cron_check_marker(project)}"


def _cron_escaped(command: str) -> str:
    return command.replace("%", chr(92) + "%")  # cron turns an unescaped % into a line break


def read_crontab(host: Host) -> str:
    """The current crontab; a user without one has an empty one."""
    answer = host.run([host.crontab, "-l"], None)
    if answer.returncode == 0:
        return answer.stdout
    if "no crontab" in (answer.stderr + answer.stdout).lower():
        return ""
    said = (answer.stderr or answer.stdout).strip() or f"exit {answer.returncode}"
    if answer.returncode == 127:
        raise ScheduleError(
            f"`{host.crontab}` is not installed ({said}); install cron "
            "(e.g. `apt-get install cron`) or use --systemd"
        )
    raise ScheduleError(f"`{host.crontab} -l` failed: {said}")


def _is_marked(line: str, marker: str) -> bool:
    return line.rstrip().endswith(marker)


def _find_cron_line(project: Path, host: Host) -> str | None:
    try:
        current = read_crontab(host)
    except ScheduleError:
        return None
    return next(
        (line for line in _crontab_lines(current) if _is_marked(line, cron_marker(project))), None
    )


def _crontab_lines(text: str) -> list[str]:
    """Lines split at newlines only: cron knows no other line break (str.splitlines would also split
    at form feeds and U+2028 inside a line)."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def crontab_with_line(current: str, line: str, marker: str) -> str:
    """``current`` with the marked line replaced in place (or appended); every other line kept."""
    lines = _crontab_lines(current)
    kept: list[str] = []
    placed = False
    for existing in lines:
        if _is_marked(existing, marker):
            if not placed:
                kept.append(line)
                placed = True
            continue
        kept.append(existing)
    if not placed:
        kept.append(line)
    return "\n".join(kept) + "\n"


def crontab_without_line(current: str, marker: str) -> str:
    kept = [line for line in _crontab_lines(current) if not _is_marked(line, marker)]
    return "\n".join(kept) + "\n" if kept else ""


def plan_install_cron(project: Path, seconds: int, host: Host) -> Plan:
    line = cron_line(project, seconds, host)
    current = read_crontab(host)
    wanted = crontab_with_line(current, line, cron_marker(project))
    wanted = crontab_with_line(wanted, cron_check_line(project, host), cron_check_marker(project))
    # The line logs into .genome/ before the tick runs; ignored the way the tick makes it, so the
    # log never makes the tree look dirty.
    plan = Plan(steps=[WriteFile(project / STATE_DIR / ".gitignore", "*\n", only_if_missing=True)])
    if wanted == current:
        plan.notes.append("the crontab already has these lines")
    else:
        plan.steps.append(RunCommand((host.crontab, "-"), stdin=wanted))
    plan.notes += [
        f"ticks every {format_every(seconds)} "
        f"({every_to_cron(seconds, project_minute(project, host))}); "
        f"output goes to {project / CRON_LOG}",
        f"a daily check ({check_cron(project, host)}) runs `genome check --notify`: the notify "
        f"command hears when the loop needs you; output goes to {project / CHECK_LOG}",
        f"carried into the lines: PATH={host.carried_path()} (install again after changing it)",
        "cron passes no other environment: put ANTHROPIC_API_KEY=... as a line at the top of your "
        "crontab with `crontab -e`",
    ]
    if any(path.exists() for path in systemd_paths(project, host)):
        plan.warnings.append(
            "systemd units for this project are installed too, so it would tick twice; "
            "remove them with: genome schedule remove --systemd"
        )
    return plan


def plan_remove_cron(project: Path, host: Host) -> Plan:
    current = read_crontab(host)
    remaining = crontab_without_line(current, cron_marker(project))
    if remaining:
        remaining = crontab_without_line(remaining, cron_check_marker(project))
    if remaining == current:
        return Plan(notes=["cron: no line for this project in the crontab"])
    return Plan(steps=[RunCommand((host.crontab, "-"), stdin=remaining)])


def _cron_installed(project: Path, host: Host) -> InstalledTimer | None:
    line = _find_cron_line(project, host)
    if line is None:
        return None
    expression = " ".join(line.split()[:5])
    return InstalledTimer("cron", "crontab", expression, cron_every(expression))


# --- GitHub Actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Remote:
    """What a runner elsewhere needs beyond the interval: the pinned genome runner to install, the
    project's own setup commands, and how long one tick may take."""

    install: InstallSource
    setup: tuple[str, ...] = ()
    tick_minutes: int = 30


# Exact tags, so every run uses the same thing: GitHub's runner image and actions, the container
# image.
GITHUB_RUNNER = "ubuntu-22.04"  # an exact image (actionlint knows it; supported into 2027)
CHECKOUT_ACTION = "actions/checkout@v4.2.2"
SETUP_PYTHON_ACTION = "actions/setup-python@v5.3.0"
PYTHON_VERSION = "3.12"
K8S_IMAGE = "python:3.12.8-bookworm"  # has git and ssh; an exact release tag, never `latest`
SETUP_MINUTES = 15  # installing genome runner and the project's setup


def _block(lines: Sequence[str], indent: int) -> str:
    """Shell lines as the body of a YAML literal block at ``indent`` spaces."""
    return "".join(
        " " * indent + line + "\n" for text in lines for line in text.splitlines() or [""]
    )


def _workflow_text(project: Path, seconds: int, host: Host, remote: Remote) -> str:
    tick_cron = every_to_cron(seconds, project_minute(project, host))
    check = check_cron(project, host)
    setup = ""
    if remote.setup:
        setup = "      - name: project setup\n        run: |\n" + _block(remote.setup, 10)
    timeout = remote.tick_minutes + SETUP_MINUTES
    return f"""\
# Runs genome-tick on GitHub's runners. Written by `genome schedule install --github-actions`;
# `genome schedule remove --github-actions` deletes it. GitHub's schedule is in UTC.
# genome runner comes from {remote.install.origin}.
name: genome-tick
on:
  schedule:
    - cron: "{tick_cron}"
    - cron: "{check}"
  workflow_dispatch:
concurrency:
  group: genome-tick
  cancel-in-progress: false
permissions:
  contents: write
jobs:
  tick:
    if: github.event.schedule != '{check}'
    runs-on: {GITHUB_RUNNER}
    timeout-minutes: {timeout}
    steps:
      - uses: {CHECKOUT_ACTION}
        with:
          fetch-depth: 0
      - uses: {SETUP_PYTHON_ACTION}
        with:
          python-version: "{PYTHON_VERSION}"
      - name: install genome runner
        run: python -m pip install --quiet "{remote.install.requirement}"
{setup}      - name: git identity
        run: |
          git config user.name "genome runner"
          git config user.email "genome-runner@users.noreply.github.com"
      - name: tick
        env:
          ANTHROPIC_API_KEY: ${{{{ secrets.ANTHROPIC_API_KEY }}}}
        run: genome-tick
      # A failed lever is still recorded in a commit, so push after a red tick too.
      - name: push
        if: success() || failure()
        run: git push
  # Once a day: fails (a red run, and GitHub's failure e-mail) when the loop needs a person.
  check:
    if: github.event.schedule == '{check}'
    runs-on: {GITHUB_RUNNER}
    timeout-minutes: 10
    steps:
      - uses: {CHECKOUT_ACTION}
        with:
          fetch-depth: 0
      - uses: {SETUP_PYTHON_ACTION}
        with:
          python-version: "{PYTHON_VERSION}"
      - run: python -m pip install --quiet "{remote.install.requirement}"
      - run: genome check
"""


def plan_install_github(project: Path, seconds: int, host: Host, remote: Remote) -> Plan:
    if seconds < GITHUB_MIN_SECONDS:
        raise ScheduleError(
            f"GitHub runs scheduled workflows at most every 5 minutes; "
            f"--every {format_every(seconds)} is too often for --github-actions. Use --every 5m or "
            "more"
        )
    tick_cron = every_to_cron(seconds, project_minute(project, host))
    workflow = WriteFile(project / WORKFLOW_PATH, _workflow_text(project, seconds, host, remote))
    return Plan(
        steps=[workflow],
        notes=[
            f"ticks every {format_every(seconds)} ({tick_cron}, UTC) once the workflow is on "
            "GitHub, "
            f"with genome runner from {remote.install.origin}:",
            f"  git add {WORKFLOW_PATH} && git commit -m 'Tick on GitHub Actions' && git push",
            "  gh secret set ANTHROPIC_API_KEY   (or Settings → Secrets and variables → Actions)",
            f"a daily check ({check_cron(project, host)}, UTC) fails visibly when the loop needs "
            "you",
        ],
    )


def plan_remove_github(project: Path, host: Host) -> Plan:
    workflow = project / WORKFLOW_PATH
    if not workflow.exists():
        return Plan(notes=[f"github-actions: no {WORKFLOW_PATH} in this project"])
    return Plan(
        steps=[DeleteFile(workflow)],
        notes=[
            f"GitHub keeps ticking until the deletion is pushed: git rm {WORKFLOW_PATH} && git "
            "commit && git push",
        ],
    )


def _github_installed(project: Path) -> InstalledTimer | None:
    workflow = project / WORKFLOW_PATH
    if not workflow.exists():
        return None
    found = re.search(
        r"^\s*-\s*cron:\s*[\"']?([^\"'\n]+?)[\"']?\s*$",
        workflow.read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    expression = found.group(1) if found else ""
    return InstalledTimer(
        "github-actions",
        str(workflow),
        f"{expression} UTC" if expression else "no schedule",
        cron_every(expression),
    )


# --- Kubernetes (printed, never applied) ---------------------------------------------------------


def origin_url(project: Path, host: Host) -> str | None:
    """The project's ``origin`` remote without any credentials embedded in it, or None."""
    answer = host.run(["git", "-C", str(project), "remote", "get-url", "origin"], None)
    url = answer.stdout.strip()
    if answer.returncode != 0 or not url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        # A token in the URL must not end up in a manifest that gets pasted and committed.
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
        return urllib.parse.urlunsplit(parts)
    return url


def _manifest(project: Path, seconds: int, host: Host, remote: Remote) -> str:
    name = unit_name(project)
    url = origin_url(project, host)
    ssh = bool(url) and not re.match(r"https?://", url or "")
    edit_note = (
        ""
        if url
        else (
            f"# EDIT BEFORE APPLYING: {project} has no `origin` remote, so the clone URL below\n"
            f"# is a placeholder; replace {REPO_URL_PLACEHOLDER} with the repository's URL.\n"
        )
    )
    if ssh:
        auth_help = (
            f"#   kubectl create secret generic {K8S_GIT_SECRET} \\\n"
            "#     --from-file=ssh-privatekey=DEPLOY_KEY \\\n"
            f"#     --from-file=known_hosts=KNOWN_HOSTS   # a deploy key with write access\n"
        )
        auth_env = (
            "                - name: GIT_SSH_COMMAND\n"
            '                  value: "ssh -i /etc/genome-git/ssh-privatekey '
            '-o IdentitiesOnly=yes -o UserKnownHostsFile=/etc/genome-git/known_hosts"\n'
        )
        auth_setup = ""
    else:
        auth_help = (
            f"#   kubectl create secret generic {K8S_GIT_SECRET} --from-literal=token=TOKEN"
            "   # may read and push the repository\n"
        )
        auth_env = (
            "                - name: GIT_TOKEN\n                  valueFrom:\n"
            f"                    secretKeyRef:\n                      name: {K8S_GIT_SECRET}\n"
            "                      key: token\n"
        )
        # git asks the helper; the token stays in the environment, never in a URL, a file or the log
        auth_setup = (
            "git config --global credential.helper "
            "'!f() { echo username=x-access-token; echo \"password=$GIT_TOKEN\"; }; f'"
        )
    setup = "\n".join(remote.setup)
    script = "\n".join(
        filter(
            None,
            [
                "set -u",
                "python -m pip install --quiet --root-user-action=ignore "
                f'"{remote.install.requirement}" || exit 1',
                auth_setup,
                f'git clone --quiet "{url or REPO_URL_PLACEHOLDER}" /work/repo || exit 1',
                "cd /work/repo",
                'git config user.name "genome runner"',
                'git config user.email "genome-runner@localhost"',
                f"( set -e\n{setup}\n) || exit 1" if setup else "",
                "genome-tick",
                "status=$?",
                "git push origin HEAD || status=1",
                "exit $status",
            ],
        )
    )
    starting_deadline = max(60, min(seconds, 3600) // 2)
    active_deadline = (remote.tick_minutes + SETUP_MINUTES) * 60
    return f"""\
# A Kubernetes CronJob that runs genome-tick every {format_every(seconds)}. \
Nothing was applied; to use it:
#   kubectl create secret generic {K8S_SECRET} --from-literal=ANTHROPIC_API_KEY=...
{auth_help}#   kubectl apply -f THIS-FILE.yaml
# genome runner comes from {remote.install.origin}; the image is pinned by an exact tag
# (for a digest: docker buildx imagetools inspect {K8S_IMAGE}).
{edit_note}apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
spec:
  schedule: "{every_to_cron(seconds, project_minute(project, host))}"
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: {starting_deadline}
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: 0
      activeDeadlineSeconds: {active_deadline}
      template:
        spec:
          restartPolicy: Never
          volumes:
            - name: work
              emptyDir: {{}}
            - name: git-auth
              secret:
                secretName: {K8S_GIT_SECRET}
                defaultMode: 0400
                optional: {"false" if ssh else "true"}
          containers:
            - name: tick
              image: {K8S_IMAGE}
              workingDir: /work
              resources:
                requests:
                  cpu: 500m
                  memory: 1Gi
                limits:
                  memory: 4Gi
              env:
                - name: ANTHROPIC_API_KEY
                  valueFrom:
                    secretKeyRef:
                      name: {K8S_SECRET}
                      key: ANTHROPIC_API_KEY
{auth_env}              command: ["/bin/bash", "-c"]
              args:
                - |
{_block([script], 18)}              volumeMounts:
                - name: work
                  mountPath: /work
                - name: git-auth
                  mountPath: /etc/genome-git
                  readOnly: true
"""


def plan_install_kubernetes(project: Path, seconds: int, host: Host, remote: Remote) -> Plan:
    return Plan(output=_manifest(project, seconds, host, remote))


def plan_remove_kubernetes(project: Path, host: Host) -> Plan:
    return Plan(output=f"kubectl delete cronjob {unit_name(project)}\n")


# --- entry points --------------------------------------------------------------------------------


def _checked_project(project: Path) -> Path:
    absolute = Path(project).resolve()
    _refuse_newlines(absolute)
    return absolute


def plan_install(
    backend: str, project: Path, seconds: int, host: Host, remote: Remote | None = None
) -> Plan:
    """What ``install`` does for one backend; raises ValueError or ScheduleError before anything
    changes.
    GitHub Actions and Kubernetes need ``remote`` (what to install there)."""
    project = _checked_project(project)
    if not (project / "genome.md").is_file():
        raise ScheduleError(
            f"{project / 'genome.md'} not found: {project} is not a genome project yet. "
            "Run `genome init` there first"
        )
    if backend == "github-actions":
        return plan_install_github(project, seconds, host, _needs(remote))
    if backend == "kubernetes":
        return plan_install_kubernetes(project, seconds, host, _needs(remote))
    planners = {"systemd": plan_install_systemd, "cron": plan_install_cron}
    return planners[backend](project, seconds, host)


def _needs(remote: Remote | None) -> Remote:
    if remote is None:
        raise ScheduleError("a runner elsewhere needs to know what to install: pass --install")
    return remote


def plan_remove(backend: str, project: Path, host: Host) -> Plan:
    project = _checked_project(project)
    planners = {
        "systemd": plan_remove_systemd,
        "cron": plan_remove_cron,
        "github-actions": plan_remove_github,
        "kubernetes": plan_remove_kubernetes,
    }
    return planners[backend](project, host)


# --- show ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleStatus:
    project: Path
    timers: list[InstalledTimer]
    next_due: datetime | None  # None: no readable next-due file, so the next tick runs at once
    next_due_problem: str = ""


def schedule_status(project: Path, host: Host) -> ScheduleStatus:
    project = _checked_project(project)
    found = [
        _systemd_installed(project, host),
        _cron_installed(project, host),
        _github_installed(project),
    ]
    next_due, problem = read_next_due(project)
    return ScheduleStatus(project, [timer for timer in found if timer], next_due, problem)


def installed_backends(project: Path, host: Host) -> list[str]:
    return [timer.backend for timer in schedule_status(project, host).timers]


def _until(moment: datetime, now: datetime) -> str:
    minutes = int((moment - now).total_seconds() // 60)
    if minutes < 1:
        return "in under a minute"
    if minutes < 120:
        return f"in {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes} min"


def render_status(status: ScheduleStatus, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    lines = [f"schedule of {status.project}"]
    if not status.timers:
        lines.append("  no timer installed; add one with: genome schedule install --every 30m")
    for timer in status.timers:
        cadence = f"every {format_every(timer.every)}" if timer.every else "a hand-edited cadence"
        lines.append(f"  {timer.backend}: {cadence} ({timer.expression}) — {timer.where}")
    if status.next_due_problem:
        lines.append(f"next tick: due now ({status.next_due_problem}, which the tick reads as due)")
    elif status.next_due is None:
        lines.append("next tick: due now (no .genome/next-due yet)")
    else:
        stamp = status.next_due.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        when = "due now" if status.next_due <= now else _until(status.next_due, now)
        lines.append(f"next tick: {stamp} ({when})")
    return "\n".join(lines) + "\n"
