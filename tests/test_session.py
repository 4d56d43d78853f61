"""The act loop on its own: stop reasons, limits and the stuck check, with a real ToolBox on a temp
dir."""

from __future__ import annotations

import time

import pytest

from runner.errors import BudgetSpent
from runner.model import Usage
from runner.prices import DEFAULT_PRICE
from runner.scripted import ScriptedModel, text_reply, tool_replies, tool_reply
from runner.session import STOP, Limits, Meter, Progress, converse, parse_reflection, user_message
from runner.tools import ToolBox


def run(tmp_path, script, **limits):
    model = ScriptedModel(script)
    messages = [user_message("Work on lever L-001: do the thing")]
    end = converse(
        model,
        model_name="claude-test",
        max_tokens=1000,
        system="You are testing.",
        toolbox=ToolBox(tmp_path),
        messages=messages,
        limits=Limits(**{"turns": 20, "deadline": time.monotonic() + 60, **limits}),
        meter=Meter(price=DEFAULT_PRICE),
        progress=Progress(),
    )
    return end, model, messages


def test_pause_turn_sends_the_paused_reply_back_as_it_is(tmp_path):
    paused = text_reply("Still thinking…", stop_reason="pause_turn")
    end, model, _ = run(tmp_path, [paused, text_reply("Finished.")])
    assert end.reason == "done" and end.text == "Finished."
    second = model.requests[1]["messages"]
    assert second[-1]["role"] == "assistant" and second[-1]["content"] == paused["content"]


def test_a_reply_cut_at_max_tokens_is_continued_and_a_cut_tool_call_is_not_run(tmp_path):
    cut_text = text_reply("The first half of", stop_reason="max_tokens")
    cut_call = tool_reply("write_file", {"path": "half.txt", "content": "x"})
    cut_call["stop_reason"] = "max_tokens"
    end, model, _ = run(tmp_path, [cut_text, cut_call, text_reply("Done, in smaller steps.")])
    assert end.reason == "done"
    assert "cut off at the output limit" in model.requests[1]["messages"][-1]["content"][0]["text"]
    [result] = model.requests[2]["messages"][-1]["content"]
    assert result["is_error"] and "hit the output limit" in result["content"]
    assert not (tmp_path / "half.txt").exists()


@pytest.mark.parametrize(
    "reason, stop", [("refusal", "refusal"), ("context", "model_context_window_exceeded")]
)
def test_refusal_and_a_full_context_end_the_act(tmp_path, reason, stop):
    end, model, _ = run(tmp_path, [text_reply("No.", stop_reason=stop), text_reply("never")])
    assert end.reason == reason and len(model.requests) == 1


def test_several_tool_calls_in_one_reply_all_get_results_in_order(tmp_path):
    (tmp_path / "a.txt").write_text("A\n")
    end, model, _ = run(
        tmp_path,
        [
            tool_replies(
                [
                    ("read_file", {"path": "a.txt"}),
                    ("write_file", {"path": "b.txt", "content": "B"}),
                ]
            ),
            text_reply("ok"),
        ],
    )
    results = model.requests[1]["messages"][-1]["content"]
    assert [r["tool_use_id"] for r in results] == [
        b["id"] for b in model.requests[1]["messages"][-2]["content"]
    ]
    assert "A" in results[0]["content"] and (tmp_path / "b.txt").read_text() == "B"


def test_token_and_time_limits_end_the_act_before_the_next_call(tmp_path):
    big = tool_reply("read_file", {"path": "x"}, usage={"input_tokens": 900, "output_tokens": 200})
    end, model, _ = run(tmp_path, [big, text_reply("never")], tokens=1000)
    assert end.reason == "tokens" and len(model.requests) == 1
    end, model, _ = run(tmp_path, [text_reply("never")], deadline=time.monotonic() - 1)
    assert end.reason == "time" and model.requests == []


def test_a_money_limit_raises_before_the_call_that_would_cross_it(tmp_path):
    with pytest.raises(BudgetSpent, match="tick budget would be crossed"):
        run(tmp_path, [text_reply("never")], usd=0.000001)


def test_the_check_before_each_call_counts_the_whole_reply_it_may_produce(tmp_path):
    """Replies that each use all of max_tokens: the spend stops short of the limit, never past
    it."""
    full = {"input_tokens": 100, "output_tokens": 1000}
    model = ScriptedModel(
        [tool_reply("read_file", {"path": f"f{i}"}, usage=full) for i in range(20)]
    )
    meter, usd = Meter(price=DEFAULT_PRICE), 0.055
    with pytest.raises(BudgetSpent, match="would be crossed"):
        converse(
            model,
            model_name="claude-test",
            max_tokens=1000,
            system="s",
            toolbox=ToolBox(tmp_path),
            messages=[user_message("go")],
            limits=Limits(turns=50, deadline=time.monotonic() + 60, usd=usd),
            meter=meter,
            progress=Progress(),
        )
    one_reply = 1000 * DEFAULT_PRICE.output / 1_000_000
    assert meter.turns >= 2 and usd - one_reply < meter.cost <= usd


def test_a_stop_signal_ends_the_act_at_the_next_turn(tmp_path):
    STOP.set()
    try:
        end, model, _ = run(tmp_path, [text_reply("never")])
    finally:
        STOP.clear()
    assert end.reason == "stopped" and model.requests == []


def test_the_same_call_three_times_in_a_row_is_stuck_but_interleaved_repeats_are_not(tmp_path):
    (tmp_path / "a.txt").write_text("A\n")
    read = tool_reply("read_file", {"path": "a.txt"})
    other = tool_reply("search_files", {"pattern": "*.txt"})
    end, _, _ = run(tmp_path, [read, other, read, other, read, text_reply("fine")])
    assert end.reason == "done"
    end, model, messages = run(tmp_path, [read, read, read, text_reply("never")])
    assert end.reason == "stuck" and "read_file called 3 times in a row" in end.text
    assert messages[-1]["content"][0]["is_error"] and len(model.requests) == 3


def test_meter_prices_cache_reads_and_writes_and_counts_reported_cost_as_is():
    meter = Meter(price=DEFAULT_PRICE)
    meter.add(
        Usage(
            input_tokens=1_000_000,
            cache_read_input_tokens=1_000_000,
            cache_creation_input_tokens=1_000_000,
        )
    )
    assert meter.cost == pytest.approx(3.0 + 0.3 + 3.75)
    meter.add(Usage(output_tokens=1_000_000), cost=0.5)
    assert meter.cost == pytest.approx(7.05 + 0.5) and meter.usage.output_tokens == 1_000_000


def test_a_sloppy_reflection_keeps_what_is_well_formed():
    reflection = parse_reflection(
        {
            "lesson": "  Keep it.  ",
            "genome": {"Mission": "New", "": "x", "Bad": 3},
            "levers": [{"title": "One", "check": "pytest -q"}, {"title": ""}, "nope"],
        }
    )
    assert reflection.lesson == "Keep it." and reflection.genome == {"Mission": "New"}
    assert reflection.levers == [("One", ["pytest -q"])]
    assert parse_reflection("not a dict").lesson is None
