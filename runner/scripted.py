"""A model that replays a script: for fast tests and for ``genome demo``.

A script is a list of actions, consumed one per request:

- a reply, ``{"content": [blocks], "stop_reason": ..., "usage": {...}}`` (see ``text_reply``,
  ``tool_reply``, ``tool_replies``);
- an error, ``error_reply(529, "overloaded_error", "Overloaded")``: the fake Messages server answers
  it with that HTTP status, the scripted model raises ``ModelUnavailable``;
- a stream that breaks off, ``midstream_error("overloaded_error")``: the fake server starts the SSE
  stream and then sends an ``error`` event, the scripted model raises ``ModelUnavailable``;
- a callable ``f(request) -> action``, to answer depending on what was sent.

When the script runs out, every further request gets the ``default`` action. The same script drives
``ScriptedModel`` in process and ``runner.fake_api.FakeMessagesServer`` behind the real SDK.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from runner.errors import ModelUnavailable
from runner.model import Reply, Usage

Action = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]

USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def text_reply(
    text: str, stop_reason: str = "end_turn", usage: dict[str, int] | None = None
) -> dict[str, Any]:
    return _reply([{"type": "text", "text": text}], stop_reason, usage)


def tool_reply(
    name: str,
    input: dict[str, Any],
    *,
    id: str | None = None,
    text: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    """One tool call (after an optional text block), ``stop_reason`` ``tool_use``."""
    content = [{"type": "text", "text": text}] if text else []
    content.append(_tool_use(name, input, id))
    return _reply(content, "tool_use", usage)


def tool_replies(
    calls: Iterable[tuple[str, dict[str, Any]]],
    *,
    text: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Several tool calls in one reply, as a model asking for parallel tool use sends them."""
    content = [{"type": "text", "text": text}] if text else []
    content.extend(_tool_use(name, input, None) for name, input in calls)
    return _reply(content, "tool_use", usage)


def thinking_reply(thinking: str, then: dict[str, Any]) -> dict[str, Any]:
    """``then`` (a reply) with a thinking block first, as a model thinking adaptively sends it. The
    fake server signs it; the signature must come back unchanged in the next request."""
    block = {"type": "thinking", "thinking": thinking, "signature": ""}
    return {**then, "content": [block, *then["content"]]}


def error_reply(
    status: int, type: str, message: str, retry_after_ms: int | None = None
) -> dict[str, Any]:
    """An HTTP error as the API sends it, e.g. ``error_reply(529, "overloaded_error",
    "Overloaded")``.
    """
    return {
        "status": status,
        "error": {"type": type, "message": message},
        "retry_after_ms": retry_after_ms,
    }


def midstream_error(type: str = "overloaded_error", message: str = "Overloaded") -> dict[str, Any]:
    """A streamed reply that starts normally and then breaks off with an SSE ``error`` event."""
    return {"midstream_error": {"type": type, "message": message}}


def is_http_error(action: dict[str, Any]) -> bool:
    return "status" in action and "error" in action


def is_midstream_error(action: dict[str, Any]) -> bool:
    return "midstream_error" in action


def _reply(
    content: list[dict[str, Any]], stop_reason: str, usage: dict[str, int] | None
) -> dict[str, Any]:
    reply: dict[str, Any] = {"content": content, "stop_reason": stop_reason}
    if usage is not None:
        reply["usage"] = dict(usage)
    return reply


def _tool_use(name: str, input: dict[str, Any], id: str | None) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": id or f"toolu_{uuid.uuid4().hex[:24]}",
        "name": name,
        "input": input,
    }


class Script:
    """The actions still to play, shared safely between threads."""

    def __init__(self, actions: Iterable[Action] = (), default: Action | None = None):
        self._actions: deque[Action] = deque(actions)
        self._default: Action = default if default is not None else text_reply("done")
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._actions)

    def next_action(
        self,
        request: dict[str, Any],
        cache: Callable[[dict[str, Any]], dict[str, int]] | None = None,
    ) -> dict[str, Any]:
        """The action answering ``request``, as a fresh dict; a reply always has full usage.

        ``cache(request)`` gives the input, cache-read and cache-write counts of a reply whose
        script leaves ``input_tokens`` out."""
        with self._lock:
            action = self._actions.popleft() if self._actions else self._default
        if callable(action):
            action = action(copy.deepcopy(request))
        if not isinstance(action, dict):
            raise TypeError(
                f"a script action must be a dict or a callable returning one, got {action!r}"
            )
        action = copy.deepcopy(action)
        if is_http_error(action) or is_midstream_error(action):
            return action
        if "content" not in action:
            raise TypeError(
                f"a script reply needs 'content' (or use error_reply/midstream_error): {action!r}"
            )
        action.setdefault(
            "stop_reason",
            "tool_use"
            if any(b.get("type") == "tool_use" for b in action["content"])
            else "end_turn",
        )
        usage = dict(action.get("usage") or {})
        if cache is not None and "input_tokens" not in usage:
            usage = {**cache(request), **usage}
        action["usage"] = filled_usage(usage, request, action["content"])
        return action


def filled_usage(
    usage: dict[str, int], request: dict[str, Any], content: list[dict[str, Any]]
) -> dict[str, int]:
    """``usage`` with every missing count estimated from the sizes of ``request`` and
    ``content``.
    """
    # Roughly four characters a token: budgets and costs then have something real to count.
    estimate = {
        "input_tokens": max(1, len(json.dumps(request)) // 4),
        "output_tokens": max(1, len(json.dumps(content)) // 4),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    return {key: int(usage.get(key, estimate[key])) for key in USAGE_KEYS}


def _describe_error(action: dict[str, Any]) -> str:
    if is_midstream_error(action):
        error = action["midstream_error"]
        return f"the stream broke off: {error['type']}: {error['message']}"
    error = action["error"]
    return f"{action['status']} {error['type']}: {error['message']}"


class ScriptedModel:
    """A ``Model`` that replays a script and records what it was asked.

    Meant for fast tests of the tick and for ``genome demo``, where no API is called. Replies come
    back in script order, deterministically; ``requests`` holds a deep copy of every request.
    """

    def __init__(self, script: Iterable[Action] = (), *, default: Action | None = None):
        self._script = Script(script, default)
        self.requests: list[dict[str, Any]] = []

    @property
    def remaining(self) -> int:
        """Actions not yet played (the default does not count)."""
        return self._script.remaining

    def respond(self, request: dict[str, Any]) -> Reply:
        self.requests.append(copy.deepcopy(request))
        action = self._script.next_action(request)
        if is_http_error(action) or is_midstream_error(action):
            raise ModelUnavailable(f"Scripted model error: {_describe_error(action)}")
        return Reply(
            content=action["content"],
            stop_reason=action["stop_reason"],
            usage=Usage.from_dict(action["usage"]),
        )
