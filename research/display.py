"""HTML an operator reads about a run (admin pages of research and of promotion requests): its charts and
the LLM reviewer's verdict. Charts are inlined as data URIs (`<img>` never runs SVG scripts)."""

from __future__ import annotations

import base64

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from research.models import ResearchRun
from research.selectors import research_run_pictures


def run_pictures_html(run: ResearchRun) -> SafeString | str:
    pictures = research_run_pictures(run=run)
    if not pictures:
        return "not rendered yet"
    return format_html_join(
        "",
        "<figure style='margin:0 0 8px 0'><img alt='{} of run {}' src='data:{};base64,{}' style='max-width:100%'></figure>",
        ((p.kind, run.run_id, p.media_type, base64.b64encode(p.content.encode()).decode()) for p in pictures),
    )


def llm_review_html(run: ResearchRun) -> SafeString | str:
    review = run.llm_review or {}
    if not review:
        return "reviewer off"
    if review.get("status") != "evaluated":
        return format_html("not evaluated: {} <small>(trace {})</small>", review.get("reason", ""), run.llm_review_trace_id)
    risks = format_html_join("", "<li>{}</li>", ((risk,) for risk in review.get("risks", [])))
    return format_html(
        "<strong>{}</strong>: {}<ul>{}</ul><small>{} · prompt {} · trace {}</small>",
        review["verdict"],
        review.get("rationale", ""),
        risks,
        review.get("model", ""),
        review.get("prompt_version", ""),
        run.llm_review_trace_id,
    )
