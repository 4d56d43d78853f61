"""The conversation as the real Messages API sees it: the real SDK over loopback to the fake server,
which refuses what the API refuses, signs thinking blocks and keeps a prompt cache."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from genome.loop_prompt import Price
from runner.anthropic_model import AnthropicModel
from runner.errors import ModelUnavailable
from runner.fake_api import FakeMessagesServer
from runner.model import Usage
from runner.prices import DEFAULT_PRICE, cost_usd, price_for
from runner.scripted import text_reply, thinking_reply, tool_replies, tool_reply
from runner.session import (
    Limits,
    Meter,
    Progress,
    add_user_turn,
    build_request,
    converse,
    request_options,
    user_message,
)
from runner.tools import ToolBox

KEY = "sk-ant-test-behaviour-0123456789"


class Warnings(Progress):
    def __init__(self):
        self.said: list[str] = []
        self.usages: list[Usage] = []

    def warn(self, message: str) -> None:
        self.said.append(message)

    def check_input(self, request, usage) -> None:
        self.usages.append(usage)
        super().check_input(request, usage)


def act(
    tmp_path, srv, messages, *, model_name="claude-test", progress=None, options=None, **limits
):
    model = AnthropicModel(api_key=KEY, base_url=srv.url, max_retries=0)
    meter = Meter(price=DEFAULT_PRICE)
    end = converse(
        model,
        model_name=model_name,
        max_tokens=32000,
        system="You are testing.",
        toolbox=ToolBox(tmp_path),
        messages=messages,
        limits=Limits(**{"turns": 30, "deadline": time.monotonic() + 60, **limits}),
        meter=meter,
        progress=progress or Progress(),
        options=options,
    )
    return end, meter


def base_request(messages):
    return {"model": "claude-test", "max_tokens": 100, "messages": messages}


# --- the fake refuses what the API refuses --------------------------------------------------------


@pytest.mark.parametrize(
    "change, words",
    [
        (
            {
                "messages": [
                    user_message("a"),
                    {"role": "assistant", "content": []},
                    user_message("b"),
                ]
            },
            "messages.1: all messages must have non-empty content",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
            "text content blocks must contain non-whitespace text",
        ),
        (
            {
                "messages": [
                    user_message("a"),
                    {"role": "assistant", "content": [{"type": "text", "text": "x"}]},
                ]
            },
            "prefill",
        ),
        ({"temperature": 0.2}, "temperature: sampling parameters"),
        ({"top_k": 5}, "top_k"),
        ({"thinking": {"type": "enabled", "budget_tokens": 2000}}, "thinking.type.enabled"),
        (
            {
                "messages": [
                    user_message("a"),
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "thinking", "thinking": "hm", "signature": "forged"},
                            {"type": "text", "text": "x"},
                        ],
                    },
                    user_message("b"),
                ]
            },
            "Invalid `signature`",
        ),
        (
            {
                "system": [
                    {"type": "text", "text": str(i), "cache_control": {"type": "ephemeral"}}
                    for i in range(5)
                ]
            },
            "A maximum of 4 blocks with cache_control",
        ),
    ],
)
def test_the_fake_answers_400_to_what_the_api_refuses(change, words):
    with FakeMessagesServer([text_reply("never played")]) as srv:
        body = json.dumps({**base_request([user_message("hello")]), **change}).encode()
        post = urllib.request.Request(
            srv.url + "/v1/messages",
            data=body,
            method="POST",
            headers={"content-type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(post, timeout=10)
        error = json.loads(refused.value.read())["error"]
        assert refused.value.code == 400 and error["type"] == "invalid_request_error"
        assert words in error["message"] and words in srv.rejections[0]
        assert srv.remaining == 1  # a refused request plays no script action


def test_a_refusal_through_the_sdk_is_the_model_refusing_the_request():
    with FakeMessagesServer() as srv:
        model = AnthropicModel(api_key=KEY, base_url=srv.url, max_retries=0)
        with pytest.raises(ModelUnavailable, match="refused the request.*non-empty content"):
            model.respond(
                base_request(
                    [user_message("a"), {"role": "assistant", "content": []}, user_message("b")]
                )
            )


def test_thinking_comes_back_signed_and_unchanged_and_an_empty_end_turn_is_not_sent_back(tmp_path):
    (tmp_path / "a.txt").write_text("alpha\n")
    script = [
        thinking_reply("Read a.txt first.", tool_reply("read_file", {"path": "a.txt"})),
        {"content": [], "stop_reason": "end_turn"},  # the empty reply after tool results
        text_reply("Fixed it: a.txt now says beta."),
    ]  # after the repair note
    with FakeMessagesServer(script) as srv:
        end, _ = act(tmp_path, srv, [user_message("Work on L-001")])
    assert end.reason == "done" and end.text == "Fixed it: a.txt now says beta."
    assert srv.rejections == []
    second = srv.requests[1]["messages"]
    assert second[1]["content"][0] == {
        "type": "thinking",
        "thinking": "Read a.txt first.",
        "signature": srv.sign("Read a.txt first."),
    }
    assert all(m["content"] for m in srv.requests[-1]["messages"])


def test_an_empty_final_reply_ends_the_act_with_the_last_text_as_its_account(tmp_path):
    (tmp_path / "a.txt").write_text("alpha\n")
    script = [
        tool_reply("read_file", {"path": "a.txt"}, text="Checking a.txt; it already says alpha."),
        {"content": [{"type": "text", "text": ""}], "stop_reason": "end_turn"},
        text_reply("never needed"),
    ]
    with FakeMessagesServer(script) as srv:
        messages = [user_message("Work on L-001")]
        end, _ = act(tmp_path, srv, messages)
        add_user_turn(messages, user_message("Gate red: go on."))
        again, _ = act(tmp_path, srv, messages)
    assert end.reason == "done" and end.text == "Checking a.txt; it already says alpha."
    assert again.text == "never needed"
    assert srv.rejections == []
    # the empty reply left no assistant turn: the repair note joined the user turn of tool results
    last = srv.requests[-1]["messages"][-1]
    assert [b["type"] for b in last["content"]] == ["tool_result", "text"]


def test_an_act_that_never_wrote_text_is_asked_once_for_its_account(tmp_path):
    (tmp_path / "a.txt").write_text("alpha\n")
    script = [
        tool_reply("read_file", {"path": "a.txt"}),
        {"content": [], "stop_reason": "end_turn"},
        text_reply("Changed nothing: a.txt is right as it is."),
    ]
    with FakeMessagesServer(script) as srv:
        end, meter = act(tmp_path, srv, [user_message("Work on L-001")])
    assert end.reason == "done" and end.text == "Changed nothing: a.txt is right as it is."
    assert "Your last reply was empty" in srv.requests[2]["messages"][-1]["content"][-1]["text"]
    assert meter.turns == 3 and srv.rejections == []


def test_an_act_ended_by_a_limit_keeps_its_summarized_thinking_as_the_account(tmp_path):
    (tmp_path / "a.txt").write_text("alpha\n")
    script = [
        thinking_reply(
            "The parser drops the last line; next I read it.",
            tool_reply("read_file", {"path": "a.txt"}),
        )
    ]
    with FakeMessagesServer(script) as srv:
        end, _ = act(tmp_path, srv, [user_message("Work on L-001")], turns=1)
    assert end.reason == "turns"
    assert "The parser drops the last line" in end.text


# --- request options ------------------------------------------------------------------------------


def test_effort_is_sent_only_when_set_and_summarized_thinking_only_where_supported():
    assert request_options("claude-test") == {}
    assert request_options("qwen3:8b", "low") == {"output_config": {"effort": "low"}}
    assert request_options("claude-sonnet-5-5") == {
        "thinking": {"type": "adaptive", "display": "summarized"}
    }
    assert request_options("claude-opus-5-5", "max")["output_config"] == {"effort": "max"}
    assert "thinking" not in request_options("claude-haiku-4-5")
    request = build_request(
        "claude-sonnet-5-5",
        32000,
        "s",
        [],
        [user_message("hi")],
        request_options("claude-sonnet-5-5", "medium"),
    )
    assert (
        request["output_config"] == {"effort": "medium"}
        and request["thinking"]["display"] == "summarized"
    )


def test_options_reach_the_server_through_the_sdk(tmp_path):
    with FakeMessagesServer([text_reply("done")]) as srv:
        act(
            tmp_path,
            srv,
            [user_message("go")],
            model_name="claude-sonnet-5-5",
            options=request_options("claude-sonnet-5-5", "high"),
        )
    sent = srv.requests[0]
    assert sent["max_tokens"] == 32000 and sent["output_config"] == {"effort": "high"}
    assert sent["thinking"] == {"type": "adaptive", "display": "summarized"}
    assert not set(sent) & {"temperature", "top_p", "top_k"}


# --- the prompt cache -----------------------------------------------------------------------------


def test_every_turn_reads_the_whole_previous_request_even_after_ten_parallel_tool_calls(tmp_path):
    for i in range(10):
        (tmp_path / f"f{i}.txt").write_text(f"file {i}\n" * 20)
    script = [
        tool_reply("search_files", {"pattern": "*.txt"}),
        tool_replies(
            [("read_file", {"path": f"f{i}.txt"}) for i in range(10)], text="Reading all ten."
        ),
        tool_reply("read_file", {"path": "f3.txt"}),
        tool_reply("search_content", {"pattern": "file 7"}),
        text_reply("Done."),
    ]
    progress = Warnings()
    with FakeMessagesServer(script) as srv:
        act(tmp_path, srv, [user_message("Work on L-001")], progress=progress)
    usages = progress.usages
    assert len(usages) == 5 and len(srv.requests[2]["messages"][-1]["content"]) == 10
    for n in range(1, len(usages)):
        previous = usages[n - 1]
        whole_previous = (
            previous.input_tokens
            + previous.cache_read_input_tokens
            + previous.cache_creation_input_tokens
        )
        assert usages[n].cache_read_input_tokens == whole_previous, n


def test_a_single_moving_marker_would_miss_after_ten_parallel_calls():
    """The reason for the second moving marker, shown on the fake's cache."""
    from runner.fake_api import PromptCache

    calls = tool_replies([("read_file", {"path": f"f{i}.txt"}) for i in range(10)])["content"]
    results = [{"type": "tool_result", "tool_use_id": c["id"], "content": "x"} for c in calls]
    first = [user_message("go")]
    second = [*first, {"role": "assistant", "content": calls}, {"role": "user", "content": results}]
    one_marker = PromptCache()
    for messages in (first, second):
        request = build_request("m", 10, "system", [], messages)
        for message in request["messages"][:-1]:
            for block in message["content"]:
                block.pop("cache_control", None)
        usage = one_marker.use(request)
    assert usage["cache_read_input_tokens"] < 10  # only the system prompt was found
    two_markers = PromptCache()
    for messages in (first, second):
        usage = two_markers.use(build_request("m", 10, "system", [], messages))
    assert usage["cache_read_input_tokens"] > 10


# --- a server that cuts the prompt -------------------------------------------------------------


def test_a_server_counting_far_fewer_input_tokens_than_sent_is_warned_about_once(tmp_path):
    big = "x" * 40_000
    progress = Warnings()
    script = [
        tool_reply(
            "search_files", {"pattern": "*"}, usage={"input_tokens": 900, "output_tokens": 5}
        ),
        text_reply("done", usage={"input_tokens": 950, "output_tokens": 5}),
    ]
    with FakeMessagesServer(script) as srv:
        act(tmp_path, srv, [user_message(big)], progress=progress)
    assert len(progress.said) == 1 and "OLLAMA_CONTEXT_LENGTH" in progress.said[0]
    honest = Warnings()
    with FakeMessagesServer([text_reply("done")]) as srv:
        act(tmp_path, srv, [user_message(big)], progress=honest)
    assert honest.said == []


# --- prices -------------------------------------------------------------------------------------


def test_each_model_has_its_own_cache_factors():
    million = Usage(cache_read_input_tokens=1_000_000)
    assert cost_usd(million, price_for("claude-sonnet-5-5")[0]) == pytest.approx(2.0 * 0.05)
    assert cost_usd(million, price_for("claude-opus-5-5-20261001")[0]) == pytest.approx(4.0 * 0.05)
    assert cost_usd(million, price_for("claude-fable-5-1")[0]) == pytest.approx(10.0 * 0.025)
    assert cost_usd(million, price_for("claude-sonnet-4-5")[0]) == pytest.approx(3.0 * 0.1)
    writes = Usage(cache_creation_input_tokens=1_000_000)
    assert cost_usd(writes, price_for("claude-sonnet-5-5")[0]) == pytest.approx(2.0 * 1.25)


def test_haiku_5_5_is_priced_per_request_by_prompt_size():
    price, known = price_for("claude-haiku-5-5")
    assert known
    short = Usage(input_tokens=100_000, output_tokens=1_000_000)
    long = Usage(input_tokens=50_000, cache_read_input_tokens=60_000, output_tokens=1_000_000)
    assert cost_usd(short, price) == pytest.approx(0.01 + 0.5)
    assert cost_usd(long, price) == pytest.approx((50_000 * 0.5 + 60_000 * 0.5 * 0.1) / 1e6 + 2.5)
    meter = Meter(price=price)
    meter.add(short)
    meter.add(long)
    assert meter.cost == pytest.approx(cost_usd(short, price) + cost_usd(long, price))


def test_a_price_override_without_cache_factors_keeps_the_models_own():
    price, _ = price_for("claude-sonnet-5-5", {"claude-sonnet-5-5": Price(1.0, 5.0)})
    assert (price.input, price.cache_read, price.cache_write) == (1.0, 0.05, 1.25)
    local, known = price_for("qwen3", {"qwen": Price(0, 0, cache_read=0)})
    assert known and local.cache_read == 0
