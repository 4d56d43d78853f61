"""A fake Anthropic Messages API on loopback, so tests drive the real SDK over real HTTP.

``FakeMessagesServer(script)`` plays a ``runner.scripted`` script: ``POST /v1/messages`` gets the
next action, as a JSON message or, when the body says ``"stream": true``, as server-sent events
shaped like the real API's (``message_start``, ``content_block_start``, ``content_block_delta`` with
``text_delta`` / ``input_json_delta`` / ``thinking_delta`` in a few chunks, ``content_block_stop``,
``message_delta``, ``message_stop``, and a ``ping``). Errors come back with the API's JSON error
body, status and ``retry-after-ms`` / ``retry-after`` headers. Every request body and its headers
are recorded. Anything else, ``/v1/messages/count_tokens`` included, is answered 404.

Where it matters, it refuses what the real API refuses, with a 400 ``invalid_request_error``
(``rejections`` keeps the messages) and without playing a script action: an assistant turn with
no content, an empty text block, a final assistant turn (prefill), sampling parameters
(``temperature``, ``top_p``, ``top_k``), thinking with ``budget_tokens``, more than four
``cache_control`` markers, and a thinking block whose signature is not the one it was sent with
(it signs every thinking block it sends). It keeps a prompt cache as the API does (an entry per
marked block; a marker looks back at most 20 blocks for an entry written before) and reports
``cache_read_input_tokens`` and ``cache_creation_input_tokens`` from it, unless the script gives
``input_tokens`` itself.

    script = [tool_reply("read_file", {"path": "a.txt"}), text_reply("done")]
    with FakeMessagesServer(script) as srv:
        env = {"ANTHROPIC_BASE_URL": srv.url, "ANTHROPIC_API_KEY": "test-key"}
        ...
        assert srv.requests[1]["messages"][-1]["content"][0]["type"] == "tool_result"
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import threading
import traceback
import uuid
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from runner.scripted import Action, Script, filled_usage, is_http_error, is_midstream_error

# The status the real API uses for each error type, for a mid-stream error asked of a plain JSON
# request.
STATUS_OF_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
REASON_OF_STATUS = {529: "Overloaded"}
DELTA_CHUNKS = 3
MAX_CACHE_MARKERS = 4
CACHE_LOOKBACK_BLOCKS = 20
SAMPLING_PARAMETERS = ("temperature", "top_p", "top_k")


class FakeMessagesServer:
    """A threaded HTTP server on ``127.0.0.1`` with a free port, serving until ``close()``."""

    def __init__(self, script: Iterable[Action] = (), *, default: Action | None = None):
        self._script = Script(script, default)
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        # A script callable that raised: kept so a test can show why the SDK got a 500.
        self.failures: list[str] = []
        self.rejections: list[str] = []  # the 400s sent for requests the real API refuses
        self.cache = PromptCache()
        self._signing_key = secrets.token_bytes(16)
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        host, port = self._httpd.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address is (str, int)
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-messages-api",
            daemon=True,
        )
        self._closed = False
        self._thread.start()

    @property
    def remaining(self) -> int:
        """Script actions not yet played (the default does not count)."""
        return self._script.remaining

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> FakeMessagesServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _answer(self, request: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
        problem = invalid_request(request, self.sign)
        if problem:
            with self._lock:
                self.rejections.append(problem)
            return {
                "status": 400,
                "error": {"type": "invalid_request_error", "message": problem},
                "retry_after_ms": None,
            }
        action = self._script.next_action(request, cache=self._cache_usage)
        for block in action.get("content") or []:
            if block.get("type") == "thinking":
                block["signature"] = self.sign(block.get("thinking", ""))
        return action

    def sign(self, thinking: str) -> str:
        """The signature this server gives a thinking block with that text."""
        return hmac.new(self._signing_key, thinking.encode(), hashlib.sha256).hexdigest()

    def _cache_usage(self, request: dict[str, Any]) -> dict[str, int]:
        with self._lock:
            return self.cache.use(request)

    def _record_failure(self, text: str) -> None:
        with self._lock:
            self.failures.append(text)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 makes a burst of concurrent clients wait a second for a SYN retry.
    request_queue_size = 64
    fake: FakeMessagesServer


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: every response closes its connection, so a streamed body simply ends at EOF.
    protocol_version = "HTTP/1.0"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read .requests; a log line per request would only be noise

    def do_GET(self) -> None:
        self._send_error(404, "not_found_error", f"Not found: {urlsplit(self.path).path}")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        path = urlsplit(self.path).path
        if path != "/v1/messages":
            self._send_error(404, "not_found_error", f"Not found: {path}")
            return
        try:
            request = json.loads(body)
        except ValueError:
            self._send_error(400, "invalid_request_error", "The request body is not valid JSON.")
            return
        fake = self.server.fake
        try:
            action = fake._answer(
                request, {name.lower(): value for name, value in self.headers.items()}
            )
        except Exception:
            fake._record_failure(traceback.format_exc())
            self._send_error(
                500,
                "api_error",
                "The test script failed; see FakeMessagesServer.failures.",
                extra_headers={"x-should-retry": "false"},
            )
            return
        try:
            self._send_action(request, action)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up; nothing left to tell it

    def _send_action(self, request: dict[str, Any], action: dict[str, Any]) -> None:
        streaming = bool(request.get("stream"))
        if is_http_error(action):
            error = action["error"]
            self._send_error(
                action["status"], error["type"], error["message"], action.get("retry_after_ms")
            )
        elif is_midstream_error(action) and not streaming:
            error = action["midstream_error"]
            self._send_error(
                STATUS_OF_ERROR_TYPE.get(error["type"], 500), error["type"], error["message"]
            )
        elif streaming:
            self._send_events(sse_events(request, action))
        else:
            self._send_json(200, message_body(request, action))

    def _send_json(
        self, status: int, body: dict[str, Any], extra_headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status, REASON_OF_STATUS.get(status))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", _new_id("req"))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(
        self,
        status: int,
        type: str,
        message: str,
        retry_after_ms: int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        headers = dict(extra_headers or {})
        if retry_after_ms is not None:
            headers["retry-after-ms"] = str(retry_after_ms)
            headers["retry-after"] = str(max(1, math.ceil(retry_after_ms / 1000)))
        body = {
            "type": "error",
            "error": {"type": type, "message": message},
            "request_id": _new_id("req"),
        }
        self._send_json(status, body, headers)

    def _send_events(self, events: Iterator[tuple[str, dict[str, Any]]]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", _new_id("req"))
        self.end_headers()
        for name, data in events:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()


def message_body(request: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """The JSON message the API returns for a non-streaming request."""
    return {
        "id": _new_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": request.get("model", ""),
        "content": reply["content"],
        "stop_reason": reply["stop_reason"],
        "stop_sequence": None,
        "usage": reply["usage"],
    }


def sse_events(
    request: dict[str, Any], action: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` pairs of a streamed reply, or of a stream that breaks off with an
    error.
    """
    if is_midstream_error(action):
        usage = filled_usage({"output_tokens": 1}, request, [])
        yield "message_start", _message_start(request, usage)
        yield (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        )
        yield (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Let me"},
            },
        )
        yield "error", {"type": "error", "error": action["midstream_error"]}
        return
    usage = action["usage"]
    # Like the real API: input and cache counts come first, the output count with message_delta.
    yield "message_start", _message_start(request, {**usage, "output_tokens": 1})
    yield "ping", {"type": "ping"}
    for index, block in enumerate(action["content"]):
        yield from _block_events(index, block)
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": action["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _message_start(request: dict[str, Any], usage: dict[str, int]) -> dict[str, Any]:
    message = {
        "id": _new_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": request.get("model", ""),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    return {"type": "message_start", "message": message}


def _block_events(index: int, block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    kind = block.get("type")
    if kind == "text":
        start = {**block, "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in _chunks(block["text"])]
    elif kind == "tool_use":
        start = {**block, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": piece}
            for piece in _chunks(json.dumps(block["input"], ensure_ascii=False))
        ]
    elif kind == "thinking":
        start = {**block, "thinking": "", "signature": ""}
        deltas = [
            {"type": "thinking_delta", "thinking": piece} for piece in _chunks(block["thinking"])
        ]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
    else:
        start, deltas = block, []  # e.g. redacted_thinking arrives whole
    yield (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": start},
    )
    for delta in deltas:
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def _chunks(text: str) -> list[str]:
    size = max(1, math.ceil(len(text) / DELTA_CHUNKS))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def invalid_request(request: dict[str, Any], sign: Any) -> str:
    """Why the real API would answer this request 400, or "" when it would not."""
    for name in SAMPLING_PARAMETERS:
        if name in request:
            return f"{name}: sampling parameters are not supported on this model"
    thinking = request.get("thinking")
    if isinstance(thinking, dict) and (
        thinking.get("type") == "enabled" or "budget_tokens" in thinking
    ):
        return (
            "thinking.type.enabled: use thinking.type.adaptive and output_config.effort "
            "on this model"
        )
    messages = request.get("messages") or []
    if messages and messages[-1].get("role") == "assistant":
        return (
            "This model does not support assistant message prefill. The conversation must "
            "end with a user message."
        )
    for i, message in enumerate(messages):
        content = message.get("content")
        if not content:
            return (
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
        for j, block in enumerate(content if isinstance(content, list) else []):
            if block.get("type") == "text" and not str(block.get("text", "")).strip():
                return (
                    f"messages.{i}.content.{j}: "
                    "text content blocks must contain non-whitespace text"
                )
            signed = sign(block.get("thinking", ""))
            if block.get("type") == "thinking" and block.get("signature") != signed:
                return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
    markers = sum(1 for block in _blocks(request) if "cache_control" in block)
    if markers > MAX_CACHE_MARKERS:
        return (
            f"A maximum of {MAX_CACHE_MARKERS} blocks with cache_control may be provided. "
            f"Found {markers}."
        )
    return ""


class PromptCache:
    """The API's prompt cache, as far as a client can see it: the prefix up to each marked block is
    written; a request reads the longest prefix found at one of its markers or at most
    ``CACHE_LOOKBACK_BLOCKS`` blocks before one. Blocks run tools, system, then messages."""

    def __init__(self) -> None:
        self.entries: set[str] = set()

    def use(self, request: dict[str, Any]) -> dict[str, int]:
        blocks = _blocks(request)
        digests, tokens, running, total = [], [], hashlib.sha256(), 0
        for block in blocks:
            plain = {key: value for key, value in block.items() if key != "cache_control"}
            running.update(json.dumps(plain, sort_keys=True).encode())
            digests.append(running.copy().hexdigest())
            total += max(1, len(json.dumps(plain)) // 4)
            tokens.append(total)
        marked = [i for i, block in enumerate(blocks) if "cache_control" in block]
        hit = max(
            (
                j
                for i in marked
                for j in range(i, max(-1, i - CACHE_LOOKBACK_BLOCKS), -1)
                if digests[j] in self.entries
            ),
            default=-1,
        )
        read = tokens[hit] if hit >= 0 else 0
        written = max(0, tokens[marked[-1]] - read) if marked else 0
        self.entries.update(digests[i] for i in marked)
        return {
            "input_tokens": max(0, total - read - written),
            "cache_read_input_tokens": read,
            "cache_creation_input_tokens": written,
        }


def _blocks(request: dict[str, Any]) -> list[dict[str, Any]]:
    """Every block of the prompt in cache order; a plain string counts as one text block."""

    def as_blocks(content: Any) -> list[dict[str, Any]]:
        if isinstance(content, str):
            return [{"type": "text", "text": content}]
        return list(content or [])

    blocks = list(request.get("tools") or []) + as_blocks(request.get("system"))
    for message in request.get("messages") or []:
        blocks += as_blocks(message.get("content"))
    return blocks
