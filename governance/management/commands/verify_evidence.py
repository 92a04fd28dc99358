"""Walk the evidence-package hash chain; exit non-zero naming every package that was altered."""

from django.core.management.base import BaseCommand, CommandError

from governance.evidence.models import EvidencePackage
from governance.evidence.selectors import evidence_chain_verify


class Command(BaseCommand):
    help = "Verify the sha256 of every evidence package and the links of the chain."

    def handle(self, *args, **options):
        problems = evidence_chain_verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"evidence chain broken: {len(problems)} problem(s)")
        self.stdout.write(f"evidence chain intact: {EvidencePackage.objects.count()} package(s)")
