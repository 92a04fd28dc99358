import importlib

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import module_has_submodule

from torghut.core import clickhouse


class Command(BaseCommand):
    help = "Create the ClickHouse database and apply every app's ClickHouse DDL (idempotent)."

    def handle(self, *args, **options):
        try:
            clickhouse.ensure_database()
            applied = 0
            for config in apps.get_app_configs():
                if not module_has_submodule(config.module, "clickhouse_ddl"):
                    continue
                module = importlib.import_module(f"{config.name}.clickhouse_ddl")
                for statement in module.statements():
                    clickhouse.execute(f"ddl:{config.label}", statement)
                    applied += 1
        except clickhouse.ClickHouseError as exc:
            raise CommandError(f"ClickHouse DDL failed: {exc}") from exc
        self.stdout.write(f"ClickHouse database {clickhouse.target().database}: {applied} DDL statement(s) applied")
