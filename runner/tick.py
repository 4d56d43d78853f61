"""One tick, as a state machine. Each phase is one function below, in the order they run:

    lock → guard → read → pick → act → gate ─pass→ commit → improve → schedule → unlock
                                          └fail→ repair (bounded) → still red → roll back → improve → schedule

Every rule here is enforced in code: one lever per tick, gates before commit, the person's work never
touched, config and gates read from HEAD, the tree clean after every tick, green or red.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from genome.errors import GenomeFileError
from genome.genome_file import GenomeDoc, version_label
from genome.journal import TickRecord, append_entry, journal_path, trailers
from genome.levers import Lever, LeverDoc
from genome.loop_prompt import Config, Lesson, LoopPromptDoc, select_lessons
from genome.regression import Outcome, regression
from genome.text import decode
from runner import due, feedback, intent, notify
from runner.executor import CommandExecutor
from runner.errors import BudgetSpent, ModelUnavailable, Refused, TickStop
from runner.gates import GateResult, GateSpec, gates_trailer, run_gates
from runner.gitops import Git, Snapshot
from runner.lock import TickLock
from runner.model import Model
from runner.paths import is_protected
from runner.prices import price_for
from runner.progress import Printer
from runner.session import ActEnd, Limits, Meter, Progress, Reflection, converse, reflect, user_message
from runner.skills import SkillSet
from runner.agent_tools import discover as discover_project_tools
from runner.secrets import scan_new_text, scan_paths
from runner.tools import BUILTIN_TOOLS, ToolBox

GENOME, LEVERS, LOOP_PROMPT = "genome.md", "levers.md", "loop-prompt.md"
MAX_PROPOSALS = 3
EXIT_CODES = {"shipped": 0, "idle": 0, "blocked": 0, "failed": 1, "budget": 4, "unavailable": 5, "interrupted": 1}

ModelFactory = Callable[[Config], Model]


@dataclass
class Project:
    """The three files as they are committed at HEAD."""
    genome: GenomeDoc
    levers: LeverDoc
    loop: LoopPromptDoc

    @property
    def config(self) -> Config:
        return self.loop.config


@dataclass
class Verdict:
    green: bool
    reason: str = ""                 # for the status log: "gate tests failed", "no change", ...
    results: list[GateResult] = field(default_factory=list)
    repairable: bool = True
    feedback: str = ""               # what the model is shown in a repair round
    changed: list[str] = field(default_factory=list)    # when green: exactly what the commit takes


@dataclass
class Tick:
    """The state one tick carries from phase to phase."""
    root: Path
    git: Git
    start: Snapshot
    now: datetime
    project: Project
    printer: Printer
    make_model: ModelFactory
    meter: Meter
    limits: Limits
    record: TickRecord
    lever: Lever | None = None
    model: Model | None = None
    skills: SkillSet | None = None
    project_tools: list = field(default_factory=list)
    executor: CommandExecutor | None = None
    notes: list = field(default_factory=list)      # the person's feedback, shown to this tick
    messages: list[dict] = field(default_factory=list)
    verdict: Verdict | None = None
    act_end: ActEnd | None = None
    intent: intent.Intent | None = None
    recorded_cost: float = 0.0       # spend a killed tick recorded, carried into the recovery record
    recorded_tokens: int = 0

    @property
    def config(self) -> Config:
        return self.project.config

    def model_or_connect(self) -> Model:
        if self.model is None:
            self.model = self.make_model(self.config)
        return self.model


@dataclass
class TickResult:
    outcome: str
    record: TickRecord
    message: str

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]


def run_tick(root: Path, *, make_model: ModelFactory, now: datetime | None = None,
             printer: Printer | None = None, push: bool | None = None) -> TickResult:
    """Run one tick in ``root`` (the repository's top). Raises ``TickStop`` subclasses for the
    documented refusals (exit 3), spent budgets (4) and an unavailable model (5), and
    ``GenomeFileError`` for invalid project files (2); the tree is as it was in every case."""
    now = now or datetime.now(timezone.utc)
    printer = printer or Printer()
    with TickLock(root), Git(root) as git:
        recover(root, git, now, printer)
        start = guard(git, printer)
        project = read(git)
        push = project.config.push if push is None else push
        if push:
            start = sync_with_remote(git, printer)
            project = read(git)
        try:
            tick = pick(root, git, start, now, project, printer, make_model)
        except BudgetSpent:
            due.record_outcome(root, now, project.config.cadence_seconds, "budget")
            raise
        if tick.record.outcome == "blocked":
            return wait_for_person(tick)
        intent.save(root, tick.intent)
        try:
            if tick.lever is None:
                printer.phase("idle", "no open lever; the reflection may only propose levers and rewrite the genome")
            else:
                act(tick)
                gate_and_repair(tick)
                if tick.verdict.green:
                    commit(tick)
                else:
                    roll_back(tick, tick.verdict.reason)
            improve(tick)
        except (BudgetSpent, ModelUnavailable) as stop:
            roll_back(tick, stop.message)
            record_stop(tick, stop)
            intent.clear(root)
            schedule(tick)
            announce(tick)
            raise
        except BaseException:
            git.restore(tick.start)      # whatever went wrong, the person's repo goes back as it was
            intent.clear(root)
            raise
        intent.clear(root)
        if push:
            publish(tick, start)
        schedule(tick)
    announce(tick)
    return finish(tick)


# ---------------------------------------------------------------------------------------- recover

def recover(root: Path, git: Git, now: datetime, printer: Printer) -> None:
    """Undo what a killed tick left behind, exactly, before anything else happens.

    Only paths whose bytes are still what the dead tick recorded are touched; anything else changed
    since means a person has been at work, and the tick refuses rather than guess."""
    left = intent.load(root)
    if left is None:
        return
    printer.phase("recover", f"a tick was interrupted during {left.phase} ({left.lever or 'idle'})")
    if left.phase == "unreadable":
        raise Refused(f"{intent.path_of(root)} is unreadable. Check `git status` and `git log`, put back by hand "
                      "anything an interrupted tick left, then delete that file")
    git.clear_stale_index_lock()
    head = git.head_sha()
    record_for = git.record_commit_lever(head)
    if record_for is not None and record_for == left.lever and head != left.base:
        intent.clear(root)       # the dead tick finished its record; only the intent file was left
        return
    shipped = head if head == left.commit or (left.phase == "commit" and git.is_code_commit_of(head, left.base, left.lever)) else ""
    if head != left.base and not shipped:
        raise Refused(f"a tick was interrupted, and HEAD has moved since (now {head[:12]}, the tick started at "
                      f"{left.base[:12]}). Check `git status` and `git log`, then delete {intent.path_of(root)}")
    changed = git.changed_paths()
    now_prints = intent.fingerprint(root, changed)
    foreign = [p for p in changed if left.touched.get(p) != now_prints[p]
               and not (left.new_files_are_ours and git.head_file(p) is None and p not in left.touched)]
    if foreign:
        raise Refused(f"a tick was interrupted, and {', '.join(foreign[:5])} changed since (not by the tick). "
                      "Nothing was touched. Commit or discard those changes, then tick again")
    start = Snapshot(head=head, branch=left.branch or git.current_branch())
    git.restore(start)
    project = read(git)
    project.levers.assign_ids()
    lever = next((l for l in project.levers.levers if l.id == left.lever), None) if left.lever else None
    price, _ = price_for(project.config.model, project.config.prices)
    record = TickRecord(time=now.strftime("%Y-%m-%dT%H:%M:%SZ"), outcome="shipped" if shipped else "interrupted",
                        lever=left.lever, title=lever.title if lever else "", version=project.genome.label,
                        commit=shipped[:12], reason=f"interrupted during {left.phase}")
    tick = Tick(root=root, git=git, start=start, now=now, project=project, printer=printer,
                make_model=_no_model, meter=Meter(price=price), limits=Limits(turns=0, deadline=0), record=record,
                lever=lever)
    tick.recorded_cost = left.cost_usd
    tick.recorded_tokens = left.tokens
    write_record(tick, Reflection())
    intent.clear(root)
    printer.say(f"recovered: restored {len(changed)} path{'s' if len(changed) != 1 else ''}"
                + (f", kept the shipped commit {shipped[:12]}" if shipped else ""))


def _no_model(config: Config) -> Model:
    raise AssertionError("recovery never calls the model")


# ---------------------------------------------------------------------------------------- guard

def guard(git: Git, printer: Printer) -> Snapshot:
    """Refuse (exit 3) on a dirty tree, a detached HEAD, or a merge/rebase in progress."""
    printer.phase("guard")
    return git.refuse_unless_clean()


# ---------------------------------------------------------------------------------------- read

def read(git: Git) -> Project:
    """The three files from HEAD, never the working tree: the model cannot edit its own gates."""
    def committed(name: str) -> str:
        data = git.head_file(name)
        if data is None:
            raise GenomeFileError(name, None, "the file is not committed in this repository",
                                  "Run `genome init` to add the templates, or commit the file")
        return decode(name, data)

    return Project(genome=GenomeDoc.parse(committed(GENOME)),
                   levers=LeverDoc.parse(committed(LEVERS)),
                   loop=LoopPromptDoc.parse(committed(LOOP_PROMPT)))


# ---------------------------------------------------------------------------------------- pick

def pick(root: Path, git: Git, start: Snapshot, now: datetime, project: Project, printer: Printer,
         make_model: ModelFactory) -> Tick:
    """The first open lever (ids assigned first, so it can be named), and the tick's budgets."""
    config = project.config
    project.levers.assign_ids()
    lever = project.levers.top_open()
    price, known = price_for(config.model, config.prices)
    if not known:
        printer.warn(f"no price known for model {config.model!r}; costing it like Claude Sonnet "
                     f"(${price.input}/${price.output} per million tokens). Set `prices:` in loop-prompt.md")
    limits = budget_limits(git, config, now)
    record = TickRecord(time=now.strftime("%Y-%m-%dT%H:%M:%SZ"), outcome="idle",
                        lever=lever.id if lever else "", title=lever.title if lever else "",
                        version=project.genome.label)
    tick = Tick(root=root, git=git, start=start, now=now, project=project, printer=printer,
                make_model=make_model, meter=Meter(price=price), limits=limits, record=record, lever=lever,
                intent=intent.Intent(base=start.head, branch=start.branch, lever=record.lever, started=record.time))
    tick.notes = feedback.pending(root)
    if lever is not None:
        printer.phase("pick", f"{lever.id} {lever.title}")
    elif any(l.status == "blocked" for l in project.levers.levers):
        record.outcome = "blocked"
    return tick


def wait_for_person(tick: Tick) -> TickResult:
    """Every lever left is blocked: say so once (a journal entry and a commit), then sleep without
    spending until a person unblocks one or adds a new one."""
    blocked = [l for l in tick.project.levers.levers if l.status == "blocked"]
    tick.record.reason = (f"every lever is blocked ({', '.join(l.id for l in blocked[:5])}): "
                          "a person needs to unblock one (`[ ]`) or add a new one")
    notice = due.state_dir(tick.root) / "all-blocked"
    levers_print = intent.text_print(tick.project.levers.render())
    if not notice.exists() or notice.read_text() != levers_print:
        write_record(tick, Reflection())
        intent.clear(tick.root)
        notice.write_text(levers_print)
        announce(tick)
    tick.printer.say(tick.record.reason)
    schedule(tick)
    return finish(tick)


def budget_limits(git: Git, config: Config, now: datetime) -> Limits:
    """The tightest of the tick, day and week money budgets, from spend recorded in git."""
    budget = config.budget
    candidates: list[tuple[float, str]] = []
    if budget.tick_usd is not None:
        candidates.append((budget.tick_usd, "tick"))
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if budget.day_usd is not None:
        candidates.append((budget.day_usd - git.spend_since(day_start), "day"))
    if budget.week_usd is not None:
        week_start = day_start - timedelta(days=day_start.weekday())
        candidates.append((budget.week_usd - git.spend_since(week_start), "week"))
    usd, which = min(candidates) if candidates else (None, "tick")
    if usd is not None and usd <= 0:
        raise BudgetSpent(f"the {which} budget is spent; the next tick runs when it resets "
                          "(raise `budget:` in loop-prompt.md to go on now)")
    return Limits(turns=budget.tick_turns, deadline=time.monotonic() + budget.tick_minutes * 60,
                  usd=usd, usd_budget=which, tokens=budget.tick_tokens)


# ---------------------------------------------------------------------------------------- act

def act(tick: Tick) -> None:
    """The model (or the person's own agent CLI) works on the one lever."""
    tick.printer.phase("act", f"{tick.lever.id} {tick.lever.title}")
    tick.skills = SkillSet.discover(tick.root, warn=tick.printer.warn)
    # the tree is still clean here, so these are exactly the tools committed at HEAD
    tick.project_tools = discover_project_tools(tick.root, reserved=BUILTIN_TOOLS, warn=tick.printer.warn)
    lever = tick.lever
    checks = "".join(f"\n  check: {c}" for c in lever.checks)
    tick.messages = [user_message(
        notes_text(tick) + f"Work on lever {lever.id}: {lever.title}{checks}\n\n"
        "Make the smallest change that does it, and run the gates and checks yourself before you finish. "
        "End with a short account of what you changed and how you verified it: it becomes the commit message.")]
    work_once(tick)


def notes_text(tick: Tick) -> str:
    """The person's notes come first and say whose they are: they outrank the loop's own plans."""
    if not tick.notes:
        return ""
    notes = "\n".join(f"- ({note.time}) {note.text}" for note in tick.notes)
    return f"A note from the person who runs this project (read it first, and follow it):\n{notes}\n\n"


def work_once(tick: Tick) -> None:
    """One stretch of work on ``tick.messages``: the built-in session, or the executor command."""
    if tick.config.executor:
        run_executor(tick)
    else:
        tick.act_end = converse(
            tick.model_or_connect(), model_name=tick.config.model, max_tokens=tick.config.max_tokens,
            system=system_prompt(tick), toolbox=toolbox(tick), messages=tick.messages, limits=tick.limits,
            meter=tick.meter, progress=IntentTracker(tick))
    if tick.act_end.reason != "done":
        tick.printer.say(f"act ended: {tick.act_end.note}")


def run_executor(tick: Tick) -> None:
    """An agent CLI keeps no memory between runs, so each run gets the whole conversation as text."""
    executor = executor_of(tick)
    if tick.limits.usd is not None and tick.meter.cost >= tick.limits.usd:
        raise BudgetSpent(f"the {tick.limits.usd_budget} budget is spent")
    track(tick, "act")
    task = "\n\n".join(block["text"] for message in tick.messages if message["role"] == "user"
                        for block in message["content"] if block.get("type") == "text")
    tick.printer.say(f"executor: {tick.config.executor}")
    tick.act_end = executor.act(system_prompt(tick) + "\n" + task, tick.lever.id, tick.limits.deadline)
    report_executor_run(tick, executor)
    track(tick)


def executor_of(tick: Tick) -> CommandExecutor:
    if tick.executor is None:
        tick.executor = CommandExecutor(tick.config.executor, tick.root, warn=tick.printer.warn)
    return tick.executor


def report_executor_run(tick: Tick, executor: CommandExecutor) -> None:
    run = executor.last_run
    if run is not None:
        tick.meter.add(run.usage, cost=run.cost_usd or None)


class IntentTracker(Progress):
    """Shows progress, and after every turn and tool call writes down what the tick has changed
    and spent, so that a kill at any moment can be undone and accounted for."""

    def __init__(self, tick: Tick):
        self.tick = tick

    def turn(self, meter: Meter) -> None:
        self.tick.printer.turn(meter)
        track(self.tick, changed=None)          # spend only: nothing on disk changed by a reply

    def tool(self, name, tool_input, content, is_error) -> None:
        self.tick.printer.tool(name, tool_input, content, is_error)
        if name not in READ_ONLY_TOOLS:
            track(self.tick)


READ_ONLY_TOOLS = ("read_file", "search_files", "search_content", "load_skill")


def track(tick: Tick, phase: str | None = None, *, changed: list[str] | None | bool = True,
          expected: dict[str, str] | None = None) -> None:
    """Write the intent record: phase and spend, and (unless ``changed`` is None) a fingerprint of
    every changed path, from ``changed`` when the caller already has the list."""
    record = tick.intent
    record.phase = phase or record.phase
    record.cost_usd, record.tokens = round(tick.meter.cost, 6), tick.meter.usage.total
    if changed is not None:
        paths = tick.git.changed_paths() if changed is True else changed
        record.touched = intent.fingerprint(tick.root, paths)
    record.touched.update(expected or {})
    record.new_files_are_ours = record.phase == "gate"
    intent.save(tick.root, record)


def toolbox(tick: Tick) -> ToolBox:
    skills = tick.skills
    return ToolBox(tick.root, protected=tick.config.protected, command_timeout_max=tick.config.command_timeout,
                   load_skill=skills.load if skills else None, project_tools=tick.project_tools)


def system_prompt(tick: Tick) -> str:
    """Byte-identical for every turn of a tick, so the prefix is read from the cache."""
    project, config = tick.project, tick.config
    lessons = select_lessons(project.loop.lessons, tick.lever.title if tick.lever else "", config.lessons_tokens)
    parts = [project.loop.prompt.strip(),
             f"# Genome {project.genome.label}\n\n{project.genome.body.strip()}"]
    if lessons:
        parts.append("# Lessons\n\n" + "\n".join(lesson.render() for lesson in lessons))
    if tick.skills and tick.skills.listing():
        parts.append("# Skills (load one with load_skill when it fits)\n\n" + tick.skills.listing().strip())
    gates = [f"- {g.name}: `{g.run}`" for g in config.gates]
    if tick.lever:
        gates += [f"- check: `{c}`" for c in tick.lever.checks]
        history = "\n".join(f"- {line}" for line in tick.lever.log[-5:]) or "- (first attempt)"
        parts.append(f"# This tick's lever\n\n{tick.lever.id} {tick.lever.title}\n\nEarlier attempts:\n{history}")
    protected = ", ".join(["genome.md", "levers.md", "loop-prompt.md", ".genome/", ".git/", "journal/",
                           *config.protected])
    parts.append(
        "# What the runner enforces\n\n"
        f"- Protected paths (writes refused, and any change to them fails the tick): {protected}\n"
        "- After you finish, the runner runs these gates; all must pass or everything you changed is rolled "
        "back:\n" + ("\n".join(gates) or "- (none configured: the diff itself must be non-empty)") + "\n"
        "- You never commit; the runner commits exactly the files you changed.")
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------- gate

def gate_and_repair(tick: Tick) -> None:
    """Gate the change; on red, show the model why and let it repair, at most ``repair_rounds`` times."""
    for round_number in range(tick.config.repair_rounds + 1):
        tick.verdict = gate(tick)
        if tick.verdict.green or not tick.verdict.repairable or round_number == tick.config.repair_rounds:
            return
        tick.printer.phase("repair", f"round {round_number + 1}/{tick.config.repair_rounds}: {tick.verdict.reason}")
        tick.messages.append(user_message(
            f"The runner checked your change and it is not ready: {tick.verdict.reason}.\n\n{tick.verdict.feedback}\n\n"
            "Fix the cause. Do not weaken any test, check or gate. When you finish, the runner gates again."))
        work_once(tick)


def gate(tick: Tick) -> Verdict:
    """The diff check, then every config gate and the lever's checks, in fresh shells."""
    tick.printer.phase("gate")
    changed = tick.git.changed_paths()
    track(tick, "gate", changed=changed)
    if tick.act_end and tick.act_end.reason in ("stuck", "refusal"):
        return Verdict(False, tick.act_end.note, repairable=False)
    diff = diff_check(tick, changed)
    if diff:
        return diff
    specs = [GateSpec(g.name, g.run, g.timeout) for g in tick.config.gates]
    specs += [GateSpec(f"check-{i}", c, tick.config.command_timeout) for i, c in enumerate(tick.lever.checks, 1)]
    results = run_gates(specs, tick.root)
    for result in results:
        tick.printer.say(f"gate {result.summary()}")
    red = [r for r in results if not r.passed]
    if red:
        return Verdict(False, f"gate {red[0].name} failed", results,
                       feedback=f"Gate `{red[0].name}` (`{red[0].command}`) exited {red[0].exit_code}. "
                                f"The end of its output:\n```\n{red[0].output_tail}\n```")
    changed = tick.git.changed_paths()         # the gates may have written artifacts
    secrets = secrets_in_change(tick, changed)
    if secrets:
        return Verdict(False, secrets, results, repairable=False)
    return Verdict(True, results=results, changed=changed)


def secrets_in_change(tick: Tick, changed: list[str]) -> str:
    """The change as it would be committed, scanned line by line where it adds lines. Says where,
    never what: the secret itself must not reach the log, the journal or the output."""
    added = tick.git.added_lines(changed)
    found = [f for f in scan_paths(tick.root, changed, tick.config.secrets_allow)
             if added.get(f.path) is None or f.line in added[f.path] or f.kind == ".env file"]
    return "; ".join(f.describe() for f in found[:3])


def diff_check(tick: Tick, changed: list[str]) -> Verdict | None:
    """Whatever tool made a change, protected paths and the runner's own git state stay untouched."""
    git = tick.git
    if git.head_sha() != tick.start.head or git.current_branch() != tick.start.branch:
        return Verdict(False, "the model moved HEAD (commits are the runner's job)", repairable=False)
    hits = [p for p in changed if is_protected(p, tick.config.protected)]
    if hits:
        return Verdict(False, f"changed protected path {', '.join(hits[:3])}", repairable=False)
    if not changed:
        return Verdict(False, "no change", feedback="Nothing in the working tree differs from HEAD.")
    return None


# ---------------------------------------------------------------------------------------- commit

def commit(tick: Tick) -> None:
    """Green: the runner stages exactly the changed paths and commits them with trailers."""
    tick.printer.phase("commit")
    lever, record = tick.lever, tick.record
    record.gates = gates_trailer(tick.verdict.results)
    account = (tick.act_end.text if tick.act_end else "").strip()
    if scan_new_text("the commit message", account, allow=tick.config.secrets_allow):
        tick.printer.warn("the model's account looks like it holds a secret; the commit message leaves it out")
        account = ""
    message = f"{lever.id} {lever.title}\n\n" + (f"{_clip(account, 2000)}\n\n" if account else "") + trailers({
        "Lever": lever.id, "Genome-Version": tick.project.genome.label, "Gates": record.gates,
        "Tokens": tick.meter.usage.total, "Cost-USD": f"{tick.meter.cost:.4f}"})
    changed = tick.verdict.changed
    track(tick, "commit", changed=changed)
    sha = tick.git.commit(changed, message, tick.git.identity(tick.config.author))
    tick.intent.commit = sha
    track(tick, "improve", changed=[])
    record.outcome, record.commit, record.summary = "shipped", sha[:12], account
    tick.start = Snapshot(head=sha, branch=tick.start.branch)     # from here on, a failure keeps the commit
    tick.printer.say(f"committed {sha[:12]} ({len(changed)} file{'s' if len(changed) != 1 else ''})")


def roll_back(tick: Tick, reason: str) -> None:
    """Red: restore exactly what the tick changed, nothing else."""
    tick.printer.phase("roll back", reason)
    restored = tick.git.restore(tick.start)
    tick.record.outcome, tick.record.reason = "failed", reason
    if tick.verdict and tick.verdict.results:
        tick.record.gates = gates_trailer(tick.verdict.results)
    if tick.act_end:
        tick.record.summary = tick.act_end.text
    if restored:
        tick.printer.say(f"restored {len(restored)} path{'s' if len(restored) != 1 else ''}")


# ---------------------------------------------------------------------------------------- improve

def improve(tick: Tick) -> None:
    """Reflect (no code tools), then apply it and the tick's record as one commit."""
    tick.printer.phase("improve")
    reflection = Reflection()
    try:
        if tick.config.executor:
            reflection = reflect_with_executor(tick)
        else:
            reflection = reflect(
                tick.model_or_connect(), model_name=tick.config.model, max_tokens=tick.config.max_tokens,
                system=system_prompt(tick), prompt=reflection_prompt(tick), limits=tick.limits, meter=tick.meter)
    except (BudgetSpent, ModelUnavailable) as stop:
        tick.printer.say(f"no reflection: {stop.message}")
    if tick.lever is None:
        reflection.lesson = None     # an idle tick did no work to learn from
    write_record(tick, reflection)


def reflect_with_executor(tick: Tick) -> Reflection:
    """The executor answers in text; any file it touches meanwhile is put back (execution and
    self-modification stay apart)."""
    if tick.limits.usd is not None and tick.meter.cost >= tick.limits.usd:
        raise BudgetSpent(f"the {tick.limits.usd_budget} budget is spent")
    executor = executor_of(tick)
    reflection = executor.reflect(system_prompt(tick) + "\n" + reflection_prompt(tick), tick.record.lever,
                                  max(tick.limits.deadline, time.monotonic() + 300))
    report_executor_run(tick, executor)
    stray = tick.git.restore(tick.start)
    if stray:
        tick.printer.warn(f"the executor changed {', '.join(stray[:5])} during the reflection; put back")
    return reflection


def reflection_prompt(tick: Tick) -> str:
    record = tick.record
    if tick.lever is None:
        happened = "There is no open lever. Propose the next levers (at most 3) and rewrite genome sections " \
                   "that no longer hold."
    else:
        happened = (f"Lever {record.lever} {record.title}: {record.outcome}"
                    + (f" ({record.reason})" if record.reason else "")
                    + (f"\nGates: {record.gates}" if record.gates else "")
                    + (f"\nThe act phase's last words:\n{_clip(record.summary, 3000)}" if record.summary else ""))
        if tick.verdict and not tick.verdict.green and tick.verdict.feedback:
            happened += f"\n\n{_clip(tick.verdict.feedback, 3000)}"
    open_levers = "\n".join(f"- {l.id} {l.title}" for l in tick.project.levers.levers if l.status == "open")
    if tick.lever is None:
        happened = notes_text(tick) + happened
    return (f"The tick has ended.\n\n{happened}\n\nOpen levers now:\n{open_levers or '- (none)'}\n\n"
            "Call `reflect` once: a lesson only if it is general and new, genome sections only where their "
            "truth changed, new levers only if they are worth a tick and not already listed. "
            "Null for anything with nothing to say.")


def write_record(tick: Tick, reflection: Reflection) -> None:
    """levers.md status log, genome body (+1 version iff it changed), lesson, journal: one commit."""
    project, record, today = tick.project, tick.record, tick.now.strftime("%Y-%m-%d")
    stamp = tick.now.strftime("%Y-%m-%dT%H:%MZ")
    genome = project.genome
    for heading, text in reflection.genome.items():
        genome = genome.with_section(heading, text)
    loop = project.loop
    if reflection.lesson:
        loop = loop.with_lesson(Lesson(project.genome.label, today, reflection.lesson))
    rollback = ""
    if genome.body == project.genome.body:
        genome, loop, rollback = roll_back_genome_if_worse(tick, genome, loop)
    if genome.body != project.genome.body:
        genome = genome.with_version(project.genome.version + 1)
        record.new_version = genome.label
    levers = LeverDoc.parse(project.levers.render())      # a copy: a second pass must start afresh
    if tick.lever is not None:
        log_outcome(tick, levers, stamp)
    known = {_normal(l.title) for l in levers.levers}
    for title, checks in reflection.levers[:MAX_PROPOSALS]:
        if _normal(title) not in known:
            levers.add(title, checks)
            known.add(_normal(title))
    record.tokens_in = tick.meter.usage.input_tokens + tick.recorded_tokens
    record.tokens_out = tick.meter.usage.output_tokens
    record.cache_read = tick.meter.usage.cache_read_input_tokens
    record.cache_write = tick.meter.usage.cache_creation_input_tokens
    record.cost_usd = round(tick.meter.cost + tick.recorded_cost, 4)
    record.feedback = [note.text for note in tick.notes]
    files = {GENOME: genome.render(), LOOP_PROMPT: loop.render(), LEVERS: levers.render()}
    journal = journal_path(record.time)
    existing = tick.git.head_file(journal)
    files[journal] = append_entry(existing.decode("utf-8") if existing else None, record)
    leaks = [f for name, text in files.items() for f in scan_new_text(
        name, text, (tick.git.head_file(name) or b"").decode("utf-8", "replace"), tick.config.secrets_allow)]
    if leaks and (reflection != Reflection() or record.summary):
        # the model's words carried something secret-shaped: record the tick without them
        record.reason = "; ".join(filter(None, [record.reason, leaks[0].describe() + " (the model's words dropped)"]))
        record.summary = ""
        return write_record(tick, Reflection())
    if tick.intent is not None:      # what these files will hold, written down before they are written
        track(tick, "improve", expected={name: intent.text_print(text) for name, text in files.items()})
    for name, text in files.items():
        path = tick.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    changed = tick.git.changed_paths()
    version = record.new_version or record.version
    subject = f"genome: {record.lever or 'idle'} {record.outcome}" + (
        f", {record.version} → {record.new_version}" if record.new_version else "")
    message = subject + "\n\n" + trailers({
        "Lever": record.lever, "Outcome": record.outcome, "Tick-Version": record.version, "Genome-Version": version,
        "Genome-Rollback": rollback, "Tokens": record.tokens, "Cost-USD": f"{record.cost_usd:.4f}"})
    tick.git.commit(changed, message, tick.git.identity(tick.config.author))
    feedback.mark_read(tick.root, tick.notes)


def roll_back_genome_if_worse(tick: Tick, genome: GenomeDoc, loop: LoopPromptDoc
                              ) -> tuple[GenomeDoc, LoopPromptDoc, str]:
    """The strategy's own rollback: if the current version did worse than the one before it, its
    predecessor's body comes back as a new version, and a lesson says what happened and why."""
    current = tick.project.genome.version
    rows = tick.git.tick_history()
    if any(r["Genome-Version"] == version_label(current) and r["Genome-Rollback"] for r in rows):
        return genome, loop, ""      # a restored version is the known-good one: never rolled back itself
    history = [Outcome(_version_number(r["Tick-Version"]), r["Outcome"]) for r in rows]
    history.append(Outcome(current, tick.record.outcome))
    why = regression(history, current, tick.config.regression)
    if why is None:
        return genome, loop, ""
    for text in tick.git.file_versions(GENOME):
        try:
            earlier = GenomeDoc.parse(text)
        except GenomeFileError:
            continue
        if earlier.version == current - 1:
            label, previous = version_label(current), version_label(current - 1)
            tick.printer.say(f"genome {label} did worse than {previous} ({why}); restoring {previous}'s body")
            lesson = Lesson(label, tick.now.strftime("%Y-%m-%d"),
                            f"Genome {label} was rolled back to the body of {previous}: {why}.")
            return genome.with_body(earlier.body), loop.with_lesson(lesson), f"{label} -> {previous}: {why}"
    return genome, loop, ""


def _version_number(label: str) -> int:
    return int(label.lstrip("v")) if label.lstrip("v").isdigit() else 0


def log_outcome(tick: Tick, levers: LeverDoc, stamp: str) -> None:
    """The lever's status log line; blocked once it has failed ``max_attempts`` times."""
    record, label = tick.record, tick.project.genome.label
    lever = levers.get(record.lever)
    if record.outcome == "shipped":
        levers.set_status(lever.id, "done")
        levers.append_log(lever.id, f"{stamp} {label} shipped {record.commit[:7]}")
        return
    if record.outcome in ("budget", "unavailable", "interrupted"):
        levers.append_log(lever.id, f"{stamp} {label} stopped: {record.reason} (not counted)")
        return
    attempt = sum("(attempt " in line for line in lever.log) + 1
    limit = tick.config.max_attempts
    line = f"{stamp} {label} {record.reason} (attempt {attempt}/{limit})"
    if attempt >= limit:
        levers.set_status(lever.id, "blocked")
        line += ": blocked"
    levers.append_log(lever.id, line)


def record_stop(tick: Tick, stop: TickStop) -> None:
    """A budget or API stop is not the lever's failure, but money spent is recorded all the same."""
    tick.record.outcome = "budget" if isinstance(stop, BudgetSpent) else "unavailable"
    tick.record.reason = stop.message
    if tick.meter.turns == 0 and tick.meter.usage.total == 0:
        return     # nothing was sent: nothing to record, the tree stays exactly as it was
    write_record(tick, Reflection())


# ---------------------------------------------------------------------------------------- push

def sync_with_remote(git: Git, printer: Printer) -> Snapshot:
    """With ``push: true``, a tick starts from the remote's latest commit: fetch, fast-forward, never merge."""
    remote, branch = git.upstream()
    git.fetch(remote)
    theirs, ours = git.remote_sha(remote, branch), git.head_sha()
    if theirs != ours and git.is_ancestor(ours, theirs):
        git.fast_forward(theirs)
        printer.say(f"fast-forwarded to {remote}/{branch} ({theirs[:12]})")
    elif theirs != ours and not git.is_ancestor(theirs, ours):
        raise Refused(f"{git.current_branch()} and {remote}/{branch} have diverged; reconcile them "
                      "(`git pull --rebase`), then tick again")
    return Snapshot(head=git.head_sha(), branch=git.current_branch())


def publish(tick: Tick, start: Snapshot) -> None:
    """Push with a lease on what the remote held when the tick started. If another machine ticked
    meanwhile, this tick's commits are dropped: the race is lost cleanly, nothing is merged."""
    git = tick.git
    remote, branch = git.upstream()
    if git.push_with_lease(remote, branch, git.remote_sha(remote, branch)):
        tick.printer.say(f"pushed to {remote}/{branch}")
        return
    git.fetch(remote)
    git.reset_hard(start.head)
    raise Refused(f"lost the race: {remote}/{branch} moved during this tick (another machine ticked). "
                  "This tick's commits were dropped and the tree is clean; the next tick starts from theirs")


# ---------------------------------------------------------------------------------------- schedule

def schedule(tick: Tick) -> None:
    due_at = due.record_outcome(tick.root, tick.now, tick.config.cadence_seconds, tick.record.outcome)
    tick.printer.say(f"next tick due {due_at.strftime('%Y-%m-%d %H:%M')}Z")


def announce(tick: Tick) -> None:
    """The config's ``notify`` command hears about every tick; its failure never fails the tick."""
    record = tick.record
    needs_person = (record.outcome in ("budget", "unavailable", "blocked") or "secret" in record.reason
                    or (tick.lever is not None and record.outcome == "failed" and
                        tick.project.levers.get(record.lever).status == "blocked"))
    notify.notify(tick.config.notify, notify.summary_from(record, finish(tick).message, needs_person),
                  tick.root, tick.printer.warn)


def finish(tick: Tick) -> TickResult:
    record = tick.record
    version = f"{record.version}→{record.new_version}" if record.new_version else record.version
    what = f"{record.lever} {record.title}" if record.lever else "no open lever"
    message = (f"{record.outcome}: {what} · {version} · ${record.cost_usd:.4f} · {record.tokens:,} tokens"
               + (f" · {record.reason}" if record.reason else ""))
    return TickResult(outcome=record.outcome, record=record, message=message)


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _normal(text: str) -> str:
    return " ".join(text.lower().split())
