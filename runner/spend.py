"""Where spend is decided: the price, the meter, the limits, the one check before every model call
and executor run, the carry-over of a killed tick's spend, and the ledger of what ticks spent.

- **Price**: chosen once per tick, by ``meter_for`` (from ``runner.prices``' table and the config's
  ``prices:``); an unknown model is priced like the default family, never as free.
- **Meter**: what this tick has spent (tokens, turns, dollars), plus what a killed tick had spent
  before it (``carry``), which its recovery record commits.
- **Limits**: ``limits_for`` takes the tightest of the tick, day and week money budgets; the day
  and week spend is read from git (``spent_since``), the same ledger ``genome status`` shows.
- **The check**: ``afford`` runs before every model call (``session.check_limits``) and every
  executor run; it raises ``BudgetSpent`` when the money is gone or the next call would cross it.
  An executor is told what is ``left`` and, once its run is counted, ``check_run`` stops the tick
  if the run crossed the budget anyway.
- **The ledger**: record commits' ``Cost-USD`` trailers (``genome.records``), read strictly, so
  text the model wrote can never add or remove spend; a fresh clone knows the spend too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from genome.loop_prompt import Config, Price
from genome.records import LOG_FORMAT, RecordTrailers, parse_log
from runner.errors import BudgetSpent
from runner.ledger import git_text
from runner.model import Usage
from runner.prices import cost_usd, price_for

# ------------------------------------------------------------------------------- meter


@dataclass
class Meter:
    """Tokens, turns and dollars spent so far in this tick."""

    price: Price
    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    last_input: int = 0  # input tokens of the last request, all kinds: the next is at least as big
    reported_cost: float = 0.0  # dollars an executor reported itself, for tokens not priced here
    priced: Usage = field(default_factory=Usage)
    priced_cost: float = 0.0  # priced reply by reply: a long prompt may cost more per token
    carried_cost: float = 0.0  # what a killed tick spent, recorded by the tick that recovers it
    carried_tokens: int = 0

    @property
    def cost(self) -> float:
        """Dollars this tick spent (what its budget checks count)."""
        return self.priced_cost + self.reported_cost

    @property
    def recorded_cost(self) -> float:
        """Dollars the tick's record commit carries: its own and any carried over, four decimals."""
        return round(self.cost + self.carried_cost, 4)

    def add(self, usage: Usage, cost: float | None = None, unpriced: Usage | None = None) -> None:
        """One reply's usage; ``cost`` when the other side reported what it charged (at least 0)
        for all of it but ``unpriced``, the tokens it reported no cost for, which are priced
        here."""
        self.usage.add(usage)
        if cost is None:
            unpriced = usage
        else:
            self.reported_cost += max(cost, 0.0)
        if unpriced is not None:
            self.priced.add(unpriced)
            self.priced_cost += cost_usd(unpriced, self.price)
        self.turns += 1
        self.last_input = (
            usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
        )

    def carry(self, cost: float, tokens: int) -> None:
        """A killed tick's spend (from its intent record), to be recorded with this one's."""
        self.carried_cost += max(cost, 0.0)
        self.carried_tokens += max(tokens, 0)


def meter_for(config: Config, warn: Callable[[str], None] | None = None) -> Meter:
    """A fresh meter at the configured model's price: the one place the price is chosen."""
    price, known = price_for(config.model, config.prices)
    if not known and warn is not None:
        warn(
            f"no price known for model {config.model!r}; costing it like Claude Sonnet "
            f"(${price.input}/${price.output} per million tokens). Set `prices:` in loop-prompt.md"
        )
    return Meter(price=price)


# ------------------------------------------------------------------------------- limits


@dataclass
class Limits:
    """What the tick may still spend. ``usd`` is the tightest of the tick, day and week budgets."""

    turns: int
    deadline: float  # time.monotonic() value
    usd: float | None = None
    usd_budget: str = "tick"  # which budget ``usd`` comes from, for the message
    tokens: int | None = None


def limits_for(root: Path, config: Config, now: datetime) -> Limits:
    """The tick's limits: the tightest of the tick, day and week money budgets, from spend recorded
    in git. Raises ``BudgetSpent`` when one is spent already."""
    budget = config.budget
    candidates: list[tuple[float, str]] = []
    if budget.tick_usd is not None:
        candidates.append((budget.tick_usd, "tick"))
    if budget.day_usd is not None or budget.week_usd is not None:
        spent = spent_since(root, now)
        if budget.day_usd is not None:
            candidates.append((budget.day_usd - spent.today, "day"))
        if budget.week_usd is not None:
            candidates.append((budget.week_usd - spent.this_week, "week"))
    usd, which = min(candidates) if candidates else (None, "tick")
    if usd is not None and usd <= 0:
        raise BudgetSpent(
            f"the {which} budget is spent; the next tick runs when it resets "
            "(raise `budget:` in loop-prompt.md to go on now)"
        )
    return Limits(
        turns=budget.tick_turns,
        deadline=time.monotonic() + budget.tick_minutes * 60,
        usd=usd,
        usd_budget=which,
        tokens=budget.tick_tokens,
    )


def afford(meter: Meter, limits: Limits, request: dict | None = None) -> None:
    """Before every model call (``request``) and every executor run (None): raise ``BudgetSpent``
    when the money budget is gone, or would be crossed by the model call about to be made."""
    if limits.usd is None:
        return
    if request is None:
        # an executor run costs what it costs: it may start while anything is left
        if meter.cost >= limits.usd:
            raise BudgetSpent(f"the {limits.usd_budget} budget is spent")
        return
    # history only grows, so the next request is at least the last one's size; priced without the
    # cache discount, so the estimate errs towards stopping. The reply may run to max_tokens:
    # counted in full, so no reply can carry the spend past the budget.
    estimated_input = max(len(json.dumps(request)) / 4, meter.last_input)
    projected = (
        meter.cost
        + (estimated_input * meter.price.input + request.get("max_tokens", 0) * meter.price.output)
        / 1_000_000
    )
    if projected > limits.usd:
        raise BudgetSpent(
            f"the {limits.usd_budget} budget would be crossed by the next model call "
            f"(spent ${meter.cost:.4f} of ${limits.usd:.4f} left)"
        )


def left(meter: Meter, limits: Limits) -> float | None:
    """Dollars still to spend under the tightest budget (what an executor is told); None: no cap."""
    return None if limits.usd is None else limits.usd - meter.cost


def check_run(meter: Meter, limits: Limits) -> None:
    """After an executor run is counted: one that crossed a money budget stops the tick (exit 4),
    as a model call would have been stopped before it."""
    if limits.usd is not None and meter.cost > limits.usd:
        raise BudgetSpent(
            f"the executor's run crossed the {limits.usd_budget} budget (the "
            f"tick spent ${meter.cost:.4f} of ${limits.usd:.4f} left)"
        )


# ------------------------------------------------------------------------------- ledger

# the branches where ticks' commits wait (runner.deliver.WAITING_PREFIX; not imported, so reading
# the ledger does not load GitPython)
WAITING = "--branches=genome/*"


def record_commits(root: Path, *selection: str) -> list[tuple[datetime, str, str, float]]:
    """(commit time, outcome, lever, cost) of the tick records ``git log`` selects, newest first.

    Git is the ledger (the tick budgets from the same trailers): a fresh clone knows the spend too.
    Only record commits count (``genome.records``): text in any other message is not spend.
    Records waiting on ``genome/<branch>`` (``runner.deliver``) are read with HEAD's: they spent
    money before they land, and a commit on both is read once.
    """
    out = git_text(root, "log", "-z", *selection, f"--format={LOG_FORMAT}", "HEAD", WAITING, "--")
    found = []
    for commit in parse_log(out):
        record = RecordTrailers.parse(commit.message)
        if record is not None:
            found.append(
                (
                    datetime.fromtimestamp(commit.seconds, timezone.utc),
                    record.outcome.value,
                    record.lever,
                    record.cost_usd,
                )
            )
    return found


@dataclass(frozen=True)
class Spend:
    today: float
    this_week: float
    ticks: list[tuple[datetime, str, str, float]]  # this week's records, newest first


def spent_since(root: Path, now: datetime) -> Spend:
    """Dollars the ticks recorded since UTC midnight and since Monday, in one ``git log``."""
    day_start = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - timedelta(days=day_start.weekday())
    ticks = record_commits(root, f"--since={week_start.strftime('%Y-%m-%d %H:%M:%S +0000')}")
    return Spend(
        today=sum(cost for when, _, _, cost in ticks if when >= day_start),
        this_week=sum(cost for when, _, _, cost in ticks if when >= week_start),
        ticks=ticks,
    )
