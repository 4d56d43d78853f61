"""The intent record: what a tick in flight has done so far, so that a tick killed at any point
(kill -9, power loss) can be undone exactly by the next one, and nothing of the person's is touched.

``.genome/intent.json`` holds the commit the tick started from, its lever and phase, the commit it
made (once it has), its spend so far, and a fingerprint of every path it has changed. The next tick
trusts those paths only while they are byte for byte what the dead tick left.

The record is signed with a key only the runner keeps (``intent.key`` in its per-project folder
outside the repository, ``runner.sandbox.runner_state``), which no sandboxed command can see: a
record a command wrote (a negative cost to be booked as the spend) does not verify, and the next
tick refuses it rather than trust it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from runner.local_state import INTENT, state_dir

INTENT_FILE = INTENT


@dataclass
class Intent:
    base: str  # HEAD when the tick started
    branch: str
    lever: str
    started: str  # ISO time
    phase: str = "act"  # act | gate | commit | improve
    commit: str = ""  # the code commit, once made
    record: str = ""  # the record commit (the tip of what the tick delivers), once made
    cost_usd: float = 0.0
    tokens: int = 0
    touched: dict[str, str] = field(
        default_factory=dict
    )  # path -> sha256 of content, "" when deleted
    new_files_are_ours: bool = False  # during gates: untracked files that appear are gate output


def path_of(root: Path) -> Path:
    return state_dir(root) / INTENT_FILE


def save(root: Path, intent: Intent) -> None:
    """Atomic and durable: a record half-written at power loss would be worse than none."""
    target = path_of(root)
    tmp = target.with_name(INTENT_FILE + ".tmp")
    body = json.dumps(asdict(intent), sort_keys=True)
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"record": body, "mac": _mac(root, body)}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)


def load(root: Path) -> Intent | None:
    """The record, or one whose phase is ``unreadable`` (not JSON) or ``forged`` (not signed by the
    runner, or holding a spend no tick can have)."""
    try:
        data = json.loads(path_of(root).read_text(encoding="utf-8"))
        body = data.get("record") if isinstance(data, dict) else None
        if not isinstance(body, str):
            return _marked("unreadable")  # not a record this runner writes at all
        if not hmac.compare_digest(str(data.get("mac", "")), _mac(root, body)):
            return _marked("forged")
        intent = Intent(**json.loads(body))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError):
        return _marked("unreadable")
    if not _plausible(intent):
        return _marked("forged")
    return intent


def _marked(phase: str) -> Intent:
    return Intent(base="", branch="", lever="", started="", phase=phase)


def _plausible(intent: Intent) -> bool:
    cost, tokens = intent.cost_usd, intent.tokens
    return (
        isinstance(cost, (int, float))
        and math.isfinite(cost)
        and cost >= 0
        and isinstance(tokens, int)
        and tokens >= 0
        and isinstance(intent.touched, dict)
    )


_KEYS: dict[str, bytes] = {}


def _mac(root: Path, body: str) -> str:
    return hmac.new(_key(root), body.encode("utf-8"), hashlib.sha256).hexdigest()


def _key(root: Path) -> bytes:
    """This project's record key, made on first use, kept outside the repository (0600)."""
    from runner.sandbox import git_dirs, runner_state

    cached = _KEYS.get(str(root))
    if cached is not None:
        return cached
    try:
        project = git_dirs(root)[1]
    except (subprocess.CalledProcessError, OSError, ValueError):
        project = Path(os.path.realpath(root))  # not a repository (yet): keyed by the folder
    path = runner_state(project) / "intent.key"
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        key = b""
    if len(key) < 32:
        key = secrets.token_bytes(32)
        fd = os.open(path.with_name("intent.key.tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex())
        os.replace(path.with_name("intent.key.tmp"), path)
    _KEYS[str(root)] = key
    return key


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
    """The fingerprint a file will have once ``text`` is written to it (as UTF-8, newlines as
    given)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
