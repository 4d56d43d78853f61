"""Text handling shared by the three files: decoding, the frontmatter split, YAML with line numbers.

python-frontmatter's dumps() re-sorts keys, drops comments and strips the body, so the runner owns
the split itself and edits text in place; YAML is only ever read, never re-emitted.
"""

from __future__ import annotations

import re

import yaml

from genome.errors import GenomeFileError

MAX_FILE_BYTES = 5 * 1024 * 1024
_BOUNDARY = re.compile(r"^---[ \t]*\r?$")


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` without control characters (NUL, C0 but tab and newline, DEL, C1) or lone
    surrogates: text a model wrote, made safe to put in a file the parsers read back."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


def decode(file: str, data: bytes) -> str:
    """Bytes of a genome file to text, refusing what no person meant as markdown."""
    if len(data) > MAX_FILE_BYTES:
        raise GenomeFileError(
            file,
            None,
            f"file is {-(-len(data) // 2**20)} MB, over the {MAX_FILE_BYTES // 2**20} MB limit",
            "Move finished levers or old lessons to an archive file; the loop only needs the live "
            "ones",
        )
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise GenomeFileError(
            file,
            line,
            "file contains a NUL byte, so it is binary, not markdown",
            "Restore the file from git (`git checkout -- FILE`) or rewrite it as text",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GenomeFileError(
            file,
            line,
            "file is not valid UTF-8",
            "Save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def split_frontmatter(file: str, text: str) -> tuple[str, str, str]:
    """``(head, yaml_text, body)`` where ``head + body == text``.

    ``head`` is the frontmatter block including both ``---`` lines and its final newline.
    """
    lines = text.splitlines(keepends=True)
    if not lines or not _BOUNDARY.match(lines[0]):
        raise GenomeFileError(
            file,
            1,
            "the file must start with a `---` frontmatter line",
            "Put the YAML settings between two `---` lines at the very top",
        )
    for i in range(1, len(lines)):
        if _BOUNDARY.match(lines[i]):
            head = "".join(lines[: i + 1])
            return head, "".join(lines[1:i]), text[len(head) :]
    raise GenomeFileError(
        file,
        1,
        "the frontmatter opened by `---` on line 1 is never closed",
        "Add a line `---` after the last setting",
    )


def load_yaml_mapping(file: str, yaml_text: str, first_line: int = 2) -> dict:
    """Parse frontmatter YAML into a dict; errors name the line in the whole file."""
    try:
        root = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
        _refuse_repeated_keys(file, root, first_line)
        data = None if root is None else yaml.SafeLoader("").construct_document(root)
    except GenomeFileError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark else first_line
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise GenomeFileError(
            file,
            line,
            f"the frontmatter is not valid YAML ({problem})",
            "Check indentation and quoting on that line; values with `:` or `#` need quotes",
        ) from None
    except yaml.reader.ReaderError as exc:
        line = first_line + _line_index(yaml_text, exc.position)
        raise GenomeFileError(
            file,
            line,
            f"the frontmatter holds the control character "
            f"U+{ord(yaml_text[exc.position]):04X}, which YAML does not allow",
            "Delete that character",
        ) from None
    except RecursionError:
        raise GenomeFileError(
            file,
            first_line,
            "the frontmatter is nested too deeply to read",
            "Write settings as plain `key: value` lines",
        ) from None
    except Exception:  # noqa: BLE001 - PyYAML's constructors raise plain errors for values that only
        # look typed (the date 2026-02-30, `!!int abc`); they are the person's to fix, not a crash
        node = _unbuildable_scalar(yaml_text)
        if node is None:
            line, shown = first_line, "a value"
        else:
            line = first_line + node.start_mark.line
            shown = f"`{node.value}`" if len(node.value) <= 40 else f"`{node.value[:39]}…`"
        raise GenomeFileError(
            file,
            line,
            f"{shown} cannot be read: it looks like a date, number or tagged value "
            "YAML cannot build",
            'Correct it, or quote it to keep it as text (e.g. `key: "2026-02-30"`)',
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GenomeFileError(
            file,
            first_line,
            "the frontmatter must be a mapping of `key: value` lines",
            "Write settings as `key: value`, one per line",
        )
    return data


def _refuse_repeated_keys(file: str, root: yaml.Node | None, first_line: int) -> None:
    """YAML keeps the last of two equal keys without a word; a second `gates:` would silently drop
    the first.
    """
    if not isinstance(root, yaml.MappingNode):
        return
    seen: dict[tuple[str, str], int] = {}
    for key, _ in root.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = first_line + key.start_mark.line
        if (key.tag, key.value) in seen:
            raise GenomeFileError(
                file,
                line,
                f"`{key.value}` is set twice, on lines {seen[key.tag, key.value]} and {line}",
                "Keep one of them and delete the other",
            )
        seen[key.tag, key.value] = line


def _line_index(text: str, position: int) -> int:
    """0-based line of a character, counting line breaks as YAML does."""
    return len((text[:position] + "x").splitlines()) - 1


def _unbuildable_scalar(yaml_text: str) -> yaml.ScalarNode | None:
    """The first scalar the safe loader cannot turn into a value, for the error's line."""
    pending, seen = [yaml.compose(yaml_text, Loader=yaml.SafeLoader)], set()
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except Exception:  # noqa: BLE001 - the same failure the whole load hit
                return node
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            pending.extend(reversed([part for pair in node.value for part in pair]))
    return None


def key_line(yaml_text: str, key: str, first_line: int = 2) -> int:
    """Best-effort line of a top-level ``key:`` in the frontmatter, for error messages."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    for i, line in enumerate(yaml_text.splitlines()):
        if pattern.match(line):
            return first_line + i
    return first_line


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """``"30m"`` → 1800. Units s, m, h, d; a whole number before the unit. ValueError otherwise."""
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 30m, 2h or 1d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
