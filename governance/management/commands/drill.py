"""Run the synthetic rollback drill for one trigger or all of them, recording a DrillRun each."""
from django.core.management.base import BaseCommand, CommandError

from governance.drill import DRILL_TRIGGERS, drill_run
from governance.services import GovernanceError


class Command(BaseCommand):
    help = "Inject a fault through the emergency-stop engine, time the halt, check evidence and recovery."

    def add_arguments(self, parser):
        parser.add_argument("--trigger", choices=[*DRILL_TRIGGERS, "all"], default="all")

    def handle(self, *args, trigger: str, **options):
        names = list(DRILL_TRIGGERS) if trigger == "all" else [trigger]
        failed = []
        for name in names:
            try:
                run = drill_run(trigger=DRILL_TRIGGERS[name])
            except GovernanceError as exc:
                raise CommandError(f"drill refused: {exc}") from exc
            self.stdout.write(
                f"{name}: {'passed' if run.passed else 'FAILED'} halt={run.time_to_halt_seconds} s "
                f"cancel={run.time_to_cancel_seconds} s checks={run.checks} {run.error}".rstrip()
            )
            if not run.passed:
                failed.append(name)
        if failed:
            raise CommandError(f"drill failed for: {', '.join(failed)}")
