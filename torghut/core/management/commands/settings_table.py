from django.conf import settings
from django.core.management.base import BaseCommand
from torghut.core.env import REGISTRY


class Command(BaseCommand):
    help = "Print the Markdown table of every environment setting (pasted into README.md)."

    def handle(self, *args, **options):
        self.stdout.write("| setting | default | meaning |")
        self.stdout.write("| --- | --- | --- |")
        for doc in sorted(REGISTRY.values(), key=lambda d: d.name):
            default = doc.default.replace(str(settings.BASE_DIR), "<repo>")
            self.stdout.write(f"| `{doc.name}` | `{default}` | {doc.doc} |")
