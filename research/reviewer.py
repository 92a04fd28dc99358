"""The optional LLM reviewer: an OpenAI-compatible chat-completions endpoint reads a run's gate report.

Off unless `TORGHUT_LLM_URL` is set. Its verdict (`approve | concerns | veto`, rationale, risks) must
match `VERDICT_SCHEMA`; a timeout, an unreachable endpoint, an HTTP error or an answer that is not a
valid verdict is `not_evaluated` with the reason. The verdict can only hold a run back (a veto fails
the run's `llm_reviewer` gate); it never approves alone, because `approve` adds nothing the deterministic
gates did not already require. Prompts are versioned files in `research/prompts/`; the review records
the version and the sha256 of the text it sent.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import jsonschema
import requests
from django.conf import settings

PROMPT_VERSION = "reviewer_v1"
PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
MAX_ANSWER_CHARS = 20_000  # a verdict is a few hundred characters; a longer answer is refused unread
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["verdict", "rationale", "risks"],
    "properties": {
        "verdict": {"enum": ["approve", "concerns", "veto"]},
        "rationale": {"type": "string", "minLength": 1, "maxLength": 4000},
        "risks": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 500}},
    },
}
EVALUATED, NOT_EVALUATED = "evaluated", "not_evaluated"


def reviewer_enabled() -> bool:
    return bool(settings.TORGHUT_LLM_URL)


def reviewer_prompt(version: str = PROMPT_VERSION) -> str:
    return (PROMPTS_DIR / f"{version}.md").read_text()


def _answer_text(body: Any) -> str:
    content = body["choices"][0]["message"]["content"]
    if not isinstance(content, str):
        raise ValueError("message content is not text")
    text = content.strip()
    if text.startswith("```"):  # models often fence JSON even when told not to
        text = text.strip("`").removeprefix("json").strip()
    return text


def llm_review(*, gate_report: dict[str, Any], gate_report_trace_id: str) -> dict[str, Any]:
    """Ask the reviewer about one gate report; always returns a record (status, verdict or reason, provenance)."""
    system = reviewer_prompt()
    evidence = json.dumps(gate_report, sort_keys=True, default=str)
    record: dict[str, Any] = {
        "status": NOT_EVALUATED,
        "model": settings.TORGHUT_LLM_MODEL,
        "prompt_version": PROMPT_VERSION,
        "prompt_sha256": hashlib.sha256(system.encode()).hexdigest(),
        "reviewed_gate_report_trace_id": gate_report_trace_id,
    }
    request = {
        "model": settings.TORGHUT_LLM_MODEL,
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": f"Gate report and metrics:\n{evidence}"}],
    }
    headers = {"Content-Type": "application/json"}
    if settings.TORGHUT_LLM_API_KEY:
        headers["Authorization"] = f"Bearer {settings.TORGHUT_LLM_API_KEY}"
    timeout = settings.TORGHUT_LLM_TIMEOUT_SECONDS
    started = time.perf_counter()
    try:
        response = requests.post(settings.TORGHUT_LLM_URL, json=request, headers=headers, timeout=(timeout, timeout))
    except requests.Timeout:
        return {**record, "reason": f"timeout after {timeout:g}s"}
    except requests.RequestException as exc:
        return {**record, "reason": f"unreachable: {type(exc).__name__}"}
    record["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    if response.status_code != 200:
        return {**record, "reason": f"http_{response.status_code}"}
    if len(response.content) > MAX_ANSWER_CHARS:
        return {**record, "reason": f"invalid answer: longer than {MAX_ANSWER_CHARS} bytes"}
    try:
        verdict = json.loads(_answer_text(response.json()))
        jsonschema.validate(verdict, VERDICT_SCHEMA)
    except jsonschema.ValidationError as exc:
        return {**record, "reason": f"invalid answer: {exc.message}"[:500]}
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return {**record, "reason": f"invalid answer: {type(exc).__name__}: {exc}"[:500]}
    return {**record, "status": EVALUATED, **verdict}


def review_gate(review: dict[str, Any]) -> dict[str, Any]:
    """The review as a gate-report entry: a veto fails, approve and concerns pass, anything else is not_evaluated."""
    if review.get("status") != EVALUATED:
        status = "not_evaluated"
    else:
        status = "fail" if review["verdict"] == "veto" else "pass"
    entry = {"category": "review", "name": "llm_reviewer", "status": status, "observed": review.get("verdict"), "threshold": "no veto"}
    if status == "not_evaluated":
        entry["reason"] = review.get("reason", "")
    return entry
