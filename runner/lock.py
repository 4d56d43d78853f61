"""One tick per project at a time: an ``fcntl.flock`` on ``.genome/tick.lock``.

The kernel drops the lock when its holder dies, so a lock left by a killed tick is simply taken
over.
"""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timezone
from pathlib import Path

from runner.errors import Refused
from runner.local_state import LOCK, state_dir

LOCK_FILE = LOCK


class TickLock:
    def __init__(self, root: Path):
        self.path = state_dir(root) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> TickLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown pid"
            os.close(fd)
            raise Refused(
                f"another tick is running ({holder}); this one exits without touching anything"
            ) from None
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {stamp}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
