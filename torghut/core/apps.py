"""The core app keeps the label `torghut`, so its tables, permissions and admin URLs stay where they were."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "torghut.core"
    label = "torghut"
    verbose_name = "torghut infrastructure"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from torghut.core import checks  # noqa: F401, PLC0415  (registers the production system checks)
        from torghut.core.deadletters import dead_letters_pending_family  # noqa: PLC0415  (loads models)
        from torghut.core.heartbeat import heartbeats_family  # noqa: PLC0415
        from torghut.core.metrics import register_database_collector  # noqa: PLC0415

        register_database_collector("dead_letters", dead_letters_pending_family)
        register_database_collector("heartbeats", heartbeats_family)
