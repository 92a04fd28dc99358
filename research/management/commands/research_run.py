import json
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from research.models import GatePolicy, ResearchRun
from research.services import gate_policy_ensure_active, research_run_execute, research_run_pictures_render
from trading.strategies.models import Strategy


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not an ISO date: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Run one paper simulation of a strategy over a ClickHouse window, print metrics and the gate report, persist the run."

    def add_arguments(self, parser):
        parser.add_argument("--strategy", required=True, help="Strategy name, or name@version (default: its newest version).")
        parser.add_argument("--from", dest="start", required=True, help="Window start, ISO date or datetime (UTC).")
        parser.add_argument("--to", dest="end", required=True, help="Window end (exclusive), ISO date or datetime (UTC).")
        parser.add_argument("--table", default=None, help="Signal table (default RESEARCH_SOURCE_TABLE).")
        parser.add_argument("--policy", default=None, help="Gate policy name (default: the active policy).")

    def handle(self, *args, **options):

        name, _, version = options["strategy"].partition("@")
        strategies = Strategy.objects.filter(name=name, **({"version": version} if version else {}))
        strategy = strategies.order_by("-created_at", "-id").first()
        if strategy is None:
            known = ", ".join(f"{s.name}@{s.version}" for s in Strategy.objects.all()[:20]) or "none"
            raise CommandError(f"no strategy {options['strategy']!r} (known: {known})")
        start, end = _date(options["start"]), _date(options["end"])
        if end <= start:
            raise CommandError("--to must be after --from")
        if options["policy"]:
            policy = GatePolicy.objects.filter(name=options["policy"]).first()
            if policy is None:
                raise CommandError(f"no gate policy {options['policy']!r}")
        else:
            policy = gate_policy_ensure_active()
        table = options["table"] or settings.RESEARCH_SOURCE_TABLE

        self.stdout.write(f"research run: {strategy.name}@{strategy.version} ({strategy.kind}) on {table}, policy {policy}")
        outcome = research_run_execute(
            strategy_id=strategy.pk,
            window_start=start,
            window_end=end,
            source_table=table,
            policy=policy,
            trigger=ResearchRun.Trigger.MANUAL,
            progress=self.stdout.write,
        )
        payload = outcome.payload
        metrics = {
            key: payload[key] for key in ("signals", "decisions", "trades", "net_pnl", "max_drawdown", "turnover", "win_rate", "errors")
        }
        self.stdout.write("metrics: " + json.dumps(metrics, sort_keys=True))
        self.stdout.write("gate report:")
        for gate in payload["gate_report"].get("gates", []):
            extra = f" ({gate['error']})" if gate.get("error") else ""
            self.stdout.write(
                f"  {gate['category']:<15} {gate['name']:<26} {gate['status']:<14} observed={gate['observed']} threshold={gate['threshold']}{extra}"
            )
        self.stdout.write(
            f"status: {payload['status']}  recommendation: {payload['recommendation']}"
            + (f"  reason: {payload['failure_reason']}" if payload["failure_reason"] else "")
        )
        self.stdout.write(
            f"run_id: {outcome.run_id}  gate_report_trace_id: {payload['gate_report_trace_id']}  "
            f"recommendation_trace_id: {payload['recommendation_trace_id']}"
        )
        if outcome.persisted:
            self.stdout.write(f"pictures: {', '.join(research_run_pictures_render(run_id=outcome.run_id))}")
        if not outcome.persisted:
            self.stderr.write("the run could not be written to Postgres; its payload is in the dead letters (replay it)")
