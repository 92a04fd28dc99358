from django.core.management.base import BaseCommand

from trading.strategies.kinds import STRATEGY_KINDS
from trading.strategies.models import Strategy


class Command(BaseCommand):
    help = "Development only: create one paper-lane strategy per strategy kind when no strategy exists."

    def handle(self, *args, **options):
        if Strategy.objects.exists():
            self.stdout.write("strategies exist; none created")
            return
        for kind in sorted(STRATEGY_KINDS):
            Strategy.objects.create(name=kind, version="1", kind=kind, lane="paper", capital_fraction="0.1", parameters={})
        self.stdout.write(f"created paper strategies: {', '.join(sorted(STRATEGY_KINDS))}")
