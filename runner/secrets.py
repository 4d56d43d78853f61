"""The scan every commit passes: no credential goes into git through the runner.

Two layers. Provider tokens (Anthropic, OpenAI, AWS, GitHub, Slack, Google, private-key blocks)
have fixed shapes and are matched exactly. Everything else is caught by name and randomness: a
value assigned to something called ``*_KEY``, ``*_SECRET``, ``*_TOKEN`` or ``*_PASSWORD`` that
looks random (long, high Shannon entropy, not words, not a placeholder or an environment lookup).
``.env`` files are refused by name, whatever they hold.

A finding names the file, the line and the kind of secret, never the secret itself: findings end
up in logs, journals and prompts.
"""

from __future__ import annotations

import base64
import bisect
import functools
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.paths import match_glob

MAX_SCAN_BYTES = 2 * 1024 * 1024
_BINARY_SNIFF_BYTES = 8192
_GENERIC_MIN_LENGTH = 16
# A random string's entropy, as a share of the most its length and alphabet allow, is above 0.6
# but for a few in ten thousand short hex strings; repeated or patterned values fall below it.
_MIN_ENTROPY_RATIO = 0.6
_PRIVATE_KEY_BODY_LINES = 5


@dataclass(frozen=True)
class Finding:
    path: str  # posix, relative to the project root
    line: int  # 1-based
    kind: str  # what was found, e.g. "AWS access key id"; never the value

    def describe(self) -> str:
        return f"secret refused in {self.path}:{self.line} ({self.kind})"


def scan_paths(root: Path, paths: Iterable[str], allow: Sequence[str] = ()) -> list[Finding]:
    """Secrets in the current content of ``paths`` (posix, relative to ``root``).

    ``allow`` is the config's ``secrets_allow:`` list. Each entry exempts every file its path glob
    matches (``tests/fixtures/**``) and every line that contains it literally (a known test token).

    Deleted paths, symlinks (git stores only their target's name), binary files and files over
    2 MB are not scanned. That is safe enough: the runner commits what the model wrote through
    its tools and commands, and a credential gets into such a change as text, pasted into source
    or config. A multi-megabyte file is generated data, a lock file or a bundle, where scanning
    costs seconds and finds mostly noise; a binary file is not where a key is typed.
    """
    findings: list[Finding] = []
    for rel in dict.fromkeys(Path(p).as_posix() for p in paths):
        if any(match_glob(entry, rel) for entry in allow):
            continue
        path = root / rel
        if path.is_symlink() or not path.is_file():
            continue
        if is_env_file(rel):
            findings.append(Finding(rel, 1, ".env file"))
            continue
        text = _text_to_scan(path)
        if text is not None:
            findings.extend(_scan_text(rel, text, allow))
    return findings


def is_env_file(rel: str) -> bool:
    """``.env``, ``.env.local``, ``prod.env``: yes. ``.env.example``, ``.env.sample``,
    ``.env.template``: no."""
    name = rel.rsplit("/", 1)[-1]
    if not (name == ".env" or name.startswith(".env.") or name.endswith(".env")):
        return False
    return not any(part in ("example", "sample", "template") for part in name.split("."))


# --- reading ----------------------------------------------------------------------------------


def _text_to_scan(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_SCAN_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:_BINARY_SNIFF_BYTES]:
        return None
    return data.decode("utf-8", errors="replace")


def scan_new_text(rel: str, text: str, old: str = "", allow: Sequence[str] = ()) -> list[Finding]:
    """Secrets on the lines of ``text`` that ``old`` did not already have (a commit message, a file
    the runner is about to write)."""
    known = set(old.splitlines())
    lines = text.splitlines()
    return [
        f
        for f in _scan_text(rel, text, allow)
        if f.line > len(lines) or lines[f.line - 1] not in known
    ]


def _scan_text(rel: str, text: str, allow: Sequence[str]) -> Iterator[Finding]:
    lines = _Lines(text)
    exact = [*_token_hits(text), *_private_key_hits(text, lines)]
    # the runner's own key in some encoding, on a line no provider pattern already named
    named = {lines.number(offset) for offset, _ in exact}
    exact += [
        (offset, kind) for offset, kind in _held_key_hits(text) if lines.number(offset) not in named
    ]
    exact_lines = {lines.number(offset) for offset, _ in exact}
    # A provider token in an assignment is already named by its provider; say it once.
    generic = [
        (offset, kind)
        for offset, kind in _assignment_hits(text, lines)
        if lines.number(offset) not in exact_lines
    ]
    seen: set[tuple[int, str]] = set()
    for offset, kind in sorted(exact + generic, key=lambda hit: hit[0]):
        number = lines.number(offset)
        if (number, kind) in seen or any(entry in lines.text(number) for entry in allow):
            continue
        seen.add((number, kind))
        yield Finding(rel, number, kind)


class _Lines:
    """Line numbers of offsets in a text, counted by "\n" alone as git and editors count them."""

    def __init__(self, text: str):
        self._text = text
        self._starts = [0, *(match.end() for match in re.finditer("\n", text))]

    def number(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)

    def text(self, number: int) -> str:
        return self._text[self.start_of(number) : self.end_of(number)].rstrip("\r\n")

    def start_of(self, number: int) -> int:
        return self._starts[number - 1]

    def end_of(self, number: int) -> int:
        """The offset where line ``number`` ends (the text's end for lines past it)."""
        return self._starts[number] if number < len(self._starts) else len(self._text)


# --- the runner's own key --------------------------------------------------------------------

HELD_KEY_NAMES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
_MIN_HELD_KEY = 16  # shorter values (a local server's "x") would match everywhere


def held_key_forms(key: str) -> list[tuple[str, str]]:
    """(text, kind) for the ways a key could be written down to pass a scan that knows only its
    shape: as is, reversed, in base64 (any alignment, standard or URL-safe, and of the reversed
    key) and in hex. Only the middle of an encoding is used, since the bytes around the key change
    its edges."""
    raw = key.encode("utf-8")
    forms = [
        (key, "the runner's API key"),
        (key[::-1], "the runner's API key, reversed"),
        (raw.hex(), "the runner's API key, hex"),
        (raw.hex().upper(), "the runner's API key, hex"),
    ]
    for source, kind in ((raw, "base64"), (raw[::-1], "reversed, base64")):
        for pad in range(3):
            encoded = base64.b64encode(b"\0" * pad + source).decode("ascii")
            middle = encoded[4:-4]  # clear of the padding bytes and of the last partial group
            for text in (middle, middle.replace("+", "-").replace("/", "_")):
                forms.append((text, f"the runner's API key, {kind}"))
    return list(dict.fromkeys(form for form in forms if len(form[0]) >= _MIN_HELD_KEY))


def _held_key_hits(text: str) -> Iterator[tuple[int, str]]:
    for name in HELD_KEY_NAMES:
        key = os.environ.get(name, "").strip()
        if len(key) < _MIN_HELD_KEY:
            continue
        for form, kind in _forms_of(key):
            at = text.find(form)
            while at != -1:
                yield at, kind
                at = text.find(form, at + 1)


@functools.lru_cache(maxsize=4)
def _forms_of(key: str) -> tuple[tuple[str, str], ...]:
    return tuple(held_key_forms(key))


# --- provider tokens --------------------------------------------------------------------------

# Each starts with a literal, so the regex engine can jump to it; the check that no word
# character comes right before is done in code, as a lookbehind would cost that speed.
_TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Anthropic API key", re.compile(r"sk-ant-[A-Za-z0-9_-]{32,}")),
    ("OpenAI API key", re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{32,}")),
    ("OpenAI API key", re.compile(r"sk-[A-Za-z0-9]{32,}(?![\w-])")),
    ("AWS access key id", re.compile(r"A(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])")),
    ("GitHub token", re.compile(r"gh[pousr]_[A-Za-z0-9]{36,}")),
    ("GitHub token", re.compile(r"github_pat_[A-Za-z0-9_]{40,}")),
    ("Slack token", re.compile(r"xox[baprs]-[A-Za-z0-9-]{20,}")),
    (
        "Slack webhook URL",
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/]{20,}"),
    ),
    ("Google API key", re.compile(r"AIza[0-9A-Za-z_-]{35}(?![\w-])")),
)

# Exact case only: a documentation placeholder is written in one case, and requiring it keeps
# the chance that a real random key contains one of these words negligible.
_PLACEHOLDER_WORDS = (
    "xxxx",
    "XXXX",
    "your",
    "YOUR",
    "example",
    "EXAMPLE",
    "placeholder",
    "PLACEHOLDER",
    "redacted",
    "REDACTED",
    "dummy",
    "DUMMY",
    "fake",
    "FAKE",
    "0000000000",
)


def _token_hits(text: str) -> Iterator[tuple[int, str]]:
    for kind, regex in _TOKEN_PATTERNS:
        for match in regex.finditer(text):
            start = match.start()
            glued = start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-")
            if not glued and not _is_placeholder_token(match.group(0)):
                yield start, kind


def _is_placeholder_token(token: str) -> bool:
    return any(word in token for word in _PLACEHOLDER_WORDS) or _entropy_ratio(token) < 0.5


_PRIVATE_KEY_HEADER = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_KEY_BODY = re.compile(r"[A-Za-z0-9+/]{40,}")


def _private_key_hits(text: str, lines: _Lines) -> Iterator[tuple[int, str]]:
    """BEGIN lines with key material right after them; code that only names the header is no key."""
    for header in _PRIVATE_KEY_HEADER.finditer(text):
        body_end = lines.end_of(lines.number(header.start()) + _PRIVATE_KEY_BODY_LINES)
        if _KEY_BODY.search(text, header.end(), body_end):
            yield header.start(), "private key block"


# --- secrets by name and randomness -----------------------------------------------------------

# Within one line: [ \t] rather than \s, which would run on into the next line.
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_.\-])(?P<name>[A-Za-z_][A-Za-z0-9_.\-]{0,100})"
    r"""["'\]]*[ \t]*"""  # the end of a quoted or subscripted key
    r"(?::[ \t]*[A-Za-z_][\w.\[\], |]{0,60}?[ \t]*=(?!=)"  # annotated: api_key: str = "..."
    r"|:=|=>|:|(?<![=!<>])=(?!=))"  # not ==, !=, <=, >=
    r"[ \t]*"
    r"""(?:(?P<quote>["'`])(?P<quoted>[^"'`\s]+)(?P=quote)"""
    r"|(?P<bare>[A-Za-z0-9+/=_\-.~!@$%^&*]+)(?=[ \t]*(?:\r?$|[#;,])))",
    re.MULTILINE,
)
_SECRET_WORD = re.compile(r"key|secret|token|passw|pwd|passphrase|credential", re.IGNORECASE)
_NAME_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SECRET_WORDS = frozenset(
    {
        "secret",
        "token",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "apikey",
        "credential",
        "credentials",
    }
)
# Names that hold something about a secret rather than the secret: its name, id, hash, URL.
_NOT_SECRET_LAST_WORDS = frozenset(
    {
        "name",
        "names",
        "id",
        "ids",
        "type",
        "url",
        "uri",
        "path",
        "file",
        "env",
        "var",
        "field",
        "header",
        "count",
        "length",
        "prefix",
        "format",
        "pattern",
        "hash",
        "digest",
        "label",
    }
)
# Keys that are not credentials.
_NOT_SECRET_KEY_QUALIFIERS = frozenset(
    {
        "public",
        "primary",
        "foreign",
        "sort",
        "cache",
        "partition",
        "lookup",
        "idempotency",
        "dict",
        "map",
    }
)
_VALUE_PLACEHOLDERS = (
    "xxxx",
    "***",
    "...",
    "changeme",
    "change_me",
    "change-me",
    "your",
    "example",
    "placeholder",
    "redacted",
    "dummy",
    "fake",
    "sample",
    "not_a_real",
    "notreal",
    "${",
    "{{",
    "%(",
    "$(",
    "os.environ",
    "getenv",
    "process.env",
)
_SEPARATORS = re.compile(r"[_.\-/:]+")
_WORD_CHUNK = re.compile(r"(?:[a-z]+|[A-Z]+|(?:[A-Z]*[a-z]{2,})+[A-Z]*)\d{0,4}|\d{1,4}")
_CONSONANT_RUN = re.compile(r"[b-df-hj-np-tv-z]{6,}", re.IGNORECASE)
# $VAR, ${VAR}, {name} (format strings), <your-key>: a slot for a value, not a value.
_TEMPLATE_SLOT = re.compile(r"\$[A-Za-z_]\w*|\$?\{[^{}]*\}|<[^<>]*>")


def _assignment_hits(text: str, lines: _Lines) -> Iterator[tuple[int, str]]:
    # Only lines that mention a secret word can hold a secret by name; finding them first is fast.
    for number in dict.fromkeys(lines.number(hit.start()) for hit in _SECRET_WORD.finditer(text)):
        for match in _ASSIGNMENT.finditer(text, lines.start_of(number), lines.end_of(number)):
            kind = _assignment_kind(
                match.group("name"), match.group("quoted") or match.group("bare")
            )
            if kind is not None:
                yield match.start(), kind


def _assignment_kind(name: str, value: str) -> str | None:
    words = [word.lower() for word in _NAME_WORDS.findall(name)]
    if not words or not _is_secret_name(words) or not _looks_random(value):
        return None
    if len(value) == 40 and "secret" in words and ("aws" in words or "access" in words):
        return "AWS secret access key"
    return f"high-entropy value assigned to {name[-60:]}"


def _is_secret_name(words: list[str]) -> bool:
    if words[-1] in _NOT_SECRET_LAST_WORDS:
        return False
    if any(word in _SECRET_WORDS for word in words):
        return True
    return words[-1] == "key" and len(words) > 1 and words[-2] not in _NOT_SECRET_KEY_QUALIFIERS


def _looks_random(value: str) -> bool:
    if len(value) < _GENERIC_MIN_LENGTH:
        return False
    lowered = value.lower()
    if any(marker in lowered for marker in _VALUE_PLACEHOLDERS):
        return False
    if _TEMPLATE_SLOT.fullmatch(value):
        return False
    return _entropy_ratio(value) >= _MIN_ENTROPY_RATIO and not _is_wordy(value)


def _is_wordy(value: str) -> bool:
    """Identifiers, dotted references and phrases, which a name like ``token`` often holds.

    Every chunk between separators must read as words: one case, or capitalised humps of two or
    more lower-case letters, with at most a short number at its end, and no run of consonants no
    word has. Random strings mix case and digits inside a chunk. One long chunk in a single case
    (``kqzjvbwmtrhgplyx``) proves nothing about words, so it is not taken for them.
    """
    chunks = [chunk for chunk in _SEPARATORS.split(value) if chunk]
    if len(chunks) == 1 and (value.islower() or value.isupper()):
        return False
    return all(_WORD_CHUNK.fullmatch(chunk) for chunk in chunks) and not _CONSONANT_RUN.search(
        value
    )


def _entropy_ratio(value: str) -> float:
    """Shannon entropy per character over the most possible for this length and alphabet (0..1)."""
    if len(value) < 2:
        return 0.0
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy / math.log2(min(len(value), _alphabet_size(value)))


def _alphabet_size(value: str) -> int:
    if all(char in "0123456789abcdefABCDEF" for char in value):
        return 16
    size = 0
    size += 26 if any(char.islower() for char in value) else 0
    size += 26 if any(char.isupper() for char in value) else 0
    size += 10 if any(char.isdigit() for char in value) else 0
    size += 16 if any(not char.isalnum() for char in value) else 0
    return max(size, 2)


# --- masking what the runner prints -------------------------------------------------------------

MASK = "****"
# NAME=value in a crontab, an env file or a unit's Environment=; the value runs to the line's end.
_ENV_ASSIGNMENT = re.compile(
    r"""^(?P<lead>[ \t]*(?:export[ \t]+|Environment=["']?)?)"""
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*"
    r"(?P<value>\S.*?)[ \t]*$",
    re.MULTILINE,
)
_MASKED_NAME = re.compile(
    r"key|secret|token|passw|pwd|passphrase|credential|authorization|cookie", re.IGNORECASE
)
_URL_PASSWORD = re.compile(r"(?P<start>[A-Za-z][A-Za-z0-9+.-]*://[^/\s@:]*:)[^/\s@]+@")


def mask_secrets(text: str) -> str:
    """``text`` (a crontab, a unit, an env file, a manifest) with every secret value replaced by
    ``****``: values of variables named like secrets, credentials in URLs, and provider tokens
    wherever they stand. Placeholders such as ``...`` are left alone so the text still shows what
    goes where."""

    def assignment(match: re.Match[str]) -> str:
        value = match.group("value")
        if not _MASKED_NAME.search(match.group("name")) or value.strip("\"'") in ("", "...", MASK):
            return match.group(0)
        quote = match.group("lead")[-1] if match.group("lead").endswith(("'", '"')) else ""
        return f"{match.group('lead')}{match.group('name')}={MASK}{quote}"

    text = _ENV_ASSIGNMENT.sub(assignment, text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('start')}{MASK}@", text)
    for _, regex in _TOKEN_PATTERNS:
        text = regex.sub(MASK, text)
    return text
