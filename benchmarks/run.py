"""The benchmarks: nine figures, each against its target, in one run.

    # full sizes and more runs: about a minute and a half on two cores
    python benchmarks/run.py
    # fewer runs and a 2,000-tick review history: about half a minute
    python benchmarks/run.py --quick

Prints a table and writes benchmarks/results.json (or --out). Where a figure is a ratio, both sides
are measured in the same run, taking turns, and every time quoted is a median of repeated runs.
BENCHMARKS.md says what each figure means and what it is compared with.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import (
    BIN,
    CHARS_PER_TOKEN,
    PYTHON,
    canonical_bytes,
    common_prefix_length,
    git,
    interleaved,
    isolate,
    journal_files,
    lever_lines,
    loop_prompt_with_lessons,
    median_ms,
    new_project,
    now_utc,
    request_size,
    run_quietly,
    seconds_of,
    with_frontmatter,
)

from genome.levers import LeverDoc
from genome.loop_prompt import LoopPromptDoc, select_lessons
from runner.fake_api import FakeMessagesServer
from runner.progress import Printer
from runner.resources import package_path
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick

HERE = Path(__file__).resolve().parent
GENOME_TICK = str(BIN / "genome-tick")
TEMPLATES = package_path("templates")
NO_CHANGE = tool_reply("reflect", {"lesson": None, "genome": None, "levers": []})


@dataclass
class Figure:
    number: int
    title: str
    measured: str  # as the table shows it
    value: float  # the number the target is about
    unit: str
    target: str
    met: bool
    ratio: float | None = None
    compared_with: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sizes:
    startup_runs: int
    tick_runs: int
    parse_runs: int
    largest_parse_runs: int
    review_ticks: int
    review_runs: int
    big_files: int = 100_000  # figure 8's repository
    big_runs: int = 3


FULL = Sizes(
    startup_runs=60,
    tick_runs=9,
    parse_runs=9,
    largest_parse_runs=3,
    review_ticks=10_000,
    review_runs=7,
)
QUICK = Sizes(
    startup_runs=15,
    tick_runs=3,
    parse_runs=3,
    largest_parse_runs=1,
    review_ticks=2_000,
    review_runs=3,
    big_files=1_000,
    big_runs=1,
)


def quiet() -> Printer:
    """A tick run in this process keeps its progress lines to itself."""
    return Printer(io.StringIO(), live=False)


# ---------------------------------------------------------------------------------------- 1


def not_due_tick(scratch: Path, sizes: Sizes) -> Figure:
    """The installed `genome-tick` in a project whose next tick is a day away, against `python -c
    pass`."""
    root = new_project(scratch / "not-due")
    state = root / ".genome"
    state.mkdir(exist_ok=True)
    (state / "next-due").write_text(
        (now_utc() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ\n")
    )
    before = sorted(p.name for p in state.iterdir() if p.name != "firings")
    silent = run_quietly([GENOME_TICK], root)
    # the not-due path writes exactly one line to the firings log, and nothing else
    logged = (state / "firings").read_text().splitlines() if (state / "firings").exists() else []
    if (
        silent.stdout
        or silent.stderr
        or sorted(p.name for p in state.iterdir() if p.name != "firings") != before
        or len(logged) != 1
        or not logged[0].endswith(" not-due")
    ):
        raise RuntimeError(
            f"genome-tick did not take the not-due path:\n{silent.stdout}{silent.stderr}"
        )
    times = interleaved(
        {
            "python": lambda: run_quietly([PYTHON, "-c", "pass"], root),
            "tick": lambda: run_quietly([GENOME_TICK], root),
        },
        sizes.startup_runs,
        warmup=3,
    )
    python_ms, tick_ms = median_ms(times["python"]), median_ms(times["tick"])
    ratio = tick_ms / python_ms
    return Figure(
        1,
        "not-due genome-tick",
        f"{tick_ms:.1f} ms",
        tick_ms,
        "ms",
        "≤ 2× and < 100 ms",
        ratio <= 2 and tick_ms < 100,
        ratio=ratio,
        compared_with=f"python -c pass {python_ms:.1f} ms",
        details={
            "runs": sizes.startup_runs,
            "python_ms": python_ms,
            "tick_ms": tick_ms,
            "python_min_ms": min(times["python"]) * 1000,
            "tick_min_ms": min(times["tick"]) * 1000,
        },
    )


# ---------------------------------------------------------------------------------------- 2

GREEN_CONFIG = """\
model: claude-sonnet-4-5
gates:
  - name: ok
    run: "true"
cadence: 30m
repair_rounds: 0
"""


def green_tick(scratch: Path, sizes: Sizes) -> Figure:
    """A tick that ships a one-file change, the model answering at once over loopback, against the
    floor of starting Python and committing the same change with `git add` and `git commit`."""
    runs = sizes.tick_runs
    count = (
        2 * (runs + 1) + 1
    )  # subprocess ticks with a warm-up, one clocked, in-process ticks with a warm-up
    levers = "# Levers\n\n" + "".join(
        f"- [ ] L-{n:03d} Add note {n}\n" for n in range(1, count + 1)
    )
    loop = with_frontmatter((TEMPLATES / "loop-prompt.md").read_text(), GREEN_CONFIG)
    project = new_project(scratch / "green", {"levers.md": levers, "loop-prompt.md": loop})
    floor_repo = new_project(scratch / "floor")
    numbers = iter(range(1, count + 1))

    def tick() -> None:
        number = next(numbers)
        with FakeMessagesServer(green_script(number)) as server:
            ship(project, server, [GENOME_TICK, "--now"], timed=tick_times)

    def floor() -> None:
        number = len(floor_times) + 1
        (floor_repo / f"note-{number}.txt").write_text(f"note {number}\n")
        floor_times.append(
            seconds_of(
                lambda: (
                    run_quietly([PYTHON, "-c", "pass"], floor_repo),
                    run_quietly(["git", "add", f"note-{number}.txt"], floor_repo),
                    run_quietly(["git", "commit", "-q", "-m", f"Add note {number}"], floor_repo),
                )
            )
        )

    tick_times: list[float] = []
    floor_times: list[float] = []
    for _ in range(runs + 1):
        tick()
        floor()
    tick_ms, floor_ms = median_ms(tick_times[1:]), median_ms(floor_times[1:])
    phases = phase_breakdown(project, next(numbers))
    in_process_ms = median_ms(
        in_process_ticks(project, [next(numbers) for _ in range(runs + 1)])[1:]
    )
    ratio = tick_ms / floor_ms
    return Figure(
        2,
        "green tick, instant model",
        f"{tick_ms:,.0f} ms",
        tick_ms,
        "ms",
        "≤ 5×",
        ratio <= 5,
        ratio=ratio,
        compared_with=f"python + git add + git commit {floor_ms:.0f} ms",
        details={
            "runs": runs,
            "tick_ms": tick_ms,
            "floor_ms": floor_ms,
            "in_process_tick_ms": in_process_ms,
            "in_process_ratio": in_process_ms / floor_ms,
            "phases_method": "one more tick in a real subprocess, clocked from inside by "
            "benchmarks/phase_clock.py (the stderr lines only carry whole seconds)",
            "phases": phases,
        },
    )


def green_script(number: int) -> list[dict]:
    return [
        tool_reply(
            "write_file", {"path": f"notes/note-{number}.txt", "content": f"note {number}\n"}
        ),
        text_reply(f"Wrote notes/note-{number}.txt."),
        NO_CHANGE,
    ]


def ship(
    root: Path, server: FakeMessagesServer, argv: list[str], timed: list[float] | None = None
) -> None:
    env = {**os.environ, "ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": "bench-key-0000"}
    started = time.perf_counter()
    done = run_quietly(argv, root, env)
    if timed is not None:
        timed.append(time.perf_counter() - started)
    if "shipped:" not in done.stderr or server.remaining:
        raise RuntimeError(f"the tick did not ship as scripted:\n{done.stderr}")


def in_process_ticks(root: Path, numbers: list[int]) -> list[float]:
    """Ticks in this process with the SDK already imported, as `genome run` ticks after its
    first."""
    from runner.anthropic_model import AnthropicModel

    times = []
    for number in numbers:
        with FakeMessagesServer(green_script(number)) as server:
            model = AnthropicModel(api_key="bench-key-0000", base_url=server.url)
            started = time.perf_counter()
            result = run_tick(root, make_model=lambda config, model=model: model, printer=quiet())
            times.append(time.perf_counter() - started)
        if result.outcome != "shipped":
            raise RuntimeError(f"the in-process tick did not ship: {result.message}")
    return times


SEGMENTS = [
    ("python up", "start the interpreter"),
    ("imported cli", "import runner.cli (click, …)"),
    ("imported tick", "import runner.tick (GitPython, …)"),
    ("phase guard", "lock, open the repo, recover"),
    ("phase pick", "guard + read HEAD's files"),
    ("phase act", "pick (budgets from git log)"),
    ("phase gate", "act"),
    ("phase commit", "gate"),
    ("phase improve", "commit"),
    ("exit", "improve + schedule"),
    ("reaped", "interpreter exit"),
]


def phase_breakdown(root: Path, number: int) -> list[dict[str, Any]]:
    """Milliseconds of each stretch of one green tick, and within it the model's share."""
    marks_file = root.parent / "marks.json"
    with FakeMessagesServer(green_script(number)) as server:
        spawned = time.monotonic()
        ship(root, server, [PYTHON, str(HERE / "phase_clock.py"), str(marks_file), "--now"])
        reaped = time.monotonic()
    marks = [("spawn", spawned), *json.loads(marks_file.read_text()), ("reaped", reaped)]
    at = {name: t for name, t in marks}
    calls = [
        (t, next(e for n, e in marks if n == "call end" and e >= t))
        for n, t in marks
        if n == "call start"
    ]
    rows, previous = [], at["spawn"]
    for name, label in SEGMENTS:
        end = at[name]
        within = [(a, b) for a, b in calls if previous <= a < end]
        row = {
            "segment": label,
            "ms": (end - previous) * 1000,
            "model_calls": len(within),
            "model_ms": sum(b - a for a, b in within) * 1000,
        }
        if previous <= at.get("connect start", -1) < end:
            row["sdk_import_and_client_ms"] = (at["connect end"] - at["connect start"]) * 1000
        rows.append(row)
        previous = end
    return rows


# ---------------------------------------------------------------------------------------- 3

PARSE_SIZES = (1_000, 10_000, 100_000)


def levers_file(count: int) -> str:
    """The worst order for pick: every finished lever above the open ones, and the last lever new,
    without an id, so ids are assigned as in a real tick."""
    finished = count * 9 // 10
    lines = ["# Levers", ""]
    for status, share in (("x", 6), ("!", 2), ("-", 1)):
        start = sum(line.startswith("- [") for line in lines) + 1
        lines += lever_lines(finished * share // 9, first_id=start, status=status)
    opened = sum(line.startswith("- [") for line in lines)
    lines += lever_lines(count - opened - 1, first_id=opened + 1, status=" ")
    lines.append("- [ ] Improve the cache handling, new")
    return "\n".join(lines) + "\n"


def pick_lever(levers_text: str) -> str:
    """What read and pick do with levers.md: parse, give ids, take the top open lever."""
    levers = LeverDoc.parse(levers_text)
    levers.assign_ids()
    return levers.top_open().title


def pick_lessons(loop_text: str, title: str) -> int:
    """What the prompt needs of loop-prompt.md: parse it and choose the lessons for the lever."""
    loop = LoopPromptDoc.parse(loop_text)
    return len(select_lessons(loop.lessons, title, loop.config.lessons_tokens))


def parse_growth(sizes: Sizes) -> Figure:
    template = (TEMPLATES / "loop-prompt.md").read_text()
    rows = []
    for count in PARSE_SIZES:
        levers_text = levers_file(count)
        loop_text = loop_prompt_with_lessons(template, count // 2, now_utc() - timedelta(days=400))
        title = pick_lever(levers_text)
        runs = sizes.parse_runs if count < PARSE_SIZES[-1] else sizes.largest_parse_runs
        levers_ms = median_ms(
            [
                seconds_of(lambda levers_text=levers_text: pick_lever(levers_text))
                for _ in range(runs)
            ]
        )
        lessons_ms = median_ms(
            [
                seconds_of(lambda loop_text=loop_text, title=title: pick_lessons(loop_text, title))
                for _ in range(runs)
            ]
        )
        total = levers_ms + lessons_ms
        rows.append(
            {
                "levers": count,
                "lessons": count // 2,
                "levers_bytes": len(levers_text),
                "loop_prompt_bytes": len(loop_text),
                "runs": runs,
                "ms": total,
                "levers_ms": levers_ms,
                "lessons_ms": lessons_ms,
                "us_per_lever": total * 1000 / count,
            }
        )
    at_10k = next(r for r in rows if r["levers"] == 10_000)
    growth = rows[-1]["us_per_lever"] / rows[0]["us_per_lever"]
    per_lever = " / ".join(f"{r['us_per_lever']:.0f}" for r in rows)
    return Figure(
        3,
        "parse + pick, 10k levers + 5k lessons",
        f"{at_10k['ms']:.0f} ms; {per_lever} µs/lever",
        at_10k["ms"],
        "ms",
        "≤ 100 ms; µs/lever at 100k ≤ 1.5× at 1k",
        at_10k["ms"] <= 100 and growth <= 1.5,
        compared_with="sizes 1k / 10k / 100k",
        details={"sizes": rows, "per_lever_growth_1k_to_100k": growth},
    )


# ---------------------------------------------------------------------------------------- 4

YEAR_LESSONS, YEAR_DONE_LEVERS, YEAR_DAYS, TICKS_PER_DAY = 2_000, 3_000, 365, 20


def first_request(scratch: Path) -> Figure:
    """The first request of a tick in a fresh project and in one with a year of history behind
    it."""
    fresh = new_project(scratch / "fresh")
    levers = (
        (TEMPLATES / "levers.md").read_text().rstrip("\n")
        + "\n"
        + "\n".join(lever_lines(YEAR_DONE_LEVERS, first_id=3))
        + "\n"
    )
    genome = (TEMPLATES / "genome.md").read_text().replace("version: 1\n", "version: 120\n", 1)
    loop = loop_prompt_with_lessons(
        (TEMPLATES / "loop-prompt.md").read_text(),
        YEAR_LESSONS,
        now_utc() - timedelta(days=YEAR_DAYS),
    )
    year = new_project(
        scratch / "year",
        {
            "levers.md": levers,
            "genome.md": genome,
            "loop-prompt.md": loop,
            **journal_files(YEAR_DAYS, TICKS_PER_DAY, now_utc()),
        },
    )
    sizes = {name: first_request_of(root) for name, root in (("fresh", fresh), ("year", year))}
    ratio = sizes["year"]["bytes"] / sizes["fresh"]["bytes"]
    shown = "{bytes:,} B ≈ {tokens_estimate:,} tokens"
    return Figure(
        4,
        "first request after a year",
        shown.format(**sizes["year"]),
        sizes["year"]["bytes"],
        "bytes",
        "≤ 1.2×",
        ratio <= 1.2,
        ratio=ratio,
        compared_with="fresh " + shown.format(**sizes["fresh"]),
        details={
            **sizes,
            "history": {
                "lessons": YEAR_LESSONS,
                "done_levers": YEAR_DONE_LEVERS,
                "journal_days": YEAR_DAYS,
                "ticks_per_day": TICKS_PER_DAY,
            },
        },
    )


def first_request_of(root: Path) -> dict[str, Any]:
    model = ScriptedModel(
        [
            tool_reply("write_file", {"path": "README.md", "content": "# Project\n\n## Usage\n"}),
            text_reply("Wrote README.md."),
            NO_CHANGE,
        ]
    )
    result = run_tick(root, make_model=lambda config: model, printer=quiet())
    if result.outcome != "shipped":
        raise RuntimeError(f"the first-request tick did not ship: {result.message}")
    request = model.requests[0]
    size = request_size(request)
    system = "".join(block["text"] for block in request["system"])
    return {
        "bytes": size,
        "tokens_estimate": size // CHARS_PER_TOKEN,
        "system_bytes": len(system.encode()),
        "tools_bytes": len(json.dumps(request["tools"]).encode()),
        "lessons_in_prompt": system.count("\n- [v"),
    }


# ---------------------------------------------------------------------------------------- 5

CACHE_LEVERS = (
    "# Levers\n\n- [ ] L-001 Make step 12 add two\n  check: grep -q 'value \\* 12 + 2' "
    "src/pipeline.py\n"
)
SOURCE = "".join(
    f'def step_{n}(value):\n    """Step {n} of the pipeline."""\n    return value * {n} + 1\n\n\n'
    for n in range(1, 25)
)


PARTS = {
    f"src/part_{n}.py": f"PART = {n}\n" + "# filler line for a realistic size\n" * 30
    for n in range(10)
}


def cache_prefix(scratch: Path) -> Figure:
    """Whether every request reads the whole previous one from the prompt cache, through a turn of
    ten parallel tool calls and the reflection, as the API's cache works (a marker looks back at
    most 20 blocks for an earlier entry: ``runner.fake_api.PromptCache``); and how much of each act
    turn's request repeats the turn before it, byte for byte."""
    from runner.fake_api import PromptCache
    from runner.model import Usage
    from runner.prices import cost_usd, price_for
    from runner.scripted import tool_replies
    from runner.session import REFLECT_TOOL, build_request, user_message

    root = new_project(
        scratch / "cache", {"src/pipeline.py": SOURCE, "levers.md": CACHE_LEVERS, **PARTS}
    )
    model = ScriptedModel(
        [
            tool_reply("search_files", {"pattern": "src/*.py"}, text="Looking for the pipeline."),
            tool_reply("read_file", {"path": "src/pipeline.py"}),
            tool_reply("search_content", {"pattern": "def step_1[0-9]", "path": "src"}),
            tool_replies(
                [("read_file", {"path": path}) for path in PARTS], text="Reading the ten parts."
            ),
            tool_reply(
                "edit_file",
                {
                    "path": "src/pipeline.py",
                    "old_text": "return value * 12 + 1",
                    "new_text": "return value * 12 + 2",
                },
            ),
            tool_reply("run_command", {"command": "grep -n 'value \\* 12' src/pipeline.py"}),
            tool_reply("read_file", {"path": "src/pipeline.py", "offset": 50, "limit": 20}),
            text_reply("Changed step_12 to add 2; grep shows the new line."),
            NO_CHANGE,
        ]
    )
    result = run_tick(root, make_model=lambda config: model, printer=quiet())
    if result.outcome != "shipped":
        raise RuntimeError(f"the cache tick did not ship: {result.message}")
    cache = PromptCache()
    usages = [cache.use(request) for request in model.requests]
    prompt = [
        u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
        for u in usages
    ]
    act = [canonical_bytes(r) for r in model.requests[:-1]]
    turns = []
    for n, body in enumerate(act):
        row = {
            "turn": n + 1,
            "bytes": len(body),
            "tokens": prompt[n],
            "cache_read": usages[n]["cache_read_input_tokens"],
            "cache_write": usages[n]["cache_creation_input_tokens"],
        }
        if n:
            common = common_prefix_length(act[n - 1], body)
            row.update(
                shared=common / len(body),
                of_previous=common / len(act[n - 1]),
                new_bytes=len(body) - common,
                common_bytes=common,
                reads_previous=usages[n]["cache_read_input_tokens"] / prompt[n - 1],
            )
        turns.append(row)
    # the same act with only the newest user turn marked, as before: the turn after the ten calls
    single = PromptCache()
    single_reads = []
    for n, request in enumerate(model.requests[:-1]):
        request = json.loads(json.dumps(request))
        for message in request["messages"][:-1]:
            for block in message["content"] if isinstance(message["content"], list) else []:
                block.pop("cache_control", None)
        usage = single.use(request)
        if n:
            single_reads.append(usage["cache_read_input_tokens"] / prompt[n - 1])
    # the reflection continues the act's conversation: does it read the whole last act request too?
    reflection_reads = usages[-1]["cache_read_input_tokens"] / prompt[-2]
    hits = [t["reads_previous"] for t in turns[1:]] + [reflection_reads]
    worst = min(hits)
    # its cost against a separate call offering only `reflect` (the way it was made before)
    price, _ = price_for("claude-sonnet-5-5")
    last = model.requests[-1]
    alone = build_request(
        last["model"],
        last["max_tokens"],
        last["system"][0]["text"],
        [REFLECT_TOOL],
        [user_message(last["messages"][-1]["content"][-1]["text"])],
    )
    alone_usage = PromptCache().use(alone)
    in_conversation = cost_usd(Usage(**{**usages[-1], "output_tokens": 0}), price)
    separate = cost_usd(Usage(**{**alone_usage, "output_tokens": 0}), price)
    later = turns[2:]
    share = sum(t["common_bytes"] for t in later) / sum(t["bytes"] for t in later)
    return Figure(
        5,
        "every request reads the previous one from the cache",
        f"{worst:.1%} at the worst of {len(hits)} requests (act turns 2 on, one of ten "
        "parallel calls, and the reflection)",
        worst * 100,
        "%",
        "100% on every request from turn 2 on",
        worst >= 0.999,
        compared_with=f"{len(act)} act turns + reflection",
        details={
            "turns": turns,
            "byte_prefix_share_turns_3_on": share,
            "one_moving_marker_reads_previous": [round(r, 4) for r in single_reads],
            "reflection_reads_last_act_request": reflection_reads,
            "reflection_tokens": prompt[-1],
            "reflection_usage": usages[-1],
            "reflection_input_cost_usd_sonnet_5_5": round(in_conversation, 6),
            "separate_reflection_input_cost_usd_sonnet_5_5": round(separate, 6),
            "separate_reflection_tokens": sum(alone_usage.values()),
        },
    )


# ---------------------------------------------------------------------------------------- 6


def review_and_status(scratch: Path, sizes: Sizes) -> Figure:
    """`genome review` and `genome status` as fresh processes over a long generated history
    (built and launched the way benchmarks/bench_review.py does)."""
    import bench_review

    root = scratch / "review"
    started = time.perf_counter()
    bench_review.build_repository(root, sizes.review_ticks, now_utc() - timedelta(minutes=5))
    built = time.perf_counter() - started
    commits = int(git(root, "rev-list", "--count", "HEAD"))

    def command(name: str) -> list[str]:
        return [PYTHON, "-c", bench_review.LAUNCH, name]

    review_ms = bench_review.median_seconds(command("review"), root, sizes.review_runs) * 1000
    status_ms = bench_review.median_seconds(command("status"), root, sizes.review_runs) * 1000
    return Figure(
        6,
        f"review / status, {sizes.review_ticks:,} ticks",
        f"review {review_ms:.0f} ms, status {status_ms:.0f} ms",
        review_ms,
        "ms",
        "review ≤ 1000 ms, status ≤ 200 ms",
        review_ms <= 1000 and status_ms <= 200,
        compared_with=f"{commits:,} commits",
        details={
            "ticks": sizes.review_ticks,
            "commits": commits,
            "history_built_s": built,
            "review_ms": review_ms,
            "status_ms": status_ms,
            "runs": sizes.review_runs,
            "history_from": "benchmarks/bench_review.py",
        },
    )


# ---------------------------------------------------------------------------------------- 8

BIG_CONFIG = GREEN_CONFIG


def big_repository(root: Path, files: int) -> Path:
    """A `genome init` project with ``files`` more small files (100 a folder), committed with
    `git fast-import` and checked out: the size of a large monorepo's working tree."""
    project = new_project(
        root,
        {
            "loop-prompt.md": with_frontmatter(
                (TEMPLATES / "loop-prompt.md").read_text(), BIG_CONFIG
            ),
            "levers.md": "# Levers\n\n"
            + "".join(f"- [ ] L-{n:03d} Add note {n}\n" for n in range(1, 100)),
        },
    )
    head = git(project, "rev-parse", "HEAD").strip()
    stream = [
        f"commit refs/heads/main\ncommitter Bench <bench@localhost> 1700000000 +0000\n"
        f"data 10\nbig files\nfrom {head}\n"
    ]
    for n in range(files):
        data = f"file {n}\n"
        stream.append(
            f"M 100644 inline src/d{n // 100:04d}/f{n % 100:02d}.txt\ndata {len(data)}\n{data}"
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=project, input="".join(stream).encode(), check=True
    )
    git(project, "reset", "-q", "--hard", "main")
    return project


class GitClock:
    """Sums the wall time of every git process the runner starts (its own git work), by wrapping
    `subprocess.run` where the runner's git modules call it, and counts `git status` calls."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0
        self.status_calls = 0

    def __enter__(self):
        self._real = subprocess.run
        clock = self

        def timed(argv, *args, **kwargs):
            if isinstance(argv, list) and argv and argv[0] == "git":
                started = time.perf_counter()
                try:
                    return clock._real(argv, *args, **kwargs)
                finally:
                    clock.seconds += time.perf_counter() - started
                    clock.calls += 1
                    clock.status_calls += "status" in argv
            return clock._real(argv, *args, **kwargs)

        subprocess.run = timed
        # GitPython's own calls (reads such as the spend ledger's `git log`) are git work too
        import git.cmd

        self._execute = git.cmd.Git.execute
        real_execute = self._execute

        def execute(this, command, *args, **kwargs):
            started = time.perf_counter()
            try:
                return real_execute(this, command, *args, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - started
                clock.calls += 1
                clock.status_calls += "status" in command

        git.cmd.Git.execute = execute
        return self

    def __exit__(self, *exc):
        import git.cmd

        subprocess.run = self._real
        git.cmd.Git.execute = self._execute


def big_repo_tick(scratch: Path, sizes: Sizes) -> Figure:
    """The runner's own git work in a green tick on a 100,000-file repository, against the floor of
    `git add` + `git commit` of the same change in the same repository."""
    files = sizes.big_files
    project = big_repository(scratch / "big", files)
    numbers = iter(range(1, 100))
    tick_s: list[float] = []
    calls: list[tuple[int, int]] = []
    floor_s: list[float] = []

    def tick() -> None:
        number = next(numbers)
        model = ScriptedModel(green_script(number))
        with GitClock() as clock:
            result = run_tick(project, make_model=lambda config: model, printer=quiet())
        if result.outcome != "shipped":
            raise RuntimeError(f"the big-repository tick did not ship: {result.message}")
        tick_s.append(clock.seconds)
        calls.append((clock.calls, clock.status_calls))

    # the floor works in a second worktree of the same repository, on a branch of its own, so that
    # the ticks run back to back as they do on a timer
    floor_tree = scratch / "big-floor"
    git(project, "worktree", "add", "-q", "-b", "floor", str(floor_tree))

    def floor() -> None:
        # the same change as a tick makes (one new file), committed by hand in the same repository
        number = len(floor_s) + 1
        path = floor_tree / "notes" / f"note-{number}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"note {number}\n")
        floor_s.append(
            seconds_of(
                lambda: (
                    run_quietly(["git", "add", str(path.relative_to(floor_tree))], floor_tree),
                    run_quietly(["git", "commit", "-q", "-m", f"Add note {number}"], floor_tree),
                )
            )
        )

    for _ in range(sizes.big_runs + 1):  # the first of each is a warm-up (the worktrees are made)
        tick()
        floor()
    tick_ms, floor_ms = median_ms(tick_s[1:]), median_ms(floor_s[1:])
    ratio = tick_ms / floor_ms
    return Figure(
        8,
        f"runner git work, {files:,}-file repo",
        f"{tick_ms:,.0f} ms",
        tick_ms,
        "ms",
        "≤ 2×",
        ratio <= 2,
        ratio=ratio,
        compared_with=f"git add + git commit {floor_ms:.0f} ms",
        details={
            "files": files,
            "runs": sizes.big_runs,
            "tick_git_ms": tick_ms,
            "floor_ms": floor_ms,
            "first_tick_git_ms": tick_s[0] * 1000,
            "git_calls_per_tick": calls[-1][0],
            "git_status_calls_per_tick": calls[-1][1],
        },
    )


# ---------------------------------------------------------------------------------------- 9


def sandbox_cost(scratch: Path, sizes: Sizes) -> Figure:
    """What the sandbox adds: a no-op `run_command` in bubblewrap against the same unsandboxed, and
    a whole green tick (scripted, instant model, in this process) with `sandbox: auto` against
    `off`."""
    from runner import sandbox
    from runner.tools import ToolBox

    if sandbox.probe()[0] is None:
        return Figure(
            9,
            "sandbox cost, green tick",
            "no bubblewrap",
            0.0,
            "×",
            "≤ 1.10×",
            False,
            compared_with="unsandboxed",
            details={"why": sandbox.probe()[1]},
        )
    command_root = new_project(scratch / "sandbox-command")
    boxes = {
        mode: ToolBox(
            command_root, sandbox=sandbox.prepare(command_root, command_root / ".git", mode=mode)
        )
        for mode in ("auto", "off")
    }
    command_times = interleaved(
        {
            mode: lambda box=box: box.call("run_command", {"command": "true"})
            for mode, box in boxes.items()
        },
        sizes.startup_runs,
        warmup=3,
    )
    runs = max(sizes.tick_runs, 5)
    levers = "# Levers\n\n" + "".join(f"- [ ] L-{n:03d} Add note {n}\n" for n in range(1, runs + 2))
    projects = {}
    for mode in ("auto", "off"):
        loop = with_frontmatter(
            (TEMPLATES / "loop-prompt.md").read_text(), GREEN_CONFIG + f"sandbox: {mode}\n"
        )
        projects[mode] = new_project(
            scratch / f"sandbox-tick-{mode}", {"levers.md": levers, "loop-prompt.md": loop}
        )
    numbers = {mode: iter(range(1, runs + 2)) for mode in projects}

    def tick(mode: str) -> None:
        model = ScriptedModel(green_script(next(numbers[mode])))
        result = run_tick(projects[mode], make_model=lambda config: model, printer=quiet())
        if result.outcome != "shipped" or (mode == "auto") != (result.record.sandbox == ""):
            raise RuntimeError(f"the {mode} tick did not ship as expected: {result.message}")

    tick_times = interleaved(
        {mode: lambda mode=mode: tick(mode) for mode in projects}, runs, warmup=1
    )
    on_ms, off_ms = median_ms(tick_times["auto"]), median_ms(tick_times["off"])
    command_on, command_off = median_ms(command_times["auto"]), median_ms(command_times["off"])
    ratio = on_ms / off_ms
    return Figure(
        9,
        "sandbox cost, green tick",
        f"{on_ms:,.0f} ms",
        on_ms,
        "ms",
        "≤ 1.10×",
        ratio <= 1.10,
        ratio=ratio,
        compared_with=f"the same tick unsandboxed {off_ms:,.0f} ms",
        details={
            "tick_runs": runs,
            "tick_sandboxed_ms": on_ms,
            "tick_unsandboxed_ms": off_ms,
            "command_runs": sizes.startup_runs,
            "command_sandboxed_ms": command_on,
            "command_unsandboxed_ms": command_off,
            "command_ratio": command_on / command_off,
            "tick_min_sandboxed_ms": min(tick_times["auto"]) * 1000,
            "tick_min_unsandboxed_ms": min(tick_times["off"]) * 1000,
        },
    )


# ---------------------------------------------------------------------------------------- report

# ---------------------------------------------------------------------------------------- 7

GATE_TESTS = 20  # shell test files the gate runs, each reading a source file
GATE_SOURCES = 300  # files in the project, so the proving run's scratch checkout has some to write


def gate_costs(scratch: Path, sizes: Sizes) -> Figure:
    """A proving gate and a `repeat: 5` metric gate, against the same gate run once."""
    from runner.gates import GateSpec, run_gates
    from runner.gitops import Git
    from runner.proving import prove, scratch_tree

    files = {f"src/module_{n:03d}.py": f"VALUE_{n} = {n}\n" for n in range(GATE_SOURCES)}
    files.update(
        {
            f"tests/test_{n:02d}.sh": f"grep -q 'VALUE_{n} = {n}' src/module_{n:03d}.py\n"
            for n in range(GATE_TESTS)
        }
    )
    files["run_tests.sh"] = (
        'start=$(date +%s%N); for t in tests/*.sh; do bash "$t" || exit 1; done; '
        'echo "took $(( ($(date +%s%N) - start) / 1000000 )) ms"\n'
    )
    project = new_project(scratch / "gates", files)
    new_test = project / "tests" / "test_new.sh"
    command = "bash run_tests.sh"
    plain = GateSpec("tests", command)
    repeated = GateSpec("tests", command, metric=r"took (\d+) ms", repeat=5)
    gate = LoopPromptDoc.parse(
        with_frontmatter(
            (TEMPLATES / "loop-prompt.md").read_text(),
            (
                'gates:\n  - name: tests\n    run: "bash run_tests.sh"\n    prove: '
                'true\ngrow_only: ["tests/**"]\n'
            ),
        )
    ).config.gates[0]
    with Git(project) as repo:
        head = repo.head_sha()

        def proving() -> None:
            # the tick's new test, as a proving run finds it: it fails on the start tree's code
            new_test.write_text("grep -q NEW_VALUE src/module_000.py\n")
            proof = prove(repo, project, head, [gate], ["tests/test_new.sh"])
            new_test.unlink()
            if not proof.ok:
                raise RuntimeError(f"the proving run did not prove the new test: {proof.why}")

        def gate_once(spec: GateSpec, runs: int) -> None:
            [result] = run_gates([spec], project)
            if not result.passed or result.attempts != runs:
                raise RuntimeError(f"the gate did not pass in {runs} runs: {result.summary()}")

        def checkout() -> None:
            with scratch_tree(repo, head):
                pass

        times = interleaved(
            {
                "plain": lambda: gate_once(plain, 1),
                "prove": proving,
                "repeat": lambda: gate_once(repeated, 5),
                "checkout": checkout,
            },
            runs=sizes.tick_runs,
        )
    plain_ms, prove_ms, repeat_ms, checkout_ms = (
        median_ms(times[name]) for name in ("plain", "prove", "repeat", "checkout")
    )
    prove_ratio, repeat_ratio = prove_ms / plain_ms, repeat_ms / plain_ms
    # a proving run is the gate twice (with the new tests, then without) on a fresh checkout
    expected_ms = 2 * plain_ms + checkout_ms
    met = prove_ms <= 1.25 * expected_ms and repeat_ratio <= 6
    return Figure(
        7,
        "proving gate; repeat: 5",
        f"prove {prove_ms:,.0f} ms ({prove_ratio:.1f}×); repeat: 5 {repeat_ms:,.0f} ms "
        f"({repeat_ratio:.1f}×)",
        prove_ratio,
        "×",
        "prove ≤ 1.25 × (2 runs + checkout); repeat: 5 ≤ 6×",
        met,
        ratio=prove_ratio,
        compared_with=f"the gate once {plain_ms:,.0f} ms",
        details={
            "runs": sizes.tick_runs,
            "plain_ms": plain_ms,
            "prove_ms": prove_ms,
            "repeat_ms": repeat_ms,
            "checkout_ms": checkout_ms,
            "prove_ratio": prove_ratio,
            "repeat_ratio": repeat_ratio,
            "prove_over_two_runs_and_checkout": prove_ms / expected_ms,
            "project_files": GATE_SOURCES + GATE_TESTS + 1,
            "test_files": GATE_TESTS,
        },
    )


def table(figures: list[Figure]) -> str:
    rows = [("#", "figure", "measured", "compared with", "ratio", "target", "met")]
    rows += [
        (
            str(f.number),
            f.title,
            f.measured,
            f.compared_with or "-",
            f"{f.ratio:.2f}×" if f.ratio else "-",
            f.target,
            "yes" if f.met else "NO",
        )
        for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def breakdown(figure: Figure) -> str:
    details = figure.details
    lines = ["figure 2, one green tick by phase (ms):"]
    for row in details["phases"]:
        extra = (
            f"   model {row['model_ms']:.0f} ms in {row['model_calls']}"
            if row["model_calls"]
            else ""
        )
        if "sdk_import_and_client_ms" in row:
            extra += f", SDK import + client {row['sdk_import_and_client_ms']:.0f} ms"
        lines.append(f"  {row['segment']:<34} {row['ms']:7.1f}{extra}")
    lines.append(
        f"  the same tick in process, SDK already imported: {details['in_process_tick_ms']:.0f} ms "
        f"({details['in_process_ratio']:.1f}× the floor)"
    )
    return "\n".join(lines)


def sandbox_breakdown(figure: Figure) -> str:
    details = figure.details
    if "command_sandboxed_ms" not in details:
        return f"figure 9: not measured ({details.get('why', 'no bubblewrap')})"
    return (
        f"figure 9, the sandbox: a no-op run_command {details['command_sandboxed_ms']:.1f} ms "
        "sandboxed, "
        f"{details['command_unsandboxed_ms']:.1f} ms not ({details['command_ratio']:.2f}×); a "
        "green tick "
        f"{details['tick_sandboxed_ms']:.0f} ms against {details['tick_unsandboxed_ms']:.0f} ms "
        f"({figure.ratio:.2f}×)"
    )


def machine() -> dict[str, Any]:
    git_version = subprocess.run(
        ["git", "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "git": git_version,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer runs and a 2,000-tick review history (under a minute)",
    )
    parser.add_argument("--ticks", type=int, help="ticks in the review history of figure 6")
    parser.add_argument(
        "--out", type=Path, default=HERE / "results.json", help="where the JSON goes"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.ticks:
        sizes = replace(sizes, review_ticks=args.ticks)
    started = time.perf_counter()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="genome-bench-") as tmp:
        scratch = Path(tmp)
        isolate(scratch)
        figures = []
        # Figure 2 goes last: its in-process ticks import the SDK, whose many objects would then
        # slow every garbage collection in the in-process figures after it.
        for measure in (
            lambda: not_due_tick(scratch, sizes),
            lambda: parse_growth(sizes),
            lambda: first_request(scratch),
            lambda: cache_prefix(scratch),
            lambda: review_and_status(scratch, sizes),
            lambda: gate_costs(scratch, sizes),
            lambda: big_repo_tick(scratch, sizes),
            lambda: sandbox_cost(scratch, sizes),
            lambda: green_tick(scratch, sizes),
        ):
            figures.append(measure())
            print(
                f"figure {figures[-1].number} measured ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
        figures.sort(key=lambda f: f.number)
    print(table(figures))
    print()
    print(breakdown(figures[1]))
    print(sandbox_breakdown(figures[8]))
    results = {
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {**machine(), "load_average_before": load_before},
        "figures": {str(f.number): asdict(f) for f in figures},
    }
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
