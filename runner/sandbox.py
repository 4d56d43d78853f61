"""The sandbox every process the model can start runs in: commands, gates, lever checks, project
tools and (by default) the executor.

With bubblewrap (``bwrap``; Debian/Ubuntu package ``bubblewrap``) each process gets:

- a PID namespace of its own, ended with its parent: nothing started inside (a ``setsid`` or
  double-forked child too) outlives the command, and the runner's processes and their ``/proc``
  are invisible;
- the whole filesystem read-only, with the work directory writable; the repository's git
  directory (and a worktree's common git directory) read-only over it; ``.genome/``, the person's
  working tree (when the work directory is another), the person's home and the runner's own
  per-project directories hidden behind empty folders; ``/run/user`` and the Docker socket hidden;
  a private ``/tmp``;
- ``HOME`` set to a runner-owned folder per project that persists between ticks
  (``$XDG_CACHE_HOME/genome-runner/<project>/home``), so caches such as pip's survive;
- an environment built from ``ENV_ALLOWLIST`` (never ``ANTHROPIC_*``);
- no network unless the config says ``network: true``: ``--unshare-net`` leaves only a loopback
  of its own, so any outgoing connection fails at once.

Without bubblewrap (``sandbox: off``, or ``auto`` where it does not work) the runner still makes
itself the child subreaper of what it starts and kills every descendant a command leaves behind,
makes itself non-dumpable (its ``/proc`` entries, the environment with the key among them, are then
unreadable to other processes of the same user), and authenticates its crash-recovery record
(``runner.intent``). Commands get the same allowlisted environment and ``HOME`` either way.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

MODES = ("auto", "required", "off")
APP_DIR = "genome-runner"

# What a command's environment may hold, besides HOME and TMPDIR (set by the runner) and the
# locale's LC_* variables. Anything else (tokens, cloud credentials, the runner's key) stays out.
ENV_ALLOWLIST = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "TERM",
    "TZ",
    "USER",
    "LOGNAME",
    "SHELL",
    "COLUMNS",
    "LINES",
    "NO_COLOR",
    "FORCE_COLOR",
    "CI",
    "SOURCE_DATE_EPOCH",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONHASHSEED",
    "PYTHONUTF8",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
)
ENV_PREFIXES = ("LC_",)
NEVER_PREFIXES = ("ANTHROPIC_",)
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

# Unix sockets outside /run/user that hand out more power than the user's own.
_HIDDEN_SOCKETS = ("/run/docker.sock", "/var/run/docker.sock")

INSTALL_HINT = "unsandboxed: install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap)"
APPARMOR_NOTE = (
    "On Ubuntu 24.04 and later, AppArmor restricts unprivileged user namespaces "
    "(kernel.apparmor_restrict_unprivileged_userns = 1), which bwrap needs. Allow them for bwrap "
    "with an AppArmor profile, /etc/apparmor.d/bwrap:\n"
    "    abi <abi/4.0>,\n    include <tunables/global>\n"
    "    profile bwrap /usr/bin/bwrap flags=(unconfined) {\n      userns,\n    }\n"
    "then `sudo apparmor_parser -r /etc/apparmor.d/bwrap`; or, for the whole machine, "
    "`sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`."
)

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


class SandboxUnavailable(Exception):
    """``sandbox: required`` and no working bubblewrap here; the message says how to fix it."""


# ------------------------------------------------------------------------------------ places


def project_id(git_common_dir: Path) -> str:
    """A stable name for the repository: its folder's name and a hash of its git directory."""
    real = Path(os.path.realpath(git_common_dir))
    name = real.parent.name if real.name == ".git" else real.name.removesuffix(".git")
    digest = hashlib.sha256(str(real).encode()).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:40] or "repo"
    return f"{safe}-{digest}"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / APP_DIR


def state_root() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / APP_DIR


def command_home(git_common_dir: Path) -> Path:
    """``HOME`` for a project's commands: runner-owned, outside the repository, kept between
    ticks.
    """
    home = cache_root() / project_id(git_common_dir) / "home"
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


def runner_state(git_common_dir: Path) -> Path:
    """The runner's private per-project folder (its record key); never visible inside the
    sandbox.
    """
    folder = state_root() / project_id(git_common_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def command_env(
    home: Path, base: Mapping[str, str] | None = None, *, tmpdir: str | None = "/tmp"
) -> dict[str, str]:
    """The allowlisted environment of every command the model can start."""
    source = os.environ if base is None else base
    env = {
        name: value
        for name, value in source.items()
        if (name in ENV_ALLOWLIST or name.startswith(ENV_PREFIXES))
        and not name.startswith(NEVER_PREFIXES)
    }
    env.setdefault("PATH", DEFAULT_PATH)
    env["HOME"] = str(home)
    if tmpdir:
        env["TMPDIR"] = tmpdir
    return env


def without_key(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) without any ``ANTHROPIC_*`` variable."""
    source = os.environ if base is None else base
    return {name: value for name, value in source.items() if not name.startswith(NEVER_PREFIXES)}


# ------------------------------------------------------------------------------------ the sandbox


@dataclass(frozen=True)
class Sandbox:
    """How a process the model can start is run, and what it sees.

    ``enabled`` False means unsandboxed (``why_not`` says why); the same object then still gives
    the allowlisted environment, and ``runner.proc`` reaps whatever the command leaves behind.
    """

    work: Path  # writable: the tree the tick works in
    git_dirs: tuple[Path, ...] = ()  # read-only: the git dir and a worktree's common dir
    home: Path | None = None  # HOME for commands
    network: bool = False
    enabled: bool = False
    why_not: str = ""  # when not enabled: the line the person sees
    bwrap: str = ""  # the bwrap binary's path, when enabled
    hidden: tuple[Path, ...] = ()  # made unreachable (empty folders)
    read_only: tuple[Path, ...] = ()  # extra read-only binds (tools under the home)
    writable: tuple[Path, ...] = ()  # extra writable binds (an executor's config)
    env_base: Mapping[str, str] | None = field(default=None, compare=False)  # None: os.environ
    full_env: bool = False  # the executor: the runner's environment, not the allowlist
    extra_env: tuple[tuple[str, str], ...] = ()  # set for every command (the object quarantine)

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        base = os.environ if self.env_base is None else self.env_base
        if self.full_env:
            env = dict(base)
        else:
            env = command_env(
                self.home or Path(base.get("HOME", "/")),
                base,
                tmpdir="/tmp" if self.enabled else base.get("TMPDIR"),
            )
        env.update(dict(self.extra_env))
        env.update(extra or {})
        return env

    def wrap(self, argv: Sequence[str], cwd: Path) -> list[str]:
        """``argv`` as run in this sandbox from ``cwd`` (unchanged when not enabled)."""
        if not self.enabled:
            return list(argv)
        return [self.bwrap, *self.bwrap_args(cwd), "--", *argv]

    def bwrap_args(self, cwd: Path) -> list[str]:
        """The mounts, in order: everything read-only, then hide, then re-expose what is allowed."""
        args = ["--die-with-parent", "--unshare-pid", "--new-session"]
        if not self.network:
            args.append("--unshare-net")
        args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for path in self.hidden:
            if path.is_dir() and not path.is_symlink():
                args += ["--tmpfs", str(path)]
        for sock in _HIDDEN_SOCKETS:
            if os.path.exists(sock) and not os.path.isdir(sock):
                args += ["--ro-bind", "/dev/null", sock]
        for path in self.read_only:
            if path.exists():
                args += ["--ro-bind", str(path), str(path)]
        for path in (*([self.home] if self.home else []), *self.writable):
            if path.exists():
                args += ["--bind", str(path), str(path)]
        args += ["--bind", str(self.work), str(self.work)]
        # git's own files after the work dir, so a work dir holding them does not make them writable
        dot_git = self.work / ".git"
        for path in dict.fromkeys((*self.git_dirs, *([dot_git] if dot_git.exists() else []))):
            args += ["--ro-bind", str(path), str(path)]
        genome_dir = self.work / ".genome"
        if genome_dir.is_dir():
            args += ["--tmpfs", str(genome_dir), "--remount-ro", str(genome_dir)]
        args += ["--chdir", str(cwd)]
        return args

    def moved_to(self, work: Path) -> Sandbox:
        """The same sandbox for another tree of the repository (a scratch worktree): that tree
        writable, the one this sandbox had hidden with the rest."""
        work = Path(os.path.realpath(work))
        if not self.enabled:
            return replace(self, work=work)
        return replace(self, work=work, hidden=(*self.hidden, self.work))

    @property
    def label(self) -> str:
        """One line for the tick's output and its record."""
        if not self.enabled:
            return self.why_not or "unsandboxed"
        return f"bubblewrap, network {'on' if self.network else 'off'}"


def prepare(
    work: Path,
    git_dir: Path,
    *,
    mode: str = "auto",
    network: bool = False,
    common_git_dir: Path | None = None,
    person_tree: Path | None = None,
    env_base: Mapping[str, str] | None = None,
) -> Sandbox:
    """The sandbox for a tick working in ``work``, whose git directory is ``git_dir``.

    ``common_git_dir`` is a worktree's shared git directory (defaults to ``git_dir``);
    ``person_tree`` the person's working tree, hidden when it is not ``work``. Raises
    ``SandboxUnavailable`` for ``mode="required"`` when bubblewrap does not work here.
    """
    if mode not in MODES:
        raise ValueError(f"sandbox mode {mode!r} is not one of {', '.join(MODES)}")
    work = Path(os.path.realpath(work))
    git_dir = Path(os.path.realpath(git_dir))
    common = Path(os.path.realpath(common_git_dir or git_dir))
    home = command_home(common)
    base = Sandbox(
        work=work,
        git_dirs=tuple(dict.fromkeys((common, git_dir))),
        home=home,
        network=network,
        env_base=env_base,
    )
    if mode == "off":
        return replace(base, why_not="unsandboxed: sandbox: off in loop-prompt.md")
    bwrap, problem = probe()
    if bwrap is None:
        if mode == "required":
            raise SandboxUnavailable(required_message(problem))
        if shutil.which("bwrap") is None:
            return replace(base, why_not=INSTALL_HINT)
        return replace(
            base,
            why_not=f"unsandboxed: bubblewrap does not work here ({problem}); on Ubuntu 24.04 "
            "allow it in AppArmor (README: Sandbox)",
        )
    hidden = _hidden_places(work, person_tree)
    return replace(
        base,
        enabled=True,
        bwrap=bwrap,
        hidden=hidden,
        read_only=_tool_dirs(os.environ.get("PATH", ""), hidden, work),
    )


def for_executor(
    sandbox: Sandbox, *, enabled: bool = True, config_paths: Iterable[str] = (), command: str = ""
) -> Sandbox:
    """The executor's sandbox: the same view, with network, the runner's whole environment (it needs
    its credentials), its configuration folders bound in writable, so logins and sessions work, and
    the folder of the program the command names, read-only."""
    real_home = _real_home()
    paths = [*DEFAULT_EXECUTOR_PATHS, *config_paths]
    writable = tuple(
        dict.fromkeys(
            Path(os.path.expanduser(p)) if p.startswith("~") or os.path.isabs(p) else real_home / p
            for p in paths
        )
    )
    program = _program_folder(command)
    if program is not None and any(
        program == place or program in place.parents for place in sandbox.hidden
    ):
        program = None  # a folder holding what must stay hidden (the home itself) is not bound
    read_only = (*sandbox.read_only, *([program] if program else []))
    return replace(
        sandbox,
        network=True,
        full_env=True,
        home=None,
        writable=writable,
        read_only=read_only,
        enabled=sandbox.enabled and enabled,
        why_not=sandbox.why_not or ("" if enabled else "unsandboxed: executor sandbox: false"),
    )


# Where the agent CLIs keep their logins, settings and sessions (relative to the person's home).
DEFAULT_EXECUTOR_PATHS = (
    ".claude",
    ".claude.json",
    ".config/claude",
    ".codex",
    ".aider.conf.yml",
    ".aider",
    ".config/gh",
    ".npm",
)


def _program_folder(command: str) -> Path | None:
    """The folder of the program a command line starts with, when it is named by its path."""
    words = command.split()
    if not words or "/" not in words[0]:
        return None
    program = Path(os.path.realpath(os.path.expanduser(words[0])))
    return program.parent if program.is_file() else None


def required_message(problem: str) -> str:
    return (
        f"`sandbox: required` is set in loop-prompt.md, and bubblewrap does not work here "
        f"({problem}). "
        "Install it (Debian/Ubuntu: `sudo apt install bubblewrap`; Fedora: `sudo dnf install "
        "bubblewrap`) and check that `bwrap --unshare-pid --ro-bind / / true` runs. "
        + APPARMOR_NOTE
        + " Inside a container that is already the sandbox, set `sandbox: off`."
    )


def _real_home() -> Path:
    return Path(os.path.realpath(os.path.expanduser("~")))


def _hidden_places(work: Path, person_tree: Path | None) -> tuple[Path, ...]:
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    # the runner's own folders: other projects' HOMEs, the record key, sealed gates
    places = [
        _real_home(),
        cache_root(),
        state_root(),
        Path(config) / APP_DIR,
        Path(f"/run/user/{os.getuid()}"),
    ]
    if person_tree is not None and Path(os.path.realpath(person_tree)) != work:
        places.append(Path(os.path.realpath(person_tree)))
    real = [Path(os.path.realpath(p)) for p in places]
    # never hide "/" or a folder holding the work dir's filesystem root; hiding a parent of the
    # work dir is fine (the work dir is bound back over it)
    return tuple(dict.fromkeys(p for p in real if p != Path("/")))


def _tool_dirs(path_var: str, hidden: Sequence[Path], work: Path) -> tuple[Path, ...]:
    """PATH folders that hiding would take away (``~/.local/bin``, ``~/.cargo/bin``), bound back
    read-only so the tools installed there still run. A ``bin`` folder brings its parent, where
    such a tool keeps its libraries, unless that parent holds something hidden or the work dir."""
    covered = (*hidden, Path("/tmp"))
    keep_out = (*hidden, work)

    def holds(folder: Path, place: Path) -> bool:
        return folder == place or folder in place.parents

    dirs = []
    for entry in path_var.split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            continue
        real = Path(os.path.realpath(entry))
        if not any(holds(place, real) for place in covered) or not real.is_dir():
            continue
        for chosen in (real.parent, real) if real.name == "bin" else (real,):
            if not any(holds(chosen, place) for place in keep_out):
                dirs.append(chosen)
                break
    return tuple(dict.fromkeys(dirs))


# ------------------------------------------------------------------------------------ probing

_PROBED: dict[str, tuple[str | None, str]] = {}


def probe() -> tuple[str | None, str]:
    """(bwrap's path, "") when a sandbox starts here, else (None, why). Checked once per process
    for each bwrap found on PATH, by running it with the options every command uses."""
    found = shutil.which("bwrap")
    if found is None:
        return None, "bwrap is not on PATH"
    if found not in _PROBED:
        _PROBED[found] = _try(found)
    return _PROBED[found]


def _try(bwrap: str) -> tuple[str | None, str]:
    argv = [
        bwrap,
        "--die-with-parent",
        "--unshare-pid",
        "--new-session",
        "--unshare-net",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--",
        "true",
    ]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{bwrap} could not run: {error}"
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[:300]
        return None, f"{bwrap} failed: {said or f'exit {done.returncode}'}"
    return bwrap, ""


# ---------------------------------------------------------------------------- the runner itself

_libc = None


def _prctl(option: int, value: int) -> bool:
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        return _libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False  # not Linux: nothing to set


_protected = False


def protect_runner() -> None:
    """Once per process: not dumpable (other processes of the same user cannot read its /proc
    entries, its environment with the key among them) and child subreaper (orphans a command leaves
    become the runner's children, so they can be found and ended)."""
    global _protected
    if _protected:
        return
    _prctl(PR_SET_DUMPABLE, 0)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _protected = True


def descendants(root_pid: int | None = None) -> dict[int, tuple[int, bytes]]:
    """Every process whose chain of parents leads to ``root_pid`` (default: this process), as
    pid -> (parent pid, state letter)."""
    root_pid = os.getpid() if root_pid is None else root_pid
    table: dict[int, tuple[int, bytes]] = {}
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return {}
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            pid, ppid = int(name), int(fields[1])
            table[pid] = (ppid, fields[0])
            children.setdefault(ppid, []).append(pid)
    found: dict[int, tuple[int, bytes]] = {}
    todo = [root_pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found[child] = table[child]
                todo.append(child)
    return found


def end_strays(before: Iterable[int], rounds: int = 200) -> int:
    """Kill every descendant of this process that was not there before a command started (what a
    ``setsid`` or double fork left behind), and reap those that became our children. Returns how
    many were killed."""
    before = set(before)
    killed = 0
    me = os.getpid()
    for _ in range(rounds):
        found = {pid: info for pid, info in descendants().items() if pid not in before}
        for pid, (ppid, state) in found.items():
            if state == b"Z" and ppid == me:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
        live = [pid for pid, (_, state) in found.items() if state != b"Z"]
        if not live:
            break
        for pid in live:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.002)
    return killed


# ------------------------------------------------------------------------------------ for a tick

NOTE_FILE = "sandbox"  # in .genome/: how the last tick ran its commands, for `genome status`


def git_dirs(work: Path) -> tuple[Path, Path]:
    """(git dir, common git dir) of the repository or worktree at ``work``."""
    done = subprocess.run(
        ["git", "-C", str(work), "rev-parse", "--absolute-git-dir", "--git-common-dir"],
        capture_output=True,
        text=True,
        check=True,
    )
    git_dir, common = done.stdout.splitlines()[:2]
    common_path = Path(common) if os.path.isabs(common) else Path(work) / common
    return Path(git_dir), Path(os.path.realpath(common_path))


def for_tick(
    work: Path, config, *, person_tree: Path | None = None, git: tuple[Path, Path] | None = None
) -> Sandbox:
    """The sandbox of a tick working in ``work`` under ``config`` (its ``sandbox:`` and
    ``network:``); ``git`` is (git dir, common git dir) when the caller knows them. Raises
    ``runner.errors.Refused`` (exit 3) with the fix for ``sandbox: required``."""
    from runner.errors import Refused

    git_dir, common = git or git_dirs(work)
    try:
        return prepare(
            work,
            git_dir,
            mode=config.sandbox,
            network=config.network,
            common_git_dir=common,
            person_tree=person_tree,
        )
    except SandboxUnavailable as error:
        raise Refused(str(error)) from None


_DIRS: dict[str, tuple[Path, Path]] = {}


def for_place(where: Path, config, env: Mapping[str, str] | None = None) -> Sandbox:
    """The sandbox for commands run in ``where``: the worktree holding it writable, the person's
    tree (the repository's main worktree) hidden when that is another, and the folders named in
    ``env``'s ``GIT_ALTERNATE_OBJECT_DIRECTORIES`` (the runner's object quarantine) read-only, with
    those variables passed on. Raises ``runner.errors.Refused`` for ``sandbox: required`` without
    bubblewrap."""
    work = Path(os.path.realpath(where))
    key = str(work)
    if key not in _DIRS:
        _DIRS[key] = git_dirs(work)
    git_dir, common = _DIRS[key]
    person = common.parent if common.name == ".git" else None
    top = _tree_top(work)
    box = for_tick(top, config, person_tree=person, git=(git_dir, common))
    extra = {
        name: value
        for name, value in (env or {}).items()
        if name.startswith("GIT_ALTERNATE_OBJECT")
    }
    if not extra:
        return box
    folders = tuple(Path(p) for value in extra.values() for p in value.split(os.pathsep) if p)
    return replace(box, read_only=(*box.read_only, *folders), extra_env=tuple(extra.items()))


def _tree_top(path: Path) -> Path:
    """The working tree holding ``path``: the nearest folder with a ``.git`` in it."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return path


def write_note(state_dir: Path, sandbox: Sandbox) -> None:
    """Leave how this tick's commands ran where `genome status` reads it."""
    try:
        (state_dir / NOTE_FILE).write_text(
            ("" if sandbox.enabled else sandbox.why_not) + "\n", encoding="utf-8"
        )
    except OSError:
        pass


def read_note(state_dir: Path) -> str:
    """The last tick's "unsandboxed: ..." line, or "" when it was sandboxed (or no tick ran)."""
    try:
        return (state_dir / NOTE_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
