"""One tick, as a state machine. Each phase is one function below, in the order they run:

    lock → guard → read → pick → act → gate ─pass→ commit → improve → schedule → unlock
                                          └fail→ repair (bounded) → still red → roll back
                                                 → improve → schedule

Every rule here is enforced in code: one lever per tick, gates before commit, the person's work
never touched, config and gates read from HEAD, the tree clean after every tick, green or red.

Beside it: ``state`` (what a tick carries, and the intent record it keeps current), ``recovery`` (a
killed tick undone before anything else), ``record`` (the record commit: status log, genome,
lessons, journal) and ``remote`` (fast-forward first, push with a lease last).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

from genome.genome_file import PLACEHOLDER_MISSION
from genome.journal import TickRecord
from genome.loop_prompt import Config, select_lessons
from genome.records import CodeTrailers, code_message
from runner import (
    baseline,
    deliver,
    due,
    feedback,
    gatekeeper,
    intent,
    learning,
    local_state,
    notify,
    sandbox,
    sealed,
    spend,
)
from runner.agent_tools import discover as discover_project_tools
from runner.errors import BudgetSpent, EnvironmentBroken, ModelUnavailable
from runner.executor import CommandExecutor, cannot_work
from runner.gates import GateSpec, gates_trailer, red_gate_excerpt, run_gates
from runner.gitops import Git, Snapshot
from runner.lock import TickLock
from runner.paths import is_protected
from runner.progress import Printer
from runner.record import record_stop, write_record
from runner.recovery import recover
from runner.remote import publish, sync_with_remote
from runner.secrets import scan_new_text, scan_paths
from runner.session import (
    ActEnd,
    Reflection,
    act_tools,
    add_user_turn,
    converse,
    reflect,
    request_options,
    user_message,
)
from runner.skills import SkillSet
from runner.state import (
    IntentTracker,
    ModelFactory,
    Project,
    Tick,
    TickResult,
    Verdict,
    clip,
    finish,
    read_project,
    track,
)
from runner.tools import BUILTIN_TOOLS, ToolBox
from runner.worktrees import Candidate, Worktrees


def run_tick(
    root: Path,
    *,
    make_model: ModelFactory,
    now: datetime | None = None,
    printer: Printer | None = None,
    push: bool | None = None,
) -> TickResult:
    """Run one tick in ``root`` (the repository's top). Raises ``TickStop`` subclasses for the
    documented refusals (exit 3), spent budgets (4) and an unavailable model (5), and
    ``GenomeFileError`` for invalid project files (2); the tree is as it was in every case."""
    now = now or datetime.now(timezone.utc)
    printer = printer or Printer()
    with Git(root) as git, TickLock(root):
        recover(root, git, now, printer)
        start = guard(git, printer)
        project = read(git, start)
        push = project.config.push if push is None else push
        if push:
            start = sync_with_remote(git, printer)
            project = read(git, start)
        start = land_waiting(git, start, project, printer)
        if start.head != start.branch_head:
            project = read(git, start)
        try:
            tick = pick(root, git, start, now, project, printer, make_model)
        except BudgetSpent:
            due.record_outcome(root, now, project.config.cadence_seconds, "budget")
            raise
        if tick.record.outcome == "blocked":
            return wait_for_person(tick)
        if tick.lever is not None:
            try:
                baseline.check(git, tick.need_places(), tick.config, start.head, printer)
            except EnvironmentBroken as broken:
                environment_failure(tick, broken)
                raise
        intent.save(root, tick.need_intent())
        git.quarantine(tick.need_places().quarantine)
        try:
            gatekeeper.before_act(tick)
            if tick.lever is None:
                printer.phase(
                    "idle",
                    "no open lever; the reflection may only propose levers and rewrite the genome",
                )
            else:
                act(tick)
                gate_and_repair(tick)
                verdict = tick.need_verdict()
                if verdict.green:
                    commit(tick)
                else:
                    roll_back(tick, verdict.reason)
            improve(tick)
        except (BudgetSpent, ModelUnavailable) as stop:
            roll_back(tick, stop.message)
            record_stop(tick, stop)
            intent.clear(root)
            schedule(tick)
            announce(tick)
            raise
        except BaseException:
            # whatever went wrong, git's own settings go back as they were (the person's tree was
            # never written); the intent record stays, so the next tick records the attempt and
            # what it spent (and a gated commit as shipped)
            git.end_quarantine(keep=False)
            git.put_back_internals(tick.need_internals())
            raise
        intent.clear(root)
        schedule(tick)
        if push:
            publish(tick, start)
    announce(tick)
    return finish(tick)


# ---------------------------------------------------------------------------------------- guard


def guard(git: Git, printer: Printer) -> Snapshot:
    """Refuse (exit 3) on a detached HEAD or a repository without a commit. The person's
    uncommitted work is no reason to refuse: the tick never writes their tree."""
    printer.phase("guard")
    return git.branch_snapshot()


def land_waiting(git: Git, start: Snapshot, project: Project, printer: Printer) -> Snapshot:
    """Work waiting on ``genome/<branch>`` lands first when ``deliver: commit`` and it is safe;
    otherwise the tick builds on it, so that a lever done there is not done twice."""
    waiting = git.ref_sha(deliver.waiting_ref(start.branch))
    if waiting is None:
        return start
    if project.config.deliver == "commit":
        landing = land_work(git, project.config, start.branch, waiting, printer)
        printer.say(landing.describe())
        if landing.landed:
            return Snapshot(head=landing.tip, branch=start.branch)
    return Snapshot(head=waiting, branch=start.branch, branch_head=start.branch_head)


def land_work(
    git: Git, config: Config, branch: str, waiting: str, printer: Printer
) -> deliver.Landing:
    """``genome/<branch>`` onto ``branch``, its gates run again first (on the replayed result when
    the branch moved)."""
    places = Worktrees(git)
    gate_dir = baseline.prepare_gate(git, places, config, waiting, git.tree_of(waiting), printer)
    head = git.ref_sha(deliver.branch_ref(branch)) or waiting
    base = git.merge_base(head, waiting)
    return deliver.land_or_park(
        git,
        branch=branch,
        base=base,
        tip=waiting,
        gate_dir=gate_dir,
        run_gates=deliver.config_gates(config, printer),
        author=git.identity(config.author),
        gates_ran_on_tip=False,
    )


# ---------------------------------------------------------------------------------------- read


def read(git: Git, start: Snapshot) -> Project:
    """The three files from the start commit, never a working tree: the model cannot edit its own
    gates."""
    return read_project(git, start.head)


# ---------------------------------------------------------------------------------------- pick


def pick(
    root: Path,
    git: Git,
    start: Snapshot,
    now: datetime,
    project: Project,
    printer: Printer,
    make_model: ModelFactory,
) -> Tick:
    """The first open lever (ids assigned first, so it can be named), and the tick's budgets."""
    config = project.config
    if project.genome.mission_is_placeholder:
        printer.warn(PLACEHOLDER_MISSION)
    project.levers.assign_ids()
    lever = project.levers.top_open()
    lever_id = lever.id if lever else ""
    assert lever_id is not None, "assign_ids numbers every lever"
    meter = spend.meter_for(config, printer.warn)
    limits = spend.limits_for(git.root, config, now)
    contained = contain(root, git, config, printer)
    record = TickRecord(
        time=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        outcome="idle",
        lever=lever_id,
        title=lever.title if lever else "",
        version=project.genome.label,
        sandbox="" if contained.enabled else contained.why_not,
    )
    tick = Tick(
        root=root,
        git=git,
        start=start,
        now=now,
        project=project,
        printer=printer,
        make_model=make_model,
        meter=meter,
        limits=limits,
        record=record,
        lever=lever,
        intent=intent.Intent(
            base=start.head, branch=start.branch, lever=record.lever, started=record.time
        ),
        internals=git.internals(flags=False),
        places=Worktrees(git),
        tip=start.head,
        sandbox=contained,
    )
    tick.notes = feedback.pending(root)
    tick.sealed_gates = sealed.load(git)
    if lever is not None:
        printer.phase("pick", f"{lever.id} {lever.title}")
    elif any(each.status == "blocked" for each in project.levers.levers):
        record.outcome = "blocked"
    return tick


def contain(root: Path, git: Git, config: Config, printer: Printer) -> sandbox.Sandbox:
    """The sandbox every command of this tick runs in (exit 3 if `sandbox: required` cannot have
    it); the person hears when there is none."""
    sandbox.protect_runner()
    contained = sandbox.for_tick(
        root, config, git=(Path(git.repo.git_dir), Path(git.repo.common_dir))
    )
    sandbox.write_note(local_state.state_dir(root), contained)
    if not contained.enabled:
        printer.warn(contained.why_not)
    return contained


def wait_for_person(tick: Tick) -> TickResult:
    """Every lever left is blocked: say so once (a journal entry and a commit), then sleep without
    spending until a person unblocks one or adds a new one."""
    blocked = [lever for lever in tick.project.levers.levers if lever.status == "blocked"]
    names = [lever.id for lever in blocked[:5] if lever.id]  # pick numbered every lever
    tick.record.reason = (
        f"every lever is blocked ({', '.join(names)}): "
        "a person needs to unblock one (`[ ]`) or add a new one"
    )
    notice = local_state.state_dir(tick.root) / local_state.ALL_BLOCKED
    levers_print = intent.text_print(tick.project.levers.render())
    if not notice.exists() or notice.read_text() != levers_print:
        tick.notes = []  # no model reads them on this path: they wait for the next working tick
        write_record(tick, Reflection())
        intent.clear(tick.root)
        notice.write_text(levers_print)
        announce(tick)
    tick.printer.say(tick.record.reason)
    schedule(tick)
    return finish(tick)


def environment_failure(tick: Tick, broken: EnvironmentBroken) -> None:
    """The gates cannot pass before any change: nothing was spent and the lever is not blamed.
    Recorded once per start tree and failure (a journal entry with the output, and ``notify``);
    after that each tick says it again and backs off, without a commit."""
    first = broken.message.splitlines()[0]
    tick.record.outcome, tick.record.reason = "unavailable", f"environment: {first}"
    tick.record.summary = clip(broken.output, 3000)
    notice = local_state.state_dir(tick.root) / local_state.ENVIRONMENT
    stamp = intent.text_print(broken.message)
    if not notice.exists() or notice.read_text() != stamp:
        tick.notes = []
        write_record(tick, Reflection())
        intent.clear(tick.root)
        notice.write_text(stamp)
        announce(tick)
    tick.printer.say(broken.message)
    schedule(tick)


# ---------------------------------------------------------------------------------------- act


def act(tick: Tick) -> None:
    """The model (or the person's own agent CLI) works on the one lever."""
    lever = tick.need_lever()
    tick.printer.phase("act", f"{lever.id} {lever.title}")
    work = baseline.prepare_act(
        tick.git, tick.need_places(), tick.config, tick.start.head, tick.printer
    )
    tick.skills = SkillSet.discover(work, warn=tick.printer.warn)
    # the act worktree is still at the start commit here, so these are exactly the tools committed
    # there
    tick.project_tools = discover_project_tools(
        work, reserved=BUILTIN_TOOLS, warn=tick.printer.warn, sandbox=act_sandbox(tick)
    )
    tick.messages = [user_message(learning.first_message(tick, notes_text(tick)))]
    work_once(tick)


def notes_text(tick: Tick) -> str:
    """The person's notes come first and say whose they are: they outrank the loop's own plans."""
    if not tick.notes:
        return ""
    notes = "\n".join(f"- ({note.time}) {note.text}" for note in tick.notes)
    return (
        f"A note from the person who runs this project (read it first, and follow it):\n{notes}\n\n"
    )


def work_once(tick: Tick) -> None:
    """One stretch of work on ``tick.messages``: the built-in session, or the executor command."""
    if tick.config.executor:
        run_executor(tick)
    else:
        tick.act_end = converse(
            tick.model_or_connect(),
            model_name=tick.config.model,
            max_tokens=tick.config.max_tokens,
            system=system_prompt(tick),
            toolbox=toolbox(tick),
            messages=tick.messages,
            limits=tick.limits,
            meter=tick.meter,
            progress=IntentTracker(tick),
            options=request_options(tick.config.model, tick.config.effort),
        )
    end = tick.need_act_end()
    if end.reason != "done":
        tick.printer.say(f"act ended: {end.note}")


def run_executor(tick: Tick) -> None:
    """An agent CLI keeps no memory between runs, so each run gets the whole conversation as
    text."""
    executor = executor_of(tick)
    spend.afford(tick.meter, tick.limits)
    track(tick, "act")
    task = "\n\n".join(
        block["text"]
        for message in tick.messages
        if message["role"] == "user"
        for block in message["content"]
        if block.get("type") == "text"
    )
    tick.printer.say(f"executor: {tick.config.executor}")
    before, earlier = tree_print(tick), tick.act_end
    tick.act_end = executor.act(
        system_prompt(tick) + "\n" + task, tick.lever_id(), tick.limits.deadline, budget_left(tick)
    )
    report_executor_run(tick, executor)
    tick.printer.model_words(tick.act_end.text)
    track(tick)
    run = executor.last_run
    if run is not None and tree_print(tick) == before:
        # not installed, not logged in, key rejected, or failed having changed nothing: the agent
        # cannot work, which is not the lever's failure, and a repair round would only repeat it
        why = cannot_work(run)
        if why:
            raise ModelUnavailable(why)
    if earlier is not None and tick.verdict is not None:
        # a repair round: the commit body tells the whole act, not only the last run
        tick.act_end = ActEnd(
            tick.act_end.reason,
            f"{earlier.text}\n\nAfter the gates said {tick.verdict.reason}: {tick.act_end.text}",
        )


def tree_print(tick: Tick) -> dict[str, str]:
    """What the act worktree holds beyond the start commit, path by path, to see whether a run
    changed it."""
    return intent.fingerprint(tick.need_places().act, tick.need_places().act_changed_paths())


def budget_left(tick: Tick) -> float | None:
    """Dollars the executor may still spend: the tightest budget less the tick's spend so far."""
    return spend.left(tick.meter, tick.limits)


def executor_of(tick: Tick) -> CommandExecutor:
    if tick.executor is None:
        tick.executor = CommandExecutor(
            tick.config.executor,
            tick.need_places().act,
            warn=tick.printer.warn,
            sandbox=executor_sandbox(tick),
        )
    return tick.executor


def act_sandbox(tick: Tick) -> sandbox.Sandbox:
    """The sandbox of the act's commands and project tools: the act worktree writable."""
    return sandbox.for_place(tick.need_places().act, tick.config)


def executor_sandbox(tick: Tick) -> sandbox.Sandbox:
    """The act's sandbox with network and the agent CLI's config folders, unless `executor:
    {sandbox: false}`."""
    return sandbox.for_executor(
        act_sandbox(tick),
        enabled=tick.config.executor_sandbox,
        config_paths=tick.config.executor_paths,
        command=tick.config.executor,
    )


def report_executor_run(tick: Tick, executor: CommandExecutor) -> None:
    """Count what the run reported; a run whose cost crosses a money budget stops the tick (exit 4)
    as a model call would have been stopped before it."""
    run = executor.last_run
    if run is not None:
        tick.meter.add(run.usage, cost=run.cost_usd or None, unpriced=run.unpriced)
        spend.check_run(tick.meter, tick.limits)


def toolbox(tick: Tick) -> ToolBox:
    skills = tick.skills
    # the act worktree holds none of the person's ignored files, so the tools may change any there
    return ToolBox(
        tick.need_places().act,
        protected=tick.config.protected,
        command_timeout_max=tick.config.command_timeout,
        load_skill=skills.load if skills else None,
        project_tools=tick.project_tools,
        deadline=tick.limits.deadline,
        grow_only=tick.config.grow_only,
        is_committed=lambda rel: tick.git.file_at(tick.start.head, rel) is not None,
        submodules=tick.need_places().submodules(tick.start.head),
        sandbox=act_sandbox(tick),
    )


def system_prompt(tick: Tick) -> str:
    """Byte-identical for every turn of a tick, so the prefix is read from the cache."""
    project, config = tick.project, tick.config
    lessons = select_lessons(
        project.loop.lessons, tick.lever.title if tick.lever else "", config.lessons_tokens
    )
    parts = [
        project.loop.prompt.strip(),
        f"# Genome {project.genome.label}\n\n{project.genome.body.strip()}",
    ]
    if lessons:
        parts.append("# Lessons\n\n" + "\n".join(lesson.render() for lesson in lessons))
    if tick.skills and tick.skills.listing():
        parts.append(
            "# Skills (load one with load_skill when it fits)\n\n" + tick.skills.listing().strip()
        )
    gates = [f"- {g.name}: `{g.run}`{gatekeeper.describe(g)}" for g in config.gates]
    if tick.lever:
        gates += [f"- check: `{c}`" for c in tick.lever.checks]
        history = "\n".join(f"- {line}" for line in tick.lever.log[-5:]) or "- (first attempt)"
        parts.append(
            f"# This tick's lever\n\n{tick.lever.id} {tick.lever.title}\n\n"
            f"Earlier attempts:\n{history}"
        )
    protected = ", ".join(
        [
            "genome.md",
            "levers.md",
            "loop-prompt.md",
            ".genome/",
            ".git/",
            "journal/",
            *config.protected,
        ]
    )
    grow_only = (
        f"- Grow-only paths (add new files; changing or deleting a committed one fails the tick): "
        f"{', '.join(config.grow_only)}\n"
        if config.grow_only
        else ""
    )
    parts.append(
        "# What the runner enforces\n\n"
        f"- Protected paths (writes refused, and any change to them fails the tick): {protected}\n"
        f"{grow_only}"
        "- After you finish, the runner runs these gates; all must pass or everything you changed "
        "is rolled back:\n"
        + ("\n".join(gates) or "- (none configured: the diff itself must be non-empty)")
        + "\n"
        "- You never commit; the runner commits exactly the files you changed."
    )
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------- gate


def gate_and_repair(tick: Tick) -> None:
    """Gate the change; on red, show the model why and let it repair, at most ``repair_rounds``
    times."""
    for round_number in range(tick.config.repair_rounds + 1):
        tick.verdict = gate(tick)
        if (
            tick.verdict.green
            or not tick.verdict.repairable
            or round_number == tick.config.repair_rounds
            or tick.need_act_end().reason == "stopped"
        ):
            return
        tick.printer.phase(
            "repair", f"round {round_number + 1}/{tick.config.repair_rounds}: {tick.verdict.reason}"
        )
        add_user_turn(
            tick.messages,
            user_message(
                f"The runner checked your change and it is not ready: {tick.verdict.reason}.\n\n"
                f"{tick.verdict.feedback}\n\n"
                "Fix the cause. Do not weaken any test, check or gate. "
                "When you finish, the runner gates again."
            ),
        )
        work_once(tick)


def gate(tick: Tick) -> Verdict:
    """The act's result fixed as the candidate tree; the diff check on it; then the candidate
    checked out in the gate worktree, where every config gate and the lever's checks run in fresh
    shells."""
    tick.printer.phase("gate")
    track(tick, "gate")
    if tick.act_end and tick.act_end.reason in ("stuck", "refusal"):
        return Verdict(False, tick.act_end.note, repairable=False)
    candidate = tick.need_places().candidate(tick.start.head)
    tick.act_changed = candidate.changed
    diff = diff_check(tick, candidate)
    if diff:
        return diff
    try:
        where = baseline.prepare_gate(
            tick.git,
            tick.need_places(),
            tick.config,
            tick.start.head,
            candidate.tree,
            tick.printer,
            env=quarantine_env(tick),
        )
    except EnvironmentBroken as broken:  # setup on the candidate: the change broke it
        return Verdict(False, "setup failed on the change", feedback=broken.message)
    # scanned before any gate runs: the bytes on disk are still exactly the candidate's
    secrets = secrets_in_change(tick, candidate, where)
    if secrets:
        return Verdict(False, secrets, repairable=False)
    specs = [
        GateSpec(g.name, g.run, g.timeout, metric=g.metric, repeat=g.repeat)
        for g in tick.config.gates
    ]
    specs += [
        GateSpec(f"check-{i}", c, tick.config.command_timeout)
        for i, c in enumerate(tick.need_lever().checks, 1)
    ]

    # each gate, and each check after them, judges the candidate, not what an earlier run wrote
    def restore() -> Path:
        return tick.need_places().restore_gate(tick.start.head, candidate.tree)

    # the candidate's objects are still in quarantine: the gates' own git commands can read them
    # there
    results = run_gates(
        specs,
        where,
        {**os.environ, **quarantine_env(tick)},
        sandbox=sandbox.for_place(where, tick.config, quarantine_env(tick)),
        between=restore,
    )
    for result in results:
        tick.printer.say(f"gate {result.summary()}")
    red = [r for r in results if not r.passed]
    if red:
        return Verdict(
            False,
            f"gate {red[0].name} failed",
            results,
            feedback=f"Gate `{red[0].name}` (`{red[0].command}`) exited {red[0].exit_code}. "
            f"The end of its output:\n```\n{red[0].output_tail}\n```",
        )
    judged = gatekeeper.judge_metrics(tick, results)
    if judged:
        return judged
    if tick.git.internals(flags=False) != tick.internals:
        return Verdict(
            False,
            "changed git's own settings in .git/ (config, hooks, info/, "
            "index flags or replace refs)",
            results,
            repairable=False,
        )
    restore()
    late = gatekeeper.prove_new_tests(
        tick, candidate.changed, results, where
    ) or gatekeeper.run_sealed(tick, results, where)
    if late:
        return late
    return Verdict(True, results=results, changed=candidate.changed, tree=candidate.tree)


def quarantine_env(tick: Tick) -> dict[str, str]:
    return {"GIT_ALTERNATE_OBJECT_DIRECTORIES": str(tick.need_places().quarantine)}


def secrets_in_change(tick: Tick, candidate: Candidate, where: Path) -> str:
    """The change as it will be committed, scanned line by line where it adds lines. Says where,
    never what: the secret itself must not reach the log, the journal or the output."""
    added = tick.git.added_lines_between(tick.start.head, candidate.tree)
    present = [p for p in candidate.changed if (where / p).is_file()]
    found = [
        f
        for f in scan_paths(where, present, tick.config.secrets_allow)
        if (lines := added.get(f.path)) is None or f.line in lines or f.kind == ".env file"
    ]
    return "; ".join(f.describe() for f in found[:3])


def diff_check(tick: Tick, candidate: Candidate) -> Verdict | None:
    """Whatever tool made a change, protected paths, submodules and git's own settings stay
    untouched."""
    if tick.git.internals(flags=False) != tick.internals:
        return Verdict(
            False,
            "changed git's own settings in .git/ (config, hooks, info/, "
            "index flags or replace refs)",
            repairable=False,
        )
    inside = tick.need_places().inside_submodules(tick.start.head)
    if inside:
        return Verdict(
            False,
            f"changed files inside the submodule {inside[0]} (submodules are not the tick's "
            "to change)",
            repairable=False,
        )
    if candidate.gitlinks:
        known = tick.git.file_at(tick.start.head, ".gitmodules") or b""
        inside = [p for p in candidate.gitlinks if p.encode() in known]
        if inside:
            return Verdict(
                False,
                f"changed the submodule {inside[0]} (submodules are not the tick's to change)",
                repairable=False,
            )
        return Verdict(
            False, f"made a nested git repository at {candidate.gitlinks[0]}", repairable=False
        )
    changed = candidate.changed
    hits = [p for p in changed if is_protected(p, tick.config.protected)]
    if hits:
        return Verdict(False, f"changed protected path {', '.join(hits[:3])}", repairable=False)
    grown = gatekeeper.grow_only_refusal(tick, changed)
    if grown:
        return Verdict(False, grown, repairable=False)
    if not changed:
        return Verdict(
            False, "no change", feedback="Nothing in the working tree differs from HEAD."
        )
    return None


# ---------------------------------------------------------------------------------------- commit


def commit(tick: Tick) -> None:
    """Green: the code commit is made from the candidate tree the gates ran on, on the start commit.
    It lands with the tick's record commit (see ``record``), never on its own."""
    tick.printer.phase("commit")
    lever, record, verdict = tick.need_lever(), tick.record, tick.need_verdict()
    lever_id = tick.lever_id()
    record.gates = gates_trailer(verdict.results)
    account = (tick.act_end.text if tick.act_end else "").strip()
    if scan_new_text("the commit message", account, allow=tick.config.secrets_allow):
        tick.printer.warn(
            "the model's account looks like it holds a secret; the commit message leaves it out"
        )
        account = ""
    message = code_message(
        lever_id,
        lever.title,
        clip(account, 2000),
        CodeTrailers(
            lever=lever_id,
            genome_version=tick.project.genome.label,
            gates=record.gates,
            metrics=record.metrics,
            tokens=tick.meter.usage.total,
            cost_usd=tick.meter.cost,
        ),
    )
    changed = verdict.changed
    hook = tick.git.pre_commit_hook()
    if hook is not None:
        tick.printer.warn(
            f"the pre-commit hook {hook} is not run on the tick's commits (the gates are their "
            "checks); if it must pass, add it to `gates:` in loop-prompt.md"
        )
    sha = tick.git.commit_tree(
        verdict.tree, tick.start.head, message, tick.git.identity(tick.config.author)
    )
    tick.git.end_quarantine(keep=True)  # gated, secret-scanned: its objects join the repository
    tick.need_intent().commit = sha
    track(tick, "improve")
    tick.tip = sha
    record.outcome, record.commit, record.summary = "shipped", sha[:12], account
    tick.printer.say(
        f"committed {sha[:12]} ({len(changed)} file{'s' if len(changed) != 1 else ''})"
    )


def roll_back(tick: Tick, reason: str) -> None:
    """Red: nothing of the change goes anywhere. The act worktree is reset by the next tick."""
    tick.printer.phase("roll back", reason)
    tick.git.put_back_internals(tick.need_internals())
    tick.need_places().reset(tick.start.head)
    stopped = tick.act_end is not None and tick.act_end.reason == "stopped"
    # a signal is nobody's failure: the attempt is recorded, not counted
    tick.record.outcome, tick.record.reason = (
        ("interrupted", f"stopped by a signal ({reason})") if stopped else ("failed", reason)
    )
    if tick.verdict and tick.verdict.results:
        tick.record.gates = gates_trailer(tick.verdict.results)
        tick.record.gate_output = red_gate_excerpt(tick.verdict.results, tick.config.secrets_allow)
    if tick.act_end:
        tick.record.summary = tick.act_end.text


# ---------------------------------------------------------------------------------------- improve


def improve(tick: Tick) -> None:
    """Reflect (no code tools), then apply it and the tick's record as one commit."""
    tick.printer.phase("improve")
    reflection = Reflection()
    if tick.lever is None and tick.satisfied:
        write_record(
            tick, reflection
        )  # the levers left were already satisfied: nothing to spend on
        return
    try:
        if tick.config.executor:
            reflection = reflect_with_executor(tick)
        else:
            # in the act's conversation, with the act's tools: the request repeats the act's last
            # one up to the new prompt, so it is read from the cache, and it sees all the act did
            history = act_history(tick)
            reflection = reflect(
                tick.model_or_connect(),
                model_name=tick.config.model,
                max_tokens=tick.config.max_tokens,
                system=system_prompt(tick),
                prompt=reflection_prompt(tick, in_conversation=bool(history)),
                limits=tick.limits,
                meter=tick.meter,
                options=request_options(tick.config.model, tick.config.effort),
                history=history,
                tools=act_tools(toolbox(tick)) if history else None,
            )
    except (BudgetSpent, ModelUnavailable) as stop:
        if tick.lever is None:
            raise  # an idle tick is only its reflection: without one there is nothing to record
        tick.printer.say(f"no reflection: {stop.message}")
    if tick.lever is None:
        reflection.lesson, reflection.retire = None, []  # an idle tick did no work to learn from
    reflection.levers = gatekeeper.admit_proposals(tick, reflection.levers)
    write_record(tick, reflection)


def reflect_with_executor(tick: Tick) -> Reflection:
    """The executor answers in text; any file it touches meanwhile is put back (execution and
    self-modification stay apart)."""
    spend.afford(tick.meter, tick.limits)
    executor = executor_of(tick)
    reflection = executor.reflect(
        system_prompt(tick) + "\n" + reflection_prompt(tick),
        tick.record.lever,
        max(tick.limits.deadline, time.monotonic() + 300),
        budget_left(tick),
    )
    report_executor_run(tick, executor)  # what it changed in the act worktree goes nowhere
    return reflection


def act_history(tick: Tick) -> list[dict] | None:
    """The act's conversation, when the reflection can continue it."""
    if (
        tick.lever is None
        or not tick.messages
        or (tick.act_end and tick.act_end.reason == "context")
    ):
        return None
    return tick.messages


def reflection_prompt(tick: Tick, *, in_conversation: bool = False) -> str:
    return learning.reflection_prompt(
        tick, notes_text(tick) if tick.lever is None else "", in_conversation=in_conversation
    )


# ---------------------------------------------------------------------------------------- schedule


def schedule(tick: Tick) -> None:
    outcome = tick.record.outcome
    if outcome == "budget" and tick.limits.usd_budget == "tick":
        outcome = "failed"  # one expensive tick: back off as after a red one, not until tomorrow
    due_at = due.record_outcome(tick.root, tick.now, tick.config.cadence_seconds, outcome)
    tick.printer.say(f"next tick due {due_at.strftime('%Y-%m-%d %H:%M')}Z")


def announce(tick: Tick) -> None:
    """The config's ``notify`` command hears about every tick; its failure never fails the tick."""
    record = tick.record
    needs_person = (
        record.outcome in ("budget", "unavailable", "blocked")
        or "secret" in record.reason
        or (
            tick.lever is not None
            and record.outcome == "failed"
            and tick.project.levers.get(record.lever).status == "blocked"
        )
    )
    summary = notify.summary_from(record, finish(tick).message, needs_person)
    if (
        tick.landing is not None
        and not tick.landing.landed
        and tick.landing.tip != tick.start.branch_head
    ):
        # the work waits on genome/<branch>: say so, and where
        summary["message"] += f" · {tick.landing.describe()}"
        summary["waiting"] = tick.landing.ref.removeprefix("refs/heads/")
        summary["needs_person"] = needs_person or tick.config.deliver == "commit"
    notify.notify(tick.config.notify, summary, tick.root, tick.printer.warn)
