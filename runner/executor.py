"""Command executors: the person's own agent CLI (Claude Code, Codex, aider, a script) does the act
phase and the reflection in place of the built-in model session.

The runner keeps everything else: it picks the lever, gates the diff, commits or rolls back,
versions the genome and writes the lessons. The command's only job is to edit files, as the model
would through its tools, and to say what it did.

The protocol, as a command sees it:

- it runs with ``bash -c`` in the project root, in a session of its own; when the tick's wall clock
  runs out its whole process group is stopped (SIGTERM, then SIGKILL), and whatever it left running
  in the background is stopped when it exits;
- stdin holds the prompt, and ``GENOME_PROMPT_FILE`` names a file outside the project with the same
  text (removed afterwards); ``GENOME_PHASE`` is ``act`` or ``reflect``; ``GENOME_LEVER`` is the
  lever's id, empty on an idle tick;
- ``GENOME_BUDGET_USD`` is what it may still spend, in dollars (the tightest of the tick, day and
  week budgets, less what the tick has spent), empty when no money budget is set: a wrapper passes
  it on, e.g. to Claude Code's ``--max-budget-usd``;
- its final words are the last ~2000 characters of stdout, or the ``result`` of a Claude Code result
  object (``--output-format json`` or ``stream-json``); an error result (``is_error``) has no
  ``result``: its ``subtype`` and ``errors`` explain it, and its raw JSON is never an account;
- in the reflection, the last fenced ```json block of its final words is read as the input of the
  ``reflect`` tool (lesson, genome, levers);
- tokens count when it reports them: every line ``genome-usage: {"input_tokens": N, ...}`` on stdout
  or stderr adds to the tick (``cost_usd`` too, when given), and so does a Claude Code result
  object: ``total_cost_usd``, and the tokens of every model in ``modelUsage`` (side models such as
  the one that names things included), or ``usage`` when it has no ``modelUsage``.

The environment differs from the shells the model gets (``run_command``, gates), which never see the
API key: the executor is the agent the person chose, not the model's shell, and it needs its own
credentials, so it gets the runner's whole environment. It runs in the tick's sandbox all the same
(``runner.sandbox.for_executor``: network on, its configuration folders bound in), unless the config
says ``executor: {sandbox: false}``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeGuard

from runner.model import Usage
from runner.proc import Containment, kill_group
from runner.sandbox import Sandbox
from runner.session import REFLECT_TOOL, ActEnd, Reflection, parse_reflection

USAGE_PREFIX = "genome-usage:"
FINAL_WORDS_CHARS = 2000
OUTPUT_LIMIT = 200_000  # bytes of stdout and of stderr kept (head and tail) per run
_USAGE_LINE_BYTES = 65_536  # longer lines are not usage reports
_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
_JSON_BLOCK = re.compile(
    r"^[ \t]*```json[ \t]*\r?\n(.*?)^[ \t]*```[ \t]*\r?$", re.DOTALL | re.MULTILINE | re.IGNORECASE
)

REFLECT_ANSWER = (
    "# How to answer\n\n"
    "There is no `reflect` tool here: give its input as text instead, and change no file in this "
    "phase "
    "(the runner discards any change made now). " + REFLECT_TOOL["description"] + "\n\n"
    "End your reply with one fenced json block holding an object with those keys (`retire` a list "
    "of "
    "lesson texts, each lever an object with a `title` string and a `check` list of commands). "
    "Only "
    "the last such block is read. With nothing "
    "to say, it is:\n\n"
    "```json\n"
    '{"lesson": null, "genome": null, "levers": []}\n'
    "```\n"
)


@dataclass
class CommandRun:
    """One run of the executor command: what it printed (bounded), how it ended, what it
    reported.
    """

    phase: str
    exit_code: int  # -N when signal N ended it; meaningless when timed_out
    timed_out: bool
    seconds: float
    stdout: str  # head and tail around a "[... N bytes cut ...]" line when long
    stderr: str
    final_words: str  # Claude Code's ``result`` when it gave one, else stdout without usage lines
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    unpriced: Usage = field(default_factory=Usage)  # the part of usage reported without a cost
    reported_error: str = ""  # what an error result (``is_error``) said: its subtype and errors
    result_object: bool = False  # Claude Code printed a result object

    @property
    def ended(self) -> str:
        """How it ended, for the journal and warnings; empty when it exited 0."""
        if self.timed_out:
            return (
                f"the executor command was stopped after {self.seconds:.0f} s: "
                "the tick's time budget ran out"
            )
        if self.exit_code < 0:
            return f"the executor command was killed by signal {-self.exit_code}"
        if self.exit_code:
            return f"the executor command exited {self.exit_code}"
        return ""


class CommandExecutor:
    """Runs the configured command for the act phase (and its repairs) and for the reflection."""

    def __init__(
        self,
        command: str,
        root: Path,
        *,
        warn: Callable[[str], None] = lambda m: None,
        sandbox: Sandbox | None = None,
    ):
        self.command = command
        self.root = Path(root)
        self.sandbox = sandbox
        self.warn = warn
        self.usage = Usage()
        self.cost_usd = 0.0
        self.last_run: CommandRun | None = None

    def act(
        self, prompt: str, lever_id: str, deadline: float, budget_usd: float | None = None
    ) -> ActEnd:
        """Work on the lever. A failed command still ends "done": the gates judge its diff."""
        run = self._run("act", prompt, lever_id, deadline, budget_usd)
        if run is None:
            return ActEnd("time", "(not started: the tick's time budget was already spent)")
        notes = [note for note in (run.ended, _reported(run)) if note]
        text = run.final_words.strip()
        if run.exit_code and not run.timed_out and not text and not run.result_object:
            text = run.stderr.strip()  # no final words: what it said on the way out explains more
        head = f"({'; '.join(notes)})" if notes else ""
        words = _last_chars(text, FINAL_WORDS_CHARS - len(head))
        return ActEnd(
            "time" if run.timed_out else "done", "\n\n".join(part for part in (head, words) if part)
        )

    def reflect(
        self, prompt: str, lever_id: str, deadline: float, budget_usd: float | None = None
    ) -> Reflection:
        """The reflection, read from the last ```json block; anything unreadable means "no
        change".
        """
        run = self._run(
            "reflect", f"{prompt.rstrip()}\n\n{REFLECT_ANSWER}", lever_id, deadline, budget_usd
        )
        if run is None:
            self.warn("no reflection: the tick's time budget was already spent")
            return Reflection()
        blocks = _JSON_BLOCK.findall(run.final_words)
        if not blocks:
            self.warn("no reflection: the executor's reply has no ```json block")
            return Reflection()
        try:
            data = json.loads(blocks[-1])
        except ValueError as error:
            self.warn(
                f"no reflection: the executor's last ```json block is not valid JSON ({error})"
            )
            return Reflection()
        if not isinstance(data, dict):
            self.warn("no reflection: the executor's last ```json block is not an object")
            return Reflection()
        return parse_reflection(data)

    # ------------------------------------------------------------------------------------ running

    def _run(
        self,
        phase: str,
        prompt: str,
        lever_id: str,
        deadline: float,
        budget_usd: float | None = None,
    ) -> CommandRun | None:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            return None
        # The prompt file and the captured output live outside the project, so they never show in
        # its diff.
        with tempfile.TemporaryDirectory(
            prefix="genome-executor-", ignore_cleanup_errors=True
        ) as scratch:
            prompt_file, out_file, err_file = (
                Path(scratch) / name for name in ("prompt.md", "stdout", "stderr")
            )
            prompt_file.write_text(prompt, encoding="utf-8")
            extra = {
                "GENOME_PHASE": phase,
                "GENOME_LEVER": lever_id,
                "GENOME_PROMPT_FILE": str(prompt_file),
                "GENOME_BUDGET_USD": "" if budget_usd is None else f"{max(0.0, budget_usd):.4f}",
            }
            env = {**os.environ, **extra} if self.sandbox is None else self.sandbox.env(extra)
            exit_code, timed_out, seconds = self._execute(
                env, prompt_file, out_file, err_file, timeout
            )
            run = _read_run(phase, exit_code, timed_out, seconds, out_file, err_file, self.warn)
        self.usage.add(run.usage)
        self.cost_usd += run.cost_usd
        self.last_run = run
        if run.ended:
            detail = _last_line(run.stderr)
            self.warn(f"{phase}: {run.ended}" + (f" ({detail})" if detail else ""))
        return run

    def _execute(
        self, env: dict[str, str], prompt_file: Path, out_file: Path, err_file: Path, timeout: float
    ) -> tuple[int, bool, float]:
        """Output goes to files, not pipes: a background job holding them cannot keep the tick
        waiting.
        """
        started = time.monotonic()
        # the prompt file's folder is bound in: the sandbox's /tmp is its own
        sandbox = (
            None
            if self.sandbox is None
            else replace(self.sandbox, writable=(*self.sandbox.writable, prompt_file.parent))
        )
        with (
            prompt_file.open("rb") as stdin,
            out_file.open("wb") as stdout,
            err_file.open("wb") as stderr,
            Containment(sandbox) as containment,
        ):
            process = subprocess.Popen(
                containment.wrap(["bash", "-c", self.command], self.root),
                cwd=self.root,
                env=env,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
            timed_out = False
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                kill_group(process.pid)  # on timeout, and any background job it left behind
                process.wait()
        return process.returncode, timed_out, time.monotonic() - started


def _read_run(
    phase: str,
    exit_code: int,
    timed_out: bool,
    seconds: float,
    out_file: Path,
    err_file: Path,
    warn: Callable[[str], None],
) -> CommandRun:
    stdout, stderr = _bounded_text(out_file), _bounded_text(err_file)
    run = CommandRun(
        phase,
        exit_code,
        timed_out,
        seconds,
        stdout,
        stderr,
        final_words=_without_usage_lines(stdout),
    )
    for line in [*_usage_lines(out_file), *_usage_lines(err_file)]:
        _add_usage_line(run, line, warn)
    result = _claude_result(run.final_words)
    if result is not None:
        run.result_object = True
        _add_reported(
            run, _result_usage(result), result.get("total_cost_usd"), warn, "result object"
        )
        # the account is the result text or nothing: the object itself never reaches a commit
        run.final_words = result["result"] if isinstance(result.get("result"), str) else ""
        if result.get("is_error"):
            run.reported_error = _result_error(result)
    return run


_MODEL_USAGE_FIELDS = {
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
    "cacheCreationInputTokens": "cache_creation_input_tokens",
    "cacheReadInputTokens": "cache_read_input_tokens",
}


def _result_usage(result: dict) -> object:
    """The tokens of every model the run used: ``modelUsage`` (keyed by model, main model
    included) when given, since ``usage`` counts the main model only."""
    per_model = result.get("modelUsage")
    if not isinstance(per_model, dict) or not per_model:
        return result.get("usage")
    total = dict.fromkeys(_MODEL_USAGE_FIELDS.values(), 0)
    for counts in per_model.values():
        values = (
            {name: counts.get(source) or 0 for source, name in _MODEL_USAGE_FIELDS.items()}
            if isinstance(counts, dict)
            else {}
        )
        if not values or not all(_is_count(value) for value in values.values()):
            return {"input_tokens": "not a count"}  # ignored whole, with a warning
        for name, value in values.items():
            total[name] += value
    return total


def _result_error(result: dict) -> str:
    """What an error result says, in one line: its subtype (unless it reads "success") and
    errors."""
    subtype = str(result.get("subtype") or "")
    errors = result.get("errors") or []
    errors = [str(e) for e in errors] if isinstance(errors, list) else [str(errors)]
    head = subtype if subtype and subtype != "success" else "an error"
    detail = "; ".join(" ".join(e.split()) for e in errors)[:300]
    return f"{head}: {detail}" if detail else head


def _add_usage_line(run: CommandRun, line: str, warn: Callable[[str], None]) -> None:
    try:
        data = json.loads(line[len(USAGE_PREFIX) :])
    except ValueError:
        data = None
    if not isinstance(data, dict):
        warn(f"ignored a {USAGE_PREFIX} line that is not a JSON object: {line[:120]}")
        return
    _add_reported(run, data, data.get("cost_usd"), warn, f"{USAGE_PREFIX} line")


def _add_reported(
    run: CommandRun, usage: object, cost: object, warn: Callable[[str], None], source: str
) -> None:
    """Count reported tokens and dollars; a report with a non-count in it is ignored whole."""
    usage = usage if isinstance(usage, dict) else {}
    counts = {name: usage.get(name) or 0 for name in _USAGE_FIELDS}
    cost = cost or 0
    if not all(_is_count(v) for v in counts.values()) or not _is_amount(cost):
        warn(f"ignored a {source} whose token counts or cost are not non-negative numbers")
        return
    reported = Usage(**{name: int(value) for name, value in counts.items()})
    run.usage.add(reported)
    run.cost_usd += float(cost)
    if not cost:  # tokens without a price of their own: the tick prices them
        run.unpriced.add(reported)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_amount(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _claude_result(text: str) -> dict | None:
    """Claude Code's result object: all of stdout (``json``) or its last line (``stream-json``)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for candidate in (text.strip(), lines[-1] if lines else ""):
        if not candidate.startswith("{"):
            continue
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("type") == "result":
            return data
    return None


def _reported(run: CommandRun) -> str:
    return f"it reported {run.reported_error}" if run.reported_error else ""


# What agent CLIs print when they cannot work at all: not logged in, no or a rejected key. Claude
# Code exits 1 with "Not logged in"; aider 0.86 exits 0 after "litellm.AuthenticationError" and
# "The API provider is not able to authenticate you".
_CANNOT_WORK = re.compile(
    r"not logged in|please run /login|invalid api key|invalid x-api-key|authentication_?error"
    r"|not able to authenticate you|\b401\b.*unauthori[sz]ed|unauthori[sz]ed.*\b401\b"
    r"|api key (is )?(missing|not set|invalid)|no api key|credit balance is too low",
    re.IGNORECASE,
)
_TAIL_SEARCHED = 2000  # of the final words and of stderr: where a CLI says why it stopped


def cannot_work(run: CommandRun) -> str:
    """Why the run shows an agent that could not work at all (so the lever is not to blame), or "".

    The caller also checks that it changed nothing: a run that failed after editing is the
    lever's."""
    if run.timed_out:
        return ""
    said = " ".join(
        f"{run.reported_error} {run.final_words[-_TAIL_SEARCHED:]} "
        f"{run.stderr[-_TAIL_SEARCHED:]}".split()
    )
    if run.exit_code in (126, 127):
        return (
            f"the executor command could not run (exit {run.exit_code}): {_last_line(run.stderr)}"
        )
    match = _CANNOT_WORK.search(said)
    if match:
        return f"the agent cannot work: {_around(said, match)}"
    if run.exit_code:
        detail = run.reported_error or _last_line(run.stderr) or _last_line(run.final_words)
        return f"the executor command exited {run.exit_code} without changing anything" + (
            f": {detail}" if detail else ""
        )
    return ""


def _around(text: str, match: re.Match) -> str:
    start = max(0, match.start() - 60)
    return ("…" if start else "") + text[start : match.end() + 100].strip()


def _usage_lines(path: Path) -> list[str]:
    """Every usage line of the whole output, not only of the part kept: reports may come at any
    time.
    """
    lines = []
    prefix = USAGE_PREFIX.encode()
    with path.open("rb") as output:
        while line := output.readline(_USAGE_LINE_BYTES):
            if line.startswith(prefix):
                lines.append(line.decode("utf-8", errors="replace").rstrip("\r\n"))
    return lines


def _without_usage_lines(text: str) -> str:
    return "".join(
        line for line in text.splitlines(keepends=True) if not line.startswith(USAGE_PREFIX)
    )


def _bounded_text(path: Path, limit: int = OUTPUT_LIMIT) -> str:
    """The file's text if it fits in ``limit`` bytes, else its head and tail around a line saying
    what was cut.
    """
    size = path.stat().st_size
    with path.open("rb") as output:
        if size <= limit:
            return output.read().decode("utf-8", errors="replace")
        head = output.read(limit // 2)
        output.seek(size - limit // 2)
        tail = output.read()
    cut = size - len(head) - len(tail)
    return (
        head.decode("utf-8", errors="replace").rstrip("\n")
        + f"\n[... {cut:,} bytes cut ...]\n"
        + tail.decode("utf-8", errors="replace")
    )


def _last_chars(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[len(text) - limit + 1 :]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""
