"""`genome review`: what the loop did in a window of time, read from git alone.

Two parts, each usable alone. ``data`` reads the window from git into a ``Review``; the renderers
turn a ``Review`` into text: ``text`` for a terminal (aligned, coloured), ``markdown`` for a pipe,
``page`` for one self-contained HTML page (its CSS in ``page.css``, its SVG charts in ``charts``),
``as_json`` for programs (a stable schema, documented in README.md).
``words`` holds the phrases all three share. Names below load their module on first use, so reading
the data does not load the renderers.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "Review": "data",
    "build_review": "data",
    "render_text": "text",
    "render_markdown": "markdown",
    "render_html": "page",
    "render_json": "as_json",
}
__all__ = list(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
