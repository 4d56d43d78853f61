"""What the benchmarks share: a private environment, timing, project builders and request
measures."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from genome.journal import TickRecord, append_entry, journal_path
from runner.init import init_project

PYTHON = sys.executable
BIN = Path(sys.executable).parent
CHARS_PER_TOKEN = 4


# -------------------------------------------------------------------------------------- environment


def isolate(scratch: Path) -> None:
    """Point HOME, git and the SDK's config at ``scratch`` for this process and every child, so no
    run reads or writes the machine's own settings, and no request leaves loopback."""
    home = scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Bench Person\n\temail = bench@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    os.environ.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "ANTHROPIC_CONFIG_DIR": str(home / ".anthropic"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_STATE_HOME": str(home / ".local/state"),
        }
    )
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        os.environ.pop(name, None)


# ---------------------------------------------------------------------------------------- timing


def run_quietly(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done


def seconds_of(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def interleaved(
    cases: dict[str, Callable[[], Any]], runs: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds of every run of every case, the cases taking turns so that a noisy moment on the
    machine falls on all of them alike; warm-up runs (page cache, bytecode) are not counted."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_number in range(warmup + runs):
        for name, action in cases.items():
            elapsed = seconds_of(action)
            if round_number >= warmup:
                times[name].append(elapsed)
    return times


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


# ---------------------------------------------------------------------------------------- projects


def git(root: Path, *args: str) -> str:
    return run_quietly(["git", *args], root).stdout


def new_project(root: Path, files: dict[str, str] | None = None) -> Path:
    """A git repository set up by `genome init`, with ``files`` written over the templates and
    committed."""
    root.mkdir(parents=True)
    git(root, "init", "-q")
    init_project(root)
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if files:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "project files")
    return root


def with_frontmatter(loop_prompt: str, config: str) -> str:
    """``loop-prompt.md`` with its frontmatter replaced by ``config`` (YAML text), body kept."""
    _, _, rest = loop_prompt.partition("---\n")
    _, _, body = rest.partition("---\n")
    return f"---\n{config}---\n{body}"


# ---------------------------------------------------------------------------------- generated files

WORDS = (
    "cache",
    "parser",
    "retry",
    "timeout",
    "server",
    "report",
    "config",
    "schema",
    "index",
    "render",
    "fetch",
    "queue",
    "token",
    "budget",
    "lesson",
    "gate",
    "fixture",
    "module",
    "import",
    "logging",
)


def lever_lines(
    count: int, *, first_id: int = 1, status: str = "x", stamp: str = "2026-03-01T03:00Z"
) -> list[str]:
    """``count`` levers as a long-lived file holds them: a title, a check, a status-log line."""
    lines = []
    for number in range(first_id, first_id + count):
        topic = WORDS[number % len(WORDS)]
        lines.append(f"- [{status}] L-{number:03d} Improve the {topic} handling, step {number}")
        lines.append(f"  check: pytest -q tests/test_{topic}.py -k step_{number}")
        if status == "x":
            lines.append(
                f"  - {stamp} v{number // 7 + 1:03d} shipped {number * 2654435761 % 16**7:07x}"
            )
        elif status == "!":
            lines += [
                f"  - {stamp} v{number // 7 + 1:03d} gate tests failed (attempt {a}/3)"
                for a in (1, 2)
            ]
            lines.append(
                f"  - {stamp} v{number // 7 + 1:03d} gate tests failed (attempt 3/3): blocked"
            )
    return lines


def lesson_lines(count: int, start: datetime) -> list[str]:
    """``count`` lessons, one a few hours apart, each a plain sentence of about 100 characters."""
    lines = []
    for number in range(count):
        day = (start + timedelta(hours=4 * number)).strftime("%Y-%m-%d")
        a, b, c = (WORDS[(number * k) % len(WORDS)] for k in (1, 3, 7))
        lines.append(
            f"- [v{number // 5 + 1:03d} {day}] Lesson {number}: when the {a} touches the {b}, "
            f"run the {c} tests before finishing and read the first error."
        )
    return lines


def loop_prompt_with_lessons(template: str, count: int, start: datetime) -> str:
    return template.rstrip("\n") + "\n" + "\n".join(lesson_lines(count, start)) + "\n"


def journal_files(days: int, ticks_per_day: int, end: datetime) -> dict[str, str]:
    """``journal/YYYY/MM/DD.md`` for ``days`` days up to ``end``, ``ticks_per_day`` entries each."""
    files: dict[str, str] = {}
    for day in range(days):
        date = end - timedelta(days=days - day)
        text = None
        for tick in range(ticks_per_day):
            when = date + timedelta(minutes=30 * tick)
            shipped = tick % 3 != 2
            record = TickRecord(
                time=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                outcome="shipped" if shipped else "failed",
                lever=f"L-{day * ticks_per_day + tick + 1:03d}",
                title=f"Improve step {tick}",
                version="v100",
                gates="tests ok 3.1s" if shipped else "tests FAILED exit 1 2.0s",
                tokens_in=40_000,
                tokens_out=2_500,
                cache_read=30_000,
                cost_usd=0.21,
                commit="a1b2c3d4e5f6" if shipped else "",
                reason="" if shipped else "gate tests failed",
                summary="Changed one function; the tests pass.",
            )
            text = append_entry(text, record)
        files[journal_path(date.strftime("%Y-%m-%dT%H:%M:%SZ"))] = text
    return files


# ---------------------------------------------------------------------------------------- requests


def canonical_bytes(request: dict[str, Any]) -> bytes:
    """What a prompt cache sees of a request, in its prefix order (tools, system, messages), with
    the ``cache_control`` markers taken out: they mark where a prefix ends, they are not its
    content."""
    parts = [_without_cache_control(request.get(key)) for key in ("tools", "system", "messages")]
    return json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _without_cache_control(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_control(v) for v in value]
    return value


def common_prefix_length(a: bytes, b: bytes) -> int:
    limit = min(len(a), len(b))
    low, high = 0, limit  # binary search on slices: C-speed comparisons instead of a byte loop
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def request_size(request: dict[str, Any]) -> int:
    """Bytes of the request body as the SDK sends it (JSON)."""
    return len(json.dumps(request, ensure_ascii=False).encode("utf-8"))


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
