"""The record of a tick: the lever's status log, the genome (and its rollback when a change did
worse), the lesson and the journal entry, written and committed as one commit."""

from __future__ import annotations

import dataclasses
import re

from genome.errors import GenomeFileError
from genome.genome_file import GenomeDoc, version_label
from genome.journal import append_entry, journal_path
from genome.levers import LeverDoc
from genome.loop_prompt import Lesson, LoopPromptDoc, select_lessons
from genome.records import Outcome, RecordTrailers, record_message
from genome.regression import VersionOutcome, regression
from runner import deliver, feedback, gatekeeper, pull_request
from runner.errors import BudgetSpent, ModelUnavailable, TickStop
from runner.secrets import scan_new_text
from runner.session import Reflection
from runner.state import GENOME, LEVERS, LOOP_PROMPT, Tick, normalized, track
from runner.worktrees import Worktrees

MAX_PROPOSALS = 3


def write_record(tick: Tick, reflection: Reflection) -> None:
    """levers.md status log, genome body (+1 version iff it changed), lesson, journal: one
    commit."""
    project, record, today = tick.project, tick.record, tick.now.strftime("%Y-%m-%d")
    stamp = tick.now.strftime("%Y-%m-%dT%H:%MZ")
    genome = project.genome
    for heading, text in reflection.genome.items():
        genome = genome.with_section(heading, text)
    loop = project.loop
    # only a lesson the tick was shown may be retired: the one the evidence contradicted
    shown = {
        normalized(lesson.text)
        for lesson in select_lessons(
            project.loop.lessons, tick.lever.title if tick.lever else "", tick.config.lessons_tokens
        )
    }
    for text in reflection.retire:
        if normalized(text) in shown:
            loop = loop.without_lesson(text)
    if reflection.lesson:
        loop = loop.with_lesson(
            Lesson(project.genome.label, today, reflection.lesson, record.lever)
        )
    rollback = ""
    if genome.body == project.genome.body:
        genome, loop, rollback = roll_back_genome_if_worse(tick, genome, loop)
    if genome.body != project.genome.body:
        genome = genome.with_version(project.genome.version + 1)
        record.new_version = genome.label
    levers = LeverDoc.parse(project.levers.render())  # a copy: a second pass must start afresh
    if tick.lever is not None:
        log_outcome(tick, levers, stamp)
    for lever_id, line in tick.satisfied:
        levers.set_status(lever_id, "done")
        levers.append_log(lever_id, f"{stamp} {project.genome.label} {line}")
    known = {normalized(lever.title) for lever in levers.levers}
    for title, checks in reflection.levers[:MAX_PROPOSALS]:
        if normalized(title) not in known:
            levers.add(title, checks)
            known.add(normalized(title))
    record.tokens_in = tick.meter.usage.input_tokens + tick.meter.carried_tokens
    record.tokens_out = tick.meter.usage.output_tokens
    record.cache_read = tick.meter.usage.cache_read_input_tokens
    record.cache_write = tick.meter.usage.cache_creation_input_tokens
    record.cost_usd = tick.meter.recorded_cost
    if tick.notes_recorded:
        record.feedback = [note.text for note in tick.notes]
    files = {GENOME: genome.render(), LOOP_PROMPT: loop.render(), LEVERS: levers.render()}
    journal = journal_path(record.time)
    existing = tick.git.file_at(tick.tip, journal)
    files[journal] = append_entry(existing.decode("utf-8") if existing else None, record)
    leaks = [
        f
        for name, text in files.items()
        for f in scan_new_text(
            name,
            text,
            (tick.git.file_at(tick.tip, name) or b"").decode("utf-8", "replace"),
            tick.config.secrets_allow,
        )
    ]
    if leaks and (reflection != Reflection() or record.summary or record.feedback):
        narrowed = without_secret_parts(tick, reflection, leaks[0].describe())
        if narrowed is not None:  # only the parts that hold a secret are left out
            return write_record(tick, narrowed)
        # the secret is in no one part on its own: record without any of the tick's words
        record.reason = "; ".join(
            filter(None, [record.reason, leaks[0].describe() + " (the tick's words dropped)"])
        )
        record.summary = ""
        record.feedback = (
            []
            if not record.feedback
            else ["(a note was not recorded: it looked like it held a secret)"]
        )
        tick.notes_recorded = False
        return write_record(tick, Reflection())
    gatekeeper.remember_trees(tick)
    subject = f"{record.lever or 'idle'} {record.outcome}" + (
        f", {record.version} → {record.new_version}" if record.new_version else ""
    )
    message = record_message(
        subject,
        RecordTrailers(
            outcome=Outcome(record.outcome),
            lever=record.lever,
            tick_version=record.version,
            genome_version=record.new_version or record.version,
            rollback=rollback,
            tokens=record.tokens,
            cost_usd=record.cost_usd,
        ),
    )
    git = tick.git
    git.end_quarantine(keep=False)  # a red tick's candidate objects go nowhere
    tree = git.tree_with(
        git.tree_of(tick.tip), {name: text.encode("utf-8") for name, text in files.items()}
    )
    tick.tip = git.commit_tree(tree, tick.tip, message, git.identity(tick.config.author))
    if tick.intent is not None:
        tick.intent.record = tick.tip
        track(tick, "deliver")
    land(tick)
    feedback.mark_read(tick.root, tick.notes)


def land(tick: Tick) -> None:
    """The tick's commits (code and record) go where ``deliver:`` says, in one step."""
    config = tick.config
    places = tick.places or Worktrees(tick.git)
    tick.landing = deliver.deliver(
        tick.git,
        mode=config.deliver,
        branch=tick.start.branch,
        base=tick.start.head,
        tip=tick.tip,
        gate_dir=places.gate_ready(tick.start.head),
        run_gates=deliver.config_gates(
            config, tick.printer, tick.lever if tick.record.outcome == "shipped" else None
        ),
        author=tick.git.identity(config.author),
    )
    if config.deliver == "pr" and not tick.landing.landed:
        try:
            url = pull_request.open_or_update(tick.git, tick.start.branch, tick.landing.tip)
            tick.printer.say(
                f"draft pull request: {url}" if url else "draft pull request opened or updated"
            )
        except pull_request.PullRequestError as error:
            # the commits stay on genome/<branch>; the person hears why no pull request shows them
            tick.landing = dataclasses.replace(
                tick.landing, reason=f"{tick.landing.reason}; {error}"
            )
            tick.printer.warn(f"{error}. The commits stay on genome/{tick.start.branch}")
    if tick.landing.landed and tick.landing.tip != tick.tip:
        tick.printer.say(f"replayed on {tick.start.branch}'s new commits; the gates passed again")
    if tick.record.commit and not tick.landing.landed:
        tick.printer.warn(tick.landing.describe())
    elif tick.record.commit:
        tick.printer.say(tick.landing.describe())


NOTE_LEFT_OUT = "(a note was not recorded: it looked like it held a secret)"


def without_secret_parts(tick: Tick, reflection: Reflection, finding: str) -> Reflection | None:
    """The reflection and the record without the parts that look like they hold a secret (the
    lesson, a genome section, a proposed lever, the tick's account, a note), each judged on its
    own; None when no single part does, so the caller drops all of the tick's words."""
    record, allow = tick.record, tick.config.secrets_allow

    def secret(*texts: str) -> bool:
        return bool(scan_new_text("the tick's words", "\n".join(texts), "", allow))

    dropped = []
    lesson = reflection.lesson
    if lesson and secret(lesson):
        lesson = None
        dropped.append("the lesson")
    genome = {
        heading: text for heading, text in reflection.genome.items() if not secret(heading, text)
    }
    if len(genome) < len(reflection.genome):
        dropped.append("a genome section")
    levers = [(title, checks) for title, checks in reflection.levers if not secret(title, *checks)]
    if len(levers) < len(reflection.levers):
        dropped.append("a proposed lever")
    if record.summary and secret(record.summary):
        record.summary = ""
        dropped.append("the tick's account")
    notes = [NOTE_LEFT_OUT if secret(note) else note for note in record.feedback]
    if notes != record.feedback:
        record.feedback = notes
        tick.notes_recorded = False
        dropped.append("a note")
    if not dropped:
        return None
    record.reason = "; ".join(
        filter(
            None,
            [
                record.reason,
                f"{finding} (the tick's words dropped: {', '.join(dropped)}; the rest kept)",
            ],
        )
    )
    return Reflection(lesson, genome, levers)


def roll_back_genome_if_worse(
    tick: Tick, genome: GenomeDoc, loop: LoopPromptDoc
) -> tuple[GenomeDoc, LoopPromptDoc, str]:
    """The strategy's own rollback: if the current version did worse than the one before it, its
    predecessor's body comes back as a new version, and a lesson says what happened and why."""
    current = tick.project.genome.version
    rows = tick.git.tick_history()
    if any(r.genome_version == version_label(current) and r.rollback for r in rows):
        return (
            genome,
            loop,
            "",
        )  # a restored version is the known-good one: never rolled back itself
    history = [VersionOutcome(_version_number(r.tick_version), r.outcome) for r in rows]
    history.append(VersionOutcome(current, tick.record.outcome))
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
            tick.printer.say(
                f"genome {label} did worse than {previous} ({why}); restoring {previous}'s body"
            )
            lesson = Lesson(
                label,
                tick.now.strftime("%Y-%m-%d"),
                f"Genome {label} was rolled back to the body of {previous}: {why}.",
            )
            return (
                genome.with_body(earlier.body),
                loop.with_lesson(lesson),
                f"{label} -> {previous}: {why}",
            )
    return genome, loop, ""


def _version_number(label: str) -> int:
    return int(label.lstrip("v")) if label.lstrip("v").isdigit() else 0


def log_outcome(tick: Tick, levers: LeverDoc, stamp: str) -> None:
    """The lever's status log line; blocked once it has failed ``max_attempts`` times."""
    record, label = tick.record, tick.project.genome.label
    lever = levers.get(record.lever)
    lever_id = lever.id
    assert lever_id is not None, "a lever found by its id has one"
    if record.outcome == "shipped":
        levers.set_status(lever_id, "done")
        levers.append_log(lever_id, f"{stamp} {label} shipped {record.commit[:7]}")
        return
    if record.outcome in ("budget", "unavailable", "interrupted"):
        levers.append_log(lever_id, f"{stamp} {label} stopped: {record.reason} (not counted)")
        return
    attempt = sum("(attempt " in line for line in attempts_since_reopened(lever.log)) + 1
    limit = tick.config.max_attempts
    line = f"{stamp} {label} {record.reason} (attempt {attempt}/{limit})"
    if attempt >= limit:
        levers.set_status(lever_id, "blocked")
        line += ": blocked"
    levers.append_log(lever_id, line)


# The status-log line `genome retry` and `genome revert` write: the stamp, then these words. A
# tick's own lines carry the genome version right after the stamp, so no reason it records can
# look like one.
REOPENED = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ (?:reverted [0-9a-f]+ and )?reopened by a person\b"
)


def attempts_since_reopened(log: list[str]) -> list[str]:
    """The status-log lines after a person last reopened the lever: attempts count from there."""
    marks = [i for i, line in enumerate(log) if REOPENED.match(line)]
    return log[marks[-1] + 1 :] if marks else log


def record_stop(tick: Tick, stop: TickStop) -> None:
    """A budget or API stop is not the lever's failure, but money spent is recorded all the same,
    and so is a model that was asked and never answered (never silent: the journal says the tick
    ran).
    Without credentials no model was made: exit 5 says so, and nothing is written."""
    tick.record.outcome = "budget" if isinstance(stop, BudgetSpent) else "unavailable"
    tick.record.reason = stop.message
    asked = isinstance(stop, ModelUnavailable) and (
        tick.model is not None or tick.executor is not None
    )
    if not asked and tick.meter.turns == 0 and tick.meter.usage.total == 0:
        return  # nothing was sent: nothing to record, the tree stays exactly as it was
    write_record(tick, Reflection())
