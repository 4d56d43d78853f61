"""Where a remote runner (GitHub Actions, a Kubernetes CronJob) installs genome runner from.

Only exact, pinned sources: a release version (``genome-runner==1.2.3``) or a VCS URL at a full
commit (``git+https://host/repo@<40 hex>``). A branch or a tag can move under the schedule; an
unpinned name is whatever someone last uploaded under it. Without ``--install`` the source is
where this installation came from, read from its PEP 610 ``direct_url.json``: a VCS install at a
commit gives that commit; an install from an index (no ``direct_url.json``) gives its version. A
local folder or archive cannot be reached from a runner, so it is an error that says what to pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata

DIST_NAME = "genome-runner"
_VERSION = re.compile(r"(?:v|==)?(\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?)")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_VCS_URL = re.compile(
    r"(?P<vcs>git)\+(?P<url>(?:https|ssh|git)://[^\s@]+(?:@[^\s@/]+/[^\s@]*)?)@(?P<rev>[^\s@#]+)"
)


class InstallSourceError(Exception):
    """No pinned source: the message says what to pass to ``--install``."""


@dataclass(frozen=True)
class InstallSource:
    requirement: str  # what pip installs: `genome-runner==1.2.3` or `genome-runner @ git+...@sha`
    origin: str  # said to the person: where it came from


EXAMPLES = (
    "--install 0.1.0 (a released version), or "
    "--install git+https://github.com/OWNER/genome-runner@COMMIT (a full 40-character commit)"
)


def parse_spec(spec: str) -> InstallSource:
    """``--install SPEC``: a version, or a VCS URL pinned to a full commit."""
    spec = spec.strip()
    version = _VERSION.fullmatch(spec)
    if version:
        return InstallSource(
            f"{DIST_NAME}=={version.group(1)}", f"version {version.group(1)} (--install)"
        )
    vcs = _VCS_URL.fullmatch(spec)
    if vcs:
        if not _COMMIT.fullmatch(vcs.group("rev")):
            raise InstallSourceError(
                f"--install {spec}: {vcs.group('rev')!r} is not a full commit id, and a branch or "
                "tag can move under the schedule. Pin the commit: "
                f"git+{vcs.group('url')}@<40-character commit>"
            )
        return InstallSource(f"{DIST_NAME} @ {spec}", f"{spec} (--install)")
    raise InstallSourceError(
        f"--install {spec!r} is neither a version nor a VCS URL at a commit. Use {EXAMPLES}"
    )


def from_installation(dist: metadata.Distribution | None = None) -> InstallSource:
    """Where this installation came from (PEP 610), as a pinned source; ``InstallSourceError`` when
    it cannot be known or reached from elsewhere."""
    try:
        dist = dist or metadata.distribution(DIST_NAME)
    except metadata.PackageNotFoundError:
        raise InstallSourceError(
            f"{DIST_NAME} is not installed as a package here, so where to install it "
            f"from is unknown. Pass {EXAMPLES}"
        ) from None
    text = dist.read_text("direct_url.json")
    if text is None:  # PEP 610: no direct_url.json means it came from an index
        return InstallSource(
            f"{DIST_NAME}=={dist.version}", f"version {dist.version}, as installed here"
        )
    try:
        direct = json.loads(text)
        url = direct["url"]
    except (ValueError, KeyError, TypeError):
        raise InstallSourceError(
            f"this installation's direct_url.json cannot be read. Pass {EXAMPLES}"
        ) from None
    vcs = direct.get("vcs_info") if isinstance(direct, dict) else None
    if (
        isinstance(vcs, dict)
        and vcs.get("vcs") == "git"
        and _COMMIT.fullmatch(str(vcs.get("commit_id", "")))
    ):
        if url.startswith("file:"):
            raise InstallSourceError(
                f"this installation came from a local clone ({url}), which a runner "
                f"cannot reach. Pass {EXAMPLES}"
            )
        pinned = f"git+{url}@{vcs['commit_id']}"
        return InstallSource(f"{DIST_NAME} @ {pinned}", f"{pinned}, as installed here")
    where = (
        "a local folder"
        if "dir_info" in direct
        else "an archive"
        if "archive_info" in direct
        else "a URL"
    )
    raise InstallSourceError(
        f"this installation came from {where} ({url}), which a runner cannot reach or "
        f"which is not pinned to a commit. Pass {EXAMPLES}"
    )


def resolve(spec: str | None) -> InstallSource:
    return parse_spec(spec) if spec else from_installation()
