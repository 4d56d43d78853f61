"""What a tick's tokens cost. One table, per model family, overridable with ``prices:`` in config.

Unknown models are priced like the default family rather than as free: a budget must fail closed.
A local model (Ollama, vLLM) that really costs nothing gets ``prices: {qwen: {input: 0, output: 0}}``.
"""

from __future__ import annotations

from genome.loop_prompt import Price
from runner.model import Usage

# USD per million tokens (published list prices, November 2026), matched by the longest prefix.
PRICES: dict[str, Price] = {
    "claude-fable": Price(10.0, 50.0),
    "claude-mythos": Price(10.0, 50.0),     # no list price seen; priced like the dearest family
    "claude-opus-5-5": Price(4.0, 20.0),
    "claude-opus-5": Price(5.0, 25.0),
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4-6": Price(5.0, 25.0),
    "claude-opus-4-7": Price(5.0, 25.0),
    "claude-opus-4-8": Price(5.0, 25.0),
    "claude-opus": Price(15.0, 75.0),       # Opus 4.1 and older
    "claude-sonnet-5": Price(2.0, 10.0),    # Sonnet 5 and 5.5
    "claude-sonnet": Price(3.0, 15.0),      # Sonnet 4.x and older
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-3-5-sonnet": Price(3.0, 15.0),
    "claude-haiku": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
}
DEFAULT_PRICE = PRICES["claude-sonnet"]
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


def price_for(model: str, overrides: dict[str, Price] | None = None) -> tuple[Price, bool]:
    """The price of ``model`` and whether it was known (False: the default was assumed)."""
    table = {**PRICES, **(overrides or {})}
    matches = [prefix for prefix in table if model.startswith(prefix)]
    if not matches:
        return DEFAULT_PRICE, False
    return table[max(matches, key=len)], True


def cost_usd(usage: Usage, price: Price) -> float:
    return (usage.input_tokens * price.input
            + usage.cache_creation_input_tokens * price.input * CACHE_WRITE_FACTOR
            + usage.cache_read_input_tokens * price.input * CACHE_READ_FACTOR
            + usage.output_tokens * price.output) / 1_000_000
