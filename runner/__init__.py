"""The tick: composes genome/ with the model, git and the shell."""

import os


def _ignore_replace_refs(environ) -> None:
    """Every git the runner starts (its own subprocesses, GitPython's, the gates' and the settle
    commands') reads the objects as they are: a replace ref (``git replace``, which any command can
    make) would otherwise show it another history, another first commit or a forged record. The
    variable alone loses to ``core.useReplaceRefs`` in a config file, so the setting is also given
    the way ``git -c`` gives it, which no config file overrides."""
    environ["GIT_NO_REPLACE_OBJECTS"] = "1"
    count = environ.get("GIT_CONFIG_COUNT", "0")
    index = int(count) if count.isdigit() else 0
    if any(
        environ.get(f"GIT_CONFIG_KEY_{i}", "").lower() == "core.usereplacerefs"
        and environ.get(f"GIT_CONFIG_VALUE_{i}") == "false"
        for i in range(index)
    ):
        return
    environ[f"GIT_CONFIG_KEY_{index}"] = "core.useReplaceRefs"
    environ[f"GIT_CONFIG_VALUE_{index}"] = "false"
    environ["GIT_CONFIG_COUNT"] = str(index + 1)


# Set once, here, for the whole process, so no git call can be missed.
_ignore_replace_refs(os.environ)
