"""A fake Anthropic Messages API on loopback, so tests drive the real SDK over real HTTP.

``FakeMessagesServer(script)`` plays a ``runner.scripted`` script: ``POST /v1/messages`` gets the next
action, as a JSON message or, when the body says ``"stream": true``, as server-sent events shaped
like the real API's (``message_start``, ``content_block_start``, ``content_block_delta`` with
``text_delta`` / ``input_json_delta`` / ``thinking_delta`` in a few chunks, ``content_block_stop``,
``message_delta``, ``message_stop``, and a ``ping``). Errors come back with the API's JSON error body,
status and ``retry-after-ms`` / ``retry-after`` headers. Every request body and its headers are
recorded. Anything else, ``/v1/messages/count_tokens`` included, is answered 404.

    with FakeMessagesServer([tool_reply("read_file", {"path": "a.txt"}), text_reply("done")]) as srv:
        env = {"ANTHROPIC_BASE_URL": srv.url, "ANTHROPIC_API_KEY": "test-key"}
        ...
        assert srv.requests[1]["messages"][-1]["content"][0]["type"] == "tool_result"
"""

from __future__ import annotations

import json
import math
import threading
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

from runner.scripted import Action, Script, filled_usage, is_http_error, is_midstream_error

# The status the real API uses for each error type, for a mid-stream error asked of a plain JSON request.
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


class FakeMessagesServer:
    """A threaded HTTP server on ``127.0.0.1`` with a free port, serving until ``close()``."""

    def __init__(self, script: Iterable[Action] = (), *, default: Action | None = None):
        self._script = Script(script, default)
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        # A script callable that raised: kept so a test can show why the SDK got a 500.
        self.failures: list[str] = []
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-messages-api", daemon=True)
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

    def __enter__(self) -> "FakeMessagesServer":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _answer(self, request: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
        return self._script.next_action(request)

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
            action = fake._answer(request, {name.lower(): value for name, value in self.headers.items()})
        except Exception:
            fake._record_failure(traceback.format_exc())
            self._send_error(500, "api_error", "The test script failed; see FakeMessagesServer.failures.",
                             extra_headers={"x-should-retry": "false"})
            return
        try:
            self._send_action(request, action)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up; nothing left to tell it

    def _send_action(self, request: dict[str, Any], action: dict[str, Any]) -> None:
        streaming = bool(request.get("stream"))
        if is_http_error(action):
            error = action["error"]
            self._send_error(action["status"], error["type"], error["message"], action.get("retry_after_ms"))
        elif is_midstream_error(action) and not streaming:
            error = action["midstream_error"]
            self._send_error(STATUS_OF_ERROR_TYPE.get(error["type"], 500), error["type"], error["message"])
        elif streaming:
            self._send_events(sse_events(request, action))
        else:
            self._send_json(200, message_body(request, action))

    def _send_json(self, status: int, body: dict[str, Any], extra_headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status, REASON_OF_STATUS.get(status))
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", _new_id("req"))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, type: str, message: str, retry_after_ms: int | None = None,
                    extra_headers: dict[str, str] | None = None) -> None:
        headers = dict(extra_headers or {})
        if retry_after_ms is not None:
            headers["retry-after-ms"] = str(retry_after_ms)
            headers["retry-after"] = str(max(1, math.ceil(retry_after_ms / 1000)))
        body = {"type": "error", "error": {"type": type, "message": message}, "request_id": _new_id("req")}
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


def sse_events(request: dict[str, Any], action: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` pairs of a streamed reply, or of a stream that breaks off with an error."""
    if is_midstream_error(action):
        usage = filled_usage({"output_tokens": 1}, request, [])
        yield "message_start", _message_start(request, usage)
        yield "content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}}
        yield "content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "text_delta", "text": "Let me"}}
        yield "error", {"type": "error", "error": action["midstream_error"]}
        return
    usage = action["usage"]
    # Like the real API: input and cache counts come first, the output count with message_delta.
    yield "message_start", _message_start(request, {**usage, "output_tokens": 1})
    yield "ping", {"type": "ping"}
    for index, block in enumerate(action["content"]):
        yield from _block_events(index, block)
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": action["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": usage["output_tokens"]}}
    yield "message_stop", {"type": "message_stop"}


def _message_start(request: dict[str, Any], usage: dict[str, int]) -> dict[str, Any]:
    message = {"id": _new_id("msg"), "type": "message", "role": "assistant", "model": request.get("model", ""),
               "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
    return {"type": "message_start", "message": message}


def _block_events(index: int, block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    kind = block.get("type")
    if kind == "text":
        start = {**block, "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in _chunks(block["text"])]
    elif kind == "tool_use":
        start = {**block, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": piece}
                  for piece in _chunks(json.dumps(block["input"], ensure_ascii=False))]
    elif kind == "thinking":
        start = {**block, "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in _chunks(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
    else:
        start, deltas = block, []  # e.g. redacted_thinking arrives whole
    yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": start}
    for delta in deltas:
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def _chunks(text: str) -> list[str]:
    size = max(1, math.ceil(len(text) / DELTA_CHUNKS))
    return [text[i:i + size] for i in range(0, len(text), size)]


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"
