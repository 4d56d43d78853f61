"""Gates: shell commands that must pass before a tick may commit.

Each runs under ``bash -o pipefail`` with a timeout and without the API key. A red gate is run
once more before it counts (a transient blip is not a regression); the first gate still red
stops the run, since later gates would only judge a tree already known to be bad.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.proc import ShellResult, run_shell, scrubbed_env

OUTPUT_TAIL_CHARS = 4000


@dataclass(frozen=True)
class GateSpec:
    name: str
    command: str
    timeout: float = 600


@dataclass
class GateResult:
    name: str
    command: str
    passed: bool
    exit_code: int
    seconds: float       # all attempts together
    timed_out: bool
    attempts: int        # 1, or 2 when a failure was re-run
    output_tail: str     # the end of the last attempt's output

    def summary(self) -> str:
        """One line such as ``tests ok 3.1s`` or ``tests FAILED exit 1 2.0s``."""
        if self.passed:
            flaky = " (flaky: passed on re-run)" if self.attempts > 1 else ""
            return f"{self.name} ok {self.seconds:.1f}s{flaky}"
        why = "timed out" if self.timed_out else f"exit {self.exit_code}"
        return f"{self.name} FAILED {why} {self.seconds:.1f}s"


def run_gates(gates: Sequence[GateSpec], cwd: Path, env: Mapping[str, str] | None = None) -> list[GateResult]:
    """Run ``gates`` in order in ``cwd``; the list ends at the first gate still red after its re-run."""
    results = []
    for gate in gates:
        result = _run_gate(gate, cwd, scrubbed_env(env))
        results.append(result)
        if not result.passed:
            break
    return results


def gates_trailer(results: Sequence[GateResult]) -> str:
    """All results on one line for a commit trailer, e.g. ``tests ok 3.1s; artifact ok 0.0s``."""
    if not results:
        return "none"
    return "; ".join(" ".join(result.summary().split()) for result in results)


def _run_gate(gate: GateSpec, cwd: Path, env: dict[str, str]) -> GateResult:
    first = run_shell(gate.command, cwd, gate.timeout, pipefail=True, env=env)
    if first.exit_code == 0:
        return _result(gate, first, attempts=1, seconds=first.seconds)
    second = run_shell(gate.command, cwd, gate.timeout, pipefail=True, env=env)
    return _result(gate, second, attempts=2, seconds=first.seconds + second.seconds)


def _result(gate: GateSpec, shell: ShellResult, *, attempts: int, seconds: float) -> GateResult:
    return GateResult(
        name=gate.name, command=gate.command, passed=shell.exit_code == 0,
        exit_code=shell.exit_code, seconds=seconds, timed_out=shell.timed_out,
        attempts=attempts, output_tail=_tail(shell),
    )


def _tail(shell: ShellResult) -> str:
    output = shell.output
    if len(output) <= OUTPUT_TAIL_CHARS:
        return output
    tail = output[-OUTPUT_TAIL_CHARS:]
    newline = tail.find("\n")
    if 0 <= newline < OUTPUT_TAIL_CHARS // 4:
        tail = tail[newline + 1:]
    return f"[... earlier output cut; the gate printed {shell.total_bytes:,} bytes in all ...]\n{tail}"
