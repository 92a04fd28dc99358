from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance import metrics
        from torghut.metrics import register_database_collector

        register_database_collector("kill_switch_state", metrics.kill_switch_state_family)
        register_database_collector("drill_time_to_halt", metrics.drill_time_to_halt_family)
        from django.db.models.signals import post_migrate

        from governance import metrics_promotion

        register_database_collector("capital_ramp", metrics_promotion.capital_ramp_family)
        register_database_collector("promotion_requests_pending", metrics_promotion.pending_promotions_family)
        post_migrate.connect(_promotion_defaults_ensure, sender=self)


def _promotion_defaults_ensure(**kwargs) -> None:
    # After migrate (and after test flushes): the approvers group and the checkpoint policy row exist.
    from governance.promotion import approvers_group_ensure, checkpoint_policy_ensure

    approvers_group_ensure()
    checkpoint_policy_ensure()
