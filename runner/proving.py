"""Tests that must bite: a ``prove: true`` gate runs on the start tree's code with the tick's new
tests.

The tick's tests are the files it added (or changed) under ``grow_only``, and test-like files
(``test_*.py``, ``*_test.py``, ``*.test.*``, ``*.spec.*``, anything under ``tests/`` or ``test/``)
anywhere. They are copied onto a
scratch checkout of the start commit, and each proving gate runs there. It must fail: a test that
passes on the old code does not test the change. A failure there counts only if the same gate
passes on the scratch checkout without the new tests; otherwise the failure could be the checkout's
(a missing build step), and nothing is proven.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from genome.loop_prompt import Gate
from runner.gates import GateResult
from runner.gitops import Git
from runner.paths import match_glob
from runner.proc import run_shell, scrubbed_env
from runner.sandbox import Sandbox


@contextmanager
def scratch_tree(git: Git, commit: str) -> Iterator[Path]:
    """A throwaway checkout of ``commit`` outside the project, removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="genome-scratch-"))
    path = parent / "tree"  # a fresh path: no stale registration can be in the way
    git.run_git("worktree", "add", "--detach", "--quiet", str(path), commit)
    try:
        yield path
    finally:
        shutil.rmtree(parent, ignore_errors=True)
        git.run_git("worktree", "prune")  # forgets the checkout just removed (and any a kill left)


def looks_like_a_test(path: str) -> bool:
    """A test by the usual conventions: ``test_*.py``, ``*_test.py``, ``*.test.*``, ``*.spec.*``, or
    anything in a ``tests/`` or ``test/`` folder."""
    folders, _, name = path.rpartition("/")
    return bool(re.fullmatch(r"test_.*\.py|.*_test\.py|.+\.(test|spec)\.[^/]+", name)) or any(
        part in ("tests", "test") for part in folders.split("/")
    )


def new_tests(root: Path, changed: Sequence[str], grow_only: Sequence[str]) -> list[str]:
    """The changed paths that exist now and are tests: under ``grow_only``, or test-like anywhere
    (a test written outside the globs is proven all the same)."""
    return [
        path
        for path in changed
        if (any(match_glob(g, path) for g in grow_only) or looks_like_a_test(path))
        and ((root / path).is_file() or (root / path).is_symlink())
    ]


@dataclass
class Proof:
    ok: bool
    why: str  # one line, for the status log
    feedback: str = ""  # for the model, in a repair round
    results: list[GateResult] | None = None


def prove(
    git: Git,
    root: Path,
    start: str,
    gates: Sequence[Gate],
    tests: Sequence[str],
    sandbox: Sandbox | None = None,
) -> Proof:
    """Each proving gate must fail on ``start``'s code with ``tests`` added, and pass without them
    (run in ``sandbox``, moved to the scratch tree, when given)."""
    results = []
    with scratch_tree(git, start) as tree:
        box = sandbox.moved_to(tree) if sandbox is not None else None
        for gate in gates:
            for rel in tests:
                target = tree / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / rel, target, follow_symlinks=False)
            with_tests = run_shell(gate.run, tree, gate.timeout, pipefail=True, sandbox=box)
            shown = ", ".join(tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3 else "")
            if with_tests.exit_code == 0:
                return Proof(
                    False,
                    "the new tests do not test the change",
                    f"Gate `{gate.name}` passed on the start tree's code with only your new tests "
                    f"added ({shown}): they pass without your change, so they do not test it. "
                    "Write tests "
                    "that fail on the old code and pass on the new.",
                )
            _reset(tree)  # the new tests out again, and whatever the run wrote
            without = run_shell(gate.run, tree, gate.timeout, pipefail=True, sandbox=box)
            if without.exit_code != 0:
                return Proof(
                    False,
                    f"gate {gate.name} fails on the start tree even without the new tests, "
                    "so it cannot prove them",
                    f"Gate `{gate.name}` fails on a fresh checkout of the start commit "
                    "with or without "
                    "your new tests, so the runner cannot tell whether they test your change.",
                )
            _reset(tree)
            results.append(
                GateResult(
                    name=f"{gate.name}-proof",
                    command=gate.run,
                    passed=True,
                    exit_code=with_tests.exit_code,
                    seconds=with_tests.seconds + without.seconds,
                    timed_out=with_tests.timed_out,
                    attempts=2,
                    output_tail="",
                )
            )
    return Proof(True, "", results=results)


def _reset(tree: Path) -> None:
    """The scratch checkout back to its commit: tracked files restored, untracked ones removed."""
    for args in (("checkout", "-q", "-f", "HEAD", "--", "."), ("clean", "-fdq")):
        subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", "-C", str(tree), *args],
            capture_output=True,
            env=scrubbed_env(),
        )
