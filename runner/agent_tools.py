"""Tools a project writes for itself: executables in ``tools/`` that describe themselves.

An executable file directly in the project's ``tools/`` folder that says ``genome-tool`` near its
top (a comment will do; other scripts there are never run) and answers ``--describe`` by printing
one JSON object ``{"name", "description", "input_schema"}`` on stdout (and exiting 0)
becomes a tool of the act phase. A call runs it with the tool input as JSON on stdin, under the
rules of ``run_command``: from the project root, killed with its process group on timeout,
output bounded, and no API key in its environment.

Trust: the caller runs ``discover`` at the start of a tick, on the clean working tree the guard
demands, so the tools offered are exactly those committed at HEAD, which passed the gates that
let them in. A change the model makes under ``tools/`` during a tick is offered from the next
tick on, once gated and committed. A call runs the file as it is in the working tree at that
moment; that grants nothing beyond what ``run_command`` already allows.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import stat
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]

from runner.paths import PathRefused, resolve_in_project
from runner.proc import run_shell
from runner.sandbox import Sandbox

TOOLS_DIR = "tools"
MARKER = b"genome-tool"  # must appear in a tool's first MARKER_WITHIN bytes (a comment will do)
MARKER_WITHIN = 1024
DESCRIBE_OUTPUT_LIMIT = 64_000
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_STDERR_SHOWN = 300  # characters of a failed --describe's stderr quoted in the warning


@dataclass(frozen=True)
class AgentTool:
    name: str
    description: str
    input_schema: dict = field(hash=False)
    path: str  # posix, relative to the project root, e.g. "tools/count_lines"

    def spec(self) -> dict:
        """The tool definition for the Messages API, a fresh copy so callers may mark it up."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": copy.deepcopy(self.input_schema),
        }


class _NotATool(Exception):
    """Why a file in tools/ is not offered; the message completes "tools/x is not offered: ..."."""


def discover(
    root: Path,
    *,
    reserved: Collection[str],
    warn: Callable[[str], None],
    timeout: float = 10,
    sandbox: Sandbox | None = None,
) -> list[AgentTool]:
    """The project's own tools, sorted by file name; each file that fails is skipped with a warning.

    The caller guarantees the working tree is clean (equal to HEAD) when this runs; see the
    module docstring. ``reserved`` holds the built-in tool names, which a project tool may not take.
    """
    root = Path(os.path.realpath(root))
    folder = root / TOOLS_DIR
    if not folder.is_dir():
        return []
    try:
        resolve_in_project(root, TOOLS_DIR)
    except PathRefused:
        warn(f"{TOOLS_DIR}/ points outside the project; none of its files is offered as a tool")
        return []
    tools: list[AgentTool] = []
    owners: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda path: path.name):
        rel = f"{TOOLS_DIR}/{entry.name}"
        try:
            if not _is_executable_file(root, rel) or not _says_it_is_a_tool(entry):
                continue
            tool = _describe(root, rel, timeout, sandbox)
            if tool.name in reserved:
                raise _NotATool(
                    f"its name {tool.name!r} is a built-in tool's; give it another name"
                )
            if tool.name in owners:
                raise _NotATool(
                    f"its name {tool.name!r} is already taken by {owners[tool.name]}; "
                    "give it another name"
                )
        except _NotATool as why:
            warn(f"{rel} is not offered as a tool: {why}")
            continue
        owners[tool.name] = rel
        tools.append(tool)
    return tools


def _says_it_is_a_tool(path: Path) -> bool:
    """Only files that say so near their top are ever run with --describe: a project's tools/ may
    hold deploy or reset scripts that must not run on every tick."""
    try:
        with open(path, "rb") as handle:
            return MARKER in handle.read(MARKER_WITHIN)
    except OSError:
        return False


def call(
    root: Path,
    tool: AgentTool,
    tool_input: object,
    *,
    timeout: float,
    output_limit: int = 16_000,
    sandbox: Sandbox | None = None,
) -> tuple[str, bool]:
    """Run ``tool`` with ``tool_input`` as JSON on stdin: (result text, is_error).

    The text starts with the exit code, as ``run_command``'s does; a non-zero exit is an error.
    """
    root = Path(os.path.realpath(root))
    try:
        if not _is_executable_file(root, tool.path):
            return (
                f"{tool.path} is no longer an executable file in the working tree; "
                f"restore it or stop using the {tool.name} tool",
                True,
            )
    except _NotATool as why:
        return f"{tool.path} cannot be run: {why}", True
    # stdin from a file the runner opens (the sandbox's /tmp is its own): the input may be far
    # larger than a command line may be.
    with tempfile.TemporaryFile(prefix="genome-tool-") as input_file:
        input_file.write(json.dumps(tool_input).encode("utf-8"))
        input_file.seek(0)
        command = shlex.quote(str(root / tool.path))
        result = run_shell(
            command, root, timeout, limit=output_limit, sandbox=sandbox, stdin=input_file
        )
    if result.timed_out:
        status = (
            f"exit code {result.exit_code}: timed out after {timeout:g} s; the tool and "
            "its child processes were killed"
        )
    else:
        status = f"exit code {result.exit_code}"
    return f"{status}\n{result.output or '(no output)'}", result.exit_code != 0


# --- discovery --------------------------------------------------------------------------------


def _is_executable_file(root: Path, rel: str) -> bool:
    """Whether ``rel`` is a regular file with an executable bit, following links inside the project.

    Folders and plain files (a README, a helper module) are simply not tools; a link out of the
    project, or a script that says ``#!`` but lacks its executable bit, is a mistake worth saying.
    """
    try:
        real, _ = resolve_in_project(root, rel)
    except PathRefused:
        raise _NotATool("it is a link pointing outside the project") from None
    if not real.is_file():
        return False
    if real.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
        return True
    with real.open("rb") as handle:
        if handle.read(2) == b"#!":
            raise _NotATool(
                f"it starts with #! but is not executable; run `chmod +x {rel}` and commit it"
            )
    return False


def _describe(root: Path, rel: str, timeout: float, sandbox: Sandbox | None) -> AgentTool:
    # stderr to a file apart, so a warning printed there does not spoil the JSON on stdout; the
    # runner opens it, so it needs no path the sandbox can see.
    with tempfile.TemporaryFile(prefix="genome-tool-") as errors:
        command = f"{shlex.quote(str(root / rel))} --describe"
        # Room for twice the limit, so that nothing within it is ever cut.
        result = run_shell(
            command, root, timeout, limit=2 * DESCRIBE_OUTPUT_LIMIT, sandbox=sandbox, stderr=errors
        )
        errors.seek(0)
        stderr = errors.read(DESCRIBE_OUTPUT_LIMIT).decode("utf-8", errors="replace").strip()
    if result.timed_out:
        raise _NotATool(f"`{rel} --describe` did not finish within {timeout:g} s")
    if result.exit_code != 0:
        said = f": {_tail(stderr or result.output)}" if (stderr or result.output).strip() else ""
        raise _NotATool(f"`{rel} --describe` exited with code {result.exit_code}{said}")
    if result.total_bytes > DESCRIBE_OUTPUT_LIMIT:
        raise _NotATool(f"`{rel} --describe` printed more than {DESCRIBE_OUTPUT_LIMIT:,} bytes")
    return AgentTool(*_parse_description(rel, result.output), path=rel)


def _parse_description(rel: str, output: str) -> tuple[str, str, dict]:
    try:
        data = json.loads(output)
    except json.JSONDecodeError as error:
        raise _NotATool(
            f"`{rel} --describe` did not print JSON ({error.msg}, line {error.lineno}); "
            "it must print only a JSON object with name, description and "
            "input_schema"
        ) from None
    if not isinstance(data, dict):
        raise _NotATool(
            f"`{rel} --describe` printed a JSON {type(data).__name__}, not an object with "
            "name, description and input_schema"
        )
    missing = [key for key in ("name", "description", "input_schema") if key not in data]
    if missing:
        raise _NotATool(f"its description lacks {', '.join(missing)}")
    name, description, schema = data["name"], data["description"], data["input_schema"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _NotATool(f"its name {name!r} is not 1 to 64 letters, digits, _ or -")
    if not isinstance(description, str) or not description.strip():
        raise _NotATool(
            "its description is empty or not a string; say what the tool does and when to use it"
        )
    _check_schema(schema)
    return name, description, schema


def _check_schema(schema: object) -> None:
    """An object schema the Messages API accepts; a bad one would fail every model call of the tick.

    The schema is checked against the JSON Schema metaschema (draft 2020-12, the dialect the API
    uses), so a typo such as ``{"type": "strng"}`` is caught here and not by a 400 on every call."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise _NotATool(
            'its input_schema is not an object schema ({"type": "object", "properties": {...}})'
        )
    properties = schema.get("properties", {})
    if not isinstance(properties, dict) or not all(
        isinstance(value, dict) for value in properties.values()
    ):
        raise _NotATool(
            "its input_schema's properties must map each parameter name to a schema object"
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "the top"
        raise _NotATool(
            f"its input_schema is not a valid JSON Schema (at {where}: {_tail(error.message)})"
        ) from None
    unknown = [key for key in schema.get("required", []) if key not in properties]
    if unknown:
        raise _NotATool(
            f"its input_schema requires {', '.join(unknown)}, which properties does not define"
        )


def _tail(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _STDERR_SHOWN else "..." + text[-_STDERR_SHOWN:]
