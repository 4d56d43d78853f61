"""Where the shipped templates and skills are: inside the wheel, or beside the source tree."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def package_path(name: str) -> Path:
    """``templates`` or ``skills``: ``runner/<name>`` in an installed wheel, ``<repo>/<name>`` in a
    checkout."""
    for candidate in (_HERE / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the package's {name}/ folder is missing; reinstall genome-runner")
