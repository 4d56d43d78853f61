"""Tell the person about a tick: the config's ``notify`` command gets a JSON summary on stdin.

The command is the person's (``notify-send``, a curl to a webhook, ``mail``); it runs with
``bash -c`` in the project, at most 30 seconds, its whole process group killed on timeout, without
the API credentials in its environment. A notification that fails is logged to
``.genome/notify.log`` and reported through ``warn``; it never fails the tick.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from genome.journal import TickRecord
from runner.local_state import NOTIFY_LOG, state_dir
from runner.proc import kill_group, scrubbed_env

TIMEOUT_SECONDS = 30
LOG_FILE = NOTIFY_LOG
_OUTPUT_TAIL = 2000


def summary_from(record: TickRecord, message: str, needs_person: bool) -> dict:
    """The JSON a notify command receives; ``version`` is the genome version after the tick."""
    return {
        "lever": record.lever,
        "title": record.title,
        "outcome": record.outcome,
        "version": record.new_version or record.version,
        "gates": record.gates,
        "tokens": record.tokens,
        "cost_usd": round(record.cost_usd, 4),
        "commit": record.commit,
        "message": message,
        "needs_person": needs_person,
    }


def notify(command: str, summary: dict, root: Path, warn: Callable[[str], None]) -> None:
    """Run ``command`` with ``summary`` as JSON on stdin. Never raises; an empty command does
    nothing."""
    if not command.strip():
        return
    try:
        problem = _run(
            command, json.dumps(summary, ensure_ascii=False).encode("utf-8") + b"\n", root
        )
    except Exception as error:  # a notification must never take the tick down with it
        problem = (f"could not run it: {error}", "")
    if problem:
        what, output = problem
        _log(root, command, what, output)
        warn(f"notify command {what} (see .genome/{LOG_FILE})")


def _run(command: str, payload: bytes, root: Path) -> tuple[str, str] | None:
    """None when the command succeeded; else what went wrong and the end of its output."""
    # Output goes to a file, not a pipe: a background job the command leaves holding its stdout
    # must not keep the tick waiting for an end of file.
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=root,
            env=scrubbed_env(),
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            process.communicate(payload, timeout=TIMEOUT_SECONDS)
            problem = f"failed with exit {process.returncode}" if process.returncode != 0 else ""
        except subprocess.TimeoutExpired:
            problem = f"timed out after {TIMEOUT_SECONDS} s and was stopped"
        finally:
            kill_group(process.pid)  # on timeout, and any background job it left behind
            process.wait()
        if not problem:
            return None
        output.seek(0, os.SEEK_END)  # only the tail is kept, however much it printed
        output.seek(max(0, output.tell() - 4 * _OUTPUT_TAIL))
        return problem, _tail(output.read())


def _tail(output: bytes) -> str:
    text = output.decode("utf-8", errors="replace").strip()
    return text if len(text) <= _OUTPUT_TAIL else "…" + text[-_OUTPUT_TAIL:]


def _log(root: Path, command: str, what: str, output: str) -> None:
    try:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = [f"{stamp} notify command {what}: {command}"]
        lines += [f"    {line}" for line in output.splitlines()]
        with open(state_dir(root) / LOG_FILE, "a", encoding="utf-8") as log:
            log.write("\n".join(lines) + "\n")
    except OSError:
        pass  # the warning still reaches the person
