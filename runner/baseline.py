"""Before the model is called: the gate worktree set up (``setup:``) and the gates run on the start
tree. A gate already red there, or one that cannot run at all (exit 126/127), or a ``setup:`` that
fails, is the environment's problem, not the lever's: the tick stops before any spend (exit 6).

Green results are remembered per code tree in ``runner.tree_memory`` (with the metric numbers), so
an unchanged tree is checked once, and a tree the runner shipped, whose gates all passed, not at
all. ``setup:`` runs when the gate worktree is new and again when the commands or the files matched
by ``setup_when:`` change (their blob ids, read from git, are the stamp).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from genome.loop_prompt import Config
from runner import sandbox, tree_memory
from runner.errors import EnvironmentBroken
from runner.gates import GateResult, GateSpec, run_gates
from runner.gitops import Git
from runner.paths import match_glob
from runner.proc import run_shell
from runner.progress import Printer
from runner.worktrees import Worktrees

SETUP_STAMP = "setup-stamp"
CANNOT_RUN = (126, 127)
FIRST_LINES = 8


def setup_stamp(git: Git, config: Config, tree: str) -> str:
    """What the setup depends on: its commands and the blob ids of the files ``setup_when``
    matches."""
    listing = ""
    if config.setup_when:
        entries = git.run_git("ls-tree", "-r", "-z", tree).split("\0")
        listing = "\n".join(
            e
            for e in entries
            if "\t" in e and any(match_glob(g, e.split("\t", 1)[1]) for g in config.setup_when)
        )
    return hashlib.sha256(json.dumps([list(config.setup), listing]).encode()).hexdigest()


def prepare_gate(
    git: Git,
    places: Worktrees,
    config: Config,
    start: str,
    tree: str,
    printer: Printer,
    env: dict[str, str] | None = None,
) -> Path:
    """The gate worktree at ``tree`` (HEAD at ``start``), with ``setup:`` run when it has to be.
    Raises ``EnvironmentBroken`` when a setup command fails."""
    stamp_file = places.base / SETUP_STAMP
    stamp = setup_stamp(git, config, tree) if config.setup else ""
    fresh = not places.gate_exists()
    same = config.setup and not fresh and stamp_file.exists() and stamp_file.read_text() == stamp
    where = places.prepare_gate(start, tree, keep_ignored=bool(same))
    if config.setup and not same:
        stamp_file.unlink(missing_ok=True)
        run_setup(config, where, printer, env)
        stamp_file.write_text(stamp)
    return where


def prepare_act(git: Git, places: Worktrees, config: Config, start: str, printer: Printer) -> Path:
    """The act worktree at ``start``, set up like the gate worktree (the model runs the tests
    too)."""
    stamp_file = places.base / (SETUP_STAMP + "-act")
    stamp = setup_stamp(git, config, git.tree_of(start)) if config.setup else ""
    same = (
        bool(config.setup)
        and places.act_exists()
        and stamp_file.exists()
        and stamp_file.read_text() == stamp
    )
    where = places.prepare_act(start, keep_ignored=same)
    if config.setup and not same:
        stamp_file.unlink(missing_ok=True)
        run_setup(config, where, printer)
        stamp_file.write_text(stamp)
    return where


def run_setup(
    config: Config, where: Path, printer: Printer, env: dict[str, str] | None = None
) -> None:
    for command in config.setup:
        printer.say(f"setup: {command}")
        done = run_shell(
            command,
            where,
            config.command_timeout,
            pipefail=True,
            sandbox=sandbox.for_place(where, config, env),
        )
        if done.exit_code != 0:
            why = "timed out" if done.timed_out else f"exited {done.exit_code}"
            raise EnvironmentBroken(
                f"setup command `{command}` {why}:\n{first_lines(done.output)}",
                what="setup",
                output=done.output,
            )


def check(git: Git, places: Worktrees, config: Config, start: str, printer: Printer) -> None:
    """The gates on the start tree, once per tree; ``EnvironmentBroken`` when they cannot pass."""
    tree = git.tree_of(start)
    code, gates = tree_memory.code_tree_id(git, start), tree_memory.gates_key(config.gates)
    if not config.gates or gates in tree_memory.load_green(git.root, code):
        if config.setup:
            prepare_gate(git, places, config, start, tree, printer)
        return
    printer.phase("baseline", f"the gates on the start tree {tree[:12]}")
    where = prepare_gate(git, places, config, start, tree, printer)
    # metric gates are run on the start tree right after, measured with their own number of runs
    results = run_gates(
        [GateSpec(g.name, g.run, g.timeout) for g in config.gates if not g.metric],
        where,
        sandbox=sandbox.for_place(where, config),
    )
    for result in results:
        printer.say(f"gate {result.summary()}")
    red = next((r for r in results if not r.passed), None)
    if red is not None:
        raise EnvironmentBroken(describe(red), what=red.name, output=red.output_tail)
    tree_memory.mark_green(git.root, code, gates)


def cannot_run(result: GateResult) -> bool:
    return not result.timed_out and result.exit_code in CANNOT_RUN


def describe(red: GateResult) -> str:
    how = (
        f"cannot run (exit {red.exit_code}: command not found or not executable)"
        if cannot_run(red)
        else "is already red before any change"
    )
    return (
        f"gate {red.name} (`{red.command}`) {how}; a person needs to fix the project or its "
        f"environment. Its first lines:\n{first_lines(red.output_tail)}"
    )


def first_lines(output: str) -> str:
    lines = output.strip().splitlines()
    shown = "\n".join(f"  {line[:200]}" for line in lines[:FIRST_LINES])
    return shown + (
        f"\n  ... ({len(lines) - FIRST_LINES} more lines)" if len(lines) > FIRST_LINES else ""
    )
