"""The script language, the scripted model, and the fake Messages server (raw HTTP and the real
SDK)."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request

import anthropic
import pytest

from runner.errors import ModelUnavailable
from runner.fake_api import FakeMessagesServer, sse_events
from runner.model import Usage
from runner.scripted import (
    ScriptedModel,
    error_reply,
    midstream_error,
    text_reply,
    tool_replies,
    tool_reply,
)

KEY = "sk-ant-test-fake-api-0123456789"
REQUEST = {
    "model": "claude-test",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hello"}],
}


def post(url: str, body: dict, path: str = "/v1/messages") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json", "x-test": "yes"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def parse_sse(raw: bytes) -> list[tuple[str, dict]]:
    events = []
    for chunk in raw.decode().strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def sdk_client(srv: FakeMessagesServer, max_retries: int = 2) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=srv.url, max_retries=max_retries)


# --- script helpers and the scripted model ------------------------------------------------------


def test_tool_reply_ids_are_unique_and_well_formed():
    first, second = tool_reply("read_file", {"path": "a"}), tool_reply("read_file", {"path": "a"})
    ids = [first["content"][0]["id"], second["content"][0]["id"]]
    assert all(i.startswith("toolu_") for i in ids) and ids[0] != ids[1]
    assert first["stop_reason"] == "tool_use"
    assert tool_reply("x", {}, id="toolu_fixed", text="Looking")["content"] == [
        {"type": "text", "text": "Looking"},
        {"type": "tool_use", "id": "toolu_fixed", "name": "x", "input": {}},
    ]


def test_tool_replies_puts_several_calls_in_one_reply():
    reply = tool_replies([("read_file", {"path": "a"}), ("search_files", {"pattern": "*.py"})])
    assert [(b["name"], b["input"]) for b in reply["content"]] == [
        ("read_file", {"path": "a"}),
        ("search_files", {"pattern": "*.py"}),
    ]
    assert len({b["id"] for b in reply["content"]}) == 2


def test_scripted_model_replays_in_order_then_default_and_records_copies():
    call = tool_reply("run_command", {"command": "pytest -q"})
    model = ScriptedModel([call, text_reply("all green")], default=text_reply("idle"))
    request = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "go"}]}

    first = model.respond(request)
    request["messages"].append({"role": "assistant", "content": first.content})
    second = model.respond(request)
    third = model.respond(request)

    assert first.stop_reason == "tool_use" and first.tool_uses == call["content"]
    assert (second.text, third.text) == ("all green", "idle")
    assert model.remaining == 0
    assert len(model.requests) == 3
    assert len(model.requests[0]["messages"]) == 1  # a copy, not the list the caller kept growing
    assert len(model.requests[1]["messages"]) == 2


def test_scripted_model_fills_usage_from_request_size_but_keeps_given_counts():
    small = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    large = {**small, "messages": [{"role": "user", "content": "x" * 4000}]}
    model = ScriptedModel(
        [text_reply("a"), text_reply("a"), text_reply("b", usage={"input_tokens": 7})]
    )

    small_usage, large_usage = model.respond(small).usage, model.respond(large).usage
    given = model.respond(small).usage

    assert 0 < small_usage.input_tokens < 100 < 1000 <= large_usage.input_tokens
    assert small_usage.output_tokens > 0
    assert (
        given.input_tokens == 7 and given.output_tokens > 0 and given.cache_read_input_tokens == 0
    )


def test_scripted_model_answers_with_a_callable_that_reads_the_request():
    def answer(request):
        result = request["messages"][-1]["content"][0]
        return text_reply(f"saw {result['content']}")

    model = ScriptedModel([answer])
    reply = model.respond(
        {
            "model": "m",
            "max_tokens": 5,
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}],
                }
            ],
        }
    )
    assert reply.text == "saw 42"


@pytest.mark.parametrize(
    "action", [error_reply(529, "overloaded_error", "Overloaded"), midstream_error()]
)
def test_scripted_model_raises_model_unavailable_for_errors(action):
    with pytest.raises(ModelUnavailable, match="overloaded_error"):
        ScriptedModel([action]).respond(REQUEST)


def test_a_malformed_script_action_says_what_is_wrong():
    with pytest.raises(TypeError, match="content"):
        ScriptedModel([{"text": "no content key"}]).respond(REQUEST)


# --- the fake server over raw HTTP ----------------------------------------------------------------


def test_json_reply_has_the_message_shape_and_request_is_recorded():
    with FakeMessagesServer(
        [text_reply("hi there", usage={"input_tokens": 3, "output_tokens": 2})]
    ) as srv:
        status, headers, body = post(srv.url, REQUEST)
    message = json.loads(body)
    assert status == 200 and headers["content-type"] == "application/json"
    assert (
        message["type"] == "message"
        and message["role"] == "assistant"
        and message["id"].startswith("msg_")
    )
    assert message["model"] == "claude-test"
    assert message["content"] == [{"type": "text", "text": "hi there"}]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"] == {
        "input_tokens": 3,
        "output_tokens": 2,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    assert srv.requests == [REQUEST]
    assert srv.headers[0]["x-test"] == "yes"


def test_streamed_reply_follows_the_api_event_order_and_chunks_deltas():
    reply = tool_reply(
        "write_file", {"path": "notes.md", "content": 'line one\nline "two"\n'}, text="Writing it"
    )
    with FakeMessagesServer([reply]) as srv:
        status, headers, raw = post(srv.url, {**REQUEST, "stream": True})
    events = parse_sse(raw)
    names = [name for name, _ in events]

    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "ping" in names
    assert names.count("content_block_start") == names.count("content_block_stop") == 2
    assert all(data["type"] == name for name, data in events)
    text = "".join(
        d["delta"]["text"] for n, d in events if n == "content_block_delta" and d["index"] == 0
    )
    json_parts = [
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["index"] == 1
    ]
    assert text == "Writing it"
    assert len(json_parts) > 1 and json.loads("".join(json_parts)) == reply["content"][1]["input"]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_sse_events_reassemble_to_the_scripted_blocks():
    thinking = {"type": "thinking", "thinking": "weigh the options first", "signature": "c2ln"}
    reply = {
        "content": [
            thinking,
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "ünïcode ✓"},
        ],
        "stop_reason": "end_turn",
        "usage": {
            "input_tokens": 9,
            "output_tokens": 4,
            "cache_creation_input_tokens": 5,
            "cache_read_input_tokens": 6,
        },
    }
    blocks: list[dict] = []
    for name, data in sse_events(REQUEST, reply):
        if name == "content_block_start":
            blocks.append(dict(data["content_block"]))
        elif name == "content_block_delta":
            delta, block = data["delta"], blocks[data["index"]]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
        elif name == "message_start":
            start_usage = data["message"]["usage"]
    assert blocks == reply["content"]
    assert start_usage["cache_read_input_tokens"] == 6 and start_usage["input_tokens"] == 9


def test_error_reply_has_api_body_status_and_retry_headers():
    with FakeMessagesServer(
        [error_reply(429, "rate_limit_error", "Slow down", retry_after_ms=1500)]
    ) as srv:
        status, headers, body = post(srv.url, REQUEST)
    assert status == 429
    assert headers["retry-after-ms"] == "1500" and headers["retry-after"] == "2"
    error = json.loads(body)
    assert error["type"] == "error" and error["error"] == {
        "type": "rate_limit_error",
        "message": "Slow down",
    }


def test_midstream_error_starts_the_stream_then_sends_an_error_event():
    with FakeMessagesServer(
        [midstream_error("overloaded_error"), midstream_error("api_error", "boom")]
    ) as srv:
        status, _, raw = post(srv.url, {**REQUEST, "stream": True})
        plain_status, _, plain_body = post(srv.url, REQUEST)
    events = parse_sse(raw)
    assert status == 200
    assert [name for name, _ in events][:2] == ["message_start", "content_block_start"]
    assert events[-1] == (
        "error",
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    # Asked of a plain JSON request, the same failure is the HTTP error the API would send.
    assert plain_status == 500 and json.loads(plain_body)["error"]["message"] == "boom"


def test_count_tokens_and_unknown_paths_are_not_found_and_not_recorded():
    with FakeMessagesServer() as srv:
        status, _, body = post(srv.url, REQUEST, path="/v1/messages/count_tokens")
        assert status == 404 and json.loads(body)["error"]["type"] == "not_found_error"
        assert srv.requests == []


def test_a_failing_script_callable_is_a_500_the_sdk_does_not_retry():
    def broken(request):
        raise KeyError("no such message")

    with FakeMessagesServer([broken]) as srv:
        with pytest.raises(anthropic.InternalServerError):
            sdk_client(srv).messages.create(**REQUEST)
        assert len(srv.requests) == 1
        assert "KeyError" in srv.failures[0]


def test_concurrent_requests_each_get_their_own_action():
    count = 24
    with FakeMessagesServer([text_reply(f"reply {i}") for i in range(count)]) as srv:
        texts: list[str] = []
        lock = threading.Lock()

        def ask():
            _, _, body = post(srv.url, REQUEST)
            with lock:
                texts.append(json.loads(body)["content"][0]["text"])

        threads = [threading.Thread(target=ask) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(texts) == sorted(f"reply {i}" for i in range(count))
    assert len(srv.requests) == count and srv.remaining == 0


def test_close_frees_the_port_and_serves_loopback_only():
    srv = FakeMessagesServer()
    host, port = srv.url.removeprefix("http://").split(":")
    srv.close()
    srv.close()  # a second close is harmless
    assert host == "127.0.0.1"
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(port))) != 0


# --- the fake server behind the real SDK, plain JSON ----------------------------------------------


def test_sdk_create_round_trips_text_and_tool_use_as_json():
    call = tool_reply(
        "search_content",
        {"pattern": "def main", "path": "src"},
        usage={
            "input_tokens": 11,
            "output_tokens": 5,
            "cache_creation_input_tokens": 2,
            "cache_read_input_tokens": 3,
        },
    )
    with FakeMessagesServer([text_reply("plain"), call]) as srv:
        client = sdk_client(srv)
        text = client.messages.create(**REQUEST)
        tool = client.messages.create(**REQUEST)
    assert text.content[0].text == "plain" and text.stop_reason == "end_turn"
    assert tool.stop_reason == "tool_use"
    assert (tool.content[0].id, tool.content[0].name, tool.content[0].input) == (
        call["content"][0]["id"],
        "search_content",
        {"pattern": "def main", "path": "src"},
    )
    assert Usage.from_dict(tool.usage.to_dict()) == Usage(11, 5, 2, 3)
    assert srv.requests == [REQUEST, REQUEST]
