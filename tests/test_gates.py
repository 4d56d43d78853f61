from __future__ import annotations

import os
import re

from runner.gates import GateSpec, gates_trailer, run_gates
from runner.proc import TIMEOUT_EXIT_CODE

# Counts its runs in a file and fails until the given run.
COUNTED = (
    'n=$(cat {file} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {file}; echo "run $n"; [ $n -ge '
    "{passes_on} ]"
)


def test_green_gates_all_run_once(tmp_path):
    gates = [
        GateSpec("tests", "echo testing; true"),
        GateSpec("artifact", "touch built && test -f built"),
    ]
    results = run_gates(gates, tmp_path)
    assert [r.name for r in results] == ["tests", "artifact"]
    assert all(
        r.passed and r.attempts == 1 and r.exit_code == 0 and not r.timed_out for r in results
    )
    assert results[0].output_tail == "testing\n"
    assert results[0].command == "echo testing; true"
    assert (tmp_path / "built").exists()
    assert re.fullmatch(r"tests ok \d+\.\ds; artifact ok \d+\.\ds", gates_trailer(results))


def test_pipefail_catches_a_failure_early_in_a_pipe(tmp_path):
    [result] = run_gates([GateSpec("pipe", "false | true")], tmp_path)
    assert not result.passed
    assert result.exit_code == 1
    assert result.attempts == 2
    assert re.fullmatch(r"pipe FAILED exit 1 \d+\.\ds", result.summary())


def test_flaky_gate_passes_on_rerun(tmp_path):
    counter = tmp_path / "count"
    [result] = run_gates([GateSpec("flaky", COUNTED.format(file=counter, passes_on=2))], tmp_path)
    assert result.passed
    assert result.attempts == 2
    assert counter.read_text() == "2\n"
    assert result.output_tail == "run 2\n"
    assert re.fullmatch(r"flaky ok \d+\.\ds \(flaky: passed on re-run\)", result.summary())


def test_red_gate_is_run_twice_then_stops_the_run(tmp_path):
    counter = tmp_path / "count"
    gates = [
        GateSpec("first", "true"),
        GateSpec("broken", COUNTED.format(file=counter, passes_on=99) + "; exit 3"),
        GateSpec("never", "touch ran-anyway"),
    ]
    results = run_gates(gates, tmp_path)
    assert [r.name for r in results] == ["first", "broken"]
    assert results[0].passed
    broken = results[1]
    assert not broken.passed
    assert broken.attempts == 2
    assert broken.exit_code == 3
    assert counter.read_text() == "2\n"
    assert not (tmp_path / "ran-anyway").exists()
    assert re.fullmatch(r"first ok \d+\.\ds; broken FAILED exit 3 \d+\.\ds", gates_trailer(results))


def test_gate_timing_out_is_killed_and_red(tmp_path):
    gates = [
        GateSpec("hang", "echo $$ >> pids; sleep 60", timeout=0.5),
        GateSpec("after", "touch after"),
    ]
    results = run_gates(gates, tmp_path)
    assert len(results) == 1
    [result] = results
    assert not result.passed
    assert result.timed_out
    assert result.exit_code == TIMEOUT_EXIT_CODE
    assert result.attempts == 2
    assert result.seconds < 10
    assert re.fullmatch(r"hang FAILED timed out \d+\.\ds", result.summary())
    assert len((tmp_path / "pids").read_text().split()) == 2
    assert not (tmp_path / "after").exists()


def test_output_tail_keeps_the_end(tmp_path):
    [result] = run_gates([GateSpec("noisy", "seq 1 100000; echo LAST LINE; exit 1")], tmp_path)
    assert not result.passed
    assert len(result.output_tail) < 4200
    assert result.output_tail.endswith("99999\n100000\nLAST LINE\n")
    assert result.output_tail.startswith(
        "[... earlier output cut; the gate printed 588,905 bytes in all ...]\n"
    )


def test_gates_get_the_given_env_without_the_api_key(tmp_path):
    env = {"PATH": os.environ["PATH"], "ANTHROPIC_API_KEY": "sk-ant-gate", "MARK": "m"}
    check = 'test -z "${ANTHROPIC_API_KEY-}" && test "$MARK" = m'
    [result] = run_gates([GateSpec("env", check)], tmp_path, env)
    assert result.passed, result.output_tail


def test_gates_default_env_drops_the_api_key(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-gate")
    [result] = run_gates([GateSpec("env", 'test -z "${ANTHROPIC_API_KEY-}"')], tmp_path)
    assert result.passed


def test_trailer_is_one_line(tmp_path):
    results = run_gates([GateSpec("two\nlines", "true")], tmp_path)
    trailer = gates_trailer(results)
    assert "\n" not in trailer
    assert trailer.startswith("two lines ok ")
    assert gates_trailer([]) == "none"
    assert run_gates([], tmp_path) == []
