"""The act-phase tools: what the model may do to the project, each call checked and bounded.

Every path goes through ``runner.paths``; every refusal or bad input comes back as an error
result the model can act on. ``ToolBox.call`` never raises for anything the model sends.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genome.errors import GenomeFileError
from runner.agent_tools import AgentTool
from runner.agent_tools import call as call_project_tool
from runner.paths import PathRefused, match_glob, protected_by, resolve_in_project
from runner.proc import run_shell, scrubbed_env
from runner.sandbox import Sandbox

READ_MAX_LINES = 2000
READ_MAX_BYTES = 256 * 1024
COMMAND_TIMEOUT_DEFAULT = 120
SEARCH_MAX_RESULTS = 200
SEARCH_MAX_FILE_BYTES = 1024 * 1024
SEARCH_LINE_CHARS = 300
_BINARY_SNIFF_BYTES = 8192
_SKIPPED_DIRS = (".git", ".genome")  # never listed, searched or read


@dataclass
class ToolResult:
    content: str
    is_error: bool = False


class _BadInput(Exception):
    """Input the model sent that a tool cannot use; the message goes back as an error result."""


# A parameter: (JSON type, required, description). Dict order is the order in the schema.
_Param = tuple[str, bool, str]


@dataclass(frozen=True)
class _Tool:
    description: str
    params: dict[str, _Param]
    run: Callable[[dict[str, Any]], ToolResult]


SEARCH_SECONDS = 20


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Python's regex engine checks for signals, so an alarm stops a pattern that backtracks without
    end. Only the main thread can take signals; elsewhere the search runs unbounded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


BUILTIN_TOOLS = (
    "read_file",
    "write_file",
    "edit_file",
    "run_command",
    "search_files",
    "search_content",
    "load_skill",
)


class ToolBox:
    def __init__(
        self,
        root: Path,
        protected: Sequence[str] = (),
        *,
        command_timeout_max: int = 600,
        load_skill: Callable[[str], str] | None = None,
        output_limit: int = 16_000,
        project_tools: Sequence[AgentTool] = (),
        is_ignored: Callable[[str], bool] | None = None,
        deadline: float | None = None,
        grow_only: Sequence[str] = (),
        is_committed: Callable[[str], bool] | None = None,
        submodules: Sequence[str] = (),
        sandbox: Sandbox | None = None,
    ):
        self.root = Path(os.path.realpath(root))
        self.submodules = tuple(
            s.strip("/") for s in submodules
        )  # paths the tools never write under
        self.grow_only = tuple(grow_only)  # committed files here may not change
        self._is_committed = is_committed
        self.sandbox = sandbox  # where commands and project tools run (runner.sandbox)
        self.deadline = deadline  # time.monotonic() when the tick's wall clock runs out
        self._is_ignored = is_ignored
        # tools the project wrote for itself (tools/), committed and described at the start of the
        # tick
        self.project_tools = {tool.name: tool for tool in project_tools}
        self.protected = tuple(protected)
        self.command_timeout_max = command_timeout_max
        self.output_limit = output_limit
        self.touched: set[str] = set()
        self._load_skill = load_skill
        self._tools = {
            "read_file": _Tool(
                self._read_file_doc(),
                {
                    "path": ("string", True, "File path relative to the project root."),
                    "offset": ("integer", False, "First line to show, 1-based (default 1)."),
                    "limit": (
                        "integer",
                        False,
                        f"How many lines to show (default and most {READ_MAX_LINES}).",
                    ),
                },
                self._read_file,
            ),
            "write_file": _Tool(
                self._write_file_doc(),
                {
                    "path": ("string", True, "File path relative to the project root."),
                    "content": ("string", True, "The complete new content of the file."),
                },
                self._write_file,
            ),
            "edit_file": _Tool(
                self._edit_file_doc(),
                {
                    "path": ("string", True, "File path relative to the project root."),
                    "old_text": (
                        "string",
                        True,
                        "Exact text to replace; must occur exactly once in the file.",
                    ),
                    "new_text": ("string", True, "Text to put in its place."),
                },
                self._edit_file,
            ),
            "run_command": _Tool(
                self._run_command_doc(),
                {
                    "command": ("string", True, "A bash command line, run from the project root."),
                    "timeout": (
                        "integer",
                        False,
                        f"Seconds before the command is killed (default {COMMAND_TIMEOUT_DEFAULT}, "
                        f"most {command_timeout_max}).",
                    ),
                },
                self._run_command,
            ),
            "search_files": _Tool(
                self._search_files_doc(),
                {
                    "pattern": ("string", True, "Glob such as 'src/**/*.py', '*.md' or 'tests/'."),
                },
                self._search_files,
            ),
            "search_content": _Tool(
                self._search_content_doc(),
                {
                    "pattern": (
                        "string",
                        True,
                        "Python regular expression, matched against each line.",
                    ),
                    "path": (
                        "string",
                        False,
                        "File or folder to search, relative to the project root "
                        "(default: the whole project).",
                    ),
                },
                self._search_content,
            ),
            "load_skill": _Tool(
                "Load the full instructions of a skill by name (the skills available are listed in "
                "the "
                "system prompt). Read a skill before doing the kind of work it describes.",
                {"name": ("string", True, "The skill's name, exactly as listed.")},
                self._load_skill_tool,
            ),
        }

    def specs(self) -> list[dict]:
        """Tool definitions for the Messages API in a fixed order, built afresh so callers may mark
        them up.
        """
        return [
            {
                "name": name,
                "description": tool.description,
                "input_schema": {
                    "type": "object",
                    "properties": {
                        key: {"type": kind, "description": text}
                        for key, (kind, _, text) in tool.params.items()
                    },
                    "required": [key for key, (_, required, _) in tool.params.items() if required],
                    "additionalProperties": False,
                },
            }
            for name, tool in self._tools.items()
        ] + [tool.spec() for tool in self.project_tools.values()]

    def call(self, name: str, tool_input: object) -> ToolResult:
        """Run one tool call; refusals, bad input and failures all come back as ``is_error``
        results.
        """
        if isinstance(name, str) and name in self.project_tools:
            content, is_error = call_project_tool(
                self.root,
                self.project_tools[name],
                tool_input,
                timeout=self.command_timeout_max,
                output_limit=self.output_limit,
                sandbox=self.sandbox,
            )
            return ToolResult(content, is_error)
        tool = self._tools.get(name) if isinstance(name, str) else None
        if tool is None:
            names = [*self._tools, *self.project_tools]
            return ToolResult(f"unknown tool {name!r}; the tools are: {', '.join(names)}", True)
        try:
            return tool.run(_checked_input(name, tool.params, tool_input))
        except (_BadInput, PathRefused) as refusal:
            return ToolResult(str(refusal), True)
        except OSError as error:
            return ToolResult(f"{name} failed: {self._describe(error)}", True)
        except Exception as error:  # the model's input must never crash the tick
            return ToolResult(f"{name} failed: {type(error).__name__}: {error}", True)

    # --- descriptions -------------------------------------------------------------------------

    def _protected_text(self) -> str:
        extra = (
            f", and the project's protected paths: {', '.join(self.protected)}"
            if self.protected
            else ""
        )
        return (
            "Protected, refused: genome.md, levers.md, loop-prompt.md, .genome/ and .git/"
            f"{extra}. Paths are relative to the project root; absolute paths and paths leading "
            "outside the project (.., symlinks) are refused."
        )

    def _read_file_doc(self) -> str:
        return (
            "Read a text file, shown with line numbers like `cat -n`. At most "
            f"{READ_MAX_LINES} lines or {READ_MAX_BYTES // 1024} KB per call; use offset and limit "
            "to "
            "read on. Binary files and files under .git/ or .genome/ are refused. Paths are "
            "relative "
            "to the project root."
        )

    def _write_file_doc(self) -> str:
        return (
            "Create a file or replace its whole content; missing parent folders are created. "
            "Prefer edit_file for changes to an existing file. " + self._protected_text()
        )

    def _edit_file_doc(self) -> str:
        return (
            "Replace one exact occurrence of old_text with new_text in a file. old_text must match "
            "the file exactly, whitespace and indentation included, and occur exactly once: "
            "include "
            "enough surrounding lines to make it unique. Do not include the line numbers read_file "
            "shows. " + self._protected_text()
        )

    def _run_command_doc(self) -> str:
        return (
            "Run a bash command from the project root (stdin is empty; nothing interactive). The "
            "result starts with the exit code, then stdout and stderr together; long output keeps "
            f"its beginning and end, about {self.output_limit:,} characters in all. The command "
            "and "
            "anything it started in the background are killed when it ends or times out. Do not "
            "use it to change protected files: the runner checks the diff and fails the tick."
            + self._sandbox_text()
        )

    def _sandbox_text(self) -> str:
        if self.sandbox is None or not self.sandbox.enabled:
            return ""
        network = (
            "The network is on."
            if self.sandbox.network
            else "There is no network: downloads and connections fail at once (network: false)."
        )
        return (
            " It runs in a sandbox: the project is writable, git's files and everything outside "
            "the "
            f"project are read-only, /tmp is private and HOME is a folder kept between ticks. "
            f"{network}"
        )

    def _search_files_doc(self) -> str:
        return (
            "List files whose project-relative path matches a glob: `**` spans folders, `*` and "
            "`?` "
            "stay within one name, a pattern without `/` matches at any depth (`*.py`), and a "
            "folder "
            f"name lists everything under it. Sorted, at most {SEARCH_MAX_RESULTS} results."
        )

    def _search_content_doc(self) -> str:
        return (
            "Search file contents for a Python regular expression, line by line. Answers "
            f"`path:line: text` lines, each cut at {SEARCH_LINE_CHARS} characters, at most "
            f"{SEARCH_MAX_RESULTS} matches. Binary files and files over "
            f"{SEARCH_MAX_FILE_BYTES // (1024 * 1024)} MB are skipped, and so are .git/ and "
            ".genome/."
        )

    # --- tools --------------------------------------------------------------------------------

    def _read_file(self, args: dict[str, Any]) -> ToolResult:
        path, rel = self._readable(args["path"])
        if path.is_dir():
            return ToolResult(
                f"{rel} is a folder; list it with search_files pattern '{rel}/'", True
            )
        if not path.is_file():
            return ToolResult(f"{rel} does not exist; find files with search_files", True)
        offset = args.get("offset", 1)
        limit = args.get("limit", READ_MAX_LINES)
        if offset < 1 or limit < 1:
            return ToolResult("offset and limit must be 1 or more", True)
        if _is_binary(path):
            return ToolResult(
                f"{rel} is a binary file ({path.stat().st_size:,} bytes); it cannot be shown", True
            )
        return _numbered_lines(path, rel, offset, min(limit, READ_MAX_LINES))

    def _write_file(self, args: dict[str, Any]) -> ToolResult:
        path, rel = self._writable(args["path"])
        if path.is_dir():
            return ToolResult(f"{rel} is a folder; give a file path", True)
        existed = path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = args["content"].encode("utf-8")
        _replace_file(path, data)
        self.touched.add(rel)
        lines = args["content"].count("\n") + (
            0 if args["content"].endswith("\n") or not data else 1
        )
        return ToolResult(
            f"{'replaced' if existed else 'created'} {rel} ({len(data):,} bytes, {lines} lines)"
        )

    def _edit_file(self, args: dict[str, Any]) -> ToolResult:
        path, rel = self._writable(args["path"])
        old_text, new_text = args["old_text"], args["new_text"]
        if not path.is_file():
            return ToolResult(f"{rel} does not exist; create it with write_file", True)
        if not old_text:
            return ToolResult(
                "old_text is empty; give the exact text to replace (write_file creates files)", True
            )
        if old_text == new_text:
            return ToolResult("old_text and new_text are the same; nothing to change", True)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            return ToolResult(f"{rel} is not UTF-8 text; edit_file cannot change it", True)
        if "\r\n" in text and "\r\n" not in old_text and "\n" in old_text:
            # read_file shows lines without their endings: the model writes "\n" for a CRLF file's
            # breaks
            old_text, new_text = _crlf(old_text), _crlf(new_text)
        count = text.count(old_text)
        if count == 0:
            return ToolResult(
                f"old_text was not found in {rel}. It must match exactly, whitespace, "
                "indentation and line endings included; read the file again and copy "
                "the text without the line numbers",
                True,
            )
        if count > 1:
            return ToolResult(
                f"old_text occurs {count} times in {rel}; include more surrounding lines "
                "so that it matches exactly once",
                True,
            )
        line = text[: text.index(old_text)].count("\n") + 1
        _replace_file(path, text.replace(old_text, new_text, 1).encode("utf-8"))
        self.touched.add(rel)
        return ToolResult(f"edited {rel} at line {line}")

    def _run_command(self, args: dict[str, Any]) -> ToolResult:
        command = args["command"]
        if not command.strip():
            return ToolResult("command is empty", True)
        timeout = args.get("timeout", COMMAND_TIMEOUT_DEFAULT)
        if timeout < 1:
            return ToolResult("timeout must be 1 second or more", True)
        note = ""
        if timeout > self.command_timeout_max:
            note = f" (timeout capped at {self.command_timeout_max} s)"
            timeout = self.command_timeout_max
        if self.deadline is not None and timeout > self.deadline - time.monotonic():
            timeout = max(1, int(self.deadline - time.monotonic()))
            note = f" (timeout cut to {timeout} s: the tick's time is nearly up)"
        result = run_shell(
            command, self.root, timeout, limit=self.output_limit, sandbox=self.sandbox
        )
        if result.timed_out:
            status = (
                f"exit code {result.exit_code}: timed out after {timeout} s; the command and "
                "its child processes were killed"
            )
        else:
            status = f"exit code {result.exit_code}"
        output = result.output if result.output else "(no output)"
        return ToolResult(f"{status}{note}\n{output}", result.exit_code != 0)

    def _search_files(self, args: dict[str, Any]) -> ToolResult:
        pattern = args["pattern"].strip()
        if not pattern:
            return ToolResult("pattern is empty; try '**/*.py' or 'src/'", True)
        matches = sorted(rel for _, rel in self._walk(self.root) if match_glob(pattern, rel))
        if not matches:
            return ToolResult(f"no files match {pattern!r}")
        return ToolResult(_bounded_list(matches, "files"))

    def _search_content(self, args: dict[str, Any]) -> ToolResult:
        try:
            regex = re.compile(args["pattern"])
        except re.error as error:
            return ToolResult(f"invalid regular expression {args['pattern']!r}: {error}", True)
        start, start_rel = self._readable(args.get("path", "."))
        if start.is_file():
            files: Iterator[tuple[Path, str]] = iter([(start, start_rel)])
        elif start.is_dir():
            files = self._walk(start)
        else:
            return ToolResult(f"{start_rel} does not exist", True)
        hits = (hit for path, rel in files for hit in _grep(regex, path, rel))
        try:
            with _time_limit(SEARCH_SECONDS):
                listing = _bounded_list(hits, "matches")
        except TimeoutError:
            return ToolResult(
                f"the search took over {SEARCH_SECONDS} s and was stopped: the pattern backtracks "
                "badly or the tree is huge; use a simpler pattern or a narrower path",
                True,
            )
        return ToolResult(listing or f"no lines match {args['pattern']!r}")

    def _load_skill_tool(self, args: dict[str, Any]) -> ToolResult:
        if self._load_skill is None:
            return ToolResult("no skills available", True)
        try:
            return ToolResult(self._load_skill(args["name"]))
        except KeyError as error:
            message = error.args[0] if error.args else f"no skill named {args['name']!r}"
            return ToolResult(str(message), True)
        except (
            GenomeFileError,
            OSError,
        ) as error:  # the skill file changed or vanished since discovery
            return ToolResult(f"skill {args['name']!r} could not be loaded: {error}", True)

    def _describe(self, error: OSError) -> str:
        """The OS error with the file named relative to the project, as the model knows it."""
        if not error.filename:
            return error.strerror or str(error)
        name = os.fsdecode(error.filename)
        if os.path.isabs(name):
            name = os.path.relpath(name, self.root)
        return f"{error.strerror or error}: {name}"

    # --- path checks --------------------------------------------------------------------------

    def _readable(self, rel: str) -> tuple[Path, str]:
        path, real_rel = resolve_in_project(self.root, rel)
        if _in_skipped_dir(real_rel):
            raise PathRefused(
                f"{rel!r} is inside {real_rel.split('/')[0]}/, which the tools do not read"
            )
        return path, real_rel

    def _writable(self, rel: str) -> tuple[Path, str]:
        path, real_rel = resolve_in_project(self.root, rel)
        # Check the path as written and as resolved: a link to genome.md is genome.md.
        for candidate in dict.fromkeys((Path(os.path.normpath(rel)).as_posix(), real_rel)):
            pattern = protected_by(candidate, self.protected)
            if pattern is not None:
                raise PathRefused(
                    f"{candidate} is protected (matches {pattern!r}); the runner refuses "
                    "changes to it. Leave it as it is and change other files."
                )
        inside = next(
            (s for s in self.submodules if real_rel == s or real_rel.startswith(s + "/")), None
        )
        if inside is not None:
            raise PathRefused(
                f"{real_rel} is inside the submodule {inside}, another repository; the tools do "
                "not "
                "change submodules. Change this project's own files instead."
            )
        grown = next((p for p in self.grow_only if match_glob(p, real_rel)), None)
        if grown is not None and self._is_committed is not None and self._is_committed(real_rel):
            raise PathRefused(
                f"{real_rel} is committed under grow_only ({grown!r}): new files may be added "
                "there, existing ones never changed. Add a new file instead."
            )
        if self._is_ignored is not None and path.exists() and self._is_ignored(real_rel):
            raise PathRefused(
                f"{real_rel} is ignored by git, so a rollback could not bring it back; the "
                "tools do not change existing ignored files (they may be the person's, like .env)"
            )
        return path, real_rel

    def _walk(self, start: Path) -> Iterator[tuple[Path, str]]:
        """Files under ``start`` that resolve inside the project, as (real path, path as listed),
        leaving out what git ignores (a virtualenv or node_modules may be most of the files)."""
        listed_files: Iterable[str] | None = self._listed(start)
        if listed_files is None:
            listed_files = self._walked(start)
        for listed in listed_files:
            try:
                real, real_rel = resolve_in_project(self.root, listed)
            except PathRefused:
                continue
            if real.is_file() and not _in_skipped_dir(real_rel) and not _in_skipped_dir(listed):
                yield real, listed

    def _listed(self, start: Path) -> list[str] | None:
        """Tracked and untracked-but-not-ignored files under ``start``, from git; None outside a
        repository.
        """
        try:
            done = subprocess.run(
                [
                    "git",
                    "-C",
                    str(self.root),
                    "ls-files",
                    "-z",
                    "--cached",
                    "--others",
                    "--exclude-standard",
                    "--",
                    os.path.relpath(start, self.root),
                ],
                capture_output=True,
                env={**scrubbed_env(), "GIT_LITERAL_PATHSPECS": "1"},
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
        names = {os.fsdecode(name) for name in done.stdout.split(b"\0") if name}
        return sorted(names)

    def _walked(self, start: Path) -> Iterator[str]:
        for folder, dirs, names in os.walk(start):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
            for name in sorted(names):
                yield Path(os.path.relpath(os.path.join(folder, name), self.root)).as_posix()


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file renamed over ``path``: a new inode, so a hard link to a file
    outside the project keeps its content, and a reader never sees half a file. Mode bits stay."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".genome-tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _crlf(text: str) -> str:
    return re.sub(r"(?<!\r)\n", "\r\n", text)


def _checked_input(tool: str, params: dict[str, _Param], tool_input: object) -> dict[str, Any]:
    if not isinstance(tool_input, dict):
        raise _BadInput(
            f"{tool} takes an object of parameters ({', '.join(params)}), "
            f"not {type(tool_input).__name__}"
        )
    unknown = [key for key in tool_input if key not in params]
    if unknown:
        raise _BadInput(
            f"{tool} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters are: {', '.join(params)}"
        )
    checked: dict[str, Any] = {}
    for key, (kind, required, _) in params.items():
        if key not in tool_input or tool_input[key] is None:
            if required:
                raise _BadInput(f"{tool} needs the parameter {key!r} ({kind})")
            continue
        value = tool_input[key]
        if kind == "string" and isinstance(value, str):
            checked[key] = value
        elif kind == "integer" and _is_integral(value):
            checked[key] = int(value)
        else:
            raise _BadInput(
                f"{tool}: {key!r} must be {'a string' if kind == 'string' else 'an integer'}, "
                f"got {type(value).__name__} {value!r:.60}"
            )
    return checked


def _is_integral(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _in_skipped_dir(rel: str) -> bool:
    return rel.split("/")[0] in _SKIPPED_DIRS


def _is_binary(path: Path) -> bool:
    with path.open("rb") as handle:
        return b"\0" in handle.read(_BINARY_SNIFF_BYTES)


def _numbered_lines(path: Path, rel: str, offset: int, limit: int) -> ToolResult:
    shown: list[str] = []
    size = 0
    total = 0
    full = False
    with path.open("rb") as handle:
        for number, (raw, skipped) in enumerate(_capped_lines(handle, READ_MAX_BYTES), start=1):
            total = number
            if number < offset or full:
                continue
            if len(shown) >= limit or (shown and size + len(raw) > READ_MAX_BYTES):
                full = True
                continue
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if skipped:
                line += f" [... line cut: {skipped:,} more bytes]"
            shown.append(f"{number:6}\t{line}")
            size += len(raw)
    if total == 0:
        return ToolResult(f"{rel} is empty")
    if offset > total:
        return ToolResult(f"{rel} has {total} lines; offset {offset} is past the end", True)
    last = offset + len(shown) - 1
    text = "\n".join(shown)
    if last < total:
        text += (
            f"\n[lines {offset}-{last} of {total} shown; call read_file with offset={last + 1} "
            "to read on]"
        )
    return ToolResult(text)


def _capped_lines(handle, cap: int) -> Iterator[tuple[bytes, int]]:
    """Each line's first ``cap`` bytes and how many bytes of it were skipped, so one huge line
    stays bounded.
    """
    while raw := handle.readline(cap):
        skipped = 0
        if len(raw) == cap and not raw.endswith(b"\n"):
            while rest := handle.readline(cap):
                skipped += len(rest.rstrip(b"\r\n"))
                if rest.endswith(b"\n"):
                    break
        yield raw, skipped


def _grep(regex: re.Pattern[str], path: Path, rel: str) -> Iterator[str]:
    if path.stat().st_size > SEARCH_MAX_FILE_BYTES or _is_binary(path):
        return
    text = path.read_bytes().decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if regex.search(line):
            if len(line) > SEARCH_LINE_CHARS:
                line = line[:SEARCH_LINE_CHARS] + " [...]"
            yield f"{rel}:{number}: {line}"


def _bounded_list(items: Iterable[str], noun: str) -> str:
    """The first results, one a line, then how many more there were (counted, not kept)."""
    remaining = iter(items)
    shown = "\n".join(itertools.islice(remaining, SEARCH_MAX_RESULTS))
    more = sum(1 for _ in remaining)
    return f"{shown}\n... {more:,} more {noun}" if more else shown
