"""A secret in one part of a tick's words leaves out that part only: the genome rewrite, the other
lessons' neighbours and the proposed levers are kept."""

from __future__ import annotations

from genome.genome_file import GenomeDoc
from genome.levers import LeverDoc
from runner.scripted import ScriptedModel, text_reply, tool_reply
from runner.tick import run_tick
from tests.test_trust import NOW, everything_in_git, fake_secret


def tick_with(project, reflection, account="Wrote greeting.txt."):
    return run_tick(
        project,
        now=NOW,
        make_model=lambda config: ScriptedModel(
            [
                tool_reply("write_file", {"path": "greeting.txt", "content": "hello\n"}),
                text_reply(account),
                tool_reply("reflect", reflection),
            ]
        ),
    )


def journal(project) -> str:
    return (project / "journal/2026/11/23.md").read_text()


def test_a_secret_in_the_lesson_drops_the_lesson_and_keeps_the_rest(project):
    secret = fake_secret("github")
    result = tick_with(
        project,
        {
            "lesson": f"The deploy token is {secret}",
            "genome": {"What's proven": "greeting.txt says hello; its check runs every tick."},
            "levers": [{"title": "Add a README", "check": ["test -s README.md"]}],
        },
    )
    assert result.outcome == "shipped" and secret not in everything_in_git(project)
    genome = GenomeDoc.parse((project / "genome.md").read_text())
    assert genome.version == 2 and "greeting.txt says hello" in genome.sections()["What's proven"]
    assert "Add a README" in [
        lever.title for lever in LeverDoc.parse((project / "levers.md").read_text()).levers
    ]
    assert "The deploy token" not in (project / "loop-prompt.md").read_text()
    assert "(the tick's words dropped: the lesson; the rest kept)" in journal(project)
    assert "Wrote greeting.txt." in journal(project)  # the account had no secret: kept


def test_a_secret_in_one_proposal_drops_that_proposal_only(project):
    secret = fake_secret("aws")
    tick_with(
        project,
        {
            "lesson": "Check with grep -x.",
            "genome": None,
            "levers": [
                {"title": "Rotate the key", "check": [f"test $KEY = {secret}"]},
                {"title": "Add a README", "check": ["test -s README.md"]},
            ],
        },
        account=f"Done; used {secret} to test",
    )
    assert secret not in everything_in_git(project)
    titles = [lever.title for lever in LeverDoc.parse((project / "levers.md").read_text()).levers]
    assert "Add a README" in titles and "Rotate the key" not in titles
    assert "Check with grep -x." in (project / "loop-prompt.md").read_text()
    assert "(the tick's words dropped: a proposed lever; the rest kept)" in journal(project)
