"""Run the rollback drill for one trigger or all of them, recording a DrillRun each."""

from django.core.management.base import BaseCommand, CommandError

from governance.drills.services import DRILL_TRIGGERS, drill_run
from governance.errors import GovernanceError


class Command(BaseCommand):
    help = (
        "Break a paper / simulated stack for real (pause the simulator, fail the LEAN venue, book losses, fail research runs), "
        "time the emergency stop's halt and cancel, check the evidence and the recovery path, and repair the fault."
    )

    def add_arguments(self, parser):
        parser.add_argument("--trigger", choices=[*DRILL_TRIGGERS, "all"], default="all")

    def handle(self, *args, trigger: str, **options):
        names = list(DRILL_TRIGGERS) if trigger == "all" else [trigger]
        failed = []
        for name in names:
            try:
                run = drill_run(trigger=DRILL_TRIGGERS[name], progress=lambda message: self.stdout.write(f"  {message}"))
            except GovernanceError as exc:
                raise CommandError(f"drill refused: {exc}") from exc
            timing = lambda value: "-" if value is None else f"{value:.2f} s"  # noqa: E731
            self.stdout.write(
                f"{name}: {'passed' if run.passed else 'FAILED'} halt={timing(run.time_to_halt_seconds)} "
                f"cancel={timing(run.time_to_cancel_seconds)} checks={run.checks} {run.error}".rstrip()
            )
            if not run.passed:
                failed.append(name)
        if failed:
            raise CommandError(f"drill failed for: {', '.join(failed)}")
