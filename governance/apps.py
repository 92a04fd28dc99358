from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance import metrics
        from torghut.metrics import register_database_collector

        register_database_collector("kill_switch_state", metrics.kill_switch_state_family)
        register_database_collector("drill_time_to_halt", metrics.drill_time_to_halt_family)
