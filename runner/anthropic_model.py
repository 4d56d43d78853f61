"""The real model: the Anthropic Messages API, or a compatible server, through the
``anthropic`` SDK.

``ANTHROPIC_API_KEY`` (or ``ANTHROPIC_AUTH_TOKEN``) and ``ANTHROPIC_BASE_URL`` choose where requests
go, so Ollama, vLLM, llama.cpp and LiteLLM work as well as the Anthropic API. Replies are streamed,
so a large ``max_tokens`` needs no special timeout.

Transient failures are retried here, not by the SDK (which honours ``retry-after`` with no cap):
HTTP 408/409/429/5xx/529, connection errors and timeouts, and a stream that breaks off part way
(an SSE ``error`` event such as ``overloaded_error``, or a dropped connection). A wait honours
``retry-after-ms``/``retry-after`` up to ``MAX_RETRY_AFTER_S``, and no wait or request runs past
``deadline`` (the tick's wall clock, set by the tick): a retry that would is not made. Whatever is
left becomes ``ModelUnavailable`` with a message that says what to do.

Importing this module imports the SDK, which takes about a second: import it only when a tick
will call a model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import anthropic
import httpx2

from runner.errors import ModelUnavailable
from runner.model import Reply, Usage

DEFAULT_BASE_URL = "https://api.anthropic.com"
KEY_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
# Local servers ignore the key, but the SDK refuses to send a request without one.
PLACEHOLDER_KEY = "no-key-set"
# Error types a broken-off stream reports for overload or a server hiccup; worth another try.
TRANSIENT_ERROR_TYPES = frozenset(
    {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}
)
FIRST_BACKOFF_S = 2.0
MAX_BACKOFF_S = 30.0
MAX_RETRY_AFTER_S = 60.0  # a server asking for a longer wait is treated as unavailable now
MIN_REQUEST_S = 5.0  # a request with less time than this left is not started
# Shorter "keys" (test values) are not redacted from messages: they would mangle ordinary words.
MIN_REDACTED_KEY_LENGTH = 8

NO_CREDENTIALS = """\
No model is configured: neither ANTHROPIC_API_KEY nor ANTHROPIC_BASE_URL is set.
For the Anthropic API:
    export ANTHROPIC_API_KEY=sk-ant-...
For a local Anthropic-compatible server (Ollama, vLLM, llama.cpp, LiteLLM), e.g. Ollama:
    export ANTHROPIC_BASE_URL=http://localhost:11434"""


class AnthropicModel:
    """A ``Model`` over the ``anthropic`` SDK. ``deadline`` (a ``time.monotonic()`` value, or None)
    bounds every request and retry."""

    deadline: float | None = None

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        max_retries: int = 7,
        midstream_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 600.0,
        key_source: str | None = "ANTHROPIC_API_KEY",
        clock: Callable[[], float] = time.monotonic,
    ):
        """``key_source`` names the variable the key came from, for error messages; ``None`` means
        no key was set and ``api_key`` is a placeholder for a local server."""
        self.base_url = base_url or DEFAULT_BASE_URL
        self.max_retries = max_retries
        self.midstream_retries = midstream_retries
        self._sleep = sleep
        self._clock = clock
        self._timeout = timeout
        self._api_key = api_key
        self._key_source = key_source
        # base_url is always explicit so that only the caller's environment decides where requests
        # go.
        # The SDK retries nothing itself: its waits know no deadline.
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=self.base_url, max_retries=0, timeout=timeout
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AnthropicModel:
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
            self._check_time(attempt)
            try:
                return _to_reply(self._stream(request))
            except anthropic.APIStatusError as err:
                if _broke_off(err):
                    retry = err.type in TRANSIENT_ERROR_TYPES and attempt <= self.midstream_retries
                    wait = _backoff(attempt)
                else:
                    retry = _should_retry(err) and attempt <= self.max_retries
                    wait = _retry_after(err.response.headers, attempt)
                if retry and self._may_wait(wait):
                    self._sleep(wait)
                    continue
                raise ModelUnavailable(
                    self._redacted(
                        self._status_message(err, request, attempt) + self._late(retry, wait)
                    )
                ) from err
            except anthropic.APIConnectionError as err:
                wait = _backoff(attempt)
                retry = attempt <= self.max_retries
                if retry and self._may_wait(wait):
                    self._sleep(wait)
                    continue
                raise ModelUnavailable(
                    self._redacted(
                        f"Cannot reach the model API at {self.base_url} after {attempt} attempts: "
                        f"{err.message} Is the server running and ANTHROPIC_BASE_URL right?"
                        + self._late(retry, wait)
                    )
                ) from err
            except httpx2.TransportError as err:
                # The connection dropped after the reply had started.
                wait = _backoff(attempt)
                retry = attempt <= self.midstream_retries
                if retry and self._may_wait(wait):
                    self._sleep(wait)
                    continue
                raise ModelUnavailable(
                    self._redacted(
                        f"Model API at {self.base_url} unavailable after {attempt} attempts: "
                        f"the connection dropped during the reply each time (last: {err!r})."
                        + self._late(retry, wait)
                    )
                ) from err

    def _left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self._clock()

    def _check_time(self, attempt: int) -> None:
        left = self._left()
        if left is not None and left < MIN_REQUEST_S:
            raise ModelUnavailable(
                f"The tick's time ran out before model call attempt {attempt} "
                f"could be made ({max(0.0, left):.0f} s left)."
            )

    def _may_wait(self, wait: float) -> bool:
        """A retry after ``wait`` seconds is worth it only if a request still fits before the
        deadline."""
        left = self._left()
        return wait <= MAX_RETRY_AFTER_S and (left is None or wait + MIN_REQUEST_S <= left)

    def _late(self, retry: bool, wait: float) -> str:
        if not retry:
            return ""
        if wait > MAX_RETRY_AFTER_S:
            return (
                f" The server asked to wait {wait:.0f} s, longer than a tick waits "
                f"({MAX_RETRY_AFTER_S:.0f} s)."
            )
        return " Another try would run past the tick's wall clock."

    def _stream(self, request: dict[str, Any]) -> Any:
        left = self._left()
        client = (
            self._client
            if left is None
            else self._client.with_options(timeout=max(1.0, min(self._timeout, left)))
        )
        with client.messages.stream(**request) as stream:
            return stream.get_final_message()

    def _status_message(
        self, err: anthropic.APIStatusError, request: dict[str, Any], attempt: int
    ) -> str:
        kind = err.type or "error"
        detail = err.api_message or str(err)
        if _broke_off(err):
            if kind in TRANSIENT_ERROR_TYPES:
                return (
                    f"Model API at {self.base_url} unavailable after {attempt} attempts: the reply "
                    f"broke off each time (last: {kind}: {detail}). Try again later."
                )
            return f"The model API stopped its reply: {kind}: {detail}"
        status = f"{err.status_code} {kind}: {detail}"
        if err.status_code in (401, 403):
            return self._key_message(err.status_code, status)
        if err.status_code == 404:
            return (
                f"The model API at {self.base_url} does not know model {request.get('model')!r} "
                f"({status}). "
                f"Check `model:` in the frontmatter of loop-prompt.md, and that ANTHROPIC_BASE_URL "
                f"is the server's root URL (without /v1)."
            )
        if _should_retry(err):
            return (
                f"Model API at {self.base_url} unavailable after {attempt} "
                f"attempts (last: {status}). Try again later."
            )
        return f"The model API refused the request ({status})."

    def _key_message(self, status_code: int, status: str) -> str:
        if self._key_source is None:
            return (
                f"The server at {self.base_url} wants an API key and none is set ({status}). "
                f"Set one: export ANTHROPIC_API_KEY=..."
            )
        if status_code == 401:
            return (
                f"The model API at {self.base_url} rejected the key in {self._key_source} "
                f"({status}). "
                f"Check that {self._key_source} holds a valid, active key."
            )
        return (
            f"The key in {self._key_source} may not do this ({status}). "
            f"Check the key's permissions, or use another key."
        )

    def _redacted(self, message: str) -> str:
        if len(self._api_key) < MIN_REDACTED_KEY_LENGTH:
            return message
        return message.replace(self._api_key, "[redacted key]")


def _to_reply(message: Any) -> Reply:
    # Blocks go back verbatim in the next request: thinking blocks keep their signature.
    content = [block.to_dict(mode="json", exclude_none=True) for block in message.content]
    # A stream that ends cleanly without a message_delta carries no stop reason: the turn is over.
    return Reply(
        content=content,
        stop_reason=message.stop_reason or "end_turn",
        usage=Usage.from_dict(message.usage.to_dict()),
    )


def _broke_off(err: anthropic.APIStatusError) -> bool:
    """An SSE ``error`` event inside a 200 response: the stream started, then failed."""
    return err.status_code == 200


def _should_retry(err: anthropic.APIStatusError) -> bool:
    """As the SDK decides: the server's ``x-should-retry`` first, then the status."""
    said = err.response.headers.get("x-should-retry")
    if said in ("true", "false"):
        return said == "true"
    return err.status_code in (408, 409, 429) or err.status_code >= 500


def _retry_after(headers: Any, attempt: int) -> float:
    """The wait the server asked for (``retry-after-ms``, then ``retry-after`` in seconds), else
    the back-off for this attempt."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name, ""))
        except ValueError:
            continue
        if value >= 0:
            return value * scale
    return _backoff(attempt)


def _backoff(attempt: int) -> float:
    return min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (attempt - 1))
