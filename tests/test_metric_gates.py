"""Metric gates and red before green: config, measuring, judging, and whole ticks in real repos."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from genome.errors import GenomeFileError
from genome.journal import TickRecord, parse_entries, render_entry
from genome.levers import LeverDoc
from genome.loop_prompt import Gate, parse_config
from runner import tree_memory
from runner.gates import GateSpec, read_metric, run_gates
from runner.gitops import Git
from runner.metrics import judge, parse_trailer
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from runner.tree_memory import Measured
from tests.conftest import commit_all, git, set_config

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
TEMPLATE_GATE_END = "    timeout: 300               # optional, seconds\n"


def tick(root, script):
    model = ScriptedModel(script)
    return run_tick(root, make_model=lambda config: model, now=NOW), model


def reflect(levers=None):
    return tool_reply("reflect", {"lesson": None, "genome": None, "levers": levers or []})


def levers_of(root):
    return {lever.id: lever for lever in LeverDoc.parse((root / "levers.md").read_text()).levers}


def add_gate(root, lines: str) -> None:
    set_config(root, TEMPLATE_GATE_END, "    timeout: 300\n" + lines)


# ------------------------------------------------------------------------------------------ config


def test_metric_keys_are_read():
    config = parse_config(
        "loop-prompt.md",
        "gates:\n  - name: speed\n    run: ./bench\n"
        "    metric: 'took ([0-9.]+)s'\n    better: lower\n    min_delta: 2%\n"
        "    repeat: 5\n  - name: count\n    run: pytest\n    metric: '(\\d+) passed'\n"
        "    better: higher\n    must: hold\n    min_delta: 0\n",
    )
    speed, count = config.gates
    assert (
        speed.metric,
        speed.better,
        speed.min_delta,
        speed.min_delta_percent,
        speed.repeat,
        speed.must,
    ) == ("took ([0-9.]+)s", "lower", 2.0, True, 5, "improve")
    assert speed.min_delta_text == "2%" and count.min_delta_text == "0"
    assert (count.must, count.repeat, count.min_delta_percent) == ("hold", 1, False)


GATE = "gates:\n  - name: speed\n    run: ./bench\n"
METRIC = GATE + "    metric: '([0-9]+)'\n    better: lower\n"


@pytest.mark.parametrize(
    "yaml_text, line, words",
    [
        (
            GATE + "    metric: 'took [0-9]+'\n    better: lower\n",
            5,
            ["exactly one group", "`(?:...)`"],
        ),
        (GATE + "    metric: '(a)(b)'\n    better: lower\n", 5, ["exactly one group"]),
        (GATE + "    metric: '(unclosed'\n    better: lower\n", 5, ["not a regular expression"]),
        (
            GATE + "    metric: '(\\d+)'\n",
            5,
            ["needs `better: higher` or `better: lower`, not None"],
        ),
        (GATE + "    metric: '(\\d+)'\n    better: faster\n", 6, ["not 'faster'"]),
        (METRIC + "    min_delta: -1\n", 7, ["`min_delta` must be 0 or more"]),
        (METRIC + "    min_delta: lots\n", 7, ["must be a number or a percentage"]),
        (METRIC + "    min_delta: 'x%'\n", 7, ["not a percentage"]),
        (METRIC + "    repeat: 0\n", 7, ["`repeat` must be a whole number from 1 to 100"]),
        (METRIC + "    repeat: 2.5\n", 7, ["`repeat`"]),
        (METRIC + "    must: never\n", 7, ["`must` must be `improve` or `hold`"]),
        (GATE + "    repeat: 3\n", 5, ["`repeat` only applies to a gate with a `metric`"]),
        (GATE + "    must: hold\n", 5, ["`must` only applies"]),
        (GATE + "    prove: yes please\n", 5, ["`prove` must be true or false"]),
        (
            GATE + "    prove: true\n",
            2,
            ["`prove: true` but there are no `grow_only:` globs", "tests/**"],
        ),
        ("grow_only: tests/**\n", 2, ["`grow_only` must be a list of path globs"]),
    ],
)
def test_bad_metric_settings_name_the_line_and_the_fix(yaml_text, line, words):
    with pytest.raises(GenomeFileError) as caught:
        parse_config("loop-prompt.md", yaml_text)
    assert caught.value.line == line, str(caught.value)
    assert str(caught.value).startswith(f"loop-prompt.md:{line}: ")
    for word in words:
        assert word in str(caught.value)


def test_a_bad_metric_in_the_committed_config_stops_the_tick_with_exit_2(project):
    add_gate(
        project,
        "  - name: score\n    run: cat score.txt\n    metric: 'score'\n    better: higher\n",
    )
    with pytest.raises(GenomeFileError) as caught:
        tick(project, [])
    assert caught.value.file == "loop-prompt.md" and "exactly one group" in str(caught.value)
    assert git(project, "status", "--porcelain") == ""


# ---------------------------------------------------------------------------------------- measuring


def test_read_metric_takes_the_last_match_as_a_number():
    output = "warmup 1: 9.5 ms\nrun: 1,204.5 ms\nnoise: nan ms\n"
    assert read_metric(r"([0-9.,]+|nan) ms", output) == 1204.5
    assert read_metric(r"score (\d+)", output) is None


def test_repeat_takes_the_median_and_records_the_spread(tmp_path):
    values = tmp_path / "values"
    values.write_text("5\n9\n7\n")
    command = f'n=$(head -1 {values}); sed -i 1d {values}; echo "took $n ms"'
    [result] = run_gates([GateSpec("speed", command, metric=r"took (\d+) ms", repeat=3)], tmp_path)
    assert result.passed and result.values == [5.0, 9.0, 7.0]
    assert result.value == 7.0 and result.spread == 4.0 and result.attempts == 3
    assert result.summary().startswith("speed ok ") and "= 7 (spread 4, 3 runs)" in result.summary()


def test_a_gate_whose_output_has_no_number_fails(tmp_path):
    [result] = run_gates([GateSpec("speed", "echo all good", metric=r"took (\d+) ms")], tmp_path)
    assert not result.passed and result.attempts == 2
    assert "no number matched its metric" in result.summary()


def test_a_red_run_among_the_repeats_fails_the_gate(tmp_path):
    counter = tmp_path / "n"
    command = (
        f"n=$(($(cat {counter} 2>/dev/null || echo 0)+1)); echo $n > {counter}; echo took 3 ms; [ "
        "$n -lt 3 ]"
    )
    [result] = run_gates([GateSpec("speed", command, metric=r"took (\d+) ms", repeat=4)], tmp_path)
    assert (
        not result.passed and result.exit_code == 1 and result.attempts == 4
    )  # 2 good, 1 red, its re-run


# ------------------------------------------------------------------------------------------ judging

SPEED = Gate("speed", "./bench", metric="(\\d+)", better="lower", min_delta=10)


@pytest.mark.parametrize(
    "gate, start, now, ok",
    [
        (SPEED, Measured(100, 0, 1), Measured(89, 0, 1), True),  # 11 better, beyond min_delta 10
        (SPEED, Measured(100, 0, 1), Measured(90, 0, 1), False),  # exactly min_delta is not more
        (
            SPEED,
            Measured(100, 30, 5),
            Measured(80, 2, 5),
            False,
        ),  # 20 better, but the start is noisy
        (SPEED, Measured(100, 3, 5), Measured(80, 25, 5), False),  # ... or the candidate is
        (SPEED, Measured(100, 3, 5), Measured(80, 5, 5), True),
        (
            Gate("s", "x", metric="(\\d+)", better="higher", min_delta=2, min_delta_percent=True),
            Measured(200, 0, 1),
            Measured(204, 0, 1),
            False,
        ),  # 2% of 200 is 4: not more
        (
            Gate("s", "x", metric="(\\d+)", better="higher", min_delta=2, min_delta_percent=True),
            Measured(200, 0, 1),
            Measured(204.5, 0, 1),
            True,
        ),
        (
            Gate("n", "x", metric="(\\d+)", better="higher", must="hold"),
            Measured(120, 0, 1),
            Measured(120, 0, 1),
            True,
        ),
        (
            Gate("n", "x", metric="(\\d+)", better="higher", must="hold"),
            Measured(120, 0, 1),
            Measured(119, 0, 1),
            False,
        ),
        (
            Gate("t", "x", metric="(\\d+)", better="lower", must="hold"),
            Measured(10, 2, 3),
            Measured(11.5, 1, 3),
            True,
        ),
        (SPEED, Measured(0, 0, 0), Measured(80, 0, 1), False),  # no number on the start tree
    ],
)
def test_judge_needs_more_than_min_delta_and_the_noise(gate, start, now, ok):
    judgement = judge(gate, start, now)
    assert judgement.ok is ok, judgement.why


def test_the_trailer_reads_back_as_numbers():
    judgement = judge(SPEED, Measured(100, 3, 5), Measured(80.5, 2, 5))
    assert judgement.trailer() == "speed=80.5 start=100 spread=2 runs=5"
    assert parse_trailer(judgement.trailer() + "; size=12 start=none spread=0 runs=1") == {
        "speed": 80.5,
        "size": 12,
    }


def test_journal_entries_keep_metrics_and_the_new_lists_and_old_entries_still_read():
    record = TickRecord(
        time="2026-11-23T03:00:00Z",
        outcome="shipped",
        lever="L-002",
        title="Faster",
        metrics="speed=80 start=100 spread=2 runs=5",
        satisfied=["L-001 Add a greeting file"],
        kept_out=["Do nothing: its checks already pass, so they would prove nothing"],
    )
    [back] = parse_entries(render_entry(record))
    assert back == record
    [old] = parse_entries("## 2026-11-22T03:00:00Z failed: L-001 X\n\n- gates: tests FAILED\n")
    assert old.metrics == "" and old.satisfied == [] and old.kept_out == []


# ------------------------------------------------------------------------------------------ ticks

SCORE_GATE = (
    "  - name: score\n    run: cat score.txt\n    metric: 'score: ([0-9]+)'\n    better: higher\n"
    "    min_delta: 0\n"
)


def scored_project(project, score: int = 10, gate: str = SCORE_GATE):
    (project / "score.txt").write_text(f"score: {score}\n")
    (project / "levers.md").write_text("- [ ] L-001 Raise the score\n")
    commit_all(project, "score")
    add_gate(project, gate)
    return project


def test_a_metric_that_improves_ships_with_its_number_in_the_trailer_and_journal(project):
    scored_project(project)
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "score.txt", "content": "score: 12\n"}),
            text_reply("Raised it."),
            reflect(),
        ],
    )
    assert result.outcome == "shipped", result.record.reason
    message = git(project, "log", "-1", "--skip=1", "--format=%B")
    assert "Metric: score=12 start=10 spread=0 runs=1" in message
    assert "score ok" in message and "= 12" in message
    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    assert entry.metrics == "score=12 start=10 spread=0 runs=1"
    # the candidate's number is remembered for the tree it now is
    with Git(project) as g:
        memory = tree_memory.load(project, tree_memory.code_tree_id(g, "HEAD"))
    assert [m.value for m in memory.values()] == [12.0]


def test_a_metric_that_does_not_improve_fails_and_the_model_sees_the_numbers(project):
    scored_project(project)
    set_config(project, "repair_rounds: 1", "repair_rounds: 0")
    result, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "score.txt", "content": "score: 9\n"}),
            text_reply("Changed it."),
            reflect(),
        ],
    )
    assert result.outcome == "failed" and result.record.reason == "metric score did not improve"
    assert (project / "score.txt").read_text() == "score: 10\n"
    reflection = json.dumps(model.requests[-1], ensure_ascii=False)
    assert "score 10 → 9" in reflection
    assert (
        levers_of(project)["L-001"].log[-1].endswith("metric score did not improve (attempt 1/3)")
    )


def test_a_gain_within_the_noise_does_not_ship(project, tmp_path):
    # the noise lives in a file outside the project: only unsandboxed commands can reach it
    set_config(project, "\nmodel:", "\nsandbox: off\nmodel:")
    # three runs of the start tree read 10, 14, 12 (spread 4); the candidate's read 13, 13, 13
    runs = tmp_path / "runs.txt"  # the machine's noise, outside the worktrees
    (project / "noisy.sh").write_text('n=$(head -1 "$1"); sed -i 1d "$1"; echo "score: $n"\n')
    runs.write_text("10\n14\n12\n")
    gate = (
        f"  - name: score\n    run: bash noisy.sh {runs}\n    metric: 'score: ([0-9]+)'\n    "
        "better: higher\n"
        "    repeat: 3\n"
    )
    scored_project(project, gate=gate)
    set_config(project, "repair_rounds: 1", "repair_rounds: 0")
    result, _ = tick(
        project,
        [
            tool_reply(
                "run_command",
                {"command": f"printf '13\\n13\\n13\\n' > {runs} && echo tuned > tuned.txt"},
            ),
            text_reply("Tuned."),
            reflect(),
        ],
    )
    assert result.outcome == "failed" and result.record.reason == "metric score did not improve"
    assert result.record.metrics == "score=13 start=12 spread=0 runs=3"


def test_the_start_value_is_remembered_and_a_planted_one_is_ignored(project, capsys):
    scored_project(project)
    set_config(project, "repair_rounds: 1", "repair_rounds: 0")
    with Git(project) as g:
        start_tree = tree_memory.code_tree_id(g, "HEAD")
    key = tree_memory.gate_key("score", "cat score.txt", "score: ([0-9]+)", 1)
    planted = json.dumps({"metrics": {key: {"value": -1000, "spread": 0, "runs": 1}}})
    # the model rewrites the remembered start number under the gate's own key, then makes the score
    # worse: against the planted -1000 it would have improved
    result, _ = tick(
        project,
        [
            tool_reply(
                "run_command",
                {
                    "command": f"mkdir -p .genome/trees && echo '{planted}' > "
                    f".genome/trees/{start_tree}.json"
                },
            ),
            tool_reply("write_file", {"path": "score.txt", "content": "score: 3\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.outcome == "failed" and result.record.reason == "metric score did not improve"
    assert result.record.metrics == "score=3 start=10 spread=0 runs=1"
    memory = tree_memory.load(project, start_tree)
    assert [m.value for m in memory.values()] == [10.0]  # put back as the tick read it
    # the next tick reads the number from memory: the start tree is not measured again
    capsys.readouterr()
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "score.txt", "content": "score: 11\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert (
        result.outcome == "shipped" and result.record.metrics == "score=11 start=10 spread=0 runs=1"
    )
    assert "measuring" not in capsys.readouterr().err


def test_must_hold_allows_equal_and_refuses_worse(project):
    scored_project(project, gate=SCORE_GATE + "    must: hold\n")
    (project / "levers.md").write_text("- [ ] L-001 Add a file\n  check: test -f added.txt\n")
    commit_all(project)
    set_config(project, "repair_rounds: 1", "repair_rounds: 0")
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "added.txt", "content": "x\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.outcome == "shipped", result.record.reason
    (project / "levers.md").write_text("- [ ] L-002 Add another\n  check: test -f other.txt\n")
    commit_all(project)
    result, _ = tick(
        project,
        [
            tool_reply("write_file", {"path": "other.txt", "content": "x\n"}),
            tool_reply("write_file", {"path": "score.txt", "content": "score: 9\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.outcome == "failed" and result.record.reason == "metric score did not hold"


# --------------------------------------------------------------------------------- red before green


def test_a_lever_whose_check_already_passes_is_done_without_spending(project):
    (project / "levers.md").write_text(
        "- [ ] L-001 Vacuous\n  check: true\n"
        "- [ ] L-002 Add a farewell file\n  check: grep -qx bye farewell.txt\n"
    )
    commit_all(project)
    result, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "farewell.txt", "content": "bye\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.outcome == "shipped" and result.record.lever == "L-002"
    levers = levers_of(project)
    assert levers["L-001"].status == "done"
    assert levers["L-001"].log == [
        "2026-11-23T03:00Z v001 already satisfied: its check passes on the start "
        "tree, before any change; nothing spent"
    ]
    assert "L-001" not in json.dumps(model.requests[0]["messages"])
    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    assert entry.satisfied == ["L-001 Vacuous"]


def test_when_every_open_lever_is_satisfied_no_request_is_made(project):
    (project / "done.txt").write_text("x\n")
    (project / "levers.md").write_text(
        "- [ ] L-001 Has a file\n  check: test -f done.txt\n  check: true\n"
    )
    commit_all(project)
    result, model = tick(project, [])
    assert model.requests == [] and result.outcome == "idle" and result.record.cost_usd == 0
    assert levers_of(project)["L-001"].status == "done"
    assert "all 2 checks pass" in levers_of(project)["L-001"].log[0]
    assert git(project, "status", "--porcelain") == ""


def test_one_failing_check_is_enough_to_work_on_the_lever_and_start_runs_leave_nothing(project):
    (project / "levers.md").write_text(
        "- [ ] L-001 Two checks\n  check: touch made-by-check.txt\n  check: test -f wanted.txt\n"
    )
    commit_all(project)
    result, model = tick(
        project,
        [
            tool_reply("read_file", {"path": "made-by-check.txt"}),
            tool_reply("write_file", {"path": "wanted.txt", "content": "x\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.outcome == "shipped"
    # what the start-tree run wrote was put back before the model looked
    assert '"is_error": true' in json.dumps(model.requests[1])


def test_proposed_levers_need_a_check_that_fails_today(project):
    (project / "levers.md").write_text("- [x] L-001 Done already\n")
    commit_all(project)
    result, _ = tick(
        project,
        [
            tool_reply(
                "reflect",
                {
                    "lesson": None,
                    "genome": None,
                    "levers": [
                        {"title": "Vacuous", "check": ["true"]},
                        {"title": "Unchecked"},
                        {"title": "Real work", "check": ["test -f report.html"]},
                    ],
                },
            )
        ],
    )
    assert result.outcome == "idle"
    levers = levers_of(project)
    assert [lever.title for lever in levers.values()] == ["Done already", "Real work"]
    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    assert entry.kept_out == [
        "Vacuous: its checks already pass, so they would prove nothing",
        "Unchecked: no `check:`, so nothing could show it undone",
    ]


# ---------------------------------------------------------------------------------------- grow_only


def grow_only_project(project):
    # the template protects tests/**; here they are grow-only instead
    set_config(project, "\n  - tests/**", "\n  - tests/protected-only/**")
    set_config(project, "\ncadence:", '\ngrow_only: ["tests/**"]\ncadence:')
    set_config(project, "repair_rounds: 1", "repair_rounds: 0")
    return project


def test_grow_only_lets_the_model_add_tests(project):
    grow_only_project(project)
    result, model = tick(
        project,
        [
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            tool_reply(
                "write_file",
                {"path": "tests/test_greeting.sh", "content": "grep -qx hello greeting.txt\n"},
            ),
            tool_reply(
                "edit_file",
                {"path": "tests/test_greeting.sh", "old_text": "hello", "new_text": "hello"},
            ),
            text_reply("done"),
            reflect(),
        ],
    )
    assert result.outcome == "shipped", result.record.reason
    assert "Grow-only paths" in model.requests[0]["system"][0]["text"]
    assert sorted(git(project, "show", "--name-only", "--format=", "HEAD~1").split()) == [
        "greeting.txt",
        "tests/test_greeting.sh",
    ]


# (a rename by `mv`: the sandbox keeps git's index read-only, so `git mv` cannot run at all)
@pytest.mark.parametrize(
    "command",
    [
        "echo true > tests/test_core.sh",
        "rm tests/test_core.sh",
        "mv tests/test_core.sh tests/test_renamed.sh",
    ],
)
def test_grow_only_refuses_changing_deleting_or_renaming_a_committed_test(project, command):
    grow_only_project(project)
    result, model = tick(
        project,
        [
            tool_reply(
                "edit_file",
                {"path": "tests/test_core.sh", "old_text": "1 -eq 1", "new_text": "0 -eq 0"},
            ),
            tool_reply("run_command", {"command": command}),
            tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
            text_reply("done"),
            reflect(),
        ],
    )
    refusal = json.dumps(model.requests[1]["messages"][-1])
    assert "committed under grow_only" in refusal
    assert result.outcome == "failed"
    assert result.record.reason == "changed existing file tests/test_core.sh under grow_only"
    assert (project / "tests/test_core.sh").read_text() == "test 1 -eq 1\n"
    assert git(project, "status", "--porcelain") == ""


def test_the_review_charts_a_metric_over_time(project):
    from datetime import timedelta

    from runner.review import build_review, render_html, render_json, render_markdown, render_text

    scored_project(project)
    for n, (score, lever) in enumerate([(12, "L-001"), (15, "L-002")]):
        if n:
            (project / "levers.md").write_text(f"- [ ] {lever} Raise it again\n")
            commit_all(project)
        model = ScriptedModel(
            [
                tool_reply("write_file", {"path": "score.txt", "content": f"score: {score}\n"}),
                text_reply("Raised it."),
                reflect(),
            ]
        )
        result = run_tick(
            project, make_model=lambda config, model=model: model, now=NOW + timedelta(hours=n)
        )
        assert result.outcome == "shipped", result.record.reason
    review = build_review(project, since="30d", now=NOW + timedelta(hours=2))
    points = review.metric_points["score"]
    assert [(p.value, p.lever) for p in points] == [(10, "start"), (12, "L-001"), (15, "L-002")]
    assert "score: 10 → 15 over 2 shipped ticks" in render_text(review, width=120)
    assert "score: 10 → 15 over 2 shipped ticks" in render_markdown(review)
    page = render_html(review)
    assert (
        'id="chart-metric-score"' in page
        and '<polyline class="metric"' in page
        and "10 → 15" in page
    )
    data = json.loads(render_json(review))
    assert [(p["value"], p["lever"]) for p in data["metrics"]["score"]] == [
        (10, "start"),
        (12, "L-001"),
        (15, "L-002"),
    ]
    assert [t["metrics"] for t in data["ticks"]] == [
        "score=12 start=10 spread=0 runs=1",
        "score=15 start=12 spread=0 runs=1",
    ]
