"""The model conversation of one tick: the act loop (tools, limits, caching) and the
reflection call.

Written against the ``Model`` protocol, with the whole history sent every turn: local
Anthropic-compatible servers keep no server-side thread.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from genome.text import clean_text
from runner.model import Model, Reply, Usage
from runner.spend import Limits, Meter, afford
from runner.tools import ToolBox

CACHE = {"type": "ephemeral"}
# Set by a SIGTERM/SIGINT handler: the tick stops calling the model and finishes cleanly.
STOP = threading.Event()
STUCK_REPEATS = 3
CHARS_PER_TOKEN = 4  # a rough size of a request in tokens, from its JSON
TRUNCATION_RATIO = 4  # a server counting under a quarter of that is dropping input
TRUNCATION_MIN_TOKENS = 2_000  # small requests are left alone: the estimate is too rough


@dataclass
class ActEnd:
    reason: str  # done | turns | tokens | time | stuck | refusal | context
    text: str  # the model's last words (its summary when done)

    @property
    def note(self) -> str:
        return {
            "done": "the model finished",
            "turns": "turn limit reached",
            "tokens": "token limit reached",
            "time": "time limit reached",
            "stuck": "stopped as stuck: " + self.text,
            "refusal": "the model refused",
            "context": "the context window is full",
            "stopped": "stopped by a signal",
        }[self.reason]


class Progress:
    """What the session reports while it runs (the CLI renders it; tests may ignore it)."""

    def turn(self, meter: Meter) -> None: ...

    def tool(self, name: str, tool_input: Any, content: str, is_error: bool) -> None: ...

    def warn(self, message: str) -> None: ...

    def check_input(self, request: dict, usage: Usage) -> None:
        """Warn once when a server counts far fewer input tokens than were sent: a local server with
        a small context window (Ollama defaults to 4k) drops the start of the prompt silently."""
        sent = len(json.dumps(request)) // CHARS_PER_TOKEN
        counted = (
            usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
        )
        if (
            self._truncation_warned
            or sent < TRUNCATION_MIN_TOKENS
            or counted * TRUNCATION_RATIO >= sent
        ):
            return
        self._truncation_warned = True
        self.warn(
            f"the model server counted {counted:,} input tokens for a request of about "
            f"{sent:,}: it may be cutting the prompt to fit a small context window. For Ollama, "
            "set OLLAMA_CONTEXT_LENGTH (see README, local models)"
        )

    _truncation_warned = False

    def model_words(self, text: str) -> None:
        """The text blocks of a reply: the model's own words."""


def user_message(text: str) -> dict:
    """User turns are always block lists, so a turn's bytes never change once sent (cache
    prefix).
    """
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def add_user_turn(messages: list[dict], message: dict) -> None:
    """Append a user turn; right after another user turn (an empty reply was left out) its blocks
    join that turn, as the API itself would merge them, so the roles keep alternating."""
    if messages and messages[-1]["role"] == "user":
        messages[-1]["content"].extend(message["content"])
    else:
        messages.append(message)


def sendable(content: list[dict]) -> list[dict] | None:
    """A reply's blocks as they may go back in the history, or None when nothing may: the API
    refuses empty text blocks and an assistant turn without content, and a turn of thinking alone
    carries nothing the next turn needs. Thinking blocks stay exactly as they came."""
    kept = [b for b in content if not (b.get("type") == "text" and not b.get("text", "").strip())]
    if not any(b.get("type") in ("text", "tool_use", "server_tool_use") for b in kept):
        return None
    return kept


# Models that think adaptively by default and may be asked for a summary of their thinking.
SUMMARIZED_THINKING = ("claude-sonnet-5", "claude-opus-5", "claude-fable", "claude-mythos")


def request_options(model: str, effort: str = "") -> dict[str, Any]:
    """Request fields beyond the basics: ``output_config.effort`` only when one is set, and
    summarized thinking where the model supports it (by default the text between tool calls
    arrives as thinking with its display omitted, which would leave an empty account)."""
    options: dict[str, Any] = {}
    if effort:
        options["output_config"] = {"effort": effort}
    if model.startswith(SUMMARIZED_THINKING):
        options["thinking"] = {"type": "adaptive", "display": "summarized"}
    return options


def build_request(
    model: str,
    max_tokens: int,
    system: str,
    tools: list[dict],
    messages: list[dict],
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The request for one turn. Cache markers go on the stable prefix (tools + system), on the
    newest user turn and on the user turn before it. A marker finds an earlier cache entry only
    within 20 blocks before it, and one turn of ten parallel tool calls adds more than that: the
    marker on the turn before sits where the previous request's newest marker was, so every turn
    reads the whole previous request from the cache. History itself is never mutated: markers
    live on copies of those two messages only."""
    request: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": system, "cache_control": CACHE}],
        "tools": tools,
        "messages": list(messages),
        **copy.deepcopy(options or {}),
    }
    users = [i for i, message in enumerate(messages) if message["role"] == "user"]
    for i in users[-2:] if messages and messages[-1]["role"] == "user" else []:
        marked = copy.deepcopy(messages[i])
        if isinstance(marked["content"], str):
            marked["content"] = [{"type": "text", "text": marked["content"]}]
        if marked["content"]:
            marked["content"][-1]["cache_control"] = CACHE
        request["messages"][i] = marked
    return request


def check_limits(meter: Meter, limits: Limits, request: dict) -> str | None:
    """Before every call: a spent budget raises; a reached work limit ends the act cleanly."""
    afford(meter, limits, request)
    if STOP.is_set():
        return "stopped"
    if meter.turns >= limits.turns:
        return "turns"
    if limits.tokens is not None and meter.usage.total >= limits.tokens:
        return "tokens"
    if time.monotonic() >= limits.deadline:
        return "time"
    return None


def act_tools(toolbox: ToolBox) -> list[dict]:
    """The act's tools, ``reflect`` last: offered (and refused) from the first turn, so that the
    reflection, which continues the act's conversation, shares its cached prefix."""
    return toolbox.specs() + [REFLECT_TOOL]


EMPTY_REPLY = (
    "Your last reply was empty. If the work is done, reply with your final account; if not, go on."
)


def converse(
    model: Model,
    *,
    model_name: str,
    max_tokens: int,
    system: str,
    toolbox: ToolBox,
    messages: list[dict],
    limits: Limits,
    meter: Meter,
    progress: Progress,
    options: dict[str, Any] | None = None,
) -> ActEnd:
    """Run turns until the model ends its turn or a limit is reached. ``messages`` grows in place.

    An empty final reply (``end_turn`` with no text, which happens after tool results) means the
    model is done: the account is the last text it wrote. When it wrote none in the whole act, it
    is asked once for the account."""
    tools = act_tools(toolbox)
    recent_calls: list[str] = []
    last_text = last_thoughts = ""
    asked_for_account = False
    while True:
        request = build_request(model_name, max_tokens, system, tools, messages, options)
        limit = check_limits(meter, limits, request)
        if limit:
            return ActEnd(limit, last_text or thoughts_account(last_thoughts))
        reply = model.respond(request)
        meter.add(reply.usage)
        progress.turn(meter)
        progress.check_input(request, reply.usage)
        if reply.text:
            progress.model_words(reply.text)
        content = sendable(reply.content)
        if content is not None:
            messages.append({"role": "assistant", "content": content})
        last_text = reply.text or last_text
        last_thoughts = reply.thinking_text or last_thoughts
        if reply.stop_reason == "pause_turn":
            continue  # the server paused a long turn; sending it back as is lets it go on
        if reply.stop_reason == "refusal":
            return ActEnd("refusal", last_text)
        if reply.stop_reason == "model_context_window_exceeded":
            return ActEnd("context", last_text or thoughts_account(last_thoughts))
        if reply.tool_uses:
            results, stuck = run_tools(reply, toolbox, recent_calls, progress)
            add_user_turn(messages, {"role": "user", "content": results})
            if stuck:
                return ActEnd("stuck", stuck)
            continue
        if reply.stop_reason == "max_tokens":
            add_user_turn(
                messages,
                user_message(
                    "Your reply was cut off at the output limit. "
                    "Go on from where it stopped, in smaller steps."
                ),
            )
            continue
        if not reply.text and not last_text and not asked_for_account:
            asked_for_account = True
            add_user_turn(messages, user_message(EMPTY_REPLY))
            continue
        return ActEnd("done", last_text)


def thoughts_account(thoughts: str) -> str:
    """When an act ends on a limit before the model wrote any text, its last summarized thinking
    is the best account there is."""
    return f"(no final account; its last thinking:) {thoughts}" if thoughts else ""


def run_tools(
    reply: Reply, toolbox: ToolBox, recent_calls: list[str], progress: Progress
) -> tuple[list[dict], str]:
    """Tool results for every call in ``reply``; the second value names a call repeated until
    stuck.
    """
    results, stuck = [], ""
    for call in reply.tool_uses:
        signature = json.dumps([call.get("name"), call.get("input")], sort_keys=True)
        recent_calls.append(signature)
        repeated = (
            len(recent_calls) >= STUCK_REPEATS and len(set(recent_calls[-STUCK_REPEATS:])) == 1
        )
        if repeated:
            stuck = f"{call.get('name')} called {STUCK_REPEATS} times in a row with the same input"
            content, is_error = f"Not run: {stuck}. The runner stops this tick.", True
        elif call.get("name") == "reflect":
            content, is_error = NOT_NOW, True
        elif reply.stop_reason == "max_tokens":
            content, is_error = (
                (
                    "Not run: your reply hit the output limit before this call was complete. "
                    "Send it again, smaller (e.g. write a long file in parts)."
                ),
                True,
            )
        else:
            result = toolbox.call(call.get("name", ""), call.get("input"))
            content, is_error = result.content, result.is_error
        progress.tool(call.get("name", ""), call.get("input"), content, is_error)
        results.append(
            {
                "type": "tool_result",
                "tool_use_id": call.get("id", ""),
                "content": content,
                "is_error": is_error,
            }
        )
    return results, stuck


# ---------------------------------------------------------------- reflection

LESSON_RULES = (
    "A good lesson is general (it holds for levers to come, not only this one), actionable (it "
    "says "
    "what to do or avoid, in one line under 200 characters), grounded (this tick's evidence shows "
    "it: a red gate, a tool error, a wasted turn, a check that proved the work), and new (not "
    "already "
    "a lesson, not a restatement of the loop prompt). A fact about this project (a command, a "
    "path, a "
    'trap) belongs in the genome\'s "How to work in this project" section instead. No lesson is '
    "better than a vague one."
)

REFLECT_TOOL: dict[str, Any] = {
    "name": "reflect",
    "description": (
        "Record what this tick taught; call it only when the runner asks, after the act. Every "
        "field "
        "may be null. `lesson`: one lesson worth keeping for every future tick. "
        + LESSON_RULES
        + " "
        "`retire`: lessons shown to you (their exact text) that this tick's evidence contradicts "
        "or "
        "that a new `lesson` replaces; they are removed. `genome`: genome.md sections to rewrite, "
        'heading -> new full text of that section (only sections whose truth changed; keep "How to '
        'work in this project" current: build, test and lint commands, layout, conventions, '
        "traps). "
        "`levers`: at most 3 new levers worth doing next, each with a title and shell `check` "
        "commands that prove it done."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "lesson": {"type": ["string", "null"]},
            "retire": {"type": ["array", "null"], "items": {"type": "string"}},
            "genome": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
            "levers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "check": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["title"],
                },
            },
        },
    },
}
NOT_NOW = (
    "Not run: `reflect` is for the end of the tick, when the runner asks for it. "
    "Go on with the lever."
)


@dataclass
class Reflection:
    lesson: str | None = None
    genome: dict[str, str] = field(default_factory=dict)
    levers: list[tuple[str, list[str]]] = field(default_factory=list)
    retire: list[str] = field(default_factory=list)


def reflect(
    model: Model,
    *,
    model_name: str,
    max_tokens: int,
    system: str,
    prompt: str,
    limits: Limits,
    meter: Meter,
    options: dict[str, Any] | None = None,
    history: list[dict] | None = None,
    tools: list[dict] | None = None,
) -> Reflection:
    """One call that answers ``reflect``. A reply without it means "no change".

    With ``history`` (the act's conversation) and ``tools`` (the act's, ``reflect`` among them) the
    request repeats the act's requests up to the prompt, so it is read from the prompt cache, and
    the reflection sees everything the act did. Any other tool call in the reply is not run."""
    messages = copy.deepcopy(history or [])
    add_user_turn(messages, user_message(prompt))
    request = build_request(
        model_name, max_tokens, system, tools or [REFLECT_TOOL], messages, options
    )
    if check_limits(meter, limits, request) == "stopped":
        return Reflection()
    reply = model.respond(request)
    meter.add(reply.usage)
    for call in reply.tool_uses:
        if call.get("name") == "reflect":
            return parse_reflection(call.get("input"))
    return Reflection()


def parse_reflection(data: object) -> Reflection:
    """Keep what is well-formed and drop the rest: a sloppy reflection must not fail a tick."""
    if not isinstance(data, dict):
        return Reflection()
    data = _cleaned(data)  # one NUL in a reply must not make every later tick's files unreadable
    assert isinstance(data, dict)  # _cleaned keeps a dict a dict
    lesson = data.get("lesson")
    genome = data.get("genome")
    retire = data.get("retire")
    levers = []
    for item in data.get("levers") or []:
        if isinstance(item, dict) and isinstance(item.get("title"), str) and item["title"].strip():
            checks = item.get("check") or []
            if isinstance(checks, str):
                checks = [checks]
            levers.append(
                (item["title"].strip(), [c for c in checks if isinstance(c, str) and c.strip()])
            )
    return Reflection(
        lesson=lesson.strip() if isinstance(lesson, str) and lesson.strip() else None,
        genome={
            k: v
            for k, v in genome.items()
            if isinstance(k, str) and isinstance(v, str) and k.strip()
        }
        if isinstance(genome, dict)
        else {},
        levers=levers,
        retire=[text.strip() for text in retire if isinstance(text, str) and text.strip()][:3]
        if isinstance(retire, list)
        else [],
    )


def _cleaned(value: object) -> object:
    """Every string in a JSON value without control characters (``genome.text.clean_text``)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {_cleaned(key): _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value
