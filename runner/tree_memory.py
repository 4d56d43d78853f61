"""What the runner measured on a tree, remembered per tree so it is measured once.

``.genome/trees/<code tree id>.json`` holds, for one tree, each metric gate's number (a metric gate
compares the candidate's number with the start tree's) and whether the pass/fail gates were green
on it (the baseline before any spend, ``runner.baseline``; a shipped tree is green by construction).
The code tree id names the committed code without the runner's own files (genome.md, levers.md,
loop-prompt.md, journal/), which change with every record commit while the code they describe
does not; a changed gate list is a new key, not a new tree.

The tick reads the start tree's entry before the model acts and writes entries only after its
gates ran, so a file the model plants in ``.genome/`` during its turn is never read by that tick and
is overwritten by what the runner measured.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from runner.gitops import Git
from runner.local_state import TREES, state_dir

RUNNER_FILES = ("genome.md", "levers.md", "loop-prompt.md", "journal")
FOLDER = TREES


@dataclass(frozen=True)
class Measured:
    """A metric gate's number on one tree: the median of ``runs`` runs and their spread."""

    value: float
    spread: float
    runs: int


def code_tree_id(git: Git, commit: str) -> str:
    """A name for the code at ``commit``: its top-level tree entries, the runner's files left
    out."""
    listing = git.run_git("ls-tree", "-z", commit)
    kept = sorted(
        entry
        for entry in listing.split("\0")
        if entry and entry.split("\t", 1)[-1] not in RUNNER_FILES
    )
    return hashlib.sha256("\0".join(kept).encode("utf-8")).hexdigest()[:40]


def gate_key(name: str, command: str, metric: str, repeat: int) -> str:
    """A changed command, pattern or number of runs measures something else: a new key."""
    return hashlib.sha256(json.dumps([name, command, metric, repeat]).encode("utf-8")).hexdigest()[
        :16
    ]


def _path(root: Path, tree: str) -> Path:
    return state_dir(root) / FOLDER / f"{tree}.json"


def gates_key(gates) -> str:
    """The pass/fail gates as a whole (names and commands): green is remembered for this set."""
    listed = [[gate.name, gate.run] for gate in gates if not gate.metric]
    return hashlib.sha256(json.dumps(listed).encode("utf-8")).hexdigest()[:16]


def _read(root: Path, tree: str) -> dict:
    try:
        data = json.loads(_path(root, tree).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def load(root: Path, tree: str) -> dict[str, Measured]:
    """The numbers remembered for ``tree`` by gate key; an unreadable file counts as none."""
    try:
        found = {
            key: Measured(float(v["value"]), float(v["spread"]), int(v["runs"]))
            for key, v in _read(root, tree).get("metrics", {}).items()
        }
        return {key: m for key, m in found.items() if m.runs > 0}  # "no number" is measured again
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def load_green(root: Path, tree: str) -> set[str]:
    """The gate sets (``gates_key``) known to pass on ``tree``."""
    green = _read(root, tree).get("green", [])
    return {key for key in green if isinstance(key, str)} if isinstance(green, list) else set()


def mark_green(root: Path, tree: str, key: str) -> None:
    save(root, tree, load(root, tree), load_green(root, tree) | {key})


def save(
    root: Path, tree: str, metrics: dict[str, Measured], green: set[str] | frozenset = frozenset()
) -> None:
    """Replace the tree's entry whole (atomically): nothing planted in it survives."""
    target = _path(root, tree)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(
        json.dumps(
            {
                "metrics": {key: asdict(m) for key, m in sorted(metrics.items())},
                "green": sorted(green),
            }
        ),
        encoding="utf-8",
    )
    os.replace(tmp, target)
