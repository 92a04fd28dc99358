"""The optional LLM reviewer against a local OpenAI-compatible stand-in on 127.0.0.1: a valid verdict, an invalid
answer, a slow server and a server that is down; a veto fails the run, an approval never promotes it alone."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from governance.promotion.models import PromotionRequest
from research.models import ResearchRun
from research.reviewer import VERDICT_SCHEMA, llm_review, review_gate, reviewer_prompt
from research.services import gate_policy_ensure_active, research_run_execute, research_run_pictures_render, trace_id
from tests.signals import crossing_rows, insert_signals

REPORT = {"run_id": "r1", "gates": [{"name": "net_pnl", "status": "pass"}], "metrics": {"net_pnl": 12.0}}
VETO = {"verdict": "veto", "rationale": "The edge is one trade.", "risks": ["sample of one", "thin edge"]}


class StandIn:
    """What the stand-in answers next: `answer` (a dict is sent as the message content), after `delay` seconds."""

    def __init__(self) -> None:
        self.answer: object = {"verdict": "approve", "rationale": "Nothing beyond the gates.", "risks": []}
        self.delay = 0.0
        self.status = 200
        self.requests: list[dict] = []


@pytest.fixture
def stand_in(settings) -> Iterator[StandIn]:
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's name)
            state.requests.append(
                {
                    "path": self.path,
                    "body": json.loads(self.rfile.read(int(self.headers["Content-Length"]))),
                    "auth": self.headers.get("Authorization"),
                }
            )
            time.sleep(state.delay)
            content = state.answer if isinstance(state.answer, str) else json.dumps(state.answer)
            body = json.dumps(
                {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
            )
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())
            except (BrokenPipeError, ConnectionResetError):  # the slow case: the client already gave up
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TORGHUT_LLM_URL = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    settings.TORGHUT_LLM_MODEL = "stand-in"
    settings.TORGHUT_LLM_TIMEOUT_SECONDS = 0.5
    settings.TORGHUT_LLM_API_KEY = "local-test-token"
    yield state
    server.shutdown()
    server.server_close()


def test_a_valid_verdict_is_stored_with_its_prompt_version_and_the_report_it_read(stand_in):
    stand_in.answer = VETO
    review = llm_review(gate_report=REPORT, gate_report_trace_id="a" * 64)
    assert review["status"] == "evaluated" and review["verdict"] == "veto" and review["risks"] == VETO["risks"]
    assert (review["model"], review["prompt_version"], review["reviewed_gate_report_trace_id"]) == ("stand-in", "reviewer_v1", "a" * 64)
    sent = stand_in.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer local-test-token"
    assert sent["body"]["model"] == "stand-in" and sent["body"]["messages"][0]["content"] == reviewer_prompt()
    assert json.loads(sent["body"]["messages"][1]["content"].split("\n", 1)[1]) == REPORT
    assert review_gate(review)["status"] == "fail"
    stand_in.answer = "```json\n" + json.dumps({"verdict": "concerns", "rationale": "Look at fold 2.", "risks": ["fold 2"]}) + "\n```"
    assert review_gate(llm_review(gate_report=REPORT, gate_report_trace_id="a" * 64))["status"] == "pass"


@pytest.mark.parametrize(
    "answer",
    [
        {"verdict": "promote", "rationale": "yes", "risks": []},
        {"verdict": "approve", "rationale": "", "risks": []},
        {"verdict": "approve", "rationale": "fine"},
        {"verdict": "approve", "rationale": "fine", "risks": [], "capital": 1.0},
        "I think this strategy looks fine.",
    ],
)
def test_an_answer_that_is_not_a_valid_verdict_is_not_evaluated_with_the_reason(stand_in, answer):
    stand_in.answer = answer
    review = llm_review(gate_report=REPORT, gate_report_trace_id="a" * 64)
    assert review["status"] == "not_evaluated" and review["reason"].startswith("invalid answer")
    assert "verdict" not in review
    assert review_gate(review) == {
        "category": "review",
        "name": "llm_reviewer",
        "status": "not_evaluated",
        "observed": None,
        "threshold": "no veto",
        "reason": review["reason"],
    }


def test_a_slow_reviewer_times_out_into_not_evaluated(stand_in):
    stand_in.delay = 2.0
    started = time.monotonic()
    review = llm_review(gate_report=REPORT, gate_report_trace_id="a" * 64)
    assert review["status"] == "not_evaluated" and review["reason"] == "timeout after 0.5s"
    assert time.monotonic() - started < 1.9


def test_a_reviewer_that_is_down_or_erring_is_not_evaluated(stand_in, settings):
    stand_in.status = 503
    assert llm_review(gate_report=REPORT, gate_report_trace_id="a" * 64)["reason"] == "http_503"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.TORGHUT_LLM_URL = f"http://127.0.0.1:{port}/v1/chat/completions"
    review = llm_review(gate_report=REPORT, gate_report_trace_id="a" * 64)
    assert review["status"] == "not_evaluated" and review["reason"] == "unreachable: ConnectionError"


def test_the_verdict_schema_is_closed():
    assert VERDICT_SCHEMA["additionalProperties"] is False and set(VERDICT_SCHEMA["required"]) == {"verdict", "rationale", "risks"}


def _run(signal_table, make_strategy, name: str) -> ResearchRun:
    strategy = make_strategy(name, lane="paper")
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    insert_signals(
        signal_table, crossing_rows("AAPL", datetime(2026, 3, 2, 15, 10, tzinfo=UTC), [100, 101, 102, 104, 103], [-1, 1, 1, -1, -1])
    )
    outcome = research_run_execute(
        strategy_id=strategy.pk,
        window_start=start,
        window_end=datetime(2026, 3, 2, 15, 15, tzinfo=UTC),
        source_table=signal_table,
        policy=gate_policy_ensure_active(),
        now=datetime(2026, 3, 2, 15, 16, tzinfo=UTC),
    )
    return ResearchRun.objects.get(run_id=outcome.run_id)


@pytest.mark.django_db
def test_a_veto_fails_the_run_and_is_stored_with_its_trace_id_and_shown_to_the_approver(
    stand_in, signal_table, make_strategy, admin_client
):
    stand_in.answer = VETO
    run = _run(signal_table, make_strategy, "vetoed")
    assert (run.status, run.recommendation) == ("failed", "deny") and "llm_reviewer" in run.failure_reason
    assert run.llm_review["verdict"] == "veto" and run.llm_review_trace_id == trace_id(run.llm_review)
    gate = {g["name"]: g for g in run.gate_report["gates"]}["llm_reviewer"]
    assert (gate["status"], gate["observed"]) == ("fail", "veto")
    reviewed = dict(run.gate_report, gates=[g for g in run.gate_report["gates"] if g["name"] != "llm_reviewer"])
    assert run.llm_review["reviewed_gate_report_trace_id"] == trace_id(reviewed)
    page = admin_client.get(f"/admin/research/researchrun/{run.pk}/change/").content.decode()
    assert "The edge is one trade." in page and "sample of one" in page


@pytest.mark.django_db
def test_an_approval_never_promotes_alone_and_a_dead_reviewer_holds_the_run(stand_in, signal_table, make_strategy):
    run = _run(signal_table, make_strategy, "approved")
    assert run.llm_review["verdict"] == "approve"
    assert (run.status, run.recommendation) == ("passed", "hold")  # the other gates (drill, folds, sample) still decide
    stand_in.delay = 2.0
    slow = _run(signal_table, make_strategy, "unreviewed")
    assert (slow.status, slow.recommendation) == ("passed", "hold") and slow.llm_review["status"] == "not_evaluated"


@pytest.mark.django_db
def test_the_reviewer_is_off_by_default_and_never_called(signal_table, make_strategy, settings):
    assert settings.TORGHUT_LLM_URL == ""
    run = _run(signal_table, make_strategy, "unreviewed")
    assert run.llm_review == {} and run.llm_review_trace_id == ""
    assert "llm_reviewer" not in {g["name"] for g in run.gate_report["gates"]}


@pytest.mark.django_db
def test_the_promotion_request_an_approver_reads_shows_the_cited_runs_pictures_and_verdict(
    stand_in, signal_table, make_strategy, admin_client
):
    stand_in.answer = VETO
    run = _run(signal_table, make_strategy, "cited")
    research_run_pictures_render(run_id=run.run_id)
    request = PromotionRequest.objects.create(
        strategy=run.strategy,
        version=run.strategy_version,
        from_lane="paper",
        to_lane="shadow",
        requester="alice",
        research_run_ids=[run.run_id, "f" * 24],
        expires_at=timezone.now() + timezone.timedelta(hours=1),
    )
    page = admin_client.get(f"/admin/governance/promotionrequest/{request.pk}/change/").content.decode()
    assert run.run_id in page and page.count("data:image/svg+xml;base64,") == 3
    assert "<strong>veto</strong>: The edge is one trade." in page and run.llm_review_trace_id in page
