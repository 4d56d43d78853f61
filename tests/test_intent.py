"""The intent record (``.genome/intent.json``): what a tick in flight has done and spent, kept so a
killed tick can be undone and its spend recorded by the next one."""

from __future__ import annotations

import os

from runner import intent, local_state


def test_an_intent_reads_back_as_written_and_clears(tmp_path):
    assert intent.load(tmp_path) is None
    record = intent.Intent(
        base="a" * 40,
        branch="main",
        lever="L-001",
        started="2026-11-23T03:00:00Z",
        phase="gate",
        cost_usd=0.1234,
        tokens=999,
        touched={"x.txt": "abc", "gone": ""},
    )
    intent.save(tmp_path, record)
    assert intent.path_of(tmp_path) == tmp_path / local_state.STATE_DIR / local_state.INTENT
    assert intent.load(tmp_path) == record
    assert not (tmp_path / ".genome" / "intent.json.tmp").exists()  # written beside, then moved
    intent.clear(tmp_path)
    assert intent.load(tmp_path) is None
    intent.clear(tmp_path)  # clearing twice is fine


def test_a_damaged_intent_is_unreadable_not_trusted(tmp_path):
    local_state.state_dir(tmp_path)
    for text in ("{not json", '{"base": "x"}', '{"base": 1, "extra": 2}', "[]"):
        intent.path_of(tmp_path).write_text(text)
        assert intent.load(tmp_path).phase == "unreadable", text


def test_fingerprints_tell_files_links_and_deletions_apart(tmp_path):
    (tmp_path / "a.txt").write_text("one\n")
    os.symlink("a.txt", tmp_path / "link")
    prints = intent.fingerprint(tmp_path, ["a.txt", "link", "missing"])
    assert prints["a.txt"] == intent.text_print("one\n")
    assert prints["link"] == "link:a.txt" and prints["missing"] == ""
    (tmp_path / "a.txt").write_text("two\n")
    assert intent.fingerprint(tmp_path, ["a.txt"])["a.txt"] != prints["a.txt"]
