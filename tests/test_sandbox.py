"""The sandbox: each way out a hostile model tried, closed with bubblewrap and, where it cannot be
had, by the runner itself; the fallback and `sandbox: required` without bubblewrap."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from genome.journal import parse_entries
from runner import intent, sandbox
from runner.cli import cli
from runner.errors import Refused
from runner.gitops import Git
from runner.proc import run_shell
from runner.progress import Printer
from runner.recovery import recover
from runner.review import build_review, render_text
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from runner.tools import ToolBox
from tests.conftest import git, set_config

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
HAVE_BWRAP = sandbox.probe()[0] is not None
needs_bwrap = pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap does not work on this machine")


@pytest.fixture
def no_bwrap(tmp_path, monkeypatch) -> Path:
    """A PATH with every program of this machine but bwrap: the machine without bubblewrap."""
    bin_dir = tmp_path / "path-without-bwrap"
    bin_dir.mkdir()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            target = os.path.join(folder, name)
            if name != "bwrap" and not (bin_dir / name).exists() and os.access(target, os.X_OK):
                (bin_dir / name).symlink_to(target)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert shutil.which("bwrap") is None
    return bin_dir


def contained(root: Path, mode: str, network: bool = False) -> sandbox.Sandbox:
    return sandbox.prepare(root, root / ".git", mode=mode, network=network)


MODES = [
    pytest.param("auto", marks=needs_bwrap, id="sandboxed"),
    pytest.param("off", id="unsandboxed"),
]


# ----------------------------------------------------------------------- nothing outlives a command


@pytest.mark.parametrize("mode", MODES)
def test_a_setsid_or_double_forked_child_does_not_outlive_the_command(project, mode):
    box = ToolBox(project, sandbox=contained(project, mode))
    result = box.call(
        "run_command",
        {
            "command": (
                "setsid bash -c 'sleep 0.6; echo late > setsid.txt' >/dev/null 2>&1 < /dev/null & "
                "( ( sleep 0.6; echo late > double.txt ) & ) >/dev/null 2>&1; echo started"
            )
        },
    )
    assert not result.is_error and "started" in result.content
    time.sleep(1.2)
    assert not (project / "setsid.txt").exists() and not (project / "double.txt").exists()


def test_without_the_fix_a_setsid_child_would_outlive_it(project):
    """The control: started the way commands were started before, the child survives."""
    done = subprocess.run(
        [
            "bash",
            "-c",
            "setsid bash -c 'sleep 0.3; echo late > late.txt' >/dev/null 2>&1 < /dev/null &",
        ],
        cwd=project,
        start_new_session=True,
    )
    assert done.returncode == 0
    time.sleep(0.8)
    assert (project / "late.txt").exists()


# ------------------------------------------------------------------------- the runner's environment

RUNNER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from runner import sandbox
    from runner.tools import ToolBox
    root = Path(sys.argv[1])
    sandbox.protect_runner()
    box = ToolBox(root, sandbox=sandbox.prepare(root, root / ".git", mode=sys.argv[2]))
    command = f"cat /proc/{os.getpid()}/environ; grep -l sk-ant-api03 /proc/*/environ; env"
    print(box.call("run_command", {"command": command}).content)
""")
KEY = "sk-ant-api03-" + "Q7wLx2Vb9Kd4Rz8Tn1Pm6Hs3Jf5Gc0Ya" * 2


def run_runner(project: Path, mode: str, user: list[str], env: dict[str, str] | None = None) -> str:
    env = {
        **os.environ,
        **(env or {}),
        "ANTHROPIC_API_KEY": KEY,
        "PYTHONPATH": str(Path(__file__).parents[1]),
    }
    done = subprocess.run(
        [*user, sys.executable, "-c", RUNNER, str(project), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@needs_bwrap
def test_a_sandboxed_command_cannot_read_the_runners_environment(project):
    output = run_runner(project, "auto", [])
    assert "No such file" in output  # the runner's /proc entry is not there at all
    assert KEY not in output and "ANTHROPIC" not in output


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become another user"
)
def test_unsandboxed_the_runner_is_not_dumpable_so_its_environment_is_unreadable(project):
    """Both the runner and its command as the same unprivileged user, as on a person's machine."""
    base = Path(tempfile.mkdtemp(prefix="genome-nobody-"))
    try:
        git(base, "clone", "-q", str(project), "project")
        subprocess.run(["chown", "-R", "nobody:nogroup", str(base)], check=True)
        base.chmod(0o755)
        nobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
        output = run_runner(
            base / "project",
            "off",
            nobody,
            env={
                "HOME": str(base),
                "XDG_CACHE_HOME": str(base / "cache"),
                "XDG_STATE_HOME": str(base / "state"),
            },
        )
    finally:
        shutil.rmtree(base)
    assert "Permission denied" in output
    assert KEY not in output and "ANTHROPIC" not in output


def test_without_the_fix_a_same_user_process_reads_the_key(project):
    """The control: a dumpable process of the same user shows its environment to its children."""
    if os.geteuid() == 0 and shutil.which("setpriv"):
        user = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
    else:
        user = []
    done = subprocess.run(
        [
            *user,
            "bash",
            "-c",
            "cat /proc/$$/environ | tr '\\0' '\\n'; sh -c 'cat /proc/$PPID/environ'",
        ],
        env={"ANTHROPIC_API_KEY": KEY, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    )
    assert KEY in done.stdout


@pytest.mark.parametrize("mode", MODES)
def test_commands_get_the_allowlisted_environment_and_a_home_that_persists(
    project, mode, monkeypatch
):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-commands")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    first = run_shell(
        'env; echo cached > "$HOME/pip-cache"', project, 10, sandbox=contained(project, mode)
    )
    names = {line.split("=", 1)[0] for line in first.output.splitlines() if "=" in line}
    assert "ANTHROPIC_BASE_URL" not in names and "AWS_SECRET_ACCESS_KEY" not in names
    assert {"PATH", "HOME", "LC_ALL"} <= names
    home = sandbox.command_home(project / ".git")
    assert f"HOME={home}" in first.output and home.is_relative_to(
        Path(os.environ["XDG_CACHE_HOME"])
    )
    again = run_shell('cat "$HOME/pip-cache"', project, 10, sandbox=contained(project, mode))
    assert again.output == "cached\n"


# ------------------------------------------------------------------------- what a command may write


@needs_bwrap
def test_a_sandboxed_command_cannot_write_genome_state_or_git(project):
    state = project / ".genome"
    state.mkdir(exist_ok=True)
    (state / "intent.json").write_text("{}")
    head = git(project, "rev-parse", "HEAD").strip()
    box = ToolBox(project, sandbox=contained(project, "auto"))
    attempts = {
        "intent": "echo '{\"cost_usd\": -100}' > .genome/intent.json",
        "ref": f"echo {head} > .git/refs/heads/evil",
        "object": "echo x > .git/objects/evil",
        "config": "git config core.hooksPath /tmp",
        "commit": "echo x > new.txt && git add new.txt && git commit -qm sneaky",
        "dot-git file": "rm -rf .git",
    }
    for what, command in attempts.items():
        result = box.call("run_command", {"command": command})
        assert result.is_error, (what, result.content)
    assert (state / "intent.json").read_text() == "{}"
    assert (
        not (project / ".git/refs/heads/evil").exists()
        and not (project / ".git/objects/evil").exists()
    )
    assert git(project, "rev-parse", "HEAD").strip() == head
    assert "hooksPath" not in (project / ".git/config").read_text()
    # the work itself is writable, /tmp is private
    result = box.call(
        "run_command",
        {"command": "echo ok > made.txt && echo t > /tmp/private-tmp-file && cat made.txt"},
    )
    assert result.content.endswith("ok\n") and not Path("/tmp/private-tmp-file").exists()
    listing = box.call("run_command", {"command": "ls -A .genome | wc -l"})
    assert listing.content.splitlines()[1:] == ["0"]  # .genome/ shows as an empty folder


@needs_bwrap
def test_a_worktree_sandbox_hides_the_persons_tree_and_reads_the_common_git_dir(project, tmp_path):
    (project / "person-notes.txt").write_text("uncommitted work of the person\n")
    work = tmp_path / "act"
    git(project, "worktree", "add", "-q", "--detach", str(work))
    git_dir, common = sandbox.git_dirs(work)
    box = sandbox.prepare(work, git_dir, common_git_dir=common, person_tree=project)
    result = run_shell(
        f"ls -A {project}; git log --oneline -1; echo x > {common}/refs/heads/evil",
        work,
        10,
        sandbox=box,
    )
    lines = result.output.splitlines()
    assert "person-notes.txt" not in result.output and "levers.md" not in lines
    assert "levers and a test" in result.output and "Read-only file system" in result.output
    assert not (common / "refs/heads/evil").exists()


# ------------------------------------------------------------------------- the network


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    yield server
    server.close()


CONNECT = (
    'python3 -c \'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), '
    'timeout=20); print("connected")\' {port}'
)


@needs_bwrap
def test_with_network_false_a_connection_fails_at_once_with_a_readable_error(project, listener):
    port = listener.getsockname()[1]
    box = ToolBox(project, sandbox=contained(project, "auto", network=False))
    started = time.monotonic()
    result = box.call("run_command", {"command": CONNECT.format(port=port)})
    assert time.monotonic() - started < 5
    assert (
        result.is_error
        and "Connection refused" in result.content
        and "connected" not in result.content
    )
    with pytest.raises(TimeoutError):
        listener.accept()
    assert "There is no network" in box.specs()[3]["description"]


@needs_bwrap
def test_with_network_true_the_same_connection_goes_through(project, listener):
    port = listener.getsockname()[1]
    result = run_shell(
        CONNECT.format(port=port), project, 20, sandbox=contained(project, "auto", network=True)
    )
    assert result.exit_code == 0 and "connected" in result.output


# ---------------------------------------------------------------------- with and without bubblewrap


def greeting_script():
    return [
        tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
        text_reply("Wrote greeting.txt."),
        tool_reply("reflect", {"lesson": None, "genome": None, "levers": []}),
    ]


@needs_bwrap
def test_with_bubblewrap_the_tick_runs_its_gates_sandboxed_and_says_nothing(project):
    stream = __import__("io").StringIO()
    result = run_tick(
        project,
        make_model=lambda c: ScriptedModel(greeting_script()),
        now=NOW,
        printer=Printer(stream, live=False),
    )
    assert result.outcome == "shipped"
    assert "unsandboxed" not in stream.getvalue()
    [entry] = parse_entries((project / "journal/2026/11/23.md").read_text())
    assert entry.sandbox == ""


def test_without_bubblewrap_auto_runs_unsandboxed_and_says_so_everywhere(
    project, no_bwrap, monkeypatch
):
    stream = __import__("io").StringIO()
    result = run_tick(
        project,
        make_model=lambda c: ScriptedModel(greeting_script()),
        now=NOW,
        printer=Printer(stream, live=False),
    )
    assert result.outcome == "shipped"
    assert "unsandboxed: install bubblewrap" in stream.getvalue()
    journal = (project / "journal/2026/11/23.md").read_text()
    assert "- sandbox: unsandboxed: install bubblewrap" in journal
    monkeypatch.chdir(project)
    status = CliRunner().invoke(cli, ["status"], catch_exceptions=False)
    assert "unsandboxed: install bubblewrap" in status.output
    review = render_text(build_review(project, "7d", now=NOW.replace(hour=4)))
    assert "unsandboxed: install bubblewrap" in review


def test_sandbox_required_without_bubblewrap_refuses_with_the_fix(project, no_bwrap, monkeypatch):
    set_config(project, "\nmodel:", "\nsandbox: required\nmodel:")
    head = git(project, "rev-parse", "HEAD").strip()
    with pytest.raises(Refused) as refused:
        run_tick(project, make_model=lambda c: ScriptedModel([]), now=NOW)
    message = refused.value.message
    assert (
        "apt install bubblewrap" in message and "apparmor_restrict_unprivileged_userns" in message
    )
    assert (
        git(project, "rev-parse", "HEAD").strip() == head
        and git(project, "status", "--porcelain") == ""
    )
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["tick", "--now"])
    assert result.exit_code == 3 and "bubblewrap" in result.output


def test_sandbox_off_runs_unsandboxed_and_says_why(project):
    box = sandbox.prepare(project, project / ".git", mode="off")
    assert not box.enabled and "sandbox: off" in box.why_not
    assert box.wrap(["true"], project) == ["true"]


# ------------------------------------------------------------------------ the crash-recovery record


def forged_intent(project: Path, signed: bool) -> None:
    """What a command that can write .genome/ would leave: a record with a negative spend, bare or
    in the runner's envelope with a made-up signature."""
    head = git(project, "rev-parse", "HEAD").strip()
    forged = {
        "base": head,
        "branch": "main",
        "lever": "L-001",
        "started": "2026-11-23T02:00:00Z",
        "phase": "act",
        "commit": "",
        "cost_usd": -1000.0,
        "tokens": 0,
        "touched": {},
        "new_files_are_ours": False,
    }
    if signed:
        forged = {"record": json.dumps(forged, sort_keys=True), "mac": "0" * 64}
    state = project / ".genome"
    state.mkdir(exist_ok=True)
    (state / "intent.json").write_text(json.dumps(forged))


@pytest.mark.parametrize("signed", [True, False], ids=["made-up-signature", "bare"])
def test_a_forged_intent_record_is_not_booked(project, signed):
    """Unsandboxed a command can write .genome/; the record it writes is not the runner's."""
    ToolBox(project, sandbox=contained(project, "off")).call("run_command", {"command": "true"})
    forged_intent(project, signed)
    assert intent.load(project).phase == ("forged" if signed else "unreadable")
    head = git(project, "rev-parse", "HEAD").strip()
    stream = io.StringIO()
    with Git(project) as repo:
        recover(project, repo, NOW, Printer(stream, live=False))
    said = "was not written by the runner" if signed else "was unreadable"
    assert said in stream.getvalue()
    assert git(project, "rev-parse", "HEAD").strip() == head
    assert "-1000" not in git(project, "log", "--format=%B")
    assert not (project / ".genome" / "intent.json").exists()


def test_the_runners_own_record_still_recovers(project):
    head = git(project, "rev-parse", "HEAD").strip()
    record = intent.Intent(
        base=head, branch="main", lever="L-001", started="2026-11-23T02:00:00Z", cost_usd=0.25
    )
    intent.save(project, record)
    with Git(project) as repo:
        recover(project, repo, NOW, Printer(__import__("io").StringIO(), live=False))
    assert "Cost-USD: 0.2500" in git(project, "log", "-1", "--format=%B")


@needs_bwrap
def test_a_sandbox_inside_the_sandbox_works_so_codex_can_run_its_own(project):
    """Codex starts its own bubblewrap sandbox; it must be able to inside the executor's."""
    executor = sandbox.for_executor(contained(project, "auto"), command="codex exec -")
    inner = (
        "bwrap --die-with-parent --unshare-pid --unshare-net --ro-bind / / --dev /dev --proc /proc "
        "-- true"
    )
    result = run_shell(inner + " && echo nested", project, 20, sandbox=executor)
    assert result.exit_code == 0 and result.output == "nested\n", result.output


# ------------------------------------------------------------------------- the executor

AGENT = """#!/bin/bash
cat > /dev/null
echo "procs $(ls /proc | grep -c '^[0-9]')"
echo "key ${ANTHROPIC_API_KEY:-none}"
echo x > .git/refs/heads/evil 2>/dev/null && echo "wrote git" || echo "git read-only"
echo "made by the agent" > agent.txt
echo "prompt $(test -r "$GENOME_PROMPT_FILE" && echo readable)"
"""


def run_agent(project: Path, tmp_path: Path, enabled: bool) -> str:
    from runner.executor import CommandExecutor

    program = tmp_path / "bin" / "agent"
    program.parent.mkdir(exist_ok=True)
    program.write_text(AGENT)
    program.chmod(0o755)
    box = sandbox.for_executor(contained(project, "auto"), enabled=enabled, command=str(program))
    executor = CommandExecutor(str(program), project, sandbox=box)
    executor.act("do it", "L-001", time.monotonic() + 30)
    return executor.last_run.stdout


@needs_bwrap
def test_the_executor_runs_sandboxed_with_its_key_and_the_project_writable(
    project, tmp_path, monkeypatch
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "executor-key")
    output = run_agent(project, tmp_path, enabled=True)
    assert (
        "key executor-key" in output and "git read-only" in output and "prompt readable" in output
    )
    assert int(output.split("procs ")[1].split()[0]) < 10  # its own PID namespace
    assert (project / "agent.txt").exists() and not (project / ".git/refs/heads/evil").exists()


def test_executor_sandbox_false_runs_it_outside(project, tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "executor-key")
    output = run_agent(project, tmp_path, enabled=False)
    assert "wrote git" in output and "key executor-key" in output


def test_executor_sandbox_false_is_read_from_the_config(project):
    set_config(
        project,
        "\nmodel:",
        "\nexecutor: {command: ./agent.sh, sandbox: false, paths: [~/.gemini]}\nmodel:",
    )
    from runner.state import read_project

    with Git(project) as repo:
        config = read_project(repo).config
    assert (config.executor, config.executor_sandbox, config.executor_paths) == (
        "./agent.sh",
        False,
        ("~/.gemini",),
    )


@pytest.mark.parametrize(
    "line, words",
    [
        ("sandbox: maybe", "`sandbox` must be one of auto, required, off"),
        ("sandbox: [auto]", "`sandbox` must be one of"),
        ("network: sometimes", "`network` must be true or false"),
        ("executor: {command: x, sandbox: no-thanks}", "`executor.sandbox` must be true or false"),
        ("executor: {command: x, paths: ~/.x}", "`executor.paths` must be a list"),
        ("executor: {command: x, bind: []}", "`executor` has unknown key(s) bind"),
    ],
)
def test_bad_sandbox_settings_are_refused_with_file_and_line(line, words):
    from genome.errors import GenomeFileError
    from genome.loop_prompt import LoopPromptDoc

    with pytest.raises(GenomeFileError) as error:
        LoopPromptDoc.parse(f"---\nmodel: m\n{line}\n---\nPrompt\n")
    assert "loop-prompt.md:3" in str(error.value) and words in str(error.value)


def test_sandbox_off_and_network_true_parse():
    from genome.loop_prompt import LoopPromptDoc

    config = LoopPromptDoc.parse("---\nsandbox: off\nnetwork: true\n---\nPrompt\n").config
    assert (config.sandbox, config.network) == ("off", True)
    assert LoopPromptDoc.parse("---\nmodel: m\n---\nPrompt\n").config.sandbox == "auto"
