"""The record commit, written directly: status log, journal entry and trailers in one commit, spend
carried over from a killed tick, nothing written for a stop that spent nothing."""

from __future__ import annotations

from datetime import datetime, timezone

from genome.journal import TickRecord, parse_entries
from genome.levers import LeverDoc
from genome.records import RecordTrailers
from runner import spend
from runner.errors import BudgetSpent
from runner.gitops import Git
from runner.model import Usage
from runner.progress import Printer
from runner.record import record_stop, write_record
from runner.session import Reflection
from runner.state import Tick, read_project
from runner.worktrees import Worktrees
from tests.conftest import git

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def make_tick(root, repo: Git, outcome: str, reason: str = "") -> Tick:
    project = read_project(repo)
    project.levers.assign_ids()
    lever = project.levers.top_open()
    record = TickRecord(
        time=NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        outcome=outcome,
        lever=lever.id,
        title=lever.title,
        version=project.genome.label,
        reason=reason,
    )
    start = repo.refuse_unless_clean()
    return Tick(
        root=root,
        git=repo,
        start=start,
        now=NOW,
        project=project,
        printer=Printer(),
        make_model=lambda config: None,
        meter=spend.meter_for(project.config),
        limits=spend.Limits(turns=1, deadline=0.0),
        record=record,
        lever=lever,
        places=Worktrees(repo),
        tip=start.head,
    )


def test_a_failed_attempt_is_one_record_commit_with_the_carried_spend(project):
    with Git(project) as repo:
        tick = make_tick(project, repo, "failed", "gate tests failed")
        tick.meter.add(Usage(input_tokens=1000, output_tokens=100))
        tick.meter.carry(0.5, 2000)  # what a killed tick spent before this one recovered it
        write_record(tick, Reflection())
        message = repo.message_of(repo.head_sha())
    trailers = RecordTrailers.parse(message)
    assert trailers is not None and (trailers.outcome, trailers.lever) == ("failed", "L-001")
    assert trailers.cost_usd == tick.meter.recorded_cost and trailers.cost_usd > 0.5
    assert trailers.tokens == 1100 + 2000
    assert git(project, "status", "--porcelain") == ""
    # unchanged files (genome.md, loop-prompt.md: no reflection) are not in the commit
    assert sorted(git(project, "show", "--name-only", "--format=", "HEAD").split()) == [
        "journal/2026/11/23.md",
        "levers.md",
    ]
    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    assert (entry.outcome, entry.lever, entry.cost_usd) == ("failed", "L-001", trailers.cost_usd)
    lever = LeverDoc.parse((project / "levers.md").read_text()).get("L-001")
    assert lever.status == "open" and lever.log[-1].endswith("gate tests failed (attempt 1/3)")


def test_a_stop_before_any_spend_writes_nothing(project):
    head = git(project, "rev-parse", "HEAD")
    with Git(project) as repo:
        tick = make_tick(project, repo, "idle")
        record_stop(tick, BudgetSpent("the day budget is spent"))
    assert tick.record.outcome == "budget" and git(project, "rev-parse", "HEAD") == head
