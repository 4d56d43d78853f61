"""The intent record: what a tick in flight has done so far, so that a tick killed at any point
(kill -9, power loss) can be undone exactly by the next one, and nothing of the person's is touched.

``.genome/intent.json`` holds the commit the tick started from, its lever and phase, the commit it
made (once it has), its spend so far, and a fingerprint of every path it has changed. The next tick
trusts those paths only while they are byte for byte what the dead tick left.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from runner.local_state import INTENT, state_dir

INTENT_FILE = INTENT


@dataclass
class Intent:
    base: str                       # HEAD when the tick started
    branch: str
    lever: str
    started: str                    # ISO time
    phase: str = "act"              # act | gate | commit | improve
    commit: str = ""                # the code commit, once made
    record: str = ""                # the record commit (the tip of what the tick delivers), once made
    cost_usd: float = 0.0
    tokens: int = 0
    touched: dict[str, str] = field(default_factory=dict)   # path -> sha256 of content, "" when deleted
    new_files_are_ours: bool = False    # during gates: untracked files that appear are gate output


def path_of(root: Path) -> Path:
    return state_dir(root) / INTENT_FILE


def save(root: Path, intent: Intent) -> None:
    """Atomic and durable: a record half-written at power loss would be worse than none."""
    target = path_of(root)
    tmp = target.with_name(INTENT_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(asdict(intent), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)


def load(root: Path) -> Intent | None:
    try:
        data = json.loads(path_of(root).read_text(encoding="utf-8"))
        return Intent(**data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return Intent(base="", branch="", lever="", started="", phase="unreadable")


def clear(root: Path) -> None:
    path_of(root).unlink(missing_ok=True)


def fingerprint(root: Path, paths: list[str]) -> dict[str, str]:
    prints = {}
    for rel in paths:
        path = root / rel
        if path.is_symlink():
            prints[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            prints[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            prints[rel] = ""
    return prints


def text_print(text: str) -> str:
    """The fingerprint a file will have once ``text`` is written to it (as UTF-8, newlines as given)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
