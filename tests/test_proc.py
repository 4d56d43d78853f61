from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from runner.proc import TIMEOUT_EXIT_CODE, run_shell, scrubbed_env, truncate


def _is_gone(pid: int) -> bool:
    """No such process, or only a zombie left for a parent that never reaps it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rfind(")") + 2 :].split()[0] == "Z"


def _wait_gone(pid: int, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _is_gone(pid):
            return True
        time.sleep(0.05)
    return _is_gone(pid)


def test_stdout_and_stderr_interleave_and_exit_code_is_kept(tmp_path):
    result = run_shell("echo one; echo two >&2; echo three; exit 3", tmp_path, 10)
    assert result.exit_code == 3
    assert result.output == "one\ntwo\nthree\n"
    assert result.total_bytes == len(result.output)
    assert not result.timed_out


def test_runs_in_cwd_with_empty_stdin(tmp_path):
    # `cat` would wait forever on an inherited terminal; with /dev/null it ends at once.
    result = run_shell("pwd; cat; echo done", tmp_path, 10)
    assert result.output == f"{tmp_path}\ndone\n"
    assert result.seconds < 5


def test_pipefail_only_when_asked(tmp_path):
    assert run_shell("false | true", tmp_path, 10).exit_code == 0
    assert run_shell("false | true", tmp_path, 10, pipefail=True).exit_code == 1


def test_invalid_utf8_is_replaced_not_fatal(tmp_path):
    result = run_shell(r"printf 'a\377b\n'", tmp_path, 10)
    assert result.output == "a\ufffdb\n"


def test_three_megabytes_of_output_keep_head_and_tail_and_say_the_cut(tmp_path):
    lines = 450_000
    expected_bytes = sum(len(f"{n}\n") for n in range(1, lines + 1))
    assert expected_bytes > 3_000_000
    result = run_shell(f"seq 1 {lines}", tmp_path, 30, limit=16_000)
    assert result.exit_code == 0
    assert result.total_bytes == expected_bytes
    assert len(result.output) <= 16_000
    assert result.output.startswith("1\n2\n3\n")
    assert result.output.endswith(f"{lines - 1}\n{lines}\n")
    cut = re.search(r"^\[\.\.\. ([\d,]+) bytes cut \.\.\.\]$", result.output, re.M)
    assert cut, result.output[7000:9000]
    kept = len(result.output.encode()) - len(cut.group(0)) - 1
    assert int(cut.group(1).replace(",", "")) + kept == expected_bytes


def test_memory_stays_bounded_for_huge_output(tmp_path):
    # Python's own allocation peak while 200 MB stream through (tracemalloc): RSS is no good here,
    # as a child started from a big test process inherits its parent's peak RSS across exec.
    script = (
        "import tracemalloc; from pathlib import Path; from runner.proc import run_shell\n"
        "tracemalloc.start()\n"
        "r = run_shell('yes | head -c 200000000', Path('.'), 60)\n"
        "print(r.total_bytes, len(r.output), tracemalloc.get_traced_memory()[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    total, kept, peak_bytes = map(int, done.stdout.split())
    assert total == 200_000_000
    assert kept <= 16_000
    assert peak_bytes < 2_000_000


def test_timeout_kills_the_whole_process_group(tmp_path):
    command = (
        "sleep 100 & echo $! > child.pid; "
        "bash -c 'sleep 100 & echo $! > grandchild.pid; wait' & "
        "sleep 100"
    )
    started = time.monotonic()
    result = run_shell(command, tmp_path, 1)
    assert result.timed_out
    assert result.exit_code == TIMEOUT_EXIT_CODE
    assert time.monotonic() - started < 5
    for name in ("child.pid", "grandchild.pid"):
        pid = int((tmp_path / name).read_text())
        assert _wait_gone(pid), f"{name} {pid} still running"


def test_a_process_ignoring_sigterm_is_killed_anyway(tmp_path):
    result = run_shell(
        "trap '' TERM; echo $$ > shell.pid; while true; do sleep 0.05; done", tmp_path, 0.5
    )
    assert result.timed_out
    assert _wait_gone(int((tmp_path / "shell.pid").read_text()))


def test_background_job_left_behind_ends_with_the_command(tmp_path):
    # The job holds the output pipe; without the group kill this would block for 100 s.
    result = run_shell("sleep 100 & echo $! > bg.pid; echo started", tmp_path, 30)
    assert result.exit_code == 0
    assert result.output == "started\n"
    assert result.seconds < 5
    assert _wait_gone(int((tmp_path / "bg.pid").read_text()))


def test_api_key_is_not_passed_to_commands_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-not-for-commands")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "token-not-for-commands")
    monkeypatch.setenv("KEEP_ME", "kept")
    result = run_shell("env", tmp_path, 10)
    assert "not-for-commands" not in result.output
    assert "KEEP_ME=kept" in result.output


def test_explicit_env_is_used_as_given(tmp_path):
    env = {"PATH": os.environ["PATH"], "ONLY": "this"}
    result = run_shell('echo "$ONLY ${HOME-nohome}"', tmp_path, 10, env=env)
    assert result.output == "this nohome\n"


def test_scrubbed_env_drops_every_anthropic_variable_and_nothing_else():
    base = {
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_AUTH_TOKEN": "t",
        "ANTHROPIC_BASE_URL": "http://x",
        "A": "1",
    }
    assert scrubbed_env(base) == {"A": "1"}
    assert base["ANTHROPIC_API_KEY"] == "k"


def test_truncate_leaves_short_text_alone():
    assert truncate("short\n", 100) == "short\n"


def test_truncate_keeps_first_and_last_lines_and_counts_the_cut():
    text = "".join(f"line {n}\n" for n in range(100_000))
    cut = truncate(text, 2000)
    assert len(cut) <= 2000
    assert cut.startswith("line 0\nline 1\n")
    assert cut.endswith("line 99999\n")
    match = re.search(r"^\[\.\.\. ([\d,]+) characters cut \.\.\.\]$", cut, re.M)
    assert match
    assert int(match.group(1).replace(",", "")) == len(text) - (len(cut) - len(match.group(0)) - 1)
