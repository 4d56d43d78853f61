"""The review as one self-contained HTML page: inline CSS (page.css) and SVG charts (charts.py),
coloured code diffs, nothing fetched, readable on a phone."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

from runner.review.charts import html_charts
from runner.review.data import FilePatch, Review
from runner.review.words import (
    COMMAND_OPTIONS,
    VERSION_HEADER,
    diffstat,
    failure_lines,
    file_stat,
    gates_short,
    hidden_lines,
    lever_text,
    version_row,
    version_text,
)
from runner.style import stamp

MAX_DIFF_LINES = 400  # per shipped lever in the HTML page; the rest is cut with a note


@cache
def _css() -> str:
    return (Path(__file__).parent / "page.css").read_text(encoding="utf-8")


def render_html(review: Review, generated: datetime | None = None) -> str:
    """One self-contained page: inline CSS and SVG, nothing fetched, readable on a phone."""
    generated = generated or datetime.now(timezone.utc)
    e = html.escape
    body = [
        "<header>",
        f'<h1>genome review</h1><p class="window">{e(review.window.label)}</p>',
        _html_cards(review),
        "</header>",
    ]
    if review.needs_person:
        body.append(
            '<section id="needs" class="needs"><h2>Needs you</h2><ul>'
            + "".join(f"<li>{_with_code(item)}</li>" for item in review.needs_person)
            + "</ul></section>"
        )
    body.append(_html_decisions(review))
    body.append(html_charts(review))
    body.append(_html_ticks(review))
    body.append(_html_versions(review))
    body.append(_html_shipped(review))
    body.append(_html_failures(review))
    if review.settled:
        body.append(
            '<section id="settled"><h2>Settled by you</h2><ul class="plain">'
            + "".join(
                f"<li>{e(item.subject)} <code>{e(item.sha[:8])}</code> <span "
                f'class="why">{e(stamp(item.at))}</span></li>'
                for item in review.settled
            )
            + "</ul></section>"
        )
    if review.hidden_failed:
        body.append(
            '<section id="hidden"><h2>Hidden checks that failed</h2><p>Sealed gates: the model was '
            'told only that one failed.</p><ul class="plain">'
            + "".join(
                f"<li><b>{e(heading)}</b><pre>{e(chr(10).join(output))}</pre></li>"
                for heading, output in hidden_lines(review)
            )
            + "</ul></section>"
        )
    body.append(_html_genome(review))
    if review.lessons:
        body.append(
            '<section id="lessons"><h2>Lessons added</h2><ul>'
            + "".join(
                f'<li><span class="tag">{e(lesson.version)} {e(lesson.date)}</span> '
                f"{e(lesson.text)}</li>"
                for lesson in review.lessons
            )
            + "</ul></section>"
        )
    if review.proposed:
        body.append(
            '<section id="proposed"><h2>Levers proposed by the loop</h2><ul>'
            + "".join(
                f"<li><b>{e(p.lever)}</b> {e(p.title)}"
                + "".join(f"<code>check: {e(c)}</code>" for c in p.checks)
                + "</li>"
                for p in review.proposed
            )
            + "</ul></section>"
        )
    if review.notes_read:
        body.append(
            '<section id="notes"><h2>Your notes, read by ticks</h2><ul>'
            + "".join(f"<li>{e(note)}</li>" for note in review.notes_read)
            + "</ul></section>"
        )
    body.append(
        f"<footer>HEAD {e(review.head[:12])} · generated {e(stamp(generated))} by genome "
        "review</footer>"
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        "<title>genome review · "
        f"{e(review.window.label)}</title>\n<style>\n{_css()}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + f"\n</main>\n<script>{_COPY_SCRIPT}</script>\n</body>\n</html>\n"
    )


# The page fetches nothing, and says so to the browser: no request can leave it, whatever a title
# holds.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
# Copy buttons: the clipboard API where the page is a secure context (a file is), else a selected
# textarea and execCommand; both work offline.
_COPY_SCRIPT = """
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("button.copy");
  if (!button) return;
  var text = button.getAttribute("data-copy");
  function shown(ok) {
    button.textContent = ok ? "copied" : "select it";
    setTimeout(function () { button.textContent = "copy"; }, 1500);
  }
  function fallback() {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { shown(true); }, \
function () { shown(fallback()); });
  } else {
    shown(fallback());
  }
});
"""


def _html_decisions(review: Review) -> str:
    if not review.decisions:
        return ""
    e = html.escape
    items = []
    for decision in review.decisions:
        commands = "".join(
            f'<div class="cmd"><code>{e(command)}</code><button type="button" class="copy" '
            f'data-copy="{e(command)}" aria-label="copy {e(command)}">copy</button></div>'
            for command in decision.commands
        )
        items.append(
            f'<li class="decision s-{e(decision.state)}"><div><b>{e(decision.lever)}</b> '
            f'{e(decision.title)} <span class="pill '
            f'o-{e(decision.state)}">{e(decision.state)}</span>'
            f'</div><div class="why">{e(decision.why)}</div>{commands}</li>'
        )
    return (
        '<section id="decide"><h2>Decide</h2><ul class="plain decisions">'
        + "".join(items)
        + f'</ul><p class="why">{e(COMMAND_OPTIONS)}.</p></section>'
    )


def _html_versions(review: Review) -> str:
    if not review.versions:
        return ""
    e = html.escape
    numeric = ' class="n"'
    head = "".join(
        f"<th{numeric if 0 < i < 5 else ''}>{e(name)}</th>" for i, name in enumerate(VERSION_HEADER)
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td data-label="{e(VERSION_HEADER[i])}"{numeric if 0 < i < 5 else ""}>{e(cell)}</td>'
            for i, cell in enumerate(version_row(stats))
        )
        + "</tr>"
        for stats in review.versions
    )
    return (
        '<section id="versions"><h2>Per genome version</h2><table class="vtable">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _html_failures(review: Review) -> str:
    failures = failure_lines(review)
    if not failures:
        return ""
    e = html.escape
    items = []
    for failure in failures:
        later = (
            f' <span class="later">✓ {e(failure.shipped_later)}</span>'
            if failure.shipped_later
            else ""
        )
        output = (
            '<pre class="gate-out">' + "\n".join(e(line) for line in failure.output) + "</pre>"
            if failure.output
            else ""
        )
        items.append(
            f"<li><b>{e(failure.lever)}</b> <span "
            f'class="why">{e(failure.why)}</span>{later}{output}</li>'
        )
    return (
        '<section id="failed"><h2>Failed and blocked</h2><ul class="plain">'
        + "".join(items)
        + "</ul></section>"
    )


def _with_code(text: str) -> str:
    """Escaped text with its `backtick spans` as <code>."""
    parts = html.escape(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return html.escape(text)
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _html_cards(review: Review) -> str:
    counts = review.outcomes
    cards = [
        ("ticks", f"{len(review.ticks)}", ""),
        ("shipped", f"{counts['shipped']}", "shipped"),
        ("failed", f"{counts['failed']}", "failed" if counts["failed"] else ""),
        ("blocked", f"{review.blocked_now}", "blocked" if review.blocked_now else ""),
        ("cost", f"${review.cost:.2f}", ""),
        ("tokens", _compact(review.tokens), ""),
    ]
    if review.genome:
        change = review.genome
        cards.append(
            (
                "genome",
                change.after
                if change.before == change.after
                else f"{change.before} → {change.after}",
                "",
            )
        )
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {cls}"><span class="num">{html.escape(value)}</span>'
            f'<span class="lbl">{label}</span></div>'
            for label, value, cls in cards
        )
        + "</div>"
    )


def _compact(number: int) -> str:
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if number >= size:
            return f"{number / size:.1f}{unit}"
    return str(number)


def _html_ticks(review: Review) -> str:
    if not review.ticks:
        return (
            '<section id="ticks"><h2>Ticks</h2>'
            '<p class="empty">No tick ran in this window.</p></section>'
        )
    e = html.escape
    rows = []
    for tick in reversed(review.ticks):
        r = tick.record
        reason = f'<div class="why">{e(r.reason)}</div>' if r.reason else ""
        rows.append(
            f'<tr class="o-{e(r.outcome)}"><td '
            f'data-label="time">{e(tick.at.strftime("%m-%d %H:%M"))}</td>'
            '<td data-label="outcome"><span class="pill '
            f'o-{e(r.outcome)}">{e(r.outcome)}</span></td>'
            f'<td data-label="lever" class="lever">{e(lever_text(r))}{reason}</td>'
            f'<td data-label="version">{e(version_text(r))}</td>'
            f'<td data-label="gates" title="{e(r.gates)}">{e(gates_short(r.gates))}</td>'
            f'<td data-label="tokens" class="n">{r.tokens:,}</td>'
            f'<td data-label="cost" class="n">${r.cost_usd:.4f}</td></tr>'
        )
    return (
        '<section id="ticks"><h2>Ticks <small>newest first, times in UTC</small></h2><table '
        'class="ticks">'
        "<thead><tr><th>time</th><th>outcome</th><th>lever</th><th>version</th><th>gates</th>"
        '<th class="n">tokens</th><th class="n">cost</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _html_shipped(review: Review) -> str:
    if not review.shipped:
        return ""
    e = html.escape
    items = []
    opened = " open" if len(review.shipped) <= 3 else ""  # a few diffs read best unfolded
    for lever in review.shipped:
        total = max(lever.added + lever.deleted, 1)
        bar = (
            '<span class="dstat"><i class="add" '
            f'style="width:{100 * lever.added / total:.0f}%"></i>'
            f'<i class="del" style="width:{100 * lever.deleted / total:.0f}%"></i></span>'
        )
        files = "".join(
            f'<li><code>{e(f.path)}</code> <span class="stat">{e(file_stat(f))}</span></li>'
            for f in lever.files
        )
        items.append(
            f'<article class="ship"><h3><span class="id">{e(lever.lever)}</span> '
            f"{e(lever.title)}</h3>"
            f'<p class="meta"><code>{e(lever.sha[:8])}</code> · {e(stamp(lever.at))} · '
            f"{e(diffstat(lever.files))} {bar}"
            f'</p><ul class="files">{files}</ul>'
            f"<details{opened}><summary>code "
            f"diff</summary>{_html_code_diff(lever.patches)}</details></article>"
        )
    return '<section id="shipped"><h2>Shipped</h2>' + "".join(items) + "</section>"


def _html_genome(review: Review) -> str:
    change = review.genome
    if change is None:
        return ""
    if not change.diff:
        return (
            f'<section id="genome"><h2>Genome {html.escape(change.after)}</h2>'
            '<p class="empty">The body did not change in this window.</p></section>'
        )
    lines = _diff_html(change.diff, highlight=False)
    return (
        f'<section id="genome"><h2>Genome {html.escape(change.before)} → '
        f"{html.escape(change.after)}</h2>"
        f'<pre class="diff">{lines}</pre></section>'
    )


def _html_code_diff(patches: list[FilePatch]) -> str:
    shown, out = 0, []
    for patch in patches:
        highlight = not patch.path.lower().endswith(_PROSE)
        out.append(f'<div class="file">{html.escape(patch.path)}</div><pre class="diff">')
        body = [line for line in patch.lines if not line.startswith(("diff --git", "index "))]
        room = MAX_DIFF_LINES - shown
        out.append(_diff_html(body[:room], highlight))
        shown += min(len(body), room)
        if len(body) > room:
            out.append(f'<span class="cut">… {len(body) - room} more lines; see git show</span>')
        out.append("</pre>")
        if shown >= MAX_DIFF_LINES:
            break
    return "".join(out) or '<p class="empty">no textual changes</p>'


_PROSE = (".md", ".txt", ".rst", ".adoc", ".csv", ".json", ".lock")
_TOKEN = re.compile(
    r"(?P<com>(?:^|(?<=\s))(?:#|//).*$)"
    r"|(?P<str>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`)"
    r"|(?P<num>\b\d+(?:\.\d+)?\b)"
    r"|(?P<kw>\b(?:and|as|async|await|break|case|catch|class|const|continue|def|del|elif|else|enum|except|"
    r"export|extends|false|False|finally|fn|for|from|func|function|if|impl|import|in|interface|is|lambda|let|"
    r"match|mut|new|nil|None|not|null|or|package|pass|pub|raise|return|self|static|struct|switch|this|throw|"
    r"true|True|try|type|use|var|while|with|yield)\b)"
)


def _diff_html(lines: list[str], highlight: bool) -> str:
    """A unified diff as one span per line: file header, hunk header, added, removed, context."""
    out, in_hunk = [], False
    for line in lines:
        if line.startswith("@@"):
            in_hunk = True
            out.append(f'<span class="d-hunk">{html.escape(line)}</span>')
        elif not in_hunk:  # ---/+++ and mode lines; inside a hunk, "---" is a removed "--"
            out.append(f'<span class="d-meta">{html.escape(line)}</span>')
        else:
            kind = {"+": "d-add", "-": "d-del"}.get(line[:1], "d-ctx")
            text = _highlight(line[1:]) if highlight else html.escape(line[1:])
            out.append(f'<span class="{kind}">{html.escape(line[:1])}{text}</span>')
    return "".join(out)


def _highlight(text: str) -> str:
    out, at = [], 0
    for match in _TOKEN.finditer(text):
        out.append(html.escape(text[at : match.start()]))
        out.append(f'<span class="t-{match.lastgroup}">{html.escape(match.group())}</span>')
        at = match.end()
    out.append(html.escape(text[at:]))
    return "".join(out)
