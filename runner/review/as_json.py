"""The review as JSON, for dashboards and chat bots: the same data the other formats show.

The schema is stable and documented in README.md ("genome review --json"). ``schema`` names its
version: a field is only ever added within a version; renaming or removing one makes a new version.
Times are ISO-8601 UTC with a ``Z``; money is US dollars as a number; a value that does not apply is
``null``, never left out.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from runner.review.data import OUTCOME_ORDER, Review

SCHEMA = "genome-review/1"


def render_json(review: Review, generated: datetime | None = None) -> str:
    return json.dumps(review_dict(review, generated), ensure_ascii=False, indent=2) + "\n"


def review_dict(review: Review, generated: datetime | None = None) -> dict[str, Any]:
    generated = generated or datetime.now(timezone.utc)
    counts = review.outcomes
    return {
        "schema": SCHEMA,
        "generated": _time(generated),
        "head": review.head,
        "window": {
            "label": review.window.label,
            "since": _time(review.window.start),
            "until": _time(review.window.end),
            "base": review.window.base,
        },
        "totals": {
            "ticks": len(review.ticks),
            "outcomes": {o: counts[o] for o in OUTCOME_ORDER},
            "cost_usd": round(review.cost, 6),
            "tokens": review.tokens,
            "blocked_levers": review.blocked_now,
        },
        "needs_you": list(review.needs_person),
        "decisions": [
            {
                "lever": d.lever,
                "title": d.title,
                "state": d.state,
                "why": d.why,
                "commands": list(d.commands),
            }
            for d in review.decisions
        ],
        "ticks": [
            {
                "record": t.sha,
                "at": _time(t.at),
                "started": _time(t.started),
                "outcome": t.record.outcome,
                "lever": t.record.lever or None,
                "title": t.record.title,
                "version": t.record.version or None,
                "new_version": t.record.new_version or None,
                "gates": t.record.gates,
                "metrics": t.record.metrics,
                "gate_output": list(t.record.gate_output),
                "reason": t.record.reason,
                "tokens": t.record.tokens,
                "cost_usd": t.record.cost_usd,
                "commit": t.record.commit or None,
                "rollback": t.rollback or None,
            }
            for t in review.ticks
        ],
        "versions": [
            {
                "version": v.version,
                "ticks": v.ticks,
                "shipped": v.shipped,
                "failed": v.failed,
                "pass_rate": v.pass_rate,
                "cost_usd": round(v.cost, 6),
                "tokens": v.tokens,
                "cost_per_shipped_usd": None
                if v.cost_per_shipped is None
                else round(v.cost_per_shipped, 6),
                "tokens_per_shipped": v.tokens_per_shipped,
                "standing": v.standing,
            }
            for v in review.versions
        ],
        "shipped": [
            {
                "lever": s.lever,
                "title": s.title,
                "commit": s.sha,
                "at": _time(s.at),
                "gates": s.gates,
                "files": [
                    {"path": f.path, "added": f.added, "deleted": f.deleted} for f in s.files
                ],
            }
            for s in review.shipped
        ],
        "blocked": [
            {"lever": b.lever, "title": b.title, "why": b.why, "at": _time(b.at)}
            for b in review.blocked
        ],
        "settled": [
            {
                "lever": s.lever,
                "decision": s.decision,
                "commit": s.sha,
                "at": _time(s.at),
                "subject": s.subject,
            }
            for s in review.settled
        ],
        "genome": None
        if review.genome is None
        else {
            "before": review.genome.before,
            "after": review.genome.after,
            "diff": list(review.genome.diff),
        },
        "lessons": [
            {"version": lesson.version, "date": lesson.date, "text": lesson.text}
            for lesson in review.lessons
        ],
        "proposed": [
            {"lever": p.lever, "title": p.title, "checks": list(p.checks)} for p in review.proposed
        ],
        "notes_read": list(review.notes_read),
        "metrics": {
            name: [{"at": _time(p.at), "value": p.value, "lever": p.lever} for p in points]
            for name, points in review.metric_points.items()
        },
        "hidden_failed": [
            {
                "time": h.time,
                "lever": h.lever or None,
                "gate": h.gate,
                "summary": h.summary,
                "output": h.output,
            }
            for h in review.hidden_failed
        ],
    }


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
