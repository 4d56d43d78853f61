from __future__ import annotations

import base64
import hashlib
import random
import string
import uuid
from pathlib import Path

import pytest

from runner.secrets import MAX_SCAN_BYTES, Finding, held_key_forms, is_env_file, scan_paths

# Every credential below is built at run time from a seeded generator and split prefixes, so this
# file holds none: the scanner passes it (see the last test) and so does any push protection.
B62 = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"


def rand(alphabet: str, length: int, seed: int) -> str:
    generator = random.Random(seed)
    return "".join(generator.choice(alphabet) for _ in range(length))


def write(root: Path, rel: str, text: str) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return rel


def pem_block(kind: str, seed: int) -> str:
    body = base64.b64encode(random.Random(seed).randbytes(300)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"])


ANTHROPIC = "sk-" + "ant-api03-" + rand(B62 + "-_", 93, 1) + "AA"
OPENAI_PROJECT = "sk-" + "proj-" + rand(B62 + "-_", 120, 2)
OPENAI_LEGACY = "sk-" + rand(B62, 48, 3)
AWS_ID = "AK" + "IA" + rand(UPPER_DIGITS, 16, 4)
AWS_SESSION_ID = "AS" + "IA" + rand(UPPER_DIGITS, 16, 5)
AWS_SECRET = rand(B62 + "+/", 40, 6)
GITHUB_PAT = "ghp" + "_" + rand(B62, 36, 7)
GITHUB_OAUTH = "gho" + "_" + rand(B62, 36, 8)
GITHUB_SERVER = "ghs" + "_" + rand(B62, 36, 9)
GITHUB_USER = "ghu" + "_" + rand(B62, 36, 10)
GITHUB_FINE = "github" + "_pat_" + rand(B62, 22, 11) + "_" + rand(B62, 59, 12)
SLACK_BOT = (
    "xo"
    + "xb-"
    + rand(string.digits, 12, 13)
    + "-"
    + rand(string.digits, 13, 14)
    + "-"
    + rand(B62, 24, 15)
)
SLACK_HOOK = (
    "https://hooks"
    + ".slack.com/services/T"
    + rand(UPPER_DIGITS, 10, 16)
    + "/B"
    + rand(UPPER_DIGITS, 10, 17)
    + "/"
    + rand(B62, 24, 18)
)
GOOGLE = "AI" + "za" + rand(B62 + "-_", 35, 19)
GENERIC_PASSWORD = rand(B62 + "!@#%^&*", 24, 20)
GENERIC_HEX = rand(HEX, 64, 21)
GENERIC_BARE = rand(B62, 32, 22)
RAILS_SECRET = rand(HEX, 128, 23)  # a long hex value: entropy is judged against hex's alphabet
GROUPED_PASSWORD = "-".join(rand("bcdfghjklmnpqrstvwxz", 6, seed) for seed in (24, 25, 26))

FOUND = [
    # (file, text whose third line holds the secret, kind, the secret)
    ("app.py", f'client = Anthropic(api_key="{ANTHROPIC}")', "Anthropic API key", ANTHROPIC),
    ("deploy/env.sh", f"export OPENAI_API_KEY={OPENAI_PROJECT}", "OpenAI API key", OPENAI_PROJECT),
    (
        "src/llm.js",
        f"const openai = new OpenAI({{ apiKey: '{OPENAI_LEGACY}' }});",
        "OpenAI API key",
        OPENAI_LEGACY,
    ),
    ("config/aws.ini", f"aws_access_key_id = {AWS_ID}", "AWS access key id", AWS_ID),
    (
        "config/sts.json",
        f'{{"AccessKeyId": "{AWS_SESSION_ID}"}}',
        "AWS access key id",
        AWS_SESSION_ID,
    ),
    ("config/creds", f"aws_secret_access_key = {AWS_SECRET}", "AWS secret access key", AWS_SECRET),
    ("settings.py", f'AWS_SECRET_KEY = "{AWS_SECRET}"', "AWS secret access key", AWS_SECRET),
    ("ci.yml", f"  token: {GITHUB_PAT}", "GitHub token", GITHUB_PAT),
    (
        "oauth.py",
        f"headers = {{'Authorization': 'token {GITHUB_OAUTH}'}}",
        "GitHub token",
        GITHUB_OAUTH,
    ),
    ("app.rb", f"INSTALL = '{GITHUB_SERVER}'", "GitHub token", GITHUB_SERVER),
    ("notes.md", f"use `{GITHUB_USER}` for now", "GitHub token", GITHUB_USER),
    (
        "Makefile",
        f"\tcurl -H 'Authorization: Bearer {GITHUB_FINE}' api",
        "GitHub token",
        GITHUB_FINE,
    ),
    ("bot.py", f'slack = WebClient("{SLACK_BOT}")', "Slack token", SLACK_BOT),
    ("alert.sh", f"curl -X POST {SLACK_HOOK} -d @msg.json", "Slack webhook URL", SLACK_HOOK),
    (
        "maps.html",
        f'<script src="https://maps.example.org/js?key={GOOGLE}"></script>',
        "Google API key",
        GOOGLE,
    ),
    (
        "db.py",
        f'DB_PASSWORD = "{GENERIC_PASSWORD}"',
        "high-entropy value assigned to DB_PASSWORD",
        GENERIC_PASSWORD,
    ),
    (
        "auth.json",
        f'{{"clientSecret": "{GENERIC_HEX}"}}',
        "high-entropy value assigned to clientSecret",
        GENERIC_HEX,
    ),
    (
        "config.yaml",
        f"auth_token: {GENERIC_BARE}",
        "high-entropy value assigned to auth_token",
        GENERIC_BARE,
    ),
    (
        "sign.py",
        f'SIGNING_KEY: str = "{GENERIC_BARE}"',
        "high-entropy value assigned to SIGNING_KEY",
        GENERIC_BARE,
    ),
    ("main.go", f'apiKey := "{GENERIC_HEX}"', "high-entropy value assigned to apiKey", GENERIC_HEX),
    (
        "config/secrets.yml",
        f"  secret_key_base: {RAILS_SECRET}",
        "high-entropy value assigned to secret_key_base",
        RAILS_SECRET,
    ),
    (
        "wifi.cfg",
        f"WIFI_PASSWORD='{GROUPED_PASSWORD}'",
        "high-entropy value assigned to WIFI_PASSWORD",
        GROUPED_PASSWORD,
    ),
]


@pytest.mark.parametrize(
    ("rel", "line", "kind", "secret"), FOUND, ids=[f"{case[0]}-{case[2]}" for case in FOUND]
)
def test_each_kind_is_found_on_its_line_and_never_repeated(tmp_path, rel, line, kind, secret):
    write(tmp_path, rel, f"# first line\n\n{line}\nprint('after')\n")
    findings = scan_paths(tmp_path, [rel])
    assert findings == [Finding(rel, 3, kind)]
    assert findings[0].describe() == f"secret refused in {rel}:3 ({kind})"
    assert secret not in findings[0].describe()
    assert secret not in repr(findings[0])
    assert secret[-12:] not in repr(findings) + findings[0].describe()


@pytest.mark.parametrize(
    "kind",
    [
        "RSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "EC PRIVATE KEY",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ],
)
def test_private_key_blocks_are_found_at_their_begin_line(tmp_path, kind):
    write(tmp_path, "deploy/key.pem", "key for the staging box:\n" + pem_block(kind, 30) + "\n")
    assert scan_paths(tmp_path, ["deploy/key.pem"]) == [
        Finding("deploy/key.pem", 2, "private key block")
    ]


def test_private_key_inside_a_one_line_string_is_found(tmp_path):
    escaped = pem_block("PRIVATE KEY", 31).replace("\n", "\\n")
    write(
        tmp_path,
        "service-account.json",
        '{\n  "type": "service_account",\n  "private_key": "' + escaped + '"\n}\n',
    )
    assert scan_paths(tmp_path, ["service-account.json"]) == [
        Finding("service-account.json", 3, "private key block")
    ]


def test_several_findings_in_one_file_come_in_line_order(tmp_path):
    write(
        tmp_path,
        "settings.py",
        f'A = "{GOOGLE}"\nplain = 1\nB = "{AWS_ID}"\n{pem_block("RSA PRIVATE KEY", 32)}\n',
    )
    assert scan_paths(tmp_path, ["settings.py"]) == [
        Finding("settings.py", 1, "Google API key"),
        Finding("settings.py", 3, "AWS access key id"),
        Finding("settings.py", 4, "private key block"),
    ]


def test_line_numbers_count_newlines_only(tmp_path):
    # \r\n line ends, a form feed and a unicode line separator must not shift the count.
    text = "one\r\ntwo\x0cstill two\r\nthree \u2028 still three\r\n" + f"key = '{GOOGLE}'\r\n"
    (tmp_path / "crlf.txt").write_bytes(text.encode())
    assert scan_paths(tmp_path, ["crlf.txt"]) == [Finding("crlf.txt", 4, "Google API key")]


def test_ordinary_code_and_placeholders_are_not_flagged(tmp_path):
    sha = hashlib.sha256(b"fixture").hexdigest()
    blob = base64.b64encode(random.Random(40).randbytes(600)).decode()
    ordinary = f'''\
import os, uuid

expected_digest = "{sha}"
EXPECTED_SHA1 = "{hashlib.sha1(b"x").hexdigest()}"
request_id = "{uuid.UUID(int=random.Random(41).getrandbits(128))}"
FIXTURE_PNG_B64 = "{blob}"
LOREM = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor"
handler_class = "AbstractSingletonProxyFactoryBeanRequestHandler"
cache_key = "{sha[:40]}"
public_key = "{blob[:88]}"
token_url = "https://auth.internal.test/oauth2/v1/token"
password_hash = "$2b$12${blob[:53]}"
job = "task-{sha[:40]}"
api_key_env = "ANTHROPIC_API_KEY"
token = tokenizer.next_token_after_whitespace
refresh_token = self.config.oauth_refresh_token
if token == "{GENERIC_HEX}":
    pass
password = os.environ["DATABASE_PASSWORD"]
api_key = os.environ.get("OPENAI_API_KEY", "")
API_KEY = "${{API_KEY}}"
SECRET_TOKEN = "<your-secret-token>"
DB_PASSWORD = "changeme-changeme-changeme"
AUTH_TOKEN = "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
SESSION_SECRET = "{{{{ vault_session_secret }}}}"
GITHUB_TOKEN = "{{{{ secrets.GITHUB_TOKEN }}}}"
client_secret = "dev-secret-do-not-use-in-production"
ANTHROPIC_API_KEY = "sk-ant-..."
docs_key = "sk-ant-api03-your-key-here-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
blank_key = "sk-ant-{"a" * 40}"
aws_example = "AKIAIOSFODNN7EXAMPLE"
aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
hook = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
github = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):
    kind = "rsa"
'''
    write(tmp_path, "tests/test_fixtures.py", ordinary)
    write(
        tmp_path,
        "deploy/workflow.yml",
        "env:\n  ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}\n"
        "# kubectl create secret generic g --from-literal=ANTHROPIC_API_KEY=...\n",
    )
    write(
        tmp_path,
        "README.md",
        "Set `ANTHROPIC_API_KEY=sk-ant-...` and `password: <your password>`.\n",
    )
    assert (
        scan_paths(tmp_path, ["tests/test_fixtures.py", "deploy/workflow.yml", "README.md"]) == []
    )


def test_random_values_under_secret_names_are_found(tmp_path):
    # The entropy and word checks must not let randomness through: 300 seeded values, 32-64 long.
    alphabets = [
        B62,
        HEX,
        B62 + "-_",
        string.ascii_lowercase + string.digits,
        B62 + "+/",
        string.ascii_lowercase,
    ]
    lines = [
        f'SERVICE_TOKEN_{n} = "{rand(alphabets[n % 6], 32 + n % 33, 100 + n)}"' for n in range(300)
    ]
    write(tmp_path, "tokens.py", "\n".join(lines) + "\n")
    found = scan_paths(tmp_path, ["tokens.py"])
    assert [finding.line for finding in found] == list(range(1, 301))


def test_allow_by_path_glob_exempts_the_file(tmp_path):
    write(tmp_path, "tests/fixtures/creds.ini", f"aws_access_key_id = {AWS_ID}\n")
    write(tmp_path, "src/creds.ini", f"aws_access_key_id = {AWS_ID}\n")
    paths = ["tests/fixtures/creds.ini", "src/creds.ini"]
    assert scan_paths(tmp_path, paths, allow=["tests/fixtures/**"]) == [
        Finding("src/creds.ini", 1, "AWS access key id")
    ]
    assert scan_paths(tmp_path, paths, allow=["*.ini"]) == []


def test_allow_by_substring_exempts_only_matching_lines(tmp_path):
    write(tmp_path, "conf.py", f'TEST_KEY = "{GOOGLE}"  # known test key\nPROD = "{GOOGLE}"\n')
    assert scan_paths(tmp_path, ["conf.py"], allow=["known test key"]) == [
        Finding("conf.py", 2, "Google API key")
    ]
    assert scan_paths(tmp_path, ["conf.py"], allow=[GOOGLE]) == []


@pytest.mark.parametrize(
    "rel",
    [
        ".env",
        ".env.local",
        ".env.production",
        "deploy/.env",
        "config/prod.env",
        "services/api/.env.development.local",
    ],
)
def test_env_files_are_refused_by_name(tmp_path, rel):
    write(tmp_path, rel, "DEBUG=1\n")
    assert is_env_file(rel)
    assert scan_paths(tmp_path, [rel]) == [Finding(rel, 1, ".env file")]
    assert scan_paths(tmp_path, [rel], allow=[rel]) == []


@pytest.mark.parametrize(
    "rel",
    [
        ".env.example",
        ".env.sample",
        ".env.template",
        "config/.env.local.example",
        "example.env",
        ".envrc",
        "env.py",
        "environment.yml",
        ".env/pyvenv.cfg",
    ],
)
def test_env_templates_and_lookalikes_are_not_env_files(tmp_path, rel):
    write(tmp_path, rel, "API_KEY=\nDEBUG=1\n")
    assert not is_env_file(rel)
    assert scan_paths(tmp_path, [rel]) == []


def test_binary_and_oversized_files_are_skipped_but_the_limit_is_exact(tmp_path):
    secret_line = f"key = '{GOOGLE}'\n".encode()
    (tmp_path / "image.bin").write_bytes(b"\x89PNG\0\0" + secret_line)
    (tmp_path / "big.txt").write_bytes(secret_line + b"x" * (MAX_SCAN_BYTES + 1 - len(secret_line)))
    (tmp_path / "edge.txt").write_bytes(secret_line + b"x" * (MAX_SCAN_BYTES - len(secret_line)))
    assert scan_paths(tmp_path, ["image.bin", "big.txt"]) == []
    assert scan_paths(tmp_path, ["edge.txt"]) == [Finding("edge.txt", 1, "Google API key")]


def test_deleted_paths_folders_and_symlinks_are_skipped(tmp_path):
    root = tmp_path / "project"
    write(root, "src/app.py", "print('hi')\n")
    outside = write(tmp_path, "outside/.env", f"AWS = {AWS_ID}\n")
    (root / "linked.env").symlink_to(tmp_path / outside)
    assert scan_paths(root, ["gone.py", ".env", "src", "linked.env", "src/app.py"]) == []


def test_invalid_utf8_is_scanned_around(tmp_path):
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9\n" + f"x = '{GOOGLE}'\n".encode())
    assert scan_paths(tmp_path, ["latin1.txt"]) == [Finding("latin1.txt", 2, "Google API key")]


def test_the_scanner_and_these_tests_hold_no_secret():
    project = Path(__file__).resolve().parent.parent
    assert scan_paths(project, ["runner/secrets.py", "tests/test_secrets.py"]) == []


# --- the key the runner holds, in the encodings a scan by shape cannot know ---------------------

HELD_KEY = "sk-ant-api03-" + rand(string.ascii_letters + string.digits, 40, seed=77)


@pytest.mark.parametrize(
    "encode",
    [
        lambda k: k,
        lambda k: k[::-1],
        lambda k: base64.b64encode(k.encode()).decode(),
        lambda k: base64.b64encode(b"x=" + k.encode()).decode(),
        lambda k: base64.urlsafe_b64encode(b"!" + k.encode()).decode(),
        lambda k: base64.b64encode(k[::-1].encode()).decode(),
        lambda k: k.encode().hex(),
    ],
    ids=[
        "literal",
        "reversed",
        "base64",
        "base64-shifted",
        "urlsafe-shifted",
        "reversed-base64",
        "hex",
    ],
)
def test_the_runners_own_key_is_found_however_it_is_encoded(tmp_path, monkeypatch, encode):
    monkeypatch.setenv("ANTHROPIC_API_KEY", HELD_KEY)
    rel = write(tmp_path, "notes.txt", f"harmless line\nblob = {encode(HELD_KEY)}\n")
    [finding] = scan_paths(tmp_path, [rel])
    assert finding.line == 2 and finding.kind in ("Anthropic API key",) + tuple(
        kind for _, kind in held_key_forms(HELD_KEY)
    )
    assert HELD_KEY not in finding.describe()


def test_without_the_key_in_the_environment_the_encodings_are_not_findings(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    rel = write(tmp_path, "notes.txt", f"blob = {HELD_KEY[::-1]}\n")
    assert [f.kind for f in scan_paths(tmp_path, [rel])] == []
