"""What the loop learns from: the facts a tick saw, put before the reflection and before the next
attempt at a lever that failed, and the first message of an act.

Facts, not the model's own story: the gate verdict and the red gate's first and last lines, what
was used against the limits, the tool calls that failed, the calls made again and again, what
changed. Text a model wrote earlier is quoted as data, clipped, and never read back as a command
or a record.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from genome.journal import journal_path, parse_entries

if TYPE_CHECKING:
    from runner.state import Tick

EARLIER_ATTEMPTS = 3  # the latest failed attempts shown to the next one
ACCOUNT_CHARS = 800  # of an earlier attempt's account
RED_LINES_CHARS = 600  # of an earlier attempt's red gate lines
FEEDBACK_CHARS = 1500  # of a red verdict's explanation
REPEATED = 3  # a call made this many times is worth pointing out

FINAL_MESSAGE = (
    "Make the smallest change that does it, and run the gates and checks yourself before you "
    "finish. Your final message becomes the commit message body; write it in four short parts:\n"
    "Changed: what you changed, file by file (or nothing, and why).\n"
    "Verified: each command you ran to check it, and what it showed.\n"
    "Not done: what the lever asks that is not done, and why (or nothing).\n"
    "Noticed: anything worth a lever of its own (or nothing)."
)


@dataclass(frozen=True)
class ToolCall:
    """One tool call of the act, as the reflection is told about it."""

    name: str
    input: object
    is_error: bool
    result: str  # the start of the result text


def first_message(tick: Tick, notes: str) -> str:
    """The act's first message: the person's notes, the lever and its checks, what failed before,
    what is left of the budgets, and the shape of the final message."""
    lever, lever_id = tick.need_lever(), tick.lever_id()
    checks = "".join(f"\n  check: {c}" for c in lever.checks)
    earlier = earlier_attempts(tick.git.head_file, lever_id, lever.log)
    retry = ""
    if earlier:
        retry = (
            "This lever failed before. Read why, then try another way; if it cannot be done, "
            "change nothing and say why in your final message.\n" + "\n".join(earlier) + "\n\n"
        )
    return (
        f"{notes}Work on lever {lever_id}: {lever.title}{checks}\n\n{retry}"
        f"{budget_text(tick)}\n\n{FINAL_MESSAGE}"
    )


def budget_text(tick: Tick) -> str:
    limits, meter = tick.limits, tick.meter
    left = [f"{max(0, round((limits.deadline - time.monotonic()) / 60))} minutes"]
    if not tick.config.executor:
        left.insert(0, f"{max(0, limits.turns - meter.turns)} model turns")
    if limits.tokens is not None:
        left.append(f"{max(0, limits.tokens - meter.usage.total):,} tokens")
    if limits.usd is not None:
        left.append(f"${max(0.0, limits.usd - meter.cost):.2f} (the {limits.usd_budget} budget)")
    return (
        f"This tick may still use {_and(left)}. The runner stops the act at the first limit "
        "reached and gates what is there, so leave time to verify."
    )


def earlier_attempts(
    head_file: Callable[[str], bytes | None], lever_id: str, log: list[str]
) -> list[str]:
    """What the latest failed attempts at this lever said and where their gates went red, from the
    journal entries its status log points to (read from HEAD), oldest first."""
    shown = []
    for line in [line for line in log if "(attempt " in line][-EARLIER_ATTEMPTS:]:
        stamp, _, rest = line.partition(" ")  # 2026-11-23T03:00Z v001 gate tests failed ...
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z", stamp):
            continue
        data = head_file(journal_path(stamp))
        entries = parse_entries(data.decode("utf-8", "replace")) if data else []
        entry = next(
            (e for e in reversed(entries) if e.lever == lever_id and e.time[:16] == stamp[:16]),
            None,
        )
        text = f"- {stamp}: {rest.partition(' ')[2] or rest}"
        if entry is not None and entry.gate_output:
            text += f"\n  red gate: {_clip(' / '.join(entry.gate_output), RED_LINES_CHARS)}"
        if entry is not None and entry.summary:
            text += f"\n  its account: {_clip(entry.summary, ACCOUNT_CHARS)}"
        shown.append(text)
    return shown


def reflection_prompt(tick: Tick, notes: str, *, in_conversation: bool) -> str:
    """The facts of the tick and what to do with them. ``in_conversation``: the act's conversation
    comes before this prompt, so its last words need not be repeated."""
    record = tick.record
    open_levers = "\n".join(
        f"- {lever.id} {lever.title}"
        for lever in tick.project.levers.levers
        if lever.status == "open"
    )
    if tick.lever is None:
        happened = notes + (
            "There is no open lever. Propose the next levers (at most 3) and rewrite "
            "genome sections that no longer hold."
        )
    else:
        facts = [
            f"Lever {record.lever} {record.title}: {record.outcome}"
            + (f" ({record.reason})" if record.reason else "")
        ]
        if record.gates:
            facts.append(f"Gates: {record.gates}")
        if record.gate_output:
            facts.append("The red gate's first and last lines:\n" + "\n".join(record.gate_output))
        if record.metrics:
            facts.append(f"Metrics: {record.metrics}")
        verdict = tick.verdict
        if (
            verdict is not None
            and not verdict.green
            and verdict.feedback
            and not record.gate_output
        ):
            facts.append(f"What the runner told the model:\n{verdict.feedback[:FEEDBACK_CHARS]}")
        facts.append(usage_fact(tick))
        facts += tool_facts(tick.tool_calls)
        changed = tick.act_changed
        facts.append(
            f"Changed: {', '.join(changed[:20])}" + (" …" if len(changed) > 20 else "")
            if changed
            else "Changed: nothing"
        )
        if record.summary and not in_conversation:
            facts.append(f"The act's final account:\n{_clip(record.summary, 3000)}")
        happened = "\n".join(f"- {fact}" for fact in facts)
    return (
        f"The tick has ended. What the runner saw:\n\n{happened}\n\nOpen levers now:\n"
        f"{open_levers or '- (none)'}\n\n"
        "Call `reflect` once, and no other tool. Learn from the evidence above: what cost turns, "
        "what failed and why, what worked. A lesson only if it is general and new (the rules are "
        "in the tool's description); retire a lesson this tick contradicts; rewrite genome "
        'sections only where their truth changed, keeping "How to work in this project" '
        "current; new levers only if they are worth a tick and not already listed. Null for "
        "anything with nothing to say."
    )


def usage_fact(tick: Tick) -> str:
    limits, meter = tick.limits, tick.meter
    minutes = tick.config.budget.tick_minutes
    used = minutes - max(0.0, (limits.deadline - time.monotonic()) / 60)
    parts = [
        f"{meter.turns} of {limits.turns} turns" if not tick.config.executor else "",
        f"{meter.usage.total:,} tokens" + (f" of {limits.tokens:,}" if limits.tokens else ""),
        f"${meter.cost:.4f}" + (f" of ${limits.usd:.4f}" if limits.usd is not None else ""),
        f"{used:.0f} of {minutes} minutes",
    ]
    end = f"; the act ended: {tick.act_end.note}" if tick.act_end else ""
    return "Used: " + ", ".join(part for part in parts if part) + end


def tool_facts(calls: list[ToolCall]) -> list[str]:
    """Tool errors, and the calls made again and again."""
    facts = []
    errors = [call for call in calls if call.is_error]
    if errors:
        shown = "; ".join(f"{call.name}: {_clip(call.result, 120)}" for call in errors[:5])
        facts.append(f"Tool errors: {len(errors)} of {len(calls)} calls ({shown})")
    again = [(key, n) for key, n in Counter(map(_call_key, calls)).most_common(3) if n >= REPEATED]
    if again:
        facts.append("Repeated calls: " + "; ".join(f"{key} ×{n}" for key, n in again))
    return facts


def _call_key(call: ToolCall) -> str:
    if call.name == "run_command" and isinstance(call.input, dict):
        return f"run_command `{_clip(str(call.input.get('command', '')), 80)}`"
    return f"{call.name} {_clip(json.dumps(call.input, sort_keys=True), 80)}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
