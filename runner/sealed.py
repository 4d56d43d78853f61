"""Sealed gates: checks kept outside the repository, which the model never sees.

They live in ``$XDG_CONFIG_HOME/genome-runner/sealed/<project id>.yaml`` (``~/.config`` when
``XDG_CONFIG_HOME`` is unset), in the form of loop-prompt.md's ``gates:`` list. The project id is the
full id of the repository's first commit (``git rev-list --max-parents=0 HEAD``; the smallest
when there are several), so every clone of the project finds the same file.

No prompt names them. The tools refuse paths outside the project, so they cannot be read that way;
the sandbox does not bind their folder. After the visible gates pass they run like any gate; when
one fails, the model, the status log, the journal and the commit trailers learn only that "a
hidden check failed". Which one and its output go to ``<project id>.results.jsonl`` beside the
file, outside git, for ``genome review`` on this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from genome.errors import GenomeFileError
from genome.loop_prompt import Gate, parse_sealed
from genome.text import decode
from runner.gates import GateResult, GateSpec, run_gates
from runner.proc import scrubbed_env

if TYPE_CHECKING:
    from runner.gitops import Git

HIDDEN = "hidden-checks"
FAILED_REASON = "a hidden check failed"


def sealed_dir() -> Path:
    """The folder that holds every project's sealed gates (and their results)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "genome-runner" / "sealed"


def project_id(root: Path) -> str | None:
    """The id of the repository's first commit (the smallest of several); None before any commit."""
    done = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=root, capture_output=True,
                          text=True, env=scrubbed_env())
    roots = done.stdout.split() if done.returncode == 0 else []
    return min(roots) if roots else None


def gates_file(root: Path) -> Path:
    return sealed_dir() / f"{project_id(root)}.yaml"


def results_file(root: Path) -> Path:
    return sealed_dir() / f"{project_id(root)}.results.jsonl"


def load(git: Git) -> tuple[Gate, ...]:
    """The project's sealed gates; none when there is no file. A bad file is a ``GenomeFileError``
    naming it (exit 2), as a bad loop-prompt.md is."""
    path = gates_file(git.root)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ()
    except OSError as exc:
        raise GenomeFileError(str(path), None, f"the sealed gates file cannot be read ({exc.strerror})",
                              "Fix its permissions, or remove it") from None
    real, project = os.path.realpath(path), os.path.realpath(git.root)
    if real == project or real.startswith(project.rstrip(os.sep) + os.sep):
        raise GenomeFileError(str(path), None, "the sealed gates file is inside the project, where the model "
                              "can read it", "Point XDG_CONFIG_HOME outside the repository")
    return parse_sealed(str(path), decode(str(path), data))


@dataclass
class SealedRun:
    passed: bool
    summary: GateResult          # what the trailer and the model may see: no name, no output


def run(git: Git, cwd: Path, gates: Sequence[Gate], *, time: str, lever: str) -> SealedRun:
    """Run the sealed gates in ``cwd``; their names and output are written to the results file only."""
    results = run_gates([GateSpec(g.name, g.run, g.timeout) for g in gates], cwd)
    record(git, time, lever, results)
    passed = all(result.passed for result in results) and len(results) == len(gates)
    seconds = sum(result.seconds for result in results)
    summary = GateResult(name=HIDDEN, command="", passed=passed, exit_code=0 if passed else 1, seconds=seconds,
                         timed_out=False, attempts=1, output_tail="", problem="" if passed else "(hidden)")
    return SealedRun(passed=passed, summary=summary)


def record(git: Git, time: str, lever: str, results: Sequence[GateResult]) -> None:
    path = results_file(git.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps({"time": time, "lever": lever, "gate": result.name, "passed": result.passed,
                                     "summary": result.summary(), "output": result.output_tail}) + "\n")


@dataclass(frozen=True)
class SealedResult:
    time: str
    lever: str
    gate: str
    passed: bool
    summary: str
    output: str


def read_results(root: Path) -> list[SealedResult]:
    """Every recorded run of this project's sealed gates, oldest first; none on another machine."""
    if project_id(root) is None:
        return []
    path = results_file(root)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            data = json.loads(line)
            found.append(SealedResult(str(data["time"]), str(data["lever"]), str(data["gate"]),
                                      bool(data["passed"]), str(data["summary"]), str(data["output"])))
        except (ValueError, KeyError, TypeError):
            continue
    return found
