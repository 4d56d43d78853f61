"""Exit codes and the few named exceptions that carry a tick's control flow.

Each exception maps to one documented exit code, so the CLI needs no other branching.
"""

from __future__ import annotations

from genome.records import ExitCode

# The codes are defined once, with the outcomes that map to them, in genome.records
SHIPPED = ExitCode.SHIPPED
LEVER_FAILED = ExitCode.LEVER_FAILED
INVALID = ExitCode.INVALID
REFUSED = ExitCode.REFUSED
BUDGET = ExitCode.BUDGET
UNAVAILABLE = ExitCode.UNAVAILABLE
ENVIRONMENT = ExitCode.ENVIRONMENT

EXIT_CODES_HELP = """\b
Exit codes:
  0  shipped, idle, or nothing due
  1  the tick ran and its lever failed (rolled back)
  2  usage error or invalid project files
  3  refused: another tick running, detached HEAD, no commit yet, lost a push race, no sandbox
     where `sandbox: required`
  4  budget spent
  5  model/API unavailable after retries, or no credentials
  6  environment: a gate red or not runnable before any change, or setup failed
"""


class TickStop(Exception):
    """Base: stops the tick with an exit code and a message for the person."""

    exit_code = LEVER_FAILED

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class Refused(TickStop):
    """The tick will not start: nothing was touched."""

    exit_code = REFUSED


class BudgetSpent(TickStop):
    """A money, token, turn or time budget is spent (or would be by the next call)."""

    exit_code = BUDGET


class ModelUnavailable(TickStop):
    """The model cannot be reached or refused our credentials/request; not the lever's fault."""

    exit_code = UNAVAILABLE


class EnvironmentBroken(TickStop):
    """The gates cannot pass on the start tree (or ``setup:`` failed): a person is needed, and no
    model is called, nothing is spent and the lever is not blamed."""

    exit_code = ENVIRONMENT

    def __init__(self, message: str, *, what: str = "", output: str = ""):
        super().__init__(message)
        self.what = what  # the gate's name, or "setup"
        self.output = output


class UsageError(TickStop):
    exit_code = INVALID
