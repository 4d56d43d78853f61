"""The README's promises: its first lines, the test command CI runs, and the notify examples
(run for real against a webhook on loopback and a stand-in `mail`)."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from runner.notify import notify

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SUMMARY = {
    "lever": "L-004",
    "title": "Add retries",
    "outcome": "failed",
    "version": "v003",
    "gates": "tests FAILED",
    "tokens": 1200,
    "cost_usd": 0.01,
    "commit": "",
    "message": "failed: L-004 Add retries",
    "needs_person": True,
}


def notify_examples() -> list[str]:
    block = README.split("Ready to copy:\n\n```yaml\n", 1)[1].split("```", 1)[0]
    return [yaml.safe_load(part)["notify"] for part in block.split("\n\n")]


def test_the_first_lines_give_an_install_and_run_command_and_an_install_and_test_command():
    first = README.splitlines()[:6]
    commands = [line for line in first if line.startswith("python3 -m venv")]
    assert len(commands) == 2
    assert "genome demo" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = commands[1].split("#")[0].strip()
    assert test_command in ci


@pytest.mark.skipif(
    not (shutil.which("jq") and shutil.which("curl")), reason="the example needs jq and curl"
)
def test_the_slack_webhook_example_posts_the_message(tmp_path, monkeypatch):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.handle_request, daemon=True).start()
    monkeypatch.setenv("GENOME_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hook")
    warnings = []
    notify(notify_examples()[0], SUMMARY, tmp_path, warnings.append)
    server.server_close()
    assert warnings == [] and received == [{"text": ":warning: failed: L-004 Add retries"}]


@pytest.mark.skipif(not shutil.which("jq"), reason="the example needs jq")
def test_the_email_example_mails_only_when_a_person_is_needed(tmp_path, monkeypatch):
    bin_dir, outbox = tmp_path / "bin", tmp_path / "outbox"
    bin_dir.mkdir()
    (bin_dir / "mail").write_text(f'#!/bin/sh\n{{ echo "$@"; cat; }} >> {outbox}\n')
    (bin_dir / "mail").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    warnings = []
    notify(notify_examples()[1], {**SUMMARY, "needs_person": False}, tmp_path, warnings.append)
    assert not outbox.exists()
    notify(notify_examples()[1], SUMMARY, tmp_path, warnings.append)
    assert (
        outbox.read_text()
        == "-s genome: a tick needs you you@example.com\nfailed: L-004 Add retries\n"
    )
    assert warnings == []
