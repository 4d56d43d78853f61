"""loop-prompt.md: the person's config (frontmatter), the orchestrator prompt (body) and the
append-only ``## Lessons`` list at its end."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import yaml

from genome.errors import GenomeFileError
from genome.regression import Rules
from genome.text import key_line, load_yaml_mapping, parse_duration, split_frontmatter

FILE = "loop-prompt.md"
LESSONS_HEADING = "## Lessons"
# "- [v003 2026-11-23] text", or with the lever it came from: "- [v003 2026-11-23 L-004] text"
_LESSON = re.compile(r"^- \[(v\d{3,}) (\d{4}-\d{2}-\d{2})(?: (L-\d+))?\] (.*\S)\s*$")
_LESSONS_HEADING = re.compile(r"^## +Lessons[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True)
class Gate:
    name: str
    run: str
    timeout: int = 600
    metric: str = ""  # a regular expression with one group: the number in the output
    better: str = ""  # "higher" or "lower" (with a metric)
    min_delta: float = 0.0  # how much better the number must get, absolute ...
    min_delta_percent: bool = False  # ... or as a percentage of the start tree's value
    repeat: int = 1  # runs; the median counts, the spread is the noise
    must: str = "improve"  # "improve", or "hold": only never get worse
    prove: bool = False  # the new tests must fail on the start tree's code
    allow_no_start: bool = False  # `must: improve` may ship when the start tree gave no number

    @property
    def min_delta_text(self) -> str:
        return f"{self.min_delta:g}%" if self.min_delta_percent else f"{self.min_delta:g}"


@dataclass(frozen=True)
class Budget:
    tick_usd: float | None = 1.0
    day_usd: float | None = 10.0
    week_usd: float | None = None
    tick_turns: int = 40
    tick_tokens: int | None = None
    tick_minutes: int = 30


@dataclass(frozen=True)
class Price:
    """USD per million tokens, and what cache writes (5-minute) and cache reads cost as a share of
    ``input`` (None: the built-in table's factors for that model). ``long_input``/``long_output``
    apply instead to a request with more than ``long_above`` input tokens, when a model prices
    long prompts apart."""

    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None
    long_above: int | None = None
    long_input: float | None = None
    long_output: float | None = None


@dataclass(frozen=True)
class Config:
    model: str = "claude-sonnet-5-5"
    max_tokens: int = 32000  # thinking and the answer share it; replies are streamed
    effort: str = ""  # sent as output_config.effort when set
    gates: tuple[Gate, ...] = ()
    protected: tuple[str, ...] = ()
    grow_only: tuple[str, ...] = ()  # globs where files may be added but never changed or deleted
    cadence: str = "30m"
    repair_rounds: int = 1
    max_attempts: int = 3
    command_timeout: int = 600
    budget: Budget = field(default_factory=Budget)
    lessons_tokens: int = 600
    notify: str = ""
    author: str = ""
    prices: dict[str, Price] = field(default_factory=dict)
    push: bool = False
    secrets_allow: tuple[str, ...] = ()
    executor: str = ""  # a command that replaces the built-in model session (act and reflect)
    executor_sandbox: bool = True  # `executor: {sandbox: false}` runs it outside the sandbox
    executor_paths: tuple[
        str, ...
    ] = ()  # `executor: {paths: [...]}`: more folders bound in, writable
    sandbox: str = "auto"  # auto | required | off: how commands the model can start are contained
    network: bool = False  # whether sandboxed commands may reach the network
    regression: Rules = field(default_factory=Rules)
    pause_after: int = 5  # failed or unreachable ticks in a row before the loop pauses; 0: never
    deliver: str = "commit"  # where a tick's commits land: commit | branch | pr
    setup: tuple[
        str, ...
    ] = ()  # commands that prepare the gate worktree (dependencies, a virtualenv)
    setup_when: tuple[
        str, ...
    ] = ()  # globs of the files setup depends on; setup runs again when they change

    @property
    def cadence_seconds(self) -> int:
        return parse_duration(self.cadence)


@dataclass(frozen=True)
class Lesson:
    version: str
    date: str
    text: str
    lever: str = ""  # the lever whose tick taught it; empty for older and seeded lessons

    def render(self) -> str:
        source = f" {self.lever}" if self.lever else ""
        return f"- [{self.version} {self.date}{source}] {self.text}"

    @classmethod
    def from_line(cls, line: str) -> Lesson | None:
        """The lesson a ``- [v003 2026-11-23] text`` (or ``- [v003 2026-11-23 L-004] text``) line
        holds; None for any other line."""
        match = _LESSON.match(line)
        if not match:
            return None
        version, date, lever, text = match.groups()
        return cls(version, date, text, lever or "")


@dataclass(frozen=True)
class LoopPromptDoc:
    head: str
    config: Config
    body: str

    @classmethod
    def parse(cls, text: str, file: str = FILE) -> LoopPromptDoc:
        head, yaml_text, body = split_frontmatter(file, text)
        config = parse_config(file, yaml_text)
        return cls(head=head, config=config, body=body)

    def render(self) -> str:
        return self.head + self.body

    @property
    def prompt(self) -> str:
        """The orchestrator prompt: the body without the lessons section."""
        match = _LESSONS_HEADING.search(self.body)
        return (self.body[: match.start()] if match else self.body).strip() + "\n"

    @property
    def lessons(self) -> list[Lesson]:
        """The lesson lines of the ``## Lessons`` section (up to the next ``## `` heading)."""
        lines = _lines(self.body)
        start, end = _lessons_section(lines)
        if start is None:
            return []
        return [lesson for lesson in map(Lesson.from_line, lines[start + 1 : end]) if lesson]

    def without_lesson(self, text: str) -> LoopPromptDoc:
        """The lessons list without the lesson whose text is ``text`` (ignoring case and spacing);
        every other byte of the file stays as it was. Unknown text: unchanged."""
        lines = _lines(self.body)
        start, end = _lessons_section(lines)
        if start is None:
            return self
        for i in range(start + 1, end):
            lesson = Lesson.from_line(lines[i])
            if lesson and _normal(lesson.text) == _normal(text):
                del lines[i]
                return LoopPromptDoc(self.head, self.config, "".join(lines))
        return self

    def with_lesson(self, lesson: Lesson) -> LoopPromptDoc:
        """Append one lesson line at the end of the lessons list (the section is created if
        missing).

        A lesson whose text is already in the list (ignoring case and spacing) is not added twice.
        """
        text = " ".join(lesson.text.split())
        if not text or _normal(text) in {_normal(known.text) for known in self.lessons}:
            return self
        line = Lesson(lesson.version, lesson.date, text, lesson.lever).render()
        newline = "\r\n" if "\r\n" in self.render() else "\n"
        body = self.body
        if not _LESSONS_HEADING.search(body):
            body = body.rstrip("\r\n")
            if body:
                body += newline * 2
            elif not self.head.endswith(("\n", "\r")):
                body = newline
            return LoopPromptDoc(
                self.head, self.config, f"{body}{LESSONS_HEADING}{newline}{newline}{line}{newline}"
            )
        # insert after the last item of the lessons list, keeping whatever trails it
        lines = _lines(body)
        start, end = _lessons_section(lines)
        assert start is not None  # the heading was found in body above
        items = [i for i in range(start + 1, end) if _LIST_ITEM.match(lines[i])]
        if items:
            last = items[-1]
            while last + 1 < end and _CONTINUATION.match(lines[last + 1]):
                last += 1
            new_lines = [line + newline]
        else:  # the list starts after a blank line under the heading or its intro text
            last = max(i for i in range(start, end) if lines[i].strip())
            if last + 1 < end and not lines[last + 1].strip():
                last += 1
                new_lines = [line + newline]
            else:
                new_lines = [newline, line + newline]
        if not lines[last].endswith("\n"):
            lines[last] += newline
        lines[last + 1 : last + 1] = new_lines
        return LoopPromptDoc(self.head, self.config, "".join(lines))


_LIST_ITEM = re.compile(r"^[-*] ")
_CONTINUATION = re.compile(r"^[ \t]+\S")


def _lines(text: str) -> list[str]:
    """Lines split at line feeds (kept), as the ``^`` and ``$`` of the heading pattern see them."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def _lessons_section(lines: list[str]) -> tuple[int | None, int]:
    """Index of the ``## Lessons`` line and of the line that ends its section."""
    start = next((i for i, line in enumerate(lines) if _LESSONS_HEADING.match(line)), None)
    if start is None:
        return None, len(lines)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return start, end


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


# ---------------------------------------------------------------- config validation

_TOP_KEYS = {f for f in Config.__dataclass_fields__} - {"executor_sandbox", "executor_paths"}
EFFORTS = ("low", "medium", "high", "xhigh", "max")
SANDBOX_MODES = ("auto", "required", "off")
_BUDGET_KEYS = {f for f in Budget.__dataclass_fields__}


def parse_config(file: str, yaml_text: str) -> Config:
    raw = load_yaml_mapping(file, yaml_text)

    def fail(key: str, problem: str, fix: str) -> GenomeFileError:
        return GenomeFileError(file, key_line(yaml_text, key.split(".")[0]), problem, fix)

    for key in raw:
        if key not in _TOP_KEYS:
            raise fail(
                str(key),
                f"unknown setting `{key}`",
                f"Remove it or use one of: {', '.join(sorted(_TOP_KEYS))}",
            )
    values: dict = {}
    for key in ("model", "cadence", "notify", "author"):
        if key in raw:
            values[key] = _string(raw[key], key, fail, allow_empty=key in ("notify", "author"))
    for key, low in (
        ("max_tokens", 1),
        ("repair_rounds", 0),
        ("max_attempts", 1),
        ("command_timeout", 1),
        ("lessons_tokens", 0),
        ("pause_after", 0),
    ):
        if key in raw:
            values[key] = _whole(raw[key], key, low, fail)
    if "cadence" in values:
        try:
            parse_duration(values["cadence"])
        except ValueError:
            raise fail(
                "cadence",
                f"`cadence` {values['cadence']!r} is not a duration",
                "Write it like `30m`, `2h` or `1d`",
            ) from None
    if "gates" in raw:
        values["gates"] = _gates(raw["gates"], fail, _item_line_finder(yaml_text, file))
    if "deliver" in raw:
        if raw["deliver"] not in ("commit", "branch", "pr"):
            raise fail(
                "deliver",
                f"`deliver` must be commit, branch or pr, not {raw['deliver']!r}",
                "Write `deliver: commit` (the default), `deliver: branch` or `deliver: pr`",
            )
        values["deliver"] = raw["deliver"]
    if "setup" in raw:
        value = raw["setup"]
        if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
            raise fail(
                "setup",
                "`setup` must be a list of shell commands",
                'Write it like `setup: ["python3 -m venv .venv", ".venv/bin/pip install -e ."]`',
            )
        values["setup"] = tuple(value)
    for key in ("protected", "secrets_allow", "grow_only", "setup_when"):
        if key not in raw:
            continue
        value = raw[key]
        if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
            raise fail(
                key,
                f"`{key}` must be a list of path globs",
                f'Write it like `{key}: ["tests/**", "Makefile"]`',
            )
        values[key] = tuple(value)
    proving = [g.name for g in values.get("gates", ()) if g.prove]
    if proving and not values.get("grow_only"):
        raise fail(
            "gates",
            f"gate `{proving[0]}` has `prove: true` but there are no `grow_only:` globs "
            "to say where the tests are",
            'Add `grow_only: ["tests/**"]` (new tests may be added there, old ones never changed)',
        )
    for key in ("push", "network"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise fail(
                    key,
                    f"`{key}` must be true or false, not {raw[key]!r}",
                    f"Write `{key}: true` or `{key}: false`",
                )
            values[key] = raw[key]
    if "sandbox" in raw:
        if raw["sandbox"] is False:
            raw["sandbox"] = "off"  # YAML 1.1 reads a bare `off` as false
        if not isinstance(raw["sandbox"], str) or raw["sandbox"] not in SANDBOX_MODES:
            raise fail(
                "sandbox",
                f"`sandbox` must be one of {', '.join(SANDBOX_MODES)}, not {raw['sandbox']!r}",
                "Write `sandbox: auto` (the default), `sandbox: required` or, inside a container "
                "that already isolates the tick, `sandbox: off`",
            )
        values["sandbox"] = raw["sandbox"]
    if "budget" in raw:
        values["budget"] = _budget(raw["budget"], fail)
    if "executor" in raw:
        values.update(_executor(raw["executor"], fail))
    if "regression" in raw:
        values["regression"] = _regression(raw["regression"], fail)
    if "prices" in raw:
        values["prices"] = _prices(raw["prices"], fail)
    if "effort" in raw:
        if raw["effort"] not in EFFORTS:
            raise fail(
                "effort",
                f"`effort` must be one of {', '.join(EFFORTS)}, not {raw['effort']!r}",
                "Write it like `effort: medium`, or leave it out for the model's default",
            )
        values["effort"] = raw["effort"]
    return Config(**values)


def _executor(executor, fail) -> dict:
    example = 'Write it like `executor: {command: "claude -p --output-format json"}`'
    if (
        not isinstance(executor, dict)
        or not isinstance(executor.get("command"), str)
        or not executor["command"].strip()
    ):
        raise fail("executor", "`executor` needs `command`, a shell command line", example)
    unknown = set(executor) - {"command", "sandbox", "paths"}
    if unknown:
        raise fail(
            "executor",
            f"`executor` has unknown key(s) {', '.join(sorted(map(str, unknown)))}",
            "It takes `command`, and optionally `sandbox: false` and `paths: [...]`",
        )
    values = {"executor": executor["command"]}
    if "sandbox" in executor:
        if not isinstance(executor["sandbox"], bool):
            raise fail(
                "executor",
                f"`executor.sandbox` must be true or false, not {executor['sandbox']!r}",
                "Write `executor: {command: ..., sandbox: false}` to run it outside the sandbox",
            )
        values["executor_sandbox"] = executor["sandbox"]
    if "paths" in executor:
        paths = executor["paths"]
        if not isinstance(paths, list) or not all(isinstance(p, str) and p.strip() for p in paths):
            raise fail(
                "executor",
                "`executor.paths` must be a list of folders or files",
                'Write it like `paths: ["~/.gemini"]` (relative paths are under your home)',
            )
        values["executor_paths"] = tuple(paths)
    return values


def _string(value, key, fail, *, allow_empty=False) -> str:
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise fail(
            key, f"`{key}` must be a text value, not {value!r}", f'Write it like `{key}: "..."`'
        )
    return value


def _whole(value, key, low, fail) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise fail(
            key,
            f"`{key}` must be a whole number of at least {low}, not {value!r}",
            f"Write it like `{_leaf(key)}: {max(low, 1)}`",
        )
    return value


def _number(value, key, fail) -> float:
    # NaN compares false with everything, so a NaN budget would never be reached
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or math.isnan(value)
        or value < 0
    ):
        raise fail(
            key,
            f"`{key}` must be a number of at least 0, not {value!r}",
            f"Write it like `{_leaf(key)}: 1.5`",
        )
    return float(value)


def _leaf(key: str) -> str:
    """``budget.tick_usd`` → ``tick_usd``: what the person writes on that line."""
    return key.rsplit(".", 1)[-1]


GATE_KEYS = (
    "name",
    "run",
    "timeout",
    "metric",
    "better",
    "min_delta",
    "repeat",
    "must",
    "prove",
    "allow_no_start",
)
_METRIC_KEYS = ("better", "min_delta", "repeat", "must", "allow_no_start")
MIN_REPEAT_FOR_NOISE = 3  # fewer runs give no spread worth the name
MAX_REPEAT = 100


def _gates(value, fail, item_line=None, *, sealed: bool = False) -> tuple[Gate, ...]:
    example = (
        "Write gates as a list: `gates:` then lines `  - name: tests` and `    run: pytest -q`"
    )
    if not isinstance(value, list):
        raise fail("gates", "`gates` must be a list of {name, run} items", example)
    gates, names = [], set()
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise fail("gates", f"gate {i} must be a mapping with `name` and `run`", example)
        unknown = set(item) - set(GATE_KEYS)
        if unknown:
            raise fail(
                "gates",
                f"gate {i} has unknown key(s) {', '.join(sorted(map(str, unknown)))}",
                f"A gate takes only {', '.join(f'`{k}`' for k in GATE_KEYS)}",
            )
        run = item.get("run")
        if isinstance(run, (bool, int, float)):
            # YAML reads `run: true` (or yes, on, 1) as a boolean or a number, never as a command
            kind = "a boolean" if isinstance(run, bool) else "a number"
            raise fail(
                "gates",
                f"gate {i} `run` is {kind} ({run!r}) to YAML, not a command",
                'Quote the command so YAML keeps it as text, e.g. `run: "true"`',
            )
        if not isinstance(run, str) or not run.strip():
            raise fail(
                "gates", f"gate {i} has no `run` command", "Add `run: <shell command>` to it"
            )
        name = item.get("name", f"gate-{i}")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise fail(
                "gates",
                f"gate {i} name {name!r} must be one word of letters, digits, `-`, `_` or `.`",
                "Name it like `tests` or `build-docs`",
            )
        if name in names:
            raise fail("gates", f"two gates are named `{name}`", "Give each gate its own name")
        names.add(name)
        timeout = item.get("timeout", 600)
        gate = Gate(name=name, run=run, timeout=_whole(timeout, "gates.timeout", 1, fail))
        gates.append(_gate_extras(gate, item, i, fail, item_line, sealed))
    return tuple(gates)


def _gate_extras(gate: Gate, item: dict, i: int, fail, item_line, sealed: bool) -> Gate:
    """The metric and proving keys of one gate, each error on the line of the key at fault."""

    def bad(key: str, problem: str, fix: str) -> GenomeFileError:
        error = fail("gates", f"gate {i} (`{gate.name}`): {problem}", fix)
        line = item_line(i - 1, key) if item_line else None
        return GenomeFileError(error.file, line or error.line, error.problem, error.fix)

    values: dict = {}
    if sealed:
        for key in ("metric", "prove"):
            if key in item:
                raise bad(
                    key,
                    f"`{key}` is not available on a sealed gate",
                    "A sealed gate passes or fails; keep metric and proving gates in "
                    "loop-prompt.md",
                )
    if "metric" in item:
        metric = item["metric"]
        try:
            groups = re.compile(metric).groups if isinstance(metric, str) and metric.strip() else -1
        except re.error as exc:
            raise bad(
                "metric",
                f"`metric` {metric!r} is not a regular expression ({exc})",
                "Write it like `metric: 'score: ([0-9.]+)'`, quoted",
            ) from None
        if groups != 1:
            raise bad(
                "metric",
                f"`metric` must be a regular expression with exactly one group, not {metric!r}",
                "Put the number in one pair of parentheses, like `metric: 'took ([0-9.]+)s'`; "
                "use `(?:...)` for any other grouping",
            )
        values["metric"] = metric
        better = item.get("better")
        if better not in ("higher", "lower"):
            raise bad(
                "better" if "better" in item else "metric",
                f"a metric needs `better: higher` or `better: lower`, not {better!r}",
                "Say which way is better: `better: lower` for a time or size, `higher` for a score",
            )
        values["better"] = better
    else:
        extra = [key for key in _METRIC_KEYS if key in item]
        if extra:
            raise bad(
                extra[0],
                f"`{extra[0]}` only applies to a gate with a `metric`",
                "Add `metric: '<regex with one group>'` and `better:`, or delete the line",
            )
    if "min_delta" in item:
        values["min_delta"], values["min_delta_percent"] = _min_delta(item["min_delta"], bad)
    if "repeat" in item:
        repeat = item["repeat"]
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
            raise bad(
                "repeat",
                f"`repeat` must be a whole number from 1 to {MAX_REPEAT}, not {repeat!r}",
                "Write it like `repeat: 5` (the median of the runs counts)",
            )
        values["repeat"] = repeat
    if "must" in item:
        if item["must"] not in ("improve", "hold"):
            raise bad(
                "must",
                f"`must` must be `improve` or `hold`, not {item['must']!r}",
                "`must: hold` only forbids getting worse; `improve` (the default) needs a gain",
            )
        values["must"] = item["must"]
    if "prove" in item:
        if not isinstance(item["prove"], bool):
            raise bad(
                "prove",
                f"`prove` must be true or false, not {item['prove']!r}",
                "Write `prove: true`",
            )
        values["prove"] = item["prove"]
    if "allow_no_start" in item:
        if not isinstance(item["allow_no_start"], bool):
            raise bad(
                "allow_no_start",
                f"`allow_no_start` must be true or false, not {item['allow_no_start']!r}",
                "Write `allow_no_start: true`",
            )
        values["allow_no_start"] = item["allow_no_start"]
    improving = "metric" in values and values.get("must", "improve") == "improve"
    if improving and "min_delta" not in item and values.get("repeat", 1) < MIN_REPEAT_FOR_NOISE:
        # one run has no spread: any change, however small, would count as a gain
        raise bad(
            "metric",
            f"a `must: improve` metric needs `repeat: {MIN_REPEAT_FOR_NOISE}` or "
            "more (the spread of the runs is the noise) or a `min_delta`",
            "Add `repeat: 5`, or `min_delta: 2%`; write `min_delta: 0` only for a number "
            "that never varies between runs (a count, a size)",
        )
    return replace(gate, **values)


def _min_delta(value, bad) -> tuple[float, bool]:
    fix = (
        "Write it as a number in the metric's unit (`min_delta: 0.5`) "
        "or a percentage (`min_delta: 2%`)"
    )
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = float(value.strip()[:-1])
        except ValueError:
            raise bad("min_delta", f"`min_delta` {value!r} is not a percentage", fix) from None
        percent = True
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number, percent = float(value), False
    else:
        raise bad("min_delta", f"`min_delta` must be a number or a percentage, not {value!r}", fix)
    if math.isnan(number) or math.isinf(number) or number < 0:
        raise bad("min_delta", f"`min_delta` must be 0 or more, not {value!r}", fix)
    return number, percent


def _item_line_finder(yaml_text: str, file: str, first_line: int = 2):
    """``(gate index, key) -> line`` in the whole file, for errors about one key of one gate."""

    def find(index: int, key: str) -> int | None:
        try:
            root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return None
        gates = _mapping_value(root, "gates")
        if not isinstance(gates, yaml.SequenceNode) or index >= len(gates.value):
            return None
        item = gates.value[index]
        node = (
            _mapping_value(item, key, want_key=True) if isinstance(item, yaml.MappingNode) else None
        )
        return first_line + (node or item).start_mark.line

    return find


def _mapping_value(node, key: str, want_key: bool = False):
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k if want_key else v
    return None


def parse_sealed(file: str, text: str) -> tuple[Gate, ...]:
    """A sealed gates file: YAML with one key, ``gates:``, in the form loop-prompt.md uses."""
    raw = load_yaml_mapping(file, text, first_line=1)

    def fail(key: str, problem: str, fix: str) -> GenomeFileError:
        return GenomeFileError(file, key_line(text, key.split(".")[0], first_line=1), problem, fix)

    unknown = sorted(str(key) for key in raw if key != "gates")
    if unknown:
        raise fail(
            unknown[0],
            f"unknown setting `{unknown[0]}` in a sealed gates file",
            "A sealed gates file holds only `gates:`, a list like the one in loop-prompt.md",
        )
    return _gates(
        raw.get("gates", []), fail, _item_line_finder(text, file, first_line=1), sealed=True
    )


def _budget(value, fail) -> Budget:
    if not isinstance(value, dict):
        raise fail(
            "budget",
            "`budget` must be a mapping",
            "Write it like `budget: {tick_usd: 1.0, day_usd: 10}`",
        )
    unknown = set(value) - _BUDGET_KEYS
    if unknown:
        raise fail(
            "budget",
            f"unknown budget key(s) {', '.join(sorted(map(str, unknown)))}",
            f"Use only: {', '.join(sorted(_BUDGET_KEYS))}",
        )
    values: dict = {}
    for key in ("tick_usd", "day_usd", "week_usd"):
        if key in value:
            values[key] = None if value[key] is None else _number(value[key], f"budget.{key}", fail)
    for key in ("tick_turns", "tick_minutes"):
        if key in value:
            values[key] = _whole(value[key], f"budget.{key}", 1, fail)
    if "tick_tokens" in value:
        values["tick_tokens"] = (
            None
            if value["tick_tokens"] is None
            else _whole(value["tick_tokens"], "budget.tick_tokens", 1, fail)
        )
    return Budget(**values)


def _regression(value, fail) -> Rules:
    keys = set(Rules.__dataclass_fields__)
    if not isinstance(value, dict) or not set(value) <= keys:
        raise fail(
            "regression",
            "`regression` takes `consecutive_failures`, `window` and `drop`",
            "Write it like `regression: {consecutive_failures: 3, window: 5, drop: 20}`",
        )
    return Rules(**{key: _whole(value[key], f"regression.{key}", 1, fail) for key in value})


def _prices(value, fail) -> dict[str, Price]:
    example = (
        "Write it like `prices: {claude-sonnet: {input: 3.0, output: 15.0}}` (USD per "
        "million tokens; optional `cache_read` and `cache_write`, shares of input, "
        "e.g. 0.1 and 1.25)"
    )
    if not isinstance(value, dict):
        raise fail(
            "prices", "`prices` must be a mapping of model-name prefix to {input, output}", example
        )
    prices = {}
    for prefix, entry in value.items():
        allowed = {"input", "output", "cache_read", "cache_write"}
        if not isinstance(entry, dict) or not {"input", "output"} <= set(entry) <= allowed:
            raise fail(
                "prices",
                f"price for `{prefix}` needs `input` and `output` (and optionally "
                "`cache_read`, `cache_write`)",
                example,
            )
        factors = {
            key: _number(entry[key], f"prices.{key}", fail)
            for key in ("cache_read", "cache_write")
            if key in entry
        }
        prices[str(prefix)] = Price(
            _number(entry["input"], "prices.input", fail),
            _number(entry["output"], "prices.output", fail),
            cache_write=factors.get("cache_write"),
            cache_read=factors.get("cache_read"),
        )
    return prices


_WORD = re.compile(r"[a-z0-9]{4,}")


def select_lessons(lessons: list[Lesson], query: str, token_budget: int) -> list[Lesson]:
    """The lessons that go into a prompt: those sharing words with ``query`` first (most shared,
    then newest), then the newest others, while they fit in ``token_budget`` (about 4
    characters a token).

    The file keeps every lesson; the prompt stays the same size however long the list grows.
    Returned in file order, so the prompt reads like the file.
    """
    words = set(_WORD.findall(query.lower()))
    ranked = sorted(
        range(len(lessons)),
        key=lambda i: (-len(words & set(_WORD.findall(lessons[i].text.lower()))), -i),
    )
    chosen, used = set(), 0
    for i in ranked:
        cost = len(lessons[i].render()) // 4 + 1
        if used + cost > token_budget:
            continue
        chosen.add(i)
        used += cost
    return [lessons[i] for i in sorted(chosen)]
