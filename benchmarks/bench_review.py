"""How fast `genome review` and `genome status` answer on a long history.

Writes a repository of 10,000 ticks (one every 30 minutes, the last a few minutes ago) with
`git fast-import`: for each tick the runner's record commit (journal entry, lever status log, genome
version, lessons, proposed levers, trailers) and, when it shipped, the code commit before it. Then
it runs the commands the way a person does, as fresh processes in that repository, and prints the
median of a few runs of each.

    python benchmarks/bench_review.py                 # 10,000 ticks, 5 runs per command
    python benchmarks/bench_review.py --ticks 2000 --runs 3
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import isolate

from genome.genome_file import GenomeDoc
from genome.journal import TickRecord, append_entry, journal_path
from genome.loop_prompt import Lesson, LoopPromptDoc
from genome.records import CodeTrailers, Outcome, RecordTrailers, code_message, record_message
from runner.resources import package_path

CADENCE = timedelta(minutes=30)
AUTHOR = b"genome runner <genome@localhost>"
# Imports the `genome` command line first, so each run pays the start-up a person's `genome` does.
LAUNCH = (
    "import sys, runner.cli; from runner import cli_review; "
    "getattr(cli_review, sys.argv[1]).main(sys.argv[2:], prog_name='genome ' + sys.argv[1])"
)
TARGETS = {"review": 1.0, "status": 0.2}


class History:
    """The simulated project: levers, genome, lessons, code, and the fast-import stream it
    writes."""

    def __init__(self, seed: int = 7):
        self.random = random.Random(seed)
        self.stream = bytearray()
        self.mark = 0
        self.next_id = 1
        self.levers: list[dict] = []
        self.finished: list[dict] = []
        self.genome = GenomeDoc.parse((package_path("templates") / "genome.md").read_text())
        self.loop = LoopPromptDoc.parse((package_path("templates") / "loop-prompt.md").read_text())
        self.journals: dict[str, str] = {}
        self.code: dict[str, list[str]] = {}
        for _ in range(6):
            self.propose()

    # ------------------------------------------------------------------ fast-import
    def commit(self, when: datetime, message: str, files: dict[str, str]) -> None:
        self.mark += 1
        seconds = int(when.timestamp())
        data = message.encode()
        out = self.stream
        out += b"commit refs/heads/main\nmark :%d\n" % self.mark
        out += b"author %s %d +0000\ncommitter %s %d +0000\n" % (AUTHOR, seconds, AUTHOR, seconds)
        out += b"data %d\n%s\n" % (len(data), data)
        for path, text in files.items():
            blob = text.encode()
            out += b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(blob), blob)

    # ------------------------------------------------------------------ the project's files
    def propose(self) -> dict:
        lever = {
            "id": f"L-{self.next_id:03d}",
            "title": f"Improve module {self.next_id % 40} step {self.next_id}",
            "mark": " ",
            "log": [],
            "check": f"pytest -q tests/test_m{self.next_id % 40}.py",
        }
        self.next_id += 1
        self.levers.append(lever)
        return lever

    def levers_text(self) -> str:
        # Finished levers go below the open ones, newest last; beyond a dozen they are archived,
        # as a person keeps the file short.
        self.finished += [
            lever for lever in self.levers if lever["mark"] != " " and lever not in self.finished
        ]
        self.finished = self.finished[-12:]
        self.levers = [lever for lever in self.levers if lever["mark"] == " "] + self.finished
        lines = ["# Levers", ""]
        for lever in self.levers:
            lines.append(f"- [{lever['mark']}] {lever['id']} {lever['title']}")
            lines.append(f"  check: {lever['check']}")
            lines += [f"  - {entry}" for entry in lever["log"]]
        return "\n".join(lines) + "\n"

    def code_change(self, tick: int) -> tuple[str, str]:
        path = f"src/module_{tick % 40}.py"
        lines = self.code.setdefault(path, [f'"""Module {tick % 40}."""', ""])
        lines += [f"def step_{tick}(value):", f"    return value * {tick % 97} + {tick % 13}", ""]
        del lines[2 : max(2, len(lines) - 60)]
        return path, "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ one tick
    def tick(self, number: int, when: datetime) -> None:
        roll = self.random.random()
        lever = next((item for item in self.levers if item["mark"] == " "), None)
        outcome = (
            "idle"
            if lever is None
            else "shipped"
            if roll < 0.62
            else "failed"
            if roll < 0.9
            else "budget"
            if roll < 0.95
            else "unavailable"
        )
        label = self.genome.label
        record = TickRecord(
            time=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            outcome=outcome,
            lever=lever["id"] if lever else "",
            title=lever["title"] if lever else "",
            version=label,
            tokens_in=self.random.randint(20_000, 90_000),
            tokens_out=self.random.randint(1_000, 6_000),
            cache_read=self.random.randint(0, 60_000),
        )
        record.cost_usd = round(
            (record.tokens_in * 3 + record.tokens_out * 15 + record.cache_read * 0.3) / 1e6, 4
        )
        done_at = when + timedelta(minutes=self.random.randint(2, 12))
        stamp = when.strftime("%Y-%m-%dT%H:%MZ")
        if outcome == "shipped":
            record.gates = f"tests ok {self.random.uniform(1, 9):.1f}s; check-1 ok 0.2s"
            path, text = self.code_change(number)
            self.commit(
                done_at - timedelta(seconds=30),
                code_message(
                    lever["id"],
                    lever["title"],
                    f"Added step_{number} to {path}; ran the tests and the check.",
                    CodeTrailers(
                        lever=lever["id"],
                        genome_version=label,
                        gates=record.gates,
                        tokens=record.tokens,
                        cost_usd=record.cost_usd * 0.8,
                    ),
                ),
                {path: text},
            )
            lever["mark"] = "x"  # fast-import cannot know the code commit's SHA to log here
            lever["log"].append(f"{stamp} {label} shipped")
        elif outcome == "failed":
            record.gates = "tests FAILED exit 1 3.2s"
            record.reason = "gate tests failed"
            attempt = sum("(attempt " in entry for entry in lever["log"]) + 1
            entry = f"{stamp} {label} gate tests failed (attempt {attempt}/3)"
            if attempt >= 3:
                lever["mark"] = "!"
                entry += ": blocked"
            lever["log"].append(entry)
        elif outcome in ("budget", "unavailable"):
            record.reason = (
                "the day budget is spent"
                if outcome == "budget"
                else "the API answered 529 overloaded_error after 4 tries"
            )
            lever["log"].append(f"{stamp} {label} stopped: {record.reason} (not counted)")
        files = self.reflect(number, record, when)
        files["levers.md"] = self.levers_text()
        journal = journal_path(record.time)
        self.journals[journal] = append_entry(self.journals.get(journal), record)
        files[journal] = self.journals[journal]
        subject = f"{record.lever or 'idle'} {outcome}" + (
            f", {record.version} → {record.new_version}" if record.new_version else ""
        )
        self.commit(
            done_at,
            record_message(
                subject,
                RecordTrailers(
                    outcome=Outcome(outcome),
                    lever=record.lever,
                    tick_version=record.version,
                    genome_version=record.new_version or record.version,
                    rollback="",
                    tokens=record.tokens,
                    cost_usd=record.cost_usd,
                ),
            ),
            files,
        )

    def reflect(self, number: int, record: TickRecord, when: datetime) -> dict[str, str]:
        files: dict[str, str] = {}
        if record.outcome == "shipped" and number % 7 == 0:
            body = self.genome.with_section(
                "What's proven", f"Modules up to step {number} pass their tests."
            )
            self.genome = body.with_version(self.genome.version + 1)
            record.new_version = self.genome.label
            files["genome.md"] = self.genome.render()
        if number % 40 == 0:
            self.loop = self.loop.with_lesson(
                Lesson(
                    record.version,
                    when.strftime("%Y-%m-%d"),
                    f"Lesson {number}: run the module's tests before finishing.",
                )
            )
            files["loop-prompt.md"] = self.loop.render()
        if sum(lever["mark"] == " " for lever in self.levers) < 4:
            self.propose()
        return files


def build_repository(directory: Path, ticks: int, now: datetime) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(directory)], check=True)
    history = History()
    start = now - CADENCE * ticks
    history.commit(
        start - timedelta(hours=1),
        "genome: start the loop\n",
        {
            "genome.md": history.genome.render(),
            "loop-prompt.md": history.loop.render(),
            "levers.md": history.levers_text(),
            ".gitignore": ".genome/\n",
        },
    )
    for number in range(1, ticks + 1):
        history.tick(number, start + CADENCE * (number - 1))
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=directory, input=bytes(history.stream), check=True
    )
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=directory, check=True)


def median_seconds(argv: list[str], cwd: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode()}"
            )
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=10_000, help="ticks in the generated history")
    parser.add_argument(
        "--runs", type=int, default=5, help="runs per command; the median is printed"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="genome-bench-") as tmp:
        isolate(
            Path(tmp)
        )  # status reads the crontab and the systemd folder: those of a scratch HOME
        root = Path(tmp) / "project"
        started = time.perf_counter()
        build_repository(root, args.ticks, datetime.now(timezone.utc) - timedelta(minutes=5))
        commits = subprocess.run(
            ["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        print(
            f"history: {args.ticks:,} ticks, {int(commits):,} commits, written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        root_commit = subprocess.run(
            ["git", "rev-list", "--max-parents=0", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.split()[0]
        cases = [
            ("review", "genome review (24h, markdown)", ["--format", "md"]),
            ("review", "genome review (24h, terminal text)", ["--format", "text"]),
            ("review", "genome review --html (24h)", ["--html", str(Path(tmp) / "review.html")]),
            ("review", "genome review --since 7d", ["--since", "7d", "--format", "md"]),
            ("review", "genome review, whole history", ["--since", root_commit, "--format", "md"]),
            ("status", "genome status", []),
        ]
        print(f"median of {args.runs} runs, each a fresh process:")
        for command, label, extra in cases:
            seconds = median_seconds(
                [sys.executable, "-c", LAUNCH, command, *extra], root, args.runs
            )
            target = TARGETS[command] if "24h" in label or command == "status" else None
            verdict = (
                ""
                if target is None
                else f"   (target {target * 1000:.0f} ms: "
                f"{'ok' if seconds <= target else 'SLOWER'})"
            )
            print(f"  {label:<38} {seconds * 1000:8.0f} ms{verdict}")


if __name__ == "__main__":
    main()
