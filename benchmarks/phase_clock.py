"""`genome-tick` with a clock on it: runs the real entry point in this process and writes, to the
file named by the first argument, the CLOCK_MONOTONIC time of every phase the tick announces, of
the imports, of connecting the model and of every model call. The parent compares those times with
its own (Linux's monotonic clock is shared by all processes), so the time to start the interpreter
and to exit it is counted too.

    python benchmarks/phase_clock.py marks.json --now
"""

from __future__ import annotations

import time

MARKS: list[tuple[str, float]] = [("python up", time.monotonic())]

import atexit  # noqa: E402  (the first mark is taken before anything else is imported)
import json  # noqa: E402
import sys  # noqa: E402


def mark(name: str) -> None:
    MARKS.append((name, time.monotonic()))


def write_marks(path: str) -> None:
    mark("exit")  # atexit runs first at shutdown: what follows is the interpreter tearing down
    with open(path, "w") as file:
        json.dump(MARKS, file)


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]
    atexit.register(write_marks, out)

    import runner.cli
    import runner.fast

    mark("imported cli")
    import runner.tick

    mark("imported tick")

    from runner.progress import Printer

    announce = Printer.phase

    def phase(self, name: str, detail: str = "") -> None:
        mark(f"phase {name}")
        announce(self, name, detail)

    Printer.phase = phase
    connect = runner.cli.model_from_env

    def model_from_env(config):
        mark("connect start")
        model = connect(config)
        mark("connect end")
        respond = model.respond

        def timed_respond(request):
            mark("call start")
            try:
                return respond(request)
            finally:
                mark("call end")

        model.respond = timed_respond
        return model

    runner.cli.model_from_env = model_from_env
    sys.argv = ["genome-tick", *args]
    runner.fast.main()


if __name__ == "__main__":
    main()
