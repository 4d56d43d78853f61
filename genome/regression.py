"""When a genome mutation made things worse: the rule that decides to roll the strategy back.

Outcomes are kept per genome version. A new version is on probation for its first ``window`` counted
ticks (shipped or failed; idle, budget and interrupted ticks say nothing about the strategy). It is
rolled back when its first ``consecutive_failures`` ticks all fail, or when, at the end of its
window, its pass rate is more than ``drop`` points below the previous version's. After the window it
is confirmed and no longer compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from genome.records import Outcome

COUNTED = (Outcome.SHIPPED, Outcome.FAILED)


@dataclass(frozen=True)
class Rules:
    consecutive_failures: int = 3
    window: int = 5
    drop: int = 20  # percentage points


@dataclass(frozen=True)
class VersionOutcome:
    version: int  # the genome version the tick ran under
    outcome: str


def regression(history: list[VersionOutcome], current: int, rules: Rules) -> str | None:
    """Why version ``current`` should be rolled back, judged right after its newest tick; else None.

    ``history`` is oldest first and already includes the newest tick.
    """
    if current <= 1:
        return None
    under = [h.outcome for h in history if h.version == current and h.outcome in COUNTED]
    k = rules.consecutive_failures
    if len(under) == k and all(o == "failed" for o in under):
        return f"its first {k} ticks all failed"
    if len(under) == rules.window:
        before = [h.outcome for h in history if h.version == current - 1 and h.outcome in COUNTED][
            -rules.window :
        ]
        if len(before) == rules.window:
            rate_now, rate_before = _rate(under), _rate(before)
            if rate_before - rate_now > rules.drop:
                return (
                    f"its pass rate over {rules.window} ticks was {rate_now:.0f}%, "
                    f"down from {rate_before:.0f}% under v{current - 1:03d}"
                )
    return None


def _rate(outcomes: list[str]) -> float:
    return 100.0 * sum(o == "shipped" for o in outcomes) / len(outcomes)


def standing(version: int, attempted: int, rolled_back: bool, rules: Rules) -> str:
    """Where a version stands: ``rolled back``; ``baseline`` (v001, never judged); ``confirmed``
    once it got through its window of counted ticks; else ``on probation``."""
    if rolled_back:
        return "rolled back"
    if version <= 1:
        return "baseline"
    return "confirmed" if attempted >= rules.window else "on probation"
