"""A plain (non-editable) `pip install .` into a fresh venv ships the templates and skills, and
`genome init` then works in an empty git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_wheel_installed_in_a_fresh_venv_can_init_and_validate_a_project(tmp_path):
    source = (
        tmp_path / "source"
    )  # a copy, so the build cannot lean on anything outside the tracked tree
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONPATH": ""}
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(source)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    shutil.rmtree(source)  # the installed package must stand on its own

    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    first = subprocess.run(
        [str(venv / "bin" / "genome"), "init"], cwd=project, env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    for name in ("genome.md", "levers.md", "loop-prompt.md"):
        assert (project / name).is_file()
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=project, capture_output=True, text=True
    ).stdout
    assert log == "genome: start the loop\n"
    second = subprocess.run(
        [str(venv / "bin" / "genome"), "init"], cwd=project, env=env, capture_output=True, text=True
    )
    assert second.returncode == 0 and "nothing to do" in second.stdout

    skills = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from runner.skills import SkillSet; from pathlib import Path; "
            "print(len(SkillSet.discover(Path('.')).names()))",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert skills.stdout.strip() == "7", skills.stderr

    (project / "genome.md").write_text("---\nversion: x\n---\n# Genome\n")
    subprocess.run(["git", "commit", "-qam", "broken"], cwd=project, check=True)
    broken = subprocess.run(
        [str(venv / "bin" / "genome-tick"), "--now"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert broken.returncode == 2 and "genome.md:2" in broken.stderr
    assert (
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True
        ).stdout
        == ""
    )
