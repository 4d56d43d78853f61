"""Gates: shell commands that must pass before a tick may commit.

Each runs under ``bash -o pipefail`` with a timeout and without the API key, in the tick's sandbox
(``runner.sandbox``). A red gate is run
once more before it counts (a transient blip is not a regression); the first gate still red
stops the run, since later gates would only judge a tree already known to be bad.

A gate with a ``metric`` also yields a number: the regular expression's group, read from the last
match in its output. With ``repeat: N`` it runs N times; the median is its value and the spread
(highest minus lowest) is how noisy it is. Judging that number against the start tree's is
``runner.metrics``' job.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.proc import ShellResult, run_shell, scrubbed_env
from runner.sandbox import Sandbox
from runner.secrets import scan_new_text

OUTPUT_TAIL_CHARS = 4000
EXCERPT_HEAD, EXCERPT_TAIL, EXCERPT_WIDTH = 5, 5, 200  # what the journal keeps of a red gate


@dataclass(frozen=True)
class GateSpec:
    name: str
    command: str
    timeout: float = 600
    metric: str = ""  # a regular expression with one group; empty for a pass/fail gate
    repeat: int = 1


@dataclass
class GateResult:
    name: str
    command: str
    passed: bool
    exit_code: int
    seconds: float  # all attempts together
    timed_out: bool
    attempts: int  # 1, or 2 when a failure was re-run
    output_tail: str  # the end of the last attempt's output
    values: list[float] = field(default_factory=list)  # a metric's number, one per run
    problem: str = ""  # why a gate that exited 0 still failed (its metric was not in the output)

    @property
    def value(self) -> float | None:
        """The median of the runs' numbers, or None for a gate without a metric."""
        return statistics.median(self.values) if self.values else None

    @property
    def spread(self) -> float:
        """Highest minus lowest run: the noise a difference must beat."""
        return max(self.values) - min(self.values) if self.values else 0.0

    output_lines: list[str] = field(default_factory=list)  # its first and last non-blank lines

    def excerpt(self) -> list[str]:
        """What a person needs to see why the gate is red: the command and how it ended, then the
        first and last lines it printed (``…`` between them when lines were left out)."""
        why = self.problem or ("timed out" if self.timed_out else f"exit {self.exit_code}")
        command = _clip(" ".join(self.command.split()))
        return [f"{self.name}: $ {command} ({why})", *self.output_lines]

    def summary(self) -> str:
        """One line such as ``tests ok 3.1s`` or ``tests FAILED exit 1 2.0s``."""
        if self.passed:
            flaky = " (flaky: passed on re-run)" if self.attempts > len(self.values or [0]) else ""
            number = ""
            if self.values:
                runs = f", {len(self.values)} runs" if len(self.values) > 1 else ""
                number = f" = {self.value:g} (spread {self.spread:g}{runs})"
            return f"{self.name} ok {self.seconds:.1f}s{number}{flaky}"
        why = "timed out" if self.timed_out else self.problem or f"exit {self.exit_code}"
        return f"{self.name} FAILED {why} {self.seconds:.1f}s"


def run_gates(
    gates: Sequence[GateSpec],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    *,
    sandbox: Sandbox | None = None,
    between: Callable[[], object] | None = None,
) -> list[GateResult]:
    """Run ``gates`` in order in ``cwd`` (in ``sandbox`` when given, with its environment); the list
    ends at the first gate still red after its re-run. ``between`` runs before every gate but the
    first: it puts ``cwd`` back as it was, so no gate is judged on what an earlier one wrote."""
    results: list[GateResult] = []
    for gate in gates:
        if between is not None and results:
            between()
        result = _run_gate(
            gate,
            cwd,
            sandbox.env() if sandbox is not None and env is None else scrubbed_env(env),
            sandbox,
        )
        results.append(result)
        if not result.passed:
            break
    return results


def gates_trailer(results: Sequence[GateResult]) -> str:
    """All results on one line for a commit trailer, e.g. ``tests ok 3.1s; artifact ok 0.0s``."""
    if not results:
        return "none"
    return "; ".join(" ".join(result.summary().split()) for result in results)


def red_gate_excerpt(results: Sequence[GateResult], allow: Sequence[str] = ()) -> list[str]:
    """The excerpt of the red gate, for the journal; a line that looks like it holds a secret is
    replaced by a note saying so (journals are committed)."""
    red = next((result for result in results if not result.passed), None)
    if red is None:
        return []
    return [
        "(a line that looked like a secret was left out)"
        if scan_new_text("gate output", line, allow=allow)
        else line
        for line in red.excerpt()
    ]


def _run_gate(
    gate: GateSpec, cwd: Path, env: dict[str, str], sandbox: Sandbox | None
) -> GateResult:
    if gate.metric or gate.repeat > 1:
        return _run_measured(gate, cwd, env, sandbox)
    first = run_shell(gate.command, cwd, gate.timeout, pipefail=True, env=env, sandbox=sandbox)
    if first.exit_code == 0:
        return _result(gate, first, attempts=1, seconds=first.seconds)
    second = run_shell(gate.command, cwd, gate.timeout, pipefail=True, env=env, sandbox=sandbox)
    return _result(gate, second, attempts=2, seconds=first.seconds + second.seconds)


def _run_measured(
    gate: GateSpec, cwd: Path, env: dict[str, str], sandbox: Sandbox | None
) -> GateResult:
    """``repeat`` runs, each read for the metric; one red run is re-run once, as any gate is."""
    values: list[float] = []
    seconds, attempts, rerun_left = 0.0, 0, True
    shell = None
    while len(values) < max(gate.repeat, 1):
        shell = run_shell(gate.command, cwd, gate.timeout, pipefail=True, env=env, sandbox=sandbox)
        seconds += shell.seconds
        attempts += 1
        number = read_metric(gate.metric, shell.output) if gate.metric else 0.0
        if shell.exit_code == 0 and number is not None:
            values.append(number)
            continue
        if rerun_left:
            rerun_left = False
            continue
        result = _result(gate, shell, attempts=attempts, seconds=seconds)
        if shell.exit_code == 0:
            result.passed = False
            result.problem = "no number matched its metric"
        return result
    assert shell is not None  # the loop runs at least once
    result = _result(gate, shell, attempts=attempts, seconds=seconds)
    result.values = values if gate.metric else []
    return result


def read_metric(pattern: str, output: str) -> float | None:
    """The metric's group in the last line of ``output`` it matches, as a number, or None."""
    found = None
    for match in re.finditer(pattern, output, re.MULTILINE):
        try:
            number = float(match.group(1).replace(",", "").replace("_", ""))
        except (TypeError, ValueError):
            continue
        if number == number and abs(number) != float(
            "inf"
        ):  # NaN and infinities compare as nothing
            found = number
    return found


def _result(gate: GateSpec, shell: ShellResult, *, attempts: int, seconds: float) -> GateResult:
    return GateResult(
        name=gate.name,
        command=gate.command,
        passed=shell.exit_code == 0,
        exit_code=shell.exit_code,
        seconds=seconds,
        timed_out=shell.timed_out,
        attempts=attempts,
        output_tail=_tail(shell),
        output_lines=_head_and_tail_lines(shell.output),
    )


def _head_and_tail_lines(output: str) -> list[str]:
    lines = [_clip(line.strip()) for line in output.splitlines() if line.strip()]
    if len(lines) <= EXCERPT_HEAD + EXCERPT_TAIL + 1:
        return lines
    left_out = len(lines) - EXCERPT_HEAD - EXCERPT_TAIL
    return [*lines[:EXCERPT_HEAD], f"… {left_out} more lines …", *lines[-EXCERPT_TAIL:]]


def _clip(line: str) -> str:
    return line if len(line) <= EXCERPT_WIDTH else line[: EXCERPT_WIDTH - 1] + "…"


def _tail(shell: ShellResult) -> str:
    output = shell.output
    if len(output) <= OUTPUT_TAIL_CHARS:
        return output
    tail = output[-OUTPUT_TAIL_CHARS:]
    newline = tail.find("\n")
    if 0 <= newline < OUTPUT_TAIL_CHARS // 4:
        tail = tail[newline + 1 :]
    return (
        f"[... earlier output cut; the gate printed {shell.total_bytes:,} bytes in all ...]\n{tail}"
    )
