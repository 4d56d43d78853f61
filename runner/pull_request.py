"""`deliver: pr`: the waiting branch pushed and one draft pull request opened or updated with `gh`.

The body is the review of the ticks on the branch: for each record commit, its lever and outcome,
and for each code commit, its subject and gates, all read from the commits' trailers (text the
runner wrote), never from the model's own words.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile

from git.exc import GitCommandError

from runner.deliver import waiting_ref
from runner.gitops import Git, git_error_text
from runner.proc import scrubbed_env


class PullRequestError(Exception):
    """The branch could not be pushed or the pull request not opened; the commits stay on the
    branch."""


def body(git: Git, branch: str, tip: str) -> str:
    """Markdown: one line per tick on ``genome/<branch>`` that is not yet on ``branch``."""
    fmt = (
        "%H%x1f%s%x1f%(trailers:key=Lever,valueonly)%x1f%(trailers:key=Outcome,valueonly)%x1f"
        "%(trailers:key=Gates,valueonly)%x1f%(trailers:key=Cost-USD,valueonly)%x1e"
    )
    out = git.run_git("log", "--reverse", f"--format={fmt}", f"refs/heads/{branch}..{tip}")
    lines = [
        f"Ticks of genome runner waiting to land on `{branch}`. Land them with `genome land` "
        "(the gates run again), or merge this pull request.",
        "",
    ]
    for row in out.split("\x1e"):
        parts = [p.strip() for p in row.strip().split("\x1f")]
        if len(parts) < 6:
            continue
        sha, subject, lever, outcome, gates, cost = parts
        if outcome:
            lines.append(f"- {lever or 'idle'}: **{outcome}** ({sha[:12]}, ${cost or '0'})")
        else:
            lines.append(f"  - {sha[:12]} {subject}" + (f" · gates: {gates}" if gates else ""))
    return "\n".join(lines) + "\n"


def open_or_update(git: Git, branch: str, tip: str) -> str:
    """Push ``genome/<branch>`` and open (or update) its draft pull request; the PR's address."""
    gh = shutil.which("gh")
    if gh is None:
        raise PullRequestError(
            "`deliver: pr` needs the GitHub CLI `gh` on PATH (https://cli.github.com), "
            "logged in with `gh auth login`"
        )
    head = f"genome/{branch}"
    env = scrubbed_env()
    login = subprocess.run(
        [gh, "auth", "status"], cwd=git.root, capture_output=True, text=True, env=env
    )
    if login.returncode != 0:
        raise PullRequestError(
            "`gh` is not logged in: run `gh auth login` "
            f"({(login.stderr or login.stdout).strip()[:200]})"
        )
    try:
        remote = git.upstream(branch)[0]
    except Exception:
        remote = "origin"
    try:
        git.run_git(
            "push",
            "--porcelain",
            "--force-with-lease",
            remote,
            f"{waiting_ref(branch)}:refs/heads/{head}",
        )
    except GitCommandError as error:
        raise PullRequestError(
            f"could not push {head} to {remote}: {git_error_text(error)}"
        ) from None
    text = body(git, branch, tip)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".md") as body_file:
        body_file.write(text)
        body_file.flush()
        found = subprocess.run(
            [gh, "pr", "view", head, "--json", "url,state"],
            cwd=git.root,
            capture_output=True,
            text=True,
            env=env,
        )
        state = {}
        if found.returncode == 0:
            try:
                state = json.loads(found.stdout)
            except ValueError:
                state = {}
        if state.get("state") == "OPEN":
            done = subprocess.run(
                [gh, "pr", "edit", head, "--body-file", body_file.name],
                cwd=git.root,
                capture_output=True,
                text=True,
                env=env,
            )
            url = state.get("url", "")
        else:
            done = subprocess.run(
                [
                    gh,
                    "pr",
                    "create",
                    "--draft",
                    "--base",
                    branch,
                    "--head",
                    head,
                    "--title",
                    f"genome runner: work waiting for {branch}",
                    "--body-file",
                    body_file.name,
                ],
                cwd=git.root,
                capture_output=True,
                text=True,
                env=env,
            )
            url = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0:
        raise PullRequestError(
            f"`gh` could not open or update the pull request: "
            f"{(done.stderr or done.stdout).strip()[:300]}"
        )
    return url
