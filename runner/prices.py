"""What a tick's tokens cost. One table, per model, overridable with ``prices:`` in config.

Each model carries its own cache factors: cache reads are 0.1x of input for older models but
0.05x for Sonnet 5.5 and Opus 5.5 and 0.025x for Fable and Mythos 5.1. The runner only writes
5-minute cache entries (1.25x); one-hour entries (2x) are never asked for.

Unknown models are priced like the default family rather than as free: a budget must fail closed.
A local model (Ollama, vLLM) that really costs nothing gets
``prices: {qwen: {input: 0, output: 0}}``.
"""

from __future__ import annotations

import dataclasses

from genome.loop_prompt import Price
from runner.model import Usage

# The list prices on Anthropic's pricing page (claude.com/pricing, "API" tab) as of this date;
# check there when a new model comes out or a price changes. Matched by the longest prefix.
PRICES_AS_OF = "2026-11-30"
CACHE_WRITE_FACTOR = 1.25  # 5-minute cache writes, every model
CACHE_READ_FACTOR = 0.1  # cache reads, models without their own factor
PRICES: dict[str, Price] = {
    "claude-fable-5-1": Price(10.0, 50.0, cache_read=0.025),
    "claude-mythos-5-1": Price(10.0, 50.0, cache_read=0.025),
    "claude-fable": Price(10.0, 50.0),
    "claude-mythos": Price(10.0, 50.0),  # no list price seen for Mythos 5; priced like Fable
    "claude-opus-5-5": Price(4.0, 20.0, cache_read=0.05),  # 0.05x reads since 2026-10-07
    "claude-opus-5": Price(5.0, 25.0),
    "claude-opus-4-5": Price(5.0, 25.0),
    "claude-opus-4-6": Price(5.0, 25.0),
    "claude-opus-4-7": Price(5.0, 25.0),
    "claude-opus-4-8": Price(5.0, 25.0),
    "claude-opus": Price(15.0, 75.0),  # Opus 4.1 and older
    "claude-sonnet-5-5": Price(2.0, 10.0, cache_read=0.05),  # 0.05x reads since 2026-10-07
    "claude-sonnet-5": Price(2.0, 10.0),
    "claude-sonnet": Price(3.0, 15.0),  # Sonnet 4.x and older
    "claude-3-7-sonnet": Price(3.0, 15.0),
    "claude-3-5-sonnet": Price(3.0, 15.0),
    # prompts over 100k input tokens cost 0.50/2.50
    "claude-haiku-5-5": Price(0.10, 0.50, long_above=100_000, long_input=0.50, long_output=2.50),
    "claude-haiku": Price(1.0, 5.0),
    "claude-3-5-haiku": Price(0.8, 4.0),
}
DEFAULT_PRICE = PRICES["claude-sonnet"]


def price_for(model: str, overrides: dict[str, Price] | None = None) -> tuple[Price, bool]:
    """The price of ``model`` and whether it was known (False: the default was assumed).

    An override that gives no cache factors keeps those the table has for the model."""
    builtin = _match(model, PRICES)
    override = _match(model, overrides or {})
    price = override or builtin or DEFAULT_PRICE
    base = builtin or DEFAULT_PRICE
    price = dataclasses.replace(
        price,
        cache_write=_first(price.cache_write, base.cache_write, CACHE_WRITE_FACTOR),
        cache_read=_first(price.cache_read, base.cache_read, CACHE_READ_FACTOR),
    )
    return price, bool(override or builtin)


def cost_usd(usage: Usage, price: Price) -> float:
    """The cost of one reply's ``usage`` (long-prompt prices apply per request)."""
    prompt = usage.input_tokens + usage.cache_creation_input_tokens + usage.cache_read_input_tokens
    long = price.long_above is not None and prompt > price.long_above
    per_input = price.long_input if long and price.long_input is not None else price.input
    per_output = price.long_output if long and price.long_output is not None else price.output
    write = _first(price.cache_write, CACHE_WRITE_FACTOR)
    read = _first(price.cache_read, CACHE_READ_FACTOR)
    return (
        usage.input_tokens * per_input
        + usage.cache_creation_input_tokens * per_input * write
        + usage.cache_read_input_tokens * per_input * read
        + usage.output_tokens * per_output
    ) / 1_000_000


def _match(model: str, table: dict[str, Price]) -> Price | None:
    matches = [prefix for prefix in table if model.startswith(prefix)]
    return table[max(matches, key=len)] if matches else None


def _first(*values: float | None) -> float:
    return next(value for value in values if value is not None)
