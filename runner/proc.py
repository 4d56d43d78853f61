"""Run one shell command the way the runner runs every command: bounded in time and in output.

The command runs in its own session, so on timeout the whole process group (grandchildren too)
is killed. Background jobs the command leaves behind are killed as well when it ends: nothing a
tick starts outlives it. Given a ``runner.sandbox.Sandbox``, the command runs inside it (its own
PID namespace ends everything with it); unsandboxed, the runner, as child subreaper, kills every
descendant the command left, a ``setsid`` or double-forked one too. Output is read in a thread into
a head and a tail buffer, so memory stays bounded however much the command prints.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runner.sandbox import Sandbox

TIMEOUT_EXIT_CODE = 124  # what coreutils' timeout(1) returns; a timed-out command reports this
SECRET_ENV_NAMES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
KILL_GRACE_SECONDS = 1.0  # between SIGTERM and SIGKILL
_READ_CHUNK = 65_536
_MARKER_RESERVE = 64  # room kept for the "[... N cut ...]" line inside the limit


@dataclass
class ShellResult:
    exit_code: (
        int  # 124 (TIMEOUT_EXIT_CODE) when killed on timeout; -N when signal N ended it otherwise
    )
    output: str  # stdout and stderr interleaved, bounded by the caller's limit
    seconds: float
    timed_out: bool
    total_bytes: int  # everything the command printed, before bounding


def scrubbed_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) without the API credentials (no ``ANTHROPIC_*`` at all):
    commands never see the key."""
    source = os.environ if base is None else base
    return {
        name: value
        for name, value in source.items()
        if name not in SECRET_ENV_NAMES and not name.startswith("ANTHROPIC_")
    }


def truncate(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its head and tail around a line saying how
    much was cut.
    """
    if len(text) <= limit:
        return text
    head_size, tail_size = _head_tail_sizes(limit)
    head, tail = _snap_to_lines(text[:head_size], text[max(len(text) - tail_size, 0) :], "\n")
    return _join_cut(head, tail, len(text) - len(head) - len(tail), "characters")


def run_shell(
    command: str,
    cwd: Path,
    timeout: float,
    *,
    pipefail: bool = False,
    env: dict[str, str] | None = None,
    limit: int = 16_000,
    sandbox: Sandbox | None = None,
    stdin=None,
    stderr=None,
) -> ShellResult:
    """Run ``command`` with ``bash -c`` in ``cwd``; ``env`` defaults to the sandbox's allowlisted
    environment, or without one to ``scrubbed_env()``. stdin is empty and stderr goes with stdout
    unless ``stdin``/``stderr`` give open files."""
    argv = ["bash", "-o", "pipefail", "-c", command] if pipefail else ["bash", "-c", command]
    if env is None:
        env = sandbox.env() if sandbox is not None else scrubbed_env()
    started = time.monotonic()
    with Containment(sandbox) as containment:
        process = subprocess.Popen(
            containment.wrap(argv, cwd),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if stderr is None else stderr,
            start_new_session=True,
        )
        return _wait(process, timeout, limit, started, containment)


class Containment:
    """Around starting and waiting for one command. Sandboxed, it wraps the argv in bwrap; not,
    the runner becomes child subreaper and ``end`` kills whatever the command left behind (run
    once the command has exited, and again on leaving, whatever happened in between)."""

    def __init__(self, sandbox: Sandbox | None):
        from runner import sandbox as sandboxing

        self._sandboxing = sandboxing
        self.sandbox = sandbox
        self.sandboxed = sandbox is not None and sandbox.enabled
        self._before: set[int] = set()

    def __enter__(self) -> Containment:
        if not self.sandboxed:
            self._sandboxing.protect_runner()
            self._before = set(self._sandboxing.descendants())
        return self

    def wrap(self, argv: list[str], cwd: Path) -> list[str]:
        if not self.sandboxed:
            return list(argv)
        assert self.sandbox is not None  # sandboxed implies a sandbox
        return self.sandbox.wrap(argv, cwd)

    def end(self) -> None:
        if not self.sandboxed:
            self._sandboxing.end_strays(self._before)

    def __exit__(self, *exc) -> None:
        self.end()


def _wait(
    process: subprocess.Popen, timeout: float, limit: int, started: float, containment: Containment
) -> ShellResult:
    capture = _BoundedCapture(process.stdout, *_head_tail_sizes(limit))
    capture.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        # Kill before reaping on timeout; after a normal exit this ends leftover background jobs.
        kill_group(process.pid)
        process.wait()
        containment.end()  # before waiting for the pipe: an escaped child may hold it
        capture.finish(grace=KILL_GRACE_SECONDS)
    return ShellResult(
        exit_code=TIMEOUT_EXIT_CODE if timed_out else process.returncode,
        output=capture.text(),
        seconds=time.monotonic() - started,
        timed_out=timed_out,
        total_bytes=capture.total_bytes,
    )


def _head_tail_sizes(limit: int) -> tuple[int, int]:
    budget = limit - _MARKER_RESERVE if limit > 2 * _MARKER_RESERVE else max(limit, 0)
    return budget // 2, budget - budget // 2


def _snap_to_lines(head, tail, newline):
    """Cut the head after its last newline and start the tail after its first, when one is near the
    edge.
    """
    last = head.rfind(newline)
    if last >= len(head) * 3 // 4:
        head = head[: last + 1]
    first = tail.find(newline)
    if 0 <= first < len(tail) // 4:
        tail = tail[first + 1 :]
    return head, tail


def _join_cut(head: str, tail: str, cut: int, unit: str) -> str:
    if head and not head.endswith("\n"):
        head += "\n"
    return f"{head}[... {cut:,} {unit} cut ...]\n{tail}"


def kill_group(pgid: int) -> None:
    """SIGTERM the process group, then SIGKILL whatever is still there after a short grace."""
    if not _signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while time.monotonic() < deadline:
        if not _group_has_live_members(pgid):
            return
        time.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        # A member changed its identity (setuid); nothing more we may do to it.
        return False
    return True


def _group_has_live_members(pgid: int) -> bool:
    """True while a non-zombie process is in the group (orphaned zombies may never be reaped
    here).
    """
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state, ppid, pgrp, ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class _BoundedCapture:
    """Reads a pipe in a thread, keeping the first ``head_size`` and the last ``tail_size``
    bytes.
    """

    def __init__(self, pipe, head_size: int, tail_size: int):
        self._pipe = pipe
        self._head_size = head_size
        self._tail_size = tail_size
        self._head = bytearray()
        self._tail = bytearray()
        self.total_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finish(self, grace: float) -> None:
        """Wait for end of output; a process that escaped the group may hold the pipe, so stop
        after ``grace``.
        """
        self._thread.join(timeout=grace)
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
        self._pipe.close()

    def _read(self) -> None:
        fd = self._pipe.fileno()
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            chunk = os.read(fd, _READ_CHUNK)
            if not chunk:
                return
            self._keep(chunk)

    def _keep(self, chunk: bytes) -> None:
        self.total_bytes += len(chunk)
        room = self._head_size - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail += chunk
        # Trim only now and then so a stream of small chunks does not copy the tail each time.
        if len(self._tail) > 2 * self._tail_size + _READ_CHUNK:
            del self._tail[: len(self._tail) - self._tail_size]

    def text(self) -> str:
        head = bytes(self._head)
        tail = bytes(self._tail[max(len(self._tail) - self._tail_size, 0) :])
        cut = self.total_bytes - len(head) - len(tail)
        if cut == 0:
            return (head + tail).decode("utf-8", errors="replace")
        head, tail = _snap_to_lines(head, tail, b"\n")
        cut = self.total_bytes - len(head) - len(tail)
        return _join_cut(
            head.decode("utf-8", errors="replace"),
            tail.decode("utf-8", errors="replace"),
            cut,
            "bytes",
        )
