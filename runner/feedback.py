"""Notes from the person to the next tick: ``genome feedback TEXT``.

A note is one file under ``.genome/feedback/`` (git-ignored, so leaving one never makes the next
tick refuse a dirty tree). The tick shows the pending notes to the model, records them in its
journal entry, and moves them to ``.genome/feedback/read/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from runner.local_state import FEEDBACK, path_of, state_dir

FEEDBACK_DIR = FEEDBACK
READ_DIR = "read"
_NAME_FORMAT = "%Y%m%dT%H%M%S.%fZ"
MAX_NOTE_CHARS = 20_000


@dataclass(frozen=True)
class Note:
    time: datetime
    text: str
    path: Path


def feedback_dir(root: Path) -> Path:
    return state_dir(root) / FEEDBACK_DIR


def store(root: Path, text: str, now: datetime | None = None) -> Note:
    """Write ``text`` as a new pending note; ValueError when there is nothing to say or far too
    much."""
    text = text.strip()
    if not text:
        raise ValueError(
            "the note is empty; write what the next tick should know, e.g. "
            'genome feedback "L-004: use the v2 endpoint, v1 is gone"'
        )
    if len(text) > MAX_NOTE_CHARS:
        raise ValueError(
            f"the note has {len(text):,} characters; keep it under {MAX_NOTE_CHARS:,} "
            "(a model reads it on every tick until it is read). Put long material in a file "
            "in the project and point to it"
        )
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    directory = feedback_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    base = now.strftime(_NAME_FORMAT)
    for suffix in range(1000):
        path = directory / (f"{base}.md" if suffix == 0 else f"{base}-{suffix}.md")
        try:
            # Exclusive create: two notes in the same microsecond never overwrite each other.
            with open(path, "x", encoding="utf-8") as handle:
                handle.write(text + "\n")
        except FileExistsError:
            continue
        return Note(now, text, path)
    raise OSError(f"could not find a free file name for the note in {directory}")


def pending(root: Path) -> list[Note]:
    """The notes not read by a tick yet, oldest first. Reading creates nothing."""
    directory = path_of(root, FEEDBACK_DIR)
    if not directory.is_dir():
        return []
    notes = [_read(path) for path in directory.iterdir() if path.is_file() and path.suffix == ".md"]
    return sorted(notes, key=lambda note: (note.time, _sequence(note.path), note.path.name))


def mark_read(root: Path, notes: list[Note]) -> list[Note]:
    """Move ``notes`` to ``.genome/feedback/read/``; returns them with their new paths.

    A note already gone (another tick read it) is skipped, not an error.
    """
    read_dir = feedback_dir(root) / READ_DIR
    read_dir.mkdir(parents=True, exist_ok=True)
    moved = []
    for note in notes:
        target = read_dir / note.path.name
        try:
            os.replace(note.path, target)
        except FileNotFoundError:
            continue
        moved.append(Note(note.time, note.text, target))
    return moved


def _sequence(path: Path) -> int:
    """The ``-N`` a note written in the same microsecond as another got; 0 for the first."""
    _, _, number = path.stem.partition("-")
    return int(number) if number.isdigit() else 0


def _read(path: Path) -> Note:
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    stem = path.stem.split("-")[0]
    try:
        time = datetime.strptime(stem, _NAME_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        # A note a person dropped in by hand: its file time is the best we know.
        time = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    return Note(time, text, path)
