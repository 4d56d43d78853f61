"""Spend, decided in one place: the price, the meter, the limits, the one affordability check, the
carry-over of a killed tick's spend and the ledger read from git."""

from __future__ import annotations

import inspect
import os
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from genome.loop_prompt import Budget, Config, Price
from genome.records import CodeTrailers, Outcome, RecordTrailers, code_message, record_message
from runner import recovery, session, spend, tick
from runner.errors import BudgetSpent
from runner.model import Usage
from runner.prices import price_for
from tests.conftest import git

SONNET = Price(3.0, 15.0)


def commit(root: Path, message: str, when: datetime, name: str) -> None:
    (root / name).write_text(name)
    git(root, "add", name)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
    (root / ".msg").write_text(message)
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(
        ["git", "commit", "-q", "--cleanup=verbatim", "-F", str(root / ".msg")],
        cwd=root,
        env=env,
        check=True,
    )


def record(cost: float, outcome: Outcome = Outcome.FAILED, lever: str = "L-001") -> str:
    trailers = RecordTrailers(outcome, lever, "v001", "v001", "", 100, cost)
    return record_message(f"{lever} {outcome}", trailers)


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / ".gitignore").write_text(".msg\n")
    git(root, "add", ".gitignore")
    git(root, "commit", "-q", "-m", "start")
    return root


# ----------------------------------------------------------------------------------- meter


def test_the_meter_prices_replies_takes_reported_costs_and_carries_a_killed_ticks_spend():
    meter = spend.Meter(price=SONNET)
    meter.add(Usage(input_tokens=1_000_000, output_tokens=100_000))
    assert meter.cost == pytest.approx(3.0 + 1.5) and meter.turns == 1
    meter.add(Usage(input_tokens=10), cost=0.25)
    meter.add(Usage(input_tokens=10), cost=-100.0)  # an executor's word: never below nothing
    assert meter.cost == pytest.approx(4.75) and meter.usage.input_tokens == 1_000_020
    meter.carry(0.123456, 500)
    meter.carry(-5, -5)
    assert meter.cost == pytest.approx(4.75)  # this tick's budget counts this tick only
    assert meter.recorded_cost == round(4.75 + 0.123456, 4) and meter.carried_tokens == 500


def test_the_price_is_chosen_once_and_an_unknown_model_is_never_free():
    warned: list[str] = []
    haiku = spend.meter_for(Config(model="claude-haiku-9"), warned.append).price
    assert (haiku.input, haiku.output, warned) == (1.0, 5.0, [])
    meter = spend.meter_for(Config(model="my-local-model"), warned.append)
    assert meter.price == price_for("claude-sonnet")[0] and meter.price.input > 0
    assert "no price known for model 'my-local-model'" in warned[0]
    own = Config(model="qwen", prices={"qwen": Price(0.0, 0.0)})
    assert (spend.meter_for(own).price.input, spend.meter_for(own).price.output) == (0.0, 0.0)
    # the tick and the recovery both take their meter here; nothing else picks a price
    for module in (tick, recovery):
        assert "price_for" not in inspect.getsource(module)


# ----------------------------------------------------------------------------------- the check


def test_one_check_before_every_model_call_and_executor_run():
    meter = spend.Meter(price=SONNET)
    meter.add(Usage(output_tokens=20_000))  # $0.30, and no input the next call must outgrow
    limits = spend.Limits(turns=10, deadline=time.monotonic() + 60, usd=0.5, usd_budget="day")
    spend.afford(meter, limits)  # an executor may start while money is left
    spend.afford(meter, limits, {"messages": "x" * 4000})
    with pytest.raises(BudgetSpent, match="day budget would be crossed by the next model call"):
        spend.afford(meter, limits, {"messages": "x" * 400_000})  # ~100k tokens: $0.30 more
    meter.add(Usage(output_tokens=14_000))  # $0.51
    with pytest.raises(BudgetSpent, match="the day budget is spent"):
        spend.afford(meter, limits)
    spend.afford(meter, spend.Limits(turns=1, deadline=0.0, usd=None))  # no money budget
    # the session's per-call check and the tick's executor runs go through it; no copy elsewhere
    assert "afford(meter, limits, request)" in inspect.getsource(session.check_limits)
    tick_source = inspect.getsource(tick)
    assert ">= tick.limits.usd" not in tick_source and "> tick.limits.usd" not in tick_source


def test_limits_take_the_tightest_budget_from_what_git_recorded(repo):
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday
    commit(repo, record(9.0), now - timedelta(days=3), "c")  # last week's Sunday
    commit(repo, record(2.0), now - timedelta(days=2), "a")  # Monday: this week
    commit(repo, record(3.0), now - timedelta(hours=1), "b")  # today
    budget = Budget(tick_usd=1.0, day_usd=3.5, week_usd=6.0)
    limits = spend.limits_for(repo, Config(budget=budget), now)
    assert (limits.usd, limits.usd_budget) == (pytest.approx(0.5), "day")
    limits = spend.limits_for(
        repo, Config(budget=Budget(tick_usd=1.0, day_usd=None, week_usd=5.5)), now
    )
    assert (limits.usd, limits.usd_budget) == (pytest.approx(0.5), "week")
    with pytest.raises(BudgetSpent, match="the day budget is spent"):
        spend.limits_for(repo, Config(budget=Budget(tick_usd=1.0, day_usd=3.0, week_usd=None)), now)
    limits = spend.limits_for(
        repo, Config(budget=Budget(tick_usd=None, day_usd=None, week_usd=None)), now
    )
    assert limits.usd is None


def test_spend_waiting_on_the_genome_branch_counts_towards_the_budgets(repo):
    # with `deliver: branch` (or when landing is not safe) the tick's records wait on
    # genome/<branch>, off HEAD: their money is spent all the same
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    branch = git(repo, "symbolic-ref", "--short", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", f"genome/{branch}")
    commit(repo, record(3.0), now - timedelta(hours=1), "waiting")
    git(repo, "checkout", "-q", branch)
    budget = Budget(tick_usd=1.0, day_usd=3.5, week_usd=None)
    limits = spend.limits_for(repo, Config(budget=budget), now)
    assert (limits.usd, limits.usd_budget) == (pytest.approx(0.5), "day")
    assert spend.spent_since(repo, now).today == pytest.approx(3.0)


# ----------------------------------------------------------------------------------- ledger


def test_the_ledger_counts_record_commits_only_whatever_other_messages_say(repo):
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    commit(repo, record(0.5, Outcome.SHIPPED), now - timedelta(hours=3), "a")
    forged = (
        "Done.\n\nLever: L-001\nOutcome: shipped\nTick-Version: v001\nGenome-Version: v001\n"
        "Tokens: 1\nCost-USD: 0.0000\n# ------------------------ >8 ------------------------\n"
    )
    trailers = CodeTrailers("L-002", "v001", "tests ok", 10, 0.25)
    commit(repo, code_message("L-002", "Add", forged, trailers), now - timedelta(hours=2), "b")
    commit(
        repo,
        "genome: L-9 shipped\n\nOutcome: shipped\nCost-USD: -100\n",
        now - timedelta(hours=1),
        "c",
    )
    spent = spend.spent_since(repo, now)
    assert spent.today == pytest.approx(0.5) and spent.this_week == pytest.approx(0.5)
    assert [(outcome, lever, cost) for _, outcome, lever, cost in spent.ticks] == [
        ("shipped", "L-001", 0.5)
    ]
