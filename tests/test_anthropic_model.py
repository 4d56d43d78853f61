"""AnthropicModel: the real SDK, streaming over loopback HTTP to the fake Messages server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from runner.anthropic_model import AnthropicModel
from runner.errors import ModelUnavailable
from runner.fake_api import FakeMessagesServer, sse_events
from runner.model import Usage
from runner.scripted import (
    Script,
    error_reply,
    midstream_error,
    text_reply,
    tool_replies,
    tool_reply,
)

KEY = "sk-ant-test-model-0123456789abcdef"
FAST = 1  # retry-after-ms for scripted errors, so SDK retries cost nothing

REQUEST = {
    "model": "claude-test",
    "max_tokens": 64000,  # far above what a non-streaming call allows
    "system": [
        {"type": "text", "text": "You improve this project one lever at a time."},
        {"type": "text", "text": "## Mission\nShip small.", "cache_control": {"type": "ephemeral"}},
    ],
    "tools": [
        {
            "name": "read_file",
            "description": "Read a file.",
            "input_schema": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            },
        },
        {
            "name": "run_command",
            "description": "Run a shell command.",
            "input_schema": {
                "type": "object",
                "properties": {"command": {"type": "string"}},
                "required": ["command"],
            },
            "cache_control": {"type": "ephemeral"},
        },
    ],
    "messages": [{"role": "user", "content": "Work on L-001."}],
}


class Sleeps(list):
    """The injected sleep: records the back-off instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def model_for(srv_url: str, **options) -> AnthropicModel:
    options.setdefault("max_retries", 2)
    return AnthropicModel(api_key=KEY, base_url=srv_url, **options)


# --- round trips ---------------------------------------------------------------------------------


def test_streamed_text_reply_and_request_body_as_sent():
    usage = {
        "input_tokens": 1200,
        "output_tokens": 35,
        "cache_creation_input_tokens": 900,
        "cache_read_input_tokens": 4000,
    }
    with FakeMessagesServer([text_reply("Nothing to change.", usage=usage)]) as srv:
        reply = model_for(srv.url).respond(REQUEST)
    assert reply.content == [{"type": "text", "text": "Nothing to change."}]
    assert reply.stop_reason == "end_turn"
    assert reply.usage == Usage(1200, 35, 900, 4000)
    assert srv.requests == [{**REQUEST, "stream": True}]


def test_streamed_tool_use_reassembles_input_and_goes_back_verbatim():
    awkward = {"path": "src/a b.py", "old_text": 'print("x")\n\tpass\\', "new_text": "naïve ✓"}
    first = tool_reply("edit_file", awkward, text="Fixing the print.")
    with FakeMessagesServer([first, text_reply("Done.")]) as srv:
        model = model_for(srv.url)
        reply = model.respond(REQUEST)
        follow_up = {
            **REQUEST,
            "messages": [
                *REQUEST["messages"],
                {"role": "assistant", "content": reply.content},
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": reply.tool_uses[0]["id"],
                            "content": "edited",
                        }
                    ],
                },
            ],
        }
        done = model.respond(follow_up)

    assert reply.stop_reason == "tool_use"
    assert reply.content == first["content"]  # ids, names and input exactly as the server sent them
    assert done.text == "Done."
    assert srv.requests[1]["messages"] == follow_up["messages"]


def test_several_tool_calls_and_thinking_blocks_survive_intact():
    thinking = {
        "type": "thinking",
        "thinking": "Two files to read first.",
        "signature": "EqQBCkYIBxgCKkDs",
    }
    calls = tool_replies([("read_file", {"path": "a.py"}), ("read_file", {"path": "b.py"})])
    with FakeMessagesServer([{**calls, "content": [thinking, *calls["content"]]}]) as srv:
        reply = model_for(srv.url).respond(REQUEST)
    assert reply.content[0] == {**thinking, "signature": srv.sign("Two files to read first.")}
    assert [(t["name"], t["input"]) for t in reply.tool_uses] == [
        ("read_file", {"path": "a.py"}),
        ("read_file", {"path": "b.py"}),
    ]


@pytest.mark.parametrize("stop_reason", ["max_tokens", "pause_turn", "refusal"])
def test_other_stop_reasons_pass_through(stop_reason):
    with FakeMessagesServer([text_reply("partial", stop_reason=stop_reason)]) as srv:
        assert model_for(srv.url).respond(REQUEST).stop_reason == stop_reason


def test_headers_carry_the_key_and_api_version():
    with FakeMessagesServer() as srv:
        model_for(srv.url).respond(REQUEST)
    headers = srv.headers[0]
    assert headers.get("x-api-key") == KEY or headers.get("authorization") == f"Bearer {KEY}"
    assert headers["anthropic-version"]


# --- retries -------------------------------------------------------------------------------------


def test_overloaded_twice_then_success_is_retried_honouring_retry_after():
    overloaded = error_reply(529, "overloaded_error", "Overloaded", retry_after_ms=1500)
    sleeps = Sleeps()
    with FakeMessagesServer([overloaded, overloaded, text_reply("made it")]) as srv:
        reply = model_for(srv.url, sleep=sleeps).respond(REQUEST)
    assert reply.text == "made it"
    assert len(srv.requests) == 3 and sleeps == [1.5, 1.5]


class Clock:
    """A monotonic clock that the injected sleep moves on."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_retry_after_longer_than_a_tick_waits_is_not_waited_for():
    hour = error_reply(429, "rate_limit_error", "Slow down", retry_after_ms=3_600_000)
    clock = Clock()
    with FakeMessagesServer(default=hour) as srv:
        model = model_for(srv.url, max_retries=7, sleep=clock.sleep, clock=clock)
        with pytest.raises(
            ModelUnavailable, match="asked to wait 3600 s, longer than a tick waits"
        ):
            model.respond(REQUEST)
    assert len(srv.requests) == 1 and clock.sleeps == []


def test_retries_stop_at_the_ticks_wall_clock():
    overloaded = error_reply(529, "overloaded_error", "Overloaded", retry_after_ms=20_000)
    clock = Clock()
    with FakeMessagesServer(default=overloaded) as srv:
        model = model_for(srv.url, max_retries=7, sleep=clock.sleep, clock=clock)
        model.deadline = clock.now + 50
        with pytest.raises(
            ModelUnavailable, match="Another try would run past the tick's wall clock"
        ):
            model.respond(REQUEST)
    assert len(srv.requests) == 3 and clock.sleeps == [
        20.0,
        20.0,
    ]  # a fourth would start after 50 s
    assert clock.now <= model.deadline


def test_no_request_starts_when_the_ticks_time_is_up():
    clock = Clock()
    with FakeMessagesServer() as srv:
        model = model_for(srv.url, clock=clock)
        model.deadline = clock.now + 1
        with pytest.raises(ModelUnavailable, match="time ran out"):
            model.respond(REQUEST)
    assert srv.requests == []


def test_a_server_that_says_do_not_retry_is_not_retried():
    with FakeMessagesServer(
        [lambda request: 1 / 0]
    ) as srv:  # the fake answers 500, x-should-retry: false
        with pytest.raises(ModelUnavailable):
            model_for(srv.url, sleep=Sleeps()).respond(REQUEST)
    assert len(srv.requests) == 1


@pytest.mark.parametrize(
    "status, kind", [(529, "overloaded_error"), (429, "rate_limit_error"), (500, "api_error")]
)
def test_transient_forever_is_unavailable_after_max_retries_plus_one(status, kind):
    forever = error_reply(status, kind, "try later", retry_after_ms=FAST)
    with FakeMessagesServer(default=forever) as srv:
        with pytest.raises(ModelUnavailable) as caught:
            model_for(srv.url, max_retries=3).respond(REQUEST)
    assert len(srv.requests) == 4
    assert "unavailable after 4 attempts" in caught.value.message
    assert f"{status} {kind}" in caught.value.message
    assert caught.value.exit_code == 5


def test_midstream_overload_once_then_success_is_retried_here_with_backoff():
    sleeps = Sleeps()
    with FakeMessagesServer([midstream_error("overloaded_error"), text_reply("second try")]) as srv:
        reply = model_for(srv.url, sleep=sleeps).respond(REQUEST)
    assert reply.content == [
        {"type": "text", "text": "second try"}
    ]  # nothing kept from the broken stream
    assert len(srv.requests) == 2
    assert len(sleeps) == 1 and sleeps[0] > 0


def test_midstream_overload_forever_is_unavailable_with_growing_backoff():
    sleeps = Sleeps()
    with FakeMessagesServer(default=midstream_error("overloaded_error")) as srv:
        with pytest.raises(ModelUnavailable) as caught:
            model_for(srv.url, midstream_retries=3, sleep=sleeps).respond(REQUEST)
    assert len(srv.requests) == 4
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2]
    assert "unavailable after 4 attempts" in caught.value.message
    assert "overloaded_error" in caught.value.message


def test_midstream_error_that_is_not_transient_is_not_retried():
    sleeps = Sleeps()
    with FakeMessagesServer(
        default=midstream_error("invalid_request_error", "prompt is too long")
    ) as srv:
        with pytest.raises(ModelUnavailable, match="prompt is too long"):
            model_for(srv.url, sleep=sleeps).respond(REQUEST)
    assert len(srv.requests) == 1 and sleeps == []


def read_request(conn: socket.socket) -> None:
    """Read one whole HTTP request, so closing the connection early cannot reset it mid-send."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)


@contextmanager
def dropping_server(drops: int) -> Iterator[tuple[str, list[int]]]:
    """A server that starts a streamed reply and then drops the connection, ``drops`` times,
    then streams a whole reply. The fake server's script cannot drop a connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()
    served = [0]
    script = Script([], default=text_reply("after the drop"))

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                read_request(conn)
                served[0] += 1
                events = list(sse_events(REQUEST, script.next_action(REQUEST)))
                if served[0] <= drops:
                    events = events[:2]
                body = b"".join(
                    f"event: {n}\ndata: {json.dumps(d)}\n\n".encode() for n, d in events
                )
                # Chunked, so a connection closed early is a truncated body rather than a clean end.
                head = (
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: "
                    b"chunked\r\n\r\n"
                )
                chunk = f"{len(body):x}\r\n".encode() + body + b"\r\n"
                conn.sendall(head + chunk + (b"0\r\n\r\n" if served[0] > drops else b""))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", served
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_a_dropped_stream_is_retried_here():
    sleeps = Sleeps()
    with dropping_server(drops=1) as (url, served):
        reply = model_for(url, sleep=sleeps).respond(REQUEST)
    assert reply.text == "after the drop"
    assert served[0] == 2 and len(sleeps) == 1


def test_a_stream_that_always_drops_is_unavailable():
    with dropping_server(drops=100) as (url, served):
        with pytest.raises(ModelUnavailable, match="connection dropped"):
            model_for(url, midstream_retries=2, sleep=Sleeps()).respond(REQUEST)
    assert served[0] == 3


def test_an_unreachable_server_is_unavailable_and_named():
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        url = f"http://127.0.0.1:{placeholder.getsockname()[1]}"
    with pytest.raises(ModelUnavailable) as caught:
        model_for(url, max_retries=0).respond(REQUEST)
    assert "Cannot reach" in caught.value.message and url in caught.value.message


# --- errors that stop at once ---------------------------------------------------------------------


def test_unauthorized_stops_at_once_names_the_variable_and_hides_the_key():
    rejected = error_reply(
        401, "authentication_error", f"invalid x-api-key: {KEY}", retry_after_ms=FAST
    )
    with FakeMessagesServer(default=rejected) as srv:
        with pytest.raises(ModelUnavailable) as caught:
            AnthropicModel.from_env(
                {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": srv.url}
            ).respond(REQUEST)
    assert len(srv.requests) == 1
    assert "ANTHROPIC_API_KEY" in caught.value.message and "401" in caught.value.message
    assert KEY not in caught.value.message


def test_unauthorized_with_auth_token_names_that_variable():
    with FakeMessagesServer(default=error_reply(401, "authentication_error", "bad token")) as srv:
        model = AnthropicModel.from_env(
            {"ANTHROPIC_AUTH_TOKEN": KEY, "ANTHROPIC_BASE_URL": srv.url}
        )
        with pytest.raises(ModelUnavailable, match="ANTHROPIC_AUTH_TOKEN"):
            model.respond(REQUEST)
    assert (
        srv.headers[0].get("authorization") == f"Bearer {KEY}"
        or srv.headers[0].get("x-api-key") == KEY
    )


def test_forbidden_is_about_the_key():
    with FakeMessagesServer(
        default=error_reply(403, "permission_error", "not allowed for this model")
    ) as srv:
        with pytest.raises(ModelUnavailable) as caught:
            AnthropicModel.from_env(
                {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": srv.url}
            ).respond(REQUEST)
    assert len(srv.requests) == 1
    assert (
        "ANTHROPIC_API_KEY" in caught.value.message
        and "not allowed for this model" in caught.value.message
    )


def test_bad_request_reports_the_api_message():
    refused = error_reply(
        400, "invalid_request_error", "messages.1.content: tool_result without tool_use"
    )
    with FakeMessagesServer(default=refused) as srv:
        with pytest.raises(ModelUnavailable) as caught:
            model_for(srv.url).respond(REQUEST)
    assert len(srv.requests) == 1
    assert "messages.1.content: tool_result without tool_use" in caught.value.message


def test_not_found_says_the_model_name_may_be_wrong():
    with FakeMessagesServer(
        default=error_reply(404, "not_found_error", "model: claude-test")
    ) as srv:
        with pytest.raises(ModelUnavailable) as caught:
            model_for(srv.url).respond(REQUEST)
    assert "'claude-test'" in caught.value.message and "loop-prompt.md" in caught.value.message


# --- configuration from the environment ----------------------------------------------------------


def test_from_env_without_key_or_base_url_explains_both_including_ollama():
    with pytest.raises(ModelUnavailable) as caught:
        AnthropicModel.from_env({"ANTHROPIC_API_KEY": "  ", "HOME": "/nowhere"})
    message = caught.value.message
    assert "ANTHROPIC_API_KEY" in message
    assert "export ANTHROPIC_BASE_URL=http://localhost:11434" in message
    assert caught.value.exit_code == 5


def test_from_env_base_url_alone_sends_a_placeholder_key_to_the_local_server():
    with FakeMessagesServer([text_reply("local model here")]) as srv:
        reply = AnthropicModel.from_env({"ANTHROPIC_BASE_URL": srv.url}).respond(REQUEST)
    assert reply.text == "local model here"
    sent = srv.headers[0].get("authorization") or srv.headers[0].get("x-api-key")
    assert sent and KEY not in sent


def test_from_env_base_url_alone_rejected_says_to_set_a_key():
    with FakeMessagesServer(
        default=error_reply(401, "authentication_error", "key required")
    ) as srv:
        with pytest.raises(ModelUnavailable, match="export ANTHROPIC_API_KEY"):
            AnthropicModel.from_env({"ANTHROPIC_BASE_URL": srv.url}).respond(REQUEST)


def test_from_env_prefers_api_key_over_auth_token():
    with FakeMessagesServer() as srv:
        env = {
            "ANTHROPIC_API_KEY": KEY,
            "ANTHROPIC_AUTH_TOKEN": "other-token-value",
            "ANTHROPIC_BASE_URL": srv.url,
        }
        AnthropicModel.from_env(env).respond(REQUEST)
    sent = srv.headers[0].get("authorization") or srv.headers[0].get("x-api-key")
    assert KEY in sent and "other-token-value" not in sent


def test_from_env_reads_only_the_mapping_it_is_given(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    assert (
        AnthropicModel.from_env({"ANTHROPIC_API_KEY": KEY}).base_url == "https://api.anthropic.com"
    )
