"""Sealed gates: checks kept outside the repository, which the model never sees.

They live in ``$XDG_CONFIG_HOME/genome-runner/sealed/<project id>.yaml`` (``~/.config`` when
``XDG_CONFIG_HOME`` is unset), in the form of loop-prompt.md's ``gates:`` list. The project id is
the full id of the repository's first commit (``git rev-list --max-parents=0 HEAD``; the smallest
when there are several), read with replace refs ignored, so every full clone of the project finds
the same file. A shallow clone has no first commit to name: it refuses to tick (exit 2) while the
folder holds any gates file, rather than run without them (``git fetch --unshallow`` fixes it).

Once a project's gates file was found, the runner remembers it, keyed by the repository's git
folder, in ``projects/`` beside the gates files (outside the repository, where no command of the
tick writes). When the file is then missing (removed, or the first commit's id changed under a
rewritten history) the tick stops with exit 2 and says so, rather than run without them.

No prompt names them. The tools refuse paths outside the project, so they cannot be read that way;
the sandbox does not bind their folder. After the visible gates pass they run like any gate; when
one fails, the model, the status log, the journal and the commit trailers learn only that "a
hidden check failed". Which one and its output go to ``<project id>.results.jsonl`` beside the
file, outside git, for ``genome review`` on this machine.
"""

from __future__ import annotations

import hashlib
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
    from runner.sandbox import Sandbox

HIDDEN = "hidden-checks"
FAILED_REASON = "a hidden check failed"


def sealed_dir() -> Path:
    """The folder that holds every project's sealed gates (and their results)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "genome-runner" / "sealed"


def project_id(root: Path) -> str | None:
    """The id of the repository's first commit (the smallest of several); None before any commit."""
    done = subprocess.run(
        ["git", "rev-list", "--max-parents=0", "HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
        env=scrubbed_env(),
    )
    roots = done.stdout.split() if done.returncode == 0 else []
    return min(roots) if roots else None


def _git_out(root: Path, *args: str) -> str | None:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, env=scrubbed_env()
    )
    return done.stdout.strip() if done.returncode == 0 else None


def is_shallow(root: Path) -> bool:
    return _git_out(root, "rev-parse", "--is-shallow-repository") == "true"


def memory_file(root: Path) -> Path | None:
    """Where the runner remembers that this repository (its git folder, shared by its worktrees) had
    sealed gates; None outside a repository."""
    common = _git_out(root, "rev-parse", "--path-format=absolute", "--git-common-dir")
    if not common:
        return None
    key = hashlib.sha256(os.path.realpath(common).encode("utf-8")).hexdigest()[:24]
    return sealed_dir() / "projects" / key


def _remember(root: Path, project: str) -> None:
    marker = memory_file(root)
    if marker is None:
        return
    try:
        if marker.read_text(encoding="utf-8").split("\n", 1)[0] == project:
            return
    except OSError:
        pass
    marker.parent.mkdir(parents=True, exist_ok=True)
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(f"{project}\n{os.path.realpath(root)}\n", encoding="utf-8")
    os.replace(tmp, marker)


def _missing(root: Path, project: str | None, path: Path) -> None:
    """Raise when this repository had sealed gates the runner can no longer find."""
    marker = memory_file(root)
    try:
        known = marker.read_text(encoding="utf-8").split("\n", 1)[0] if marker else ""
    except OSError:
        return
    if not known:
        return
    had = sealed_dir() / f"{known}.yaml"
    if known != project:
        what = (
            f"the project's id (its first commit) is now {project}, not {known}"
            if project
            else "the project's id (its first commit) cannot be read"
        )
        todo = (
            f"If the history was rewritten on purpose, rename {had.name} to {path.name}; if not, "
            "find what changed the first commit (`git replace -l`, a rebase, a shallow clone)"
        )
    else:
        what, todo = f"{had} is gone", "Put it back"
    raise GenomeFileError(
        str(had),
        None,
        f"this project had sealed gates, but {what}",
        f"{todo}. To run without sealed gates, delete {marker}",
    )


def gates_file(root: Path) -> Path:
    return sealed_dir() / f"{project_id(root)}.yaml"


def results_file(root: Path) -> Path:
    return sealed_dir() / f"{project_id(root)}.results.jsonl"


def load(git: Git) -> tuple[Gate, ...]:
    """The project's sealed gates; none when there is no file. A bad file is a ``GenomeFileError``
    naming it (exit 2), as a bad loop-prompt.md is."""
    if is_shallow(git.root) and any(sealed_dir().glob("*.yaml")):
        raise GenomeFileError(
            str(sealed_dir()),
            None,
            "this is a shallow clone, so its first commit, "
            "which names its sealed gates file, is unknown",
            "Run `git fetch --unshallow` once, then tick again",
        )
    the_id = project_id(git.root)
    path = sealed_dir() / f"{the_id}.yaml"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _missing(git.root, the_id, path)
        return ()
    except OSError as exc:
        raise GenomeFileError(
            str(path),
            None,
            f"the sealed gates file cannot be read ({exc.strerror})",
            "Fix its permissions, or remove it",
        ) from None
    real, project = os.path.realpath(path), os.path.realpath(git.root)
    if real == project or real.startswith(project.rstrip(os.sep) + os.sep):
        raise GenomeFileError(
            str(path),
            None,
            "the sealed gates file is inside the project, where the model can read it",
            "Point XDG_CONFIG_HOME outside the repository",
        )
    gates = parse_sealed(str(path), decode(str(path), data))
    if the_id:
        _remember(git.root, the_id)
    return gates


@dataclass
class SealedRun:
    passed: bool
    summary: GateResult  # what the trailer and the model may see: no name, no output


def run(
    git: Git,
    cwd: Path,
    gates: Sequence[Gate],
    *,
    time: str,
    lever: str,
    sandbox: Sandbox | None = None,
) -> SealedRun:
    """Run the sealed gates in ``cwd`` (in ``sandbox``); their names and output are written to the
    results file only."""
    results = run_gates([GateSpec(g.name, g.run, g.timeout) for g in gates], cwd, sandbox=sandbox)
    record(git, time, lever, results)
    passed = all(result.passed for result in results) and len(results) == len(gates)
    seconds = sum(result.seconds for result in results)
    summary = GateResult(
        name=HIDDEN,
        command="",
        passed=passed,
        exit_code=0 if passed else 1,
        seconds=seconds,
        timed_out=False,
        attempts=1,
        output_tail="",
        problem="" if passed else "(hidden)",
    )
    return SealedRun(passed=passed, summary=summary)


def record(git: Git, time: str, lever: str, results: Sequence[GateResult]) -> None:
    path = results_file(git.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        for result in results:
            handle.write(
                json.dumps(
                    {
                        "time": time,
                        "lever": lever,
                        "gate": result.name,
                        "passed": result.passed,
                        "summary": result.summary(),
                        "output": result.output_tail,
                    }
                )
                + "\n"
            )


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
            found.append(
                SealedResult(
                    str(data["time"]),
                    str(data["lever"]),
                    str(data["gate"]),
                    bool(data["passed"]),
                    str(data["summary"]),
                    str(data["output"]),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return found
