"""The real model: the Anthropic Messages API, or a compatible server, through the ``anthropic`` SDK.

``ANTHROPIC_API_KEY`` (or ``ANTHROPIC_AUTH_TOKEN``) and ``ANTHROPIC_BASE_URL`` choose where requests
go, so Ollama, vLLM, llama.cpp and LiteLLM work as well as the Anthropic API. Replies are streamed,
so a large ``max_tokens`` needs no special timeout.

Transient failures are retried: HTTP 408/409/429/5xx/529 and connection errors by the SDK itself
(honouring ``retry-after-ms``), a stream that breaks off part way (an SSE ``error`` event such as
``overloaded_error``, or a dropped connection, which the SDK does not retry) here. Whatever is left
becomes ``ModelUnavailable`` with a message that says what to do.

Importing this module imports the SDK, which takes about a second: import it only when a tick
will call a model.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import anthropic
import httpx2

from runner.errors import ModelUnavailable
from runner.model import Reply, Usage

DEFAULT_BASE_URL = "https://api.anthropic.com"
KEY_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
# Local servers ignore the key, but the SDK refuses to send a request without one.
PLACEHOLDER_KEY = "no-key-set"
# Error types a broken-off stream reports for overload or a server hiccup; worth another try.
TRANSIENT_ERROR_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})
FIRST_BACKOFF_S = 2.0
MAX_BACKOFF_S = 30.0
# Shorter "keys" (test values) are not redacted from messages: they would mangle ordinary words.
MIN_REDACTED_KEY_LENGTH = 8

NO_CREDENTIALS = """\
No model is configured: neither ANTHROPIC_API_KEY nor ANTHROPIC_BASE_URL is set.
For the Anthropic API:
    export ANTHROPIC_API_KEY=sk-ant-...
For a local Anthropic-compatible server (Ollama, vLLM, llama.cpp, LiteLLM), e.g. Ollama:
    export ANTHROPIC_BASE_URL=http://localhost:11434"""


class AnthropicModel:
    """A ``Model`` over the ``anthropic`` SDK."""

    def __init__(self, *, api_key: str, base_url: str | None = None, max_retries: int = 7,
                 midstream_retries: int = 3, sleep: Callable[[float], None] = time.sleep,
                 timeout: float = 600.0, key_source: str | None = "ANTHROPIC_API_KEY"):
        """``key_source`` names the variable the key came from, for error messages; ``None`` means
        no key was set and ``api_key`` is a placeholder for a local server."""
        self.base_url = base_url or DEFAULT_BASE_URL
        self.max_retries = max_retries
        self.midstream_retries = midstream_retries
        self._sleep = sleep
        self._api_key = api_key
        self._key_source = key_source
        # base_url is always explicit so that only the caller's environment decides where requests go.
        self._client = anthropic.Anthropic(api_key=api_key, base_url=self.base_url,
                                           max_retries=max_retries, timeout=timeout)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "AnthropicModel":
        key_source = next((name for name in KEY_VARIABLES if env.get(name, "").strip()), None)
        base_url = env.get("ANTHROPIC_BASE_URL", "").strip() or None
        if key_source is None and base_url is None:
            raise ModelUnavailable(NO_CREDENTIALS)
        api_key = env[key_source].strip() if key_source else PLACEHOLDER_KEY
        return cls(api_key=api_key, base_url=base_url, key_source=key_source)

    def respond(self, request: dict[str, Any]) -> Reply:
        attempt = 0
        while True:
            attempt += 1
            try:
                return _to_reply(self._stream(request))
            except anthropic.APIStatusError as err:
                if _broke_off(err) and err.type in TRANSIENT_ERROR_TYPES and attempt <= self.midstream_retries:
                    self._sleep(_backoff(attempt))
                    continue
                raise ModelUnavailable(self._redacted(self._status_message(err, request, attempt))) from err
            except anthropic.APIConnectionError as err:
                raise ModelUnavailable(self._redacted(
                    f"Cannot reach the model API at {self.base_url} after {self.max_retries + 1} attempts: "
                    f"{err.message} Is the server running and ANTHROPIC_BASE_URL right?")) from err
            except httpx2.TransportError as err:
                # The connection dropped after the reply had started: the SDK does not retry that.
                if attempt <= self.midstream_retries:
                    self._sleep(_backoff(attempt))
                    continue
                raise ModelUnavailable(self._redacted(
                    f"Model API at {self.base_url} unavailable after {attempt} attempts: "
                    f"the connection dropped during the reply each time (last: {err!r}).")) from err

    def _stream(self, request: dict[str, Any]) -> Any:
        with self._client.messages.stream(**request) as stream:
            return stream.get_final_message()

    def _status_message(self, err: anthropic.APIStatusError, request: dict[str, Any], attempt: int) -> str:
        kind = err.type or "error"
        detail = err.api_message or str(err)
        if _broke_off(err):
            if kind in TRANSIENT_ERROR_TYPES:
                return (f"Model API at {self.base_url} unavailable after {attempt} attempts: the reply "
                        f"broke off each time (last: {kind}: {detail}). Try again later.")
            return f"The model API stopped its reply: {kind}: {detail}"
        status = f"{err.status_code} {kind}: {detail}"
        if err.status_code in (401, 403):
            return self._key_message(err.status_code, status)
        if err.status_code == 404:
            return (f"The model API at {self.base_url} does not know model {request.get('model')!r} ({status}). "
                    f"Check `model:` in the frontmatter of loop-prompt.md, and that ANTHROPIC_BASE_URL "
                    f"is the server's root URL (without /v1).")
        if _retried_by_sdk(err.status_code):
            return (f"Model API at {self.base_url} unavailable after {_attempts_made(err, self.max_retries)} "
                    f"attempts (last: {status}). Try again later.")
        return f"The model API refused the request ({status})."

    def _key_message(self, status_code: int, status: str) -> str:
        if self._key_source is None:
            return (f"The server at {self.base_url} wants an API key and none is set ({status}). "
                    f"Set one: export ANTHROPIC_API_KEY=...")
        if status_code == 401:
            return (f"The model API at {self.base_url} rejected the key in {self._key_source} ({status}). "
                    f"Check that {self._key_source} holds a valid, active key.")
        return (f"The key in {self._key_source} may not do this ({status}). "
                f"Check the key's permissions, or use another key.")

    def _redacted(self, message: str) -> str:
        if len(self._api_key) < MIN_REDACTED_KEY_LENGTH:
            return message
        return message.replace(self._api_key, "[redacted key]")


def _to_reply(message: Any) -> Reply:
    # Blocks go back verbatim in the next request: thinking blocks keep their signature.
    content = [block.to_dict(mode="json", exclude_none=True) for block in message.content]
    # A stream that ends cleanly without a message_delta carries no stop reason: the turn is over.
    return Reply(content=content, stop_reason=message.stop_reason or "end_turn",
                 usage=Usage.from_dict(message.usage.to_dict()))


def _broke_off(err: anthropic.APIStatusError) -> bool:
    """An SSE ``error`` event inside a 200 response: the stream started, then failed."""
    return err.status_code == 200


def _retried_by_sdk(status_code: int) -> bool:
    return status_code in (408, 409, 429) or status_code >= 500


def _attempts_made(err: anthropic.APIStatusError, max_retries: int) -> int:
    retries = err.response.request.headers.get("x-stainless-retry-count")
    return int(retries) + 1 if retries is not None and retries.isdigit() else max_retries + 1


def _backoff(attempt: int) -> float:
    return min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (attempt - 1))
