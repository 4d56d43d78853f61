"""Gates a model cannot game: what the tick checks on the start tree, around the model's turn.

- **Red before green**: a lever's ``check:`` lines run on the start tree before the model acts. A
  lever whose checks all pass already is marked done ("already satisfied", nothing spent) and the
  next open lever is taken. Levers the reflection proposes are added only when one of their checks
  fails on the tree as it is; the others are kept out, with the reason in the journal.
- **Metric gates**: the start tree's numbers, remembered per tree or measured before the act, and
  the candidate's judged against them (``runner.metrics``).

The start-tree runs happen in the gate worktree checked out at the start tree (after ``setup:``), so
they see the same ignored files (a virtualenv, build caches) the gates see later; the person's tree
is never used.
"""

from __future__ import annotations

from pathlib import Path

from runner import baseline, intent, metrics, proving, sandbox, sealed, tree_memory
from runner.paths import match_glob
from runner.proc import run_shell
from runner.state import Tick, Verdict, normalized

MAX_PROPOSALS = 3


# Files that change how tests are collected or run without changing any test: a new one can skip or
# rewrite every committed test. With ``grow_only`` set, none of these may be added anywhere in the
# project (the runner's new tests need none); ``__init__.py`` only under the grow_only globs, since
# new packages elsewhere are ordinary code.
TEST_CONFIG_FILES = (
    "conftest.py",
    "pytest.ini",
    "tox.ini",
    "setup.cfg",
    "pyproject.toml",
    "noxfile.py",
)
TEST_PACKAGE_FILE = "__init__.py"


def grow_only_refusal(tick: Tick, changed: list[str]) -> str:
    """Why the change breaks ``grow_only`` (an existing file changed, or a file added that can
    change how the committed tests run); "" when it does not."""
    if not tick.config.grow_only:
        return ""
    grown = grow_only_changes(tick, changed)
    if grown:
        return f"changed existing file {', '.join(grown[:3])} under grow_only"
    added = [
        path
        for path in changed
        if not path.endswith("/")
        and tick.git.head_file(path) is None
        and _is_test_config(path, tick.config.grow_only)
    ]
    if added:
        return (
            f"added {', '.join(added[:3])}, which can change how the committed tests run "
            "(refused while grow_only is set)"
        )
    return ""


def _is_test_config(path: str, grow_only) -> bool:
    name = path.rsplit("/", 1)[-1]
    if name in TEST_CONFIG_FILES:
        return True
    return name == TEST_PACKAGE_FILE and any(match_glob(g, path) for g in grow_only)


def grow_only_changes(tick: Tick, changed: list[str]) -> list[str]:
    """Changed paths under ``grow_only`` that HEAD has: modified, deleted or renamed away."""
    globs = tick.config.grow_only
    return [
        path
        for path in changed
        if any(match_glob(g, path) for g in globs)
        and not path.endswith("/")
        and tick.git.file_at(tick.start.head, path) is not None
    ]


def describe(gate) -> str:
    """What the model is told about a gate beyond its command."""
    if not gate.metric:
        return " (must fail on the old code with only your new tests added)" if gate.prove else ""
    number = f"the number its output matches `{gate.metric}`"
    runs = f", median of {gate.repeat} runs" if gate.repeat > 1 else ""
    if gate.must == "hold":
        return f" ({number}{runs} must not get worse; {gate.better} is better)"
    return (
        f" ({number}{runs} must get better than on the start tree by more than "
        f"{gate.min_delta_text} "
        f"and more than the noise; {gate.better} is better)"
    )


def before_act(tick: Tick) -> None:
    """Skip levers already satisfied, then read or measure the start tree's metric numbers."""
    if tick.lever is None:
        return
    # the start tree's entry as it is before the model acts; written back whole when the tick ends
    tick.start_tree = tree_memory.code_tree_id(tick.git, tick.start.head)
    tick.start_memory = tree_memory.load(tick.root, tick.start_tree)
    tick.start_green = tree_memory.load_green(tick.root, tick.start_tree)
    unmeasured = [
        gate
        for gate in metrics.metric_gates(tick.config.gates)
        if metrics.key_of(gate) not in tick.start_memory
    ]
    if not tick.lever.checks and not unmeasured:
        return  # nothing to run on the start tree: its worktree is not even checked out
    where = at_tree(tick, tick.start.head)
    skip_satisfied(tick, where)
    if tick.lever is not None and unmeasured:
        metrics.measure_missing(
            where,
            tick.start_memory,
            tick.config.gates,
            tick.printer.say,
            sandbox=sandbox.for_place(where, tick.config),
        )


def at_tree(tick: Tick, commit: str) -> Path:
    """The gate worktree with ``commit``'s tree checked out (and set up), for runs on it."""
    return baseline.prepare_gate(
        tick.git,
        tick.need_places(),
        tick.config,
        tick.start.head,
        tick.git.tree_of(commit),
        tick.printer,
    )


def first_failing_check(tick: Tick, checks: list[str], where: Path) -> str | None:
    """The first check that fails on the tree checked out in ``where``, or None if all pass."""
    for check in checks:
        result = run_shell(
            check,
            where,
            tick.config.command_timeout,
            pipefail=True,
            sandbox=sandbox.for_place(where, tick.config),
        )
        if result.exit_code != 0:
            return check
    return None


def skip_satisfied(tick: Tick, where: Path) -> None:
    """A check that already passes proves nothing: such levers are done without spending."""
    while tick.lever is not None and tick.lever.checks:
        lever, lever_id = tick.lever, tick.lever_id()
        if first_failing_check(tick, lever.checks, where) is not None:
            return
        count = len(lever.checks)
        passes = "its check passes" if count == 1 else f"all {count} checks pass"
        line = f"already satisfied: {passes} on the start tree, before any change; nothing spent"
        tick.satisfied.append((lever_id, line))
        tick.record.satisfied.append(f"{lever_id} {lever.title}")
        tick.printer.say(f"{lever_id} {line}")
        done = {lever_id for lever_id, _ in tick.satisfied}
        tick.lever = next(
            (
                each
                for each in tick.project.levers.levers
                if each.status == "open" and each.id not in done
            ),
            None,
        )
        tick.record.lever = tick.lever_id() if tick.lever else ""
        tick.record.title = tick.lever.title if tick.lever else ""
        record = tick.need_intent()
        record.lever = tick.record.lever
        intent.save(tick.root, record)
        if tick.lever is not None:
            tick.printer.phase("pick", f"{tick.lever.id} {tick.lever.title}")


def judge_metrics(tick: Tick, results: list) -> Verdict | None:
    """A red verdict when a metric gate's number did not move as it must; the numbers are
    recorded."""
    gates = tick.config.gates
    tick.judged = metrics.judge_results(gates, metrics.by_name(tick.start_memory, gates), results)
    tick.record.metrics = metrics.trailer(tick.judged)
    for judgement in tick.judged:
        tick.printer.say(f"metric {judgement.why}")
    bad = [j for j in tick.judged if not j.ok]
    if not bad:
        return None
    verb = "hold" if bad[0].gate.must == "hold" else "improve"
    reason = (
        f"metric {bad[0].gate.name} did not {verb}"
        if bad[0].start.runs
        else f"metric {bad[0].gate.name} has no start number to improve on"
    )
    return Verdict(
        False,
        reason,
        results,
        feedback=f"The gates passed, but a metric gate judged the change: {bad[0].why}.",
    )


def prove_new_tests(tick: Tick, changed: list[str], results: list, where: Path) -> Verdict | None:
    """``prove: true`` gates must fail on the start tree's code with the tick's new tests (read from
    ``where``, the gate worktree holding the candidate)."""
    gates = [gate for gate in tick.config.gates if gate.prove]
    tests = proving.new_tests(where, changed, tick.config.grow_only) if gates else []
    if not tests:
        return None
    tick.printer.say(
        f"proving {', '.join(g.name for g in gates)} with {len(tests)} new test file(s) "
        "on the start tree's code"
    )
    proof = proving.prove(
        tick.git,
        where,
        tick.start.head,
        gates,
        tests,
        sandbox=sandbox.for_place(where, tick.config),
    )
    if not proof.ok:
        return Verdict(False, proof.why, results, feedback=proof.feedback)
    proved = proof.results or []  # a proof that holds always carries its gate results
    results.extend(proved)
    for result in proved:
        tick.printer.say(f"gate {result.summary()}")
    return None


def run_sealed(tick: Tick, results: list, where: Path) -> Verdict | None:
    """The sealed gates, last, in the gate worktree; the model learns only that a hidden check
    failed, never which."""
    if not tick.sealed_gates:
        return None
    run = sealed.run(
        tick.git,
        where,
        tick.sealed_gates,
        time=tick.record.time,
        lever=tick.record.lever,
        sandbox=sandbox.for_place(where, tick.config),
    )
    tick.printer.say(f"gate {run.summary.summary()}")
    results.append(run.summary)
    if run.passed:
        return None
    return Verdict(
        False,
        sealed.FAILED_REASON,
        results,
        repairable=False,
        feedback="A hidden check failed. The runner does not say which or why.",
    )


def remember_trees(tick: Tick) -> None:
    """Written after every model process has ended: the start tree's entry as this tick read it
    (undoing anything planted in it meanwhile) and, once shipped, the candidate's numbers and its
    green gates."""
    if tick.start_tree:
        tree_memory.save(tick.root, tick.start_tree, tick.start_memory, tick.start_green)
    if tick.record.outcome == "shipped" and tick.record.commit:
        # every gate passed on the shipped tree: it is the next tick's green start
        tree_memory.save(
            tick.root,
            tree_memory.code_tree_id(tick.git, tick.record.commit),
            metrics.memory_of(tick.config.gates, tick.judged),
            {tree_memory.gates_key(tick.config.gates)},
        )


def admit_proposals(
    tick: Tick, proposals: list[tuple[str, list[str]]]
) -> list[tuple[str, list[str]]]:
    """Proposed levers whose checks fail on the tree as it is now; the rest kept out, said why."""
    known = {normalized(lever.title) for lever in tick.project.levers.levers}
    fresh = []
    for title, checks in proposals[:MAX_PROPOSALS]:
        if normalized(title) not in known:
            known.add(normalized(title))
            fresh.append((title, checks))
    if not any(checks for _, checks in fresh):
        kept_out = [(title, "no `check:`, so nothing could show it undone") for title, _ in fresh]
        return _said(tick, [], kept_out)
    where = at_tree(tick, tick.tip or tick.start.head)  # the tree as it is now: the code commit's
    admitted, kept_out = [], []
    for title, checks in fresh:
        if not checks:
            kept_out.append((title, "no `check:`, so nothing could show it undone"))
        elif first_failing_check(tick, checks, where) is None:
            kept_out.append((title, "its checks already pass, so they would prove nothing"))
        else:
            admitted.append((title, checks))
    return _said(tick, admitted, kept_out)


def _said(tick: Tick, admitted: list, kept_out: list[tuple[str, str]]) -> list:
    for title, why in kept_out:
        tick.record.kept_out.append(f"{title}: {why}")
        tick.printer.say(f"proposal kept out: {title}: {why}")
    return admitted
