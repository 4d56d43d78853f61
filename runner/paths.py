"""The sandbox rules: which paths the model may touch, shared by the tools and the tick's diff
check."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path

# The runner's own files at the project root, and git's internals wherever they are.
ALWAYS_PROTECTED = (
    "/genome.md",
    "/levers.md",
    "/loop-prompt.md",
    "/journal/**",
    "/.genome/**",
    ".git/**",
)


class PathRefused(Exception):
    """A path the model may not use; the message says why and what to do instead."""


def resolve_in_project(root: Path, rel: str) -> tuple[Path, str]:
    """The real absolute path of ``rel`` and its posix path relative to ``root``, or
    ``PathRefused``.

    Symlinks are resolved before the containment check, so a link (or a linked parent folder)
    pointing out of the project is refused like ``..`` is.
    """
    if not isinstance(rel, str) or not rel.strip():
        raise PathRefused(
            "the path is empty; give a path relative to the project root, e.g. src/app.py"
        )
    if "\0" in rel:
        raise PathRefused("the path contains a NUL byte")
    if os.path.isabs(rel):
        raise PathRefused(
            f"{rel!r} is absolute; give a path relative to the project root, e.g. src/app.py"
        )
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, rel))
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise PathRefused(
            f"{rel!r} resolves outside the project; only files inside the project root may be used"
        )
    return Path(real), Path(os.path.relpath(real, real_root)).as_posix()


def match_glob(pattern: str, rel: str) -> bool:
    """Whether posix path ``rel`` matches a gitignore-like ``pattern``.

    ``**`` spans any number of folders; ``*``, ``?`` and ``[...]`` stay within one segment. A
    pattern matching a folder matches everything beneath it (``tests``, ``tests/`` and
    ``tests/**`` all cover ``tests/x/y.py``). A pattern without an inner ``/`` matches at any depth
    (``*.lock``); one with a ``/`` is anchored at the project root.
    """
    regex = _compile(pattern)
    if regex is None:
        return False
    parts = rel.strip("/").split("/")
    return any(regex.fullmatch("/".join(parts[:end])) for end in range(1, len(parts) + 1))


def protected_by(rel: str, globs: Sequence[str] = ()) -> str | None:
    """The first pattern (always-protected ones first) that protects ``rel``, or None."""
    for pattern in (*ALWAYS_PROTECTED, *globs):
        if match_glob(pattern, rel):
            return pattern
    return None


def is_protected(rel: str, globs: Sequence[str] = ()) -> bool:
    return protected_by(rel, globs) is not None


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str] | None:
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    body = pattern.strip("/")
    if not body:
        return None
    anchored = "/" in pattern.rstrip(
        "/"
    )  # a leading or inner slash anchors, a trailing one does not
    segments = body.split("/")
    regex = "" if anchored else "(?:.*/)?"
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            regex += ".*" if last else "(?:.*/)?"
        else:
            regex += _segment_regex(segment) + ("" if last else "/")
    return re.compile(regex)


def _segment_regex(segment: str) -> str:
    out = []
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            while i + 1 < len(segment) and segment[i + 1] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (close := segment.find("]", i + 2)) != -1:
            inner = segment[i + 1 : close].replace("\\", "\\\\").replace("[", "\\[")
            if inner.startswith("!"):
                inner = "^/" + inner[1:]
            elif inner.startswith("^"):
                inner = "\\" + inner
            out.append("[" + inner + "]")
            i = close
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)
