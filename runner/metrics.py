"""Metric gates: a number read from a gate's output must improve (or hold) against the start tree.

The start tree's number is read from the per-tree memory (``runner.tree_memory``) before the model
acts, or measured then, in the clean tree, with the same number of runs. The candidate ships only
if its number is better than the start's by more than ``min_delta`` and by more than the noise,
the larger spread of the two measurements. ``must: hold`` only forbids getting worse than the
noise (and ``min_delta``, which is then a tolerance) allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from genome.loop_prompt import Gate
from runner.gates import GateResult, GateSpec, run_gates
from runner.tree_memory import Measured, gate_key

# the start tree gave no number: used in judging, never remembered (the next tick measures again)
NO_NUMBER = Measured(value=0.0, spread=0.0, runs=0)


def metric_gates(gates: Sequence[Gate]) -> list[Gate]:
    return [gate for gate in gates if gate.metric]


def key_of(gate: Gate) -> str:
    return gate_key(gate.name, gate.run, gate.metric, gate.repeat)


def spec_of(gate: Gate) -> GateSpec:
    return GateSpec(gate.name, gate.run, gate.timeout, metric=gate.metric, repeat=gate.repeat)


def measured(result: GateResult) -> Measured:
    if not result.passed or result.value is None:
        return NO_NUMBER
    return Measured(value=result.value, spread=result.spread, runs=len(result.values))


def measure_missing(
    root, memory: dict[str, Measured], gates: Sequence[Gate], say=print, *, sandbox=None
) -> bool:
    """Measure, in ``root`` (which must hold the clean start tree, in ``sandbox`` when given), each
    metric gate ``memory`` has no number for, with the gate's own number of runs. True when anything
    was measured."""
    missing = [gate for gate in metric_gates(gates) if key_of(gate) not in memory]
    for gate in missing:
        say(
            f"measuring {gate.name} on the start tree "
            f"({gate.repeat} run{'s' if gate.repeat > 1 else ''})"
        )
        [result] = run_gates([spec_of(gate)], root, sandbox=sandbox)
        found = measured(result)
        if found.runs:  # no number is never remembered: the next tick measures again
            memory[key_of(gate)] = found
        else:
            say(f"{gate.name} gave no number on the start tree ({result.summary()})")
    return bool(missing)


def by_name(memory: dict[str, Measured], gates: Sequence[Gate]) -> dict[str, Measured]:
    return {
        gate.name: memory[key_of(gate)] for gate in metric_gates(gates) if key_of(gate) in memory
    }


@dataclass(frozen=True)
class Judgement:
    gate: Gate
    start: Measured
    now: Measured
    ok: bool
    why: str  # one line, for the status log and the model

    def trailer(self) -> str:
        """``speed=812 start=900 spread=4 runs=5`` (``start=none`` when the start tree gave no
        number)."""
        start = f"{self.start.value:g}" if self.start.runs else "none"
        return (
            f"{self.gate.name}={self.now.value:g} start={start} "
            f"spread={self.now.spread:g} runs={self.now.runs}"
        )


def judge(gate: Gate, start: Measured, now: Measured) -> Judgement:
    """Whether the number moved the way the gate asks, beyond ``min_delta`` and the noise."""
    if not start.runs:
        if gate.must == "improve" and not gate.allow_no_start:
            return Judgement(
                gate,
                start,
                now,
                False,
                f"{gate.name} = {now.value:g}, but the start tree gave no "
                "number, so nothing shows it improved (`allow_no_start: true` lets a first "
                "number ship)",
            )
        return Judgement(
            gate,
            start,
            now,
            True,
            f"{gate.name} = {now.value:g} (no number on the start tree to compare with)",
        )
    gain = now.value - start.value if gate.better == "higher" else start.value - now.value
    delta = abs(start.value) * gate.min_delta / 100 if gate.min_delta_percent else gate.min_delta
    noise = max(start.spread, now.spread)
    bar = max(delta, noise)
    moved = f"{gate.name} {start.value:g} → {now.value:g} ({gate.better} is better"
    limits = f"min_delta {gate.min_delta_text}, noise {noise:g}"
    if gate.must == "hold":
        ok = -gain <= bar
        why = f"{moved}; it may not get worse by more than {bar:g}: {limits})"
        return Judgement(gate, start, now, ok, why if not ok else f"{moved}, held)")
    ok = gain > bar
    why = f"{moved}; it must improve by more than {bar:g}: {limits})"
    return Judgement(gate, start, now, ok, why if not ok else f"{moved}, improved by {gain:g})")


def judge_results(
    gates: Sequence[Gate], start: dict[str, Measured], results: Sequence[GateResult]
) -> list[Judgement]:
    by_name = {result.name: result for result in results}
    judged = []
    for gate in metric_gates(gates):
        result = by_name.get(gate.name)
        if result is None or not result.passed:
            continue
        judged.append(judge(gate, start.get(gate.name, NO_NUMBER), measured(result)))
    return judged


def trailer(judged: Sequence[Judgement]) -> str:
    return "; ".join(j.trailer() for j in judged)


def memory_of(gates: Sequence[Gate], judged: Sequence[Judgement]) -> dict[str, Measured]:
    """The candidate's numbers as a tree-memory entry: the next tick's start values."""
    found = {j.gate.name: j.now for j in judged}
    return {key_of(gate): found[gate.name] for gate in metric_gates(gates) if gate.name in found}


def parse_trailer(text: str) -> dict[str, float]:
    """``Metric:`` trailer → ``{gate name: value}``; what the review charts."""
    return {name: value for name, (value, _) in parse_trailer_with_start(text).items()}


def parse_trailer_with_start(text: str) -> dict[str, tuple[float, float | None]]:
    """``Metric:`` trailer → ``{gate name: (value, start value or None)}``."""
    found: dict[str, tuple[float, float | None]] = {}
    for part in text.split(";"):
        pairs = dict(field.partition("=")[::2] for field in part.split() if "=" in field)
        fields = part.split()
        if not fields or "=" not in fields[0]:
            continue
        name = fields[0].partition("=")[0]
        try:
            value = float(pairs[name])
        except (KeyError, ValueError):
            continue
        try:
            start = float(pairs.get("start", ""))
        except ValueError:
            start = None
        found[name] = (value, start)
    return found
