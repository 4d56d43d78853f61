"""The review page's charts: inline SVG, no script.

Each chart is a fixed-height SVG as wide as its box. The bars live in an inner SVG stretched to fit
(its viewBox is 1000 × 100, aspect not kept); text stays outside it in pixels, so labels keep their
size from a phone to a wide screen.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from datetime import datetime, timezone

from runner.review.data import OUTCOME_ORDER, MetricPoint, Review, TickRow, VersionStats
from runner.review.words import lever_text
from runner.style import stamp

MAX_COST_BARS = 200  # the cost chart shows at most the last this many ticks


_CHART_H, _PLOT_TOP, _PLOT_H = 184, 18, 134


def html_charts(review: Review) -> str:
    figures = [
        ("Cost per tick", _svg_cost(review.ticks)),
        ("Outcomes over time", _svg_outcomes(review)),
        ("Pass rate per genome version", _svg_pass_rate(review.versions)),
        ("Cost per shipped lever, per genome version", _svg_cost_per_shipped(review.versions)),
    ]
    figures += [
        (f"Metric {name}", _svg_metric(name, points))
        for name, points in list(review.metric_points.items())[:MAX_METRIC_CHARTS]
    ]
    legend = "".join(
        f'<span class="key o-{o}"><i></i>{o}</span>'
        for o in OUTCOME_ORDER
        if review.outcomes[o] or o in ("shipped", "failed")
    )
    return (
        '<section id="charts"><h2>Charts</h2><div class="legend">'
        + legend
        + '</div><div class="charts">'
        + "".join(
            f'<figure class="chart"><figcaption>{title}</figcaption>{svg}</figure>'
            for title, svg in figures
        )
        + "</div></section>"
    )


def _svg(chart_id: str, label: str, plot: list[str], text: list[str]) -> str:
    return (
        f'<svg id="{chart_id}" width="100%" height="{_CHART_H}" role="img" '
        f'aria-label="{html.escape(label)}"><svg class="plot" x="0" y="{_PLOT_TOP}" width="100%" '
        f'height="{_PLOT_H}" viewBox="0 0 1000 100" preserveAspectRatio="none">'
        + "".join(plot)
        + "</svg>"
        + "".join(text)
        + "</svg>"
    )


def _empty_svg(chart_id: str, message: str) -> str:
    return _svg(
        chart_id,
        message,
        [],
        [
            f'<text class="empty" x="50%" y="{_PLOT_TOP + _PLOT_H / 2}" '
            f'text-anchor="middle">{html.escape(message)}</text>'
        ],
    )


def _grid(label: str) -> tuple[list[str], list[str]]:
    """Grid lines at the bottom, the middle and the top; the top one labelled above it, where no bar
    reaches."""
    plot = [
        f'<line class="grid" x1="0" x2="1000" y1="{y}" y2="{y}" '
        'vector-effect="non-scaling-stroke"/>'
        for y in (0.5, 50, 99.5)
    ]
    return plot, [f'<text class="axis" x="0" y="{_PLOT_TOP - 6}">{html.escape(label)}</text>']


def _x_labels(first: str, last: str) -> list[str]:
    y = _PLOT_TOP + _PLOT_H + 15
    return [
        f'<text class="axis" x="0" y="{y}">{html.escape(first)}</text>',
        f'<text class="axis" x="100%" y="{y}" text-anchor="end">{html.escape(last)}</text>',
    ]


def _bar(
    kind: str, x: float, width: float, value: float, top: float, tip: str, bottom: float = 0.0
) -> str:
    """A rect in plot units: ``value`` (over ``top``) tall, standing on ``bottom`` (for
    stacking)."""
    height = max(100 * value / top, 0.8)
    y = 100 - 100 * bottom / top - height
    return (
        f'<rect class="{kind}" x="{x:.2f}" y="{y:.2f}" width="{width:.2f}" height="{height:.2f}">'
        f"<title>{html.escape(tip)}</title></rect>"
    )


def _svg_cost(ticks: list[TickRow]) -> str:
    shown = ticks[-MAX_COST_BARS:]
    if not shown:
        return _empty_svg("chart-cost", "no ticks in this window")
    top = _nice_ceiling(max(t.record.cost_usd for t in shown))
    plot, text = _grid(_dollars(top))
    band = 1000 / len(shown)
    for i, tick in enumerate(shown):
        r = tick.record
        plot.append(
            _bar(
                f"bar o-{html.escape(r.outcome)}",
                i * band + band * 0.14,
                band * 0.72,
                r.cost_usd,
                top,
                f"{stamp(tick.at)} {lever_text(r)}: {r.outcome}, ${r.cost_usd:.4f}",
            )
        )
    text += _x_labels(
        shown[0].at.strftime("%m-%d %H:%M"),
        shown[-1].at.strftime("%m-%d %H:%M") if len(shown) > 1 else "",
    )
    label = (
        f"cost per tick, last {len(shown)} of {len(ticks)} ticks"
        if len(shown) < len(ticks)
        else "cost per tick"
    )
    return _svg("chart-cost", label, plot, text)


_BUCKETS = (
    (3600, "hour"),
    (3 * 3600, "3 h"),
    (6 * 3600, "6 h"),
    (12 * 3600, "12 h"),
    (86400, "day"),
    (7 * 86400, "week"),
    (30 * 86400, "30 days"),
)


def _svg_outcomes(review: Review) -> str:
    """Ticks per bucket, stacked by outcome; the bucket fits the window (hours for a day, six hours
    for a week), so the axis always spans the window, however close together the ticks ran."""
    ticks = review.ticks
    if not ticks:
        return _empty_svg("chart-outcomes", "no ticks in this window")
    first = (review.window.start or ticks[0].at).timestamp()
    last = max((review.window.end or ticks[-1].at).timestamp(), ticks[-1].at.timestamp(), first + 1)
    size, unit = next((b for b in _BUCKETS if (last - first) / b[0] < 36), _BUCKETS[-1])
    start = first - first % size
    count = max(int((last - start) // size) + (1 if (last - start) % size else 0), 1)
    buckets: list[Counter[str]] = [Counter() for _ in range(count)]
    for tick in ticks:
        buckets[min(max(int((tick.at.timestamp() - start) // size), 0), count - 1)][
            tick.record.outcome
        ] += 1
    top = max(sum(b.values()) for b in buckets)
    plot, text = _grid(f"{top} tick{'s' if top != 1 else ''}")
    band = 1000 / len(buckets)
    for i, bucket in enumerate(buckets):
        when = stamp(datetime.fromtimestamp(start + i * size, timezone.utc))
        below = 0
        for outcome in OUTCOME_ORDER:
            if bucket[outcome]:
                plot.append(
                    _bar(
                        f"seg o-{outcome}",
                        i * band + band * 0.1,
                        band * 0.8,
                        bucket[outcome],
                        top,
                        f"{when}: {bucket[outcome]} {outcome}",
                        bottom=below,
                    )
                )
                below += bucket[outcome]
    end = datetime.fromtimestamp(start + count * size, timezone.utc)
    text += _x_labels(
        datetime.fromtimestamp(start, timezone.utc).strftime("%m-%d %H:%M"),
        f"{end:%m-%d %H:%M} · per {unit}",
    )
    return _svg("chart-outcomes", f"ticks per {unit}, by outcome", plot, text)


MAX_VERSIONS = 8  # the per-version charts show the last this many versions (the table has all)


def _svg_pass_rate(versions: list[VersionStats]) -> str:
    shown = [v for v in versions if v.attempted][-MAX_VERSIONS:]
    if not shown:
        return _empty_svg("chart-pass", "no lever was attempted in this window")
    bars = [
        (
            v.version,
            v.pass_rate or 0.0,
            f"{v.pass_rate:.0%}",
            f"{v.version}: {v.shipped} of {v.attempted} attempted levers shipped ({v.standing})",
        )
        for v in shown
    ]
    return _version_bars(
        "chart-pass",
        "share of attempted levers shipped, per genome version",
        "100%",
        1.0,
        bars,
        "rate",
    )


def _svg_cost_per_shipped(versions: list[VersionStats]) -> str:
    shown = [v for v in versions if v.ticks][-MAX_VERSIONS:]
    if not any(v.shipped for v in shown):
        return _empty_svg("chart-cps", "no lever shipped in this window")
    top = _nice_ceiling(max(v.cost_per_shipped or 0.0 for v in shown))
    bars = [
        (
            v.version,
            v.cost_per_shipped or 0.0,
            "—" if v.cost_per_shipped is None else _dollars(v.cost_per_shipped),
            f"{v.version}: "
            + (
                "nothing shipped"
                if v.cost_per_shipped is None
                else f"${v.cost:.4f} over {v.shipped} shipped levers"
            ),
        )
        for v in shown
    ]
    return _version_bars(
        "chart-cps",
        "dollars per shipped lever, per genome version",
        _dollars(top),
        top,
        bars,
        "cps",
    )


def _version_bars(
    chart_id: str,
    label: str,
    top_label: str,
    top: float,
    bars: list[tuple[str, float, str, str]],
    kind: str,
) -> str:
    """One bar per version, its value written inside the bar's top when the bar is tall enough and
    just above it otherwise: never up where the axis label is."""
    plot, text = _grid(top_label)
    band = 1000 / len(bars)
    for i, (version, value, shown, tip) in enumerate(bars):
        if value > 0:
            plot.append(_bar(f"bar {kind}", i * band + band * 0.22, band * 0.56, value, top, tip))
        centre = f"{(i + 0.5) * 100 / len(bars):.2f}%"
        bar_top = _PLOT_TOP + _PLOT_H * (1 - min(value / top, 1.0))
        inside = bar_top + 15 <= _PLOT_TOP + _PLOT_H - 2 and value / top >= 0.2
        y, cls = (bar_top + 14, "value inside") if inside else (bar_top - 5, "value")
        text.append(
            f'<text class="{cls}" x="{centre}" y="{y:.1f}" text-anchor="middle">'
            f"{html.escape(shown)}</text>"
        )
        text.append(
            f'<text class="axis" x="{centre}" y="{_PLOT_TOP + _PLOT_H + 15}" '
            f'text-anchor="middle">{html.escape(version)}</text>'
        )
    return _svg(chart_id, label, plot, text)


def _dollars(value: float) -> str:
    return f"${value:.2f}" if value >= 0.1 else f"${value:.3f}"


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 × a power of ten at or above ``value``: round axis
    labels."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value * (1 - 1e-9))


MAX_METRIC_CHARTS = 4


def _svg_metric(name: str, points: list[MetricPoint]) -> str:
    """A metric gate's number over time: the start tree's first, then each shipped tick's,
    joined."""
    values = [p.value for p in points]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    step = 1000 / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return 100 - 100 * (value - low) / (high - low)

    xy = [(i * step if len(points) > 1 else 500, y(p.value)) for i, p in enumerate(points)]
    plot, text = _grid(f"{high:.4g}")
    plot.append(
        '<polyline class="metric" vector-effect="non-scaling-stroke" points="'
        + " ".join(f"{x:.2f},{v:.2f}" for x, v in xy)
        + '"/>'
    )
    for (x, v), point in zip(xy, points, strict=True):
        plot.append(
            f'<rect class="dot" x="{x - 4:.2f}" y="{v - 2:.2f}" width="8" height="4">'
            f"<title>{html.escape(f'{stamp(point.at)} {point.lever}: {name} = {point.value:g}')}"
            "</title></rect>"
        )
    text.append(
        f'<text class="axis" x="100%" y="{_PLOT_TOP - 6}" text-anchor="end">'
        f"{html.escape(f'{points[0].value:g} → {points[-1].value:g}')}</text>"
    )
    text += _x_labels(points[0].at.strftime("%m-%d %H:%M"), points[-1].at.strftime("%m-%d %H:%M"))
    return _svg(f"chart-metric-{html.escape(name)}", f"{name} over time", plot, text)
