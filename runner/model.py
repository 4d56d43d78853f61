"""The seam between the tick and a model: one request in, one reply out.

Requests and replies are plain dicts in the Messages API shape, so a scripted model, the real SDK
and a command executor all look the same to the session loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_creation_input_tokens += other.cache_creation_input_tokens
        self.cache_read_input_tokens += other.cache_read_input_tokens

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )

    @classmethod
    def from_dict(cls, data: dict | None) -> Usage:
        data = data or {}
        return cls(
            **{
                k: int(data.get(k) or 0)
                for k in (
                    "input_tokens",
                    "output_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                )
            }
        )


@dataclass
class Reply:
    """One assistant message: content blocks as dicts (``{"type": "text"|"tool_use", ...}``)."""

    content: list[dict[str, Any]]
    stop_reason: str
    usage: Usage = field(default_factory=Usage)

    @property
    def text(self) -> str:
        return "\n".join(b.get("text", "") for b in self.content if b.get("type") == "text").strip()

    @property
    def thinking_text(self) -> str:
        """Summarized thinking, where the request asked for it (empty when its display is
        omitted)."""
        thoughts = (b.get("thinking", "") for b in self.content if b.get("type") == "thinking")
        return "\n".join(thoughts).strip()

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        return [b for b in self.content if b.get("type") == "tool_use"]


class Model(Protocol):
    """Anything that answers a Messages API request.

    ``request`` holds ``model``, ``max_tokens``, ``system`` (list of text blocks), ``tools`` and
    ``messages``. Implementations raise ``runner.errors.ModelUnavailable`` when they give up.
    """

    def respond(self, request: dict[str, Any]) -> Reply: ...
