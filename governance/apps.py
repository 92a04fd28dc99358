"""The governance app: plugs its packages into the layers below once Django has loaded the models."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from research import ports as research_ports
from torghut.core.metrics import register_database_collector
from trading import ports as trading_ports


class GovernanceConfig(AppConfig):
    name = "governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing these at module level would load models before the app registry is ready.
        from governance.drills.metrics import drill_time_to_halt_family  # noqa: PLC0415
        from governance.drills.selectors import last_passing_drill_at  # noqa: PLC0415
        from governance.emergency.metrics import trigger_state_family  # noqa: PLC0415
        from governance.emergency.selectors import kill_switch_state  # noqa: PLC0415
        from governance.emergency.services import emergency_stop_alert_close, triggers_reset  # noqa: PLC0415
        from governance.killswitch.metrics import kill_switch_state_family  # noqa: PLC0415
        from governance.killswitch.signals import kill_switch_returned_to_active  # noqa: PLC0415
        from governance.promotion.metrics import capital_ramp_family, pending_promotions_family  # noqa: PLC0415
        from governance.promotion.selectors import strategy_capital_multiplier  # noqa: PLC0415
        from governance.promotion.services import promotion_defaults_ensure  # noqa: PLC0415

        trading_ports.emergency_stop_state_register(kill_switch_state)
        trading_ports.capital_multiplier_register(lambda strategy_id: strategy_capital_multiplier(strategy_id=strategy_id))
        research_ports.last_passing_drill_register(last_passing_drill_at)
        register_database_collector("kill_switch_state", kill_switch_state_family)
        register_database_collector("drill_time_to_halt", drill_time_to_halt_family)
        register_database_collector("emergency_stop_triggers", trigger_state_family)
        register_database_collector("capital_ramp", capital_ramp_family)
        register_database_collector("promotion_requests_pending", pending_promotions_family)
        kill_switch_returned_to_active.connect(triggers_reset, dispatch_uid="governance.emergency.triggers_reset")
        kill_switch_returned_to_active.connect(emergency_stop_alert_close, dispatch_uid="governance.emergency.alert_close")
        post_migrate.connect(promotion_defaults_ensure, sender=self)
