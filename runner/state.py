"""What one tick carries from phase to phase, and the intent record it keeps current as it goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from genome.errors import GenomeFileError
from genome.genome_file import GenomeDoc
from genome.journal import TickRecord
from genome.levers import Lever, LeverDoc
from genome.loop_prompt import Config, LoopPromptDoc
from genome.records import Outcome
from genome.text import decode
from runner import intent
from runner.deliver import Landing
from runner.executor import CommandExecutor
from runner.gates import GateResult
from runner.gitops import Git, GitInternals, Snapshot
from runner.intent import Intent
from runner.learning import ToolCall
from runner.model import Model
from runner.progress import Printer
from runner.sandbox import Sandbox
from runner.session import ActEnd, Progress
from runner.skills import SkillSet
from runner.spend import Limits, Meter
from runner.worktrees import Worktrees

GENOME, LEVERS, LOOP_PROMPT = "genome.md", "levers.md", "loop-prompt.md"


ModelFactory = Callable[[Config], Model]
T = TypeVar("T")


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
    reason: str = ""  # for the status log: "gate tests failed", "no change", ...
    results: list[GateResult] = field(default_factory=list)
    repairable: bool = True
    feedback: str = ""  # what the model is shown in a repair round
    changed: list[str] = field(default_factory=list)  # when green: exactly what the commit takes
    tree: str = ""  # when green: the candidate tree the gates ran on, the commit's tree


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
    notes: list = field(default_factory=list)  # the person's feedback, shown to this tick
    notes_recorded: bool = True  # False once a note was kept out of the journal
    messages: list[dict] = field(default_factory=list)
    verdict: Verdict | None = None
    act_end: ActEnd | None = None
    intent: intent.Intent | None = None
    internals: GitInternals | None = (
        None  # git's own settings at the start, to compare and put back
    )
    tool_calls: list = field(default_factory=list)  # learning.ToolCall per act tool call
    act_changed: list[str] = field(default_factory=list)  # what the act changed, as last gated
    sandbox: Sandbox | None = None  # how the commands of this tick are contained
    satisfied: list[tuple[str, str]] = field(
        default_factory=list
    )  # (lever id, log line): checks passed at start
    start_tree: str = ""  # the start tree's code id (runner.tree_memory), read before the act
    start_memory: dict = field(
        default_factory=dict
    )  # its remembered numbers, as read before the act
    start_green: set = field(default_factory=set)  # its green gate sets, as read before the act
    judged: list = field(default_factory=list)  # metric gates judged on the candidate
    sealed_gates: tuple = ()  # gates kept outside the repository, never shown to the model
    places: Worktrees | None = None  # the act and gate worktrees
    tip: str = ""  # the newest commit the tick made (the start commit until it makes one)
    landing: Landing | None = None  # where the tick's commits went

    @property
    def config(self) -> Config:
        return self.project.config

    # Fields set by an earlier phase, for the phases that run after it: each accessor states the
    # invariant and fails loudly if a phase runs out of order.

    def need_lever(self) -> Lever:
        """The lever being worked on (set by pick; ids are assigned before a lever is picked)."""
        return _set(self.lever, "lever")

    def lever_id(self) -> str:
        """The id of the lever being worked on (pick assigns ids before it picks)."""
        return _set(self.need_lever().id, "lever.id")

    def need_places(self) -> Worktrees:
        """The act and gate worktrees (set by pick)."""
        return _set(self.places, "places")

    def need_intent(self) -> Intent:
        """The intent record (set by pick)."""
        return _set(self.intent, "intent")

    def need_internals(self) -> GitInternals:
        """Git's own settings at the start (set by pick)."""
        return _set(self.internals, "internals")

    def need_verdict(self) -> Verdict:
        """The gates' verdict on the candidate (set by the gate phase)."""
        return _set(self.verdict, "verdict")

    def need_act_end(self) -> ActEnd:
        """How the act ended (set by the act phase)."""
        return _set(self.act_end, "act_end")

    def model_or_connect(self) -> Model:
        if self.model is None:
            self.model = self.make_model(self.config)
            if hasattr(self.model, "deadline"):  # retries and requests stop at the tick's clock
                self.model.deadline = self.limits.deadline
        return self.model


def _set(value: T | None, name: str) -> T:
    if value is None:
        raise RuntimeError(f"tick.{name} is used before the phase that sets it ran")
    return value


@dataclass
class TickResult:
    outcome: str
    record: TickRecord
    message: str

    @property
    def exit_code(self) -> int:
        return Outcome(self.outcome).exit_code


def read_project(git: Git, rev: str = "HEAD") -> Project:
    """The three files as committed at ``rev``, never a working tree: the model cannot edit its own
    gates."""

    def committed(name: str) -> str:
        data = git.file_at(rev, name)
        if data is None:
            raise GenomeFileError(
                name,
                None,
                "the file is not committed in this repository",
                "Run `genome init` to add the templates, or commit the file",
            )
        return decode(name, data)

    return Project(
        genome=GenomeDoc.parse(committed(GENOME)),
        levers=LeverDoc.parse(committed(LEVERS)),
        loop=LoopPromptDoc.parse(committed(LOOP_PROMPT)),
    )


class IntentTracker(Progress):
    """Shows progress, and after every turn and tool call writes down what the tick has changed
    and spent, so that a kill at any moment can be undone and accounted for."""

    def __init__(self, tick: Tick):
        self.tick = tick

    def turn(self, meter: Meter) -> None:
        self.tick.printer.turn(meter)
        track(self.tick)

    def tool(self, name, tool_input, content, is_error) -> None:
        self.tick.printer.tool(name, tool_input, content, is_error)
        self.tick.tool_calls.append(ToolCall(name, tool_input, is_error, content[:300]))
        if name not in READ_ONLY_TOOLS:
            track(self.tick)

    def warn(self, message: str) -> None:
        self.tick.printer.warn(message)

    def model_words(self, text: str) -> None:
        self.tick.printer.model_words(text)


READ_ONLY_TOOLS = ("read_file", "search_files", "search_content", "load_skill")


def track(tick: Tick, phase: str | None = None) -> None:
    """Write the intent record: phase and spend (the work itself is in the runner's worktrees and
    in git objects, never in the person's tree, so there is nothing of theirs to fingerprint)."""
    record = tick.need_intent()
    record.phase = phase or record.phase
    record.cost_usd, record.tokens = round(tick.meter.cost, 6), tick.meter.usage.total
    intent.save(tick.root, record)


def finish(tick: Tick) -> TickResult:
    record = tick.record
    version = f"{record.version}→{record.new_version}" if record.new_version else record.version
    what = f"{record.lever} {record.title}" if record.lever else "no open lever"
    message = (
        f"{record.outcome}: {what} · {version} · ${record.cost_usd:.4f} · {record.tokens:,} tokens"
        + (f" · {record.reason}" if record.reason else "")
    )
    return TickResult(outcome=record.outcome, record=record, message=message)


def clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normalized(text: str) -> str:
    return " ".join(text.lower().split())
