from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from torghut.metrics import register_database_collector
        from trading import execution_metrics, pnl
        from trading.signals.metrics import continuity_metrics
        from trading.signals.universe import universe_assert_authoritative

        # Live/autonomous trading must not start on a static universe: fail at process start, loudly.
        universe_assert_authoritative()
        register_database_collector("signal_continuity", continuity_metrics)
        register_database_collector("pnl", pnl.pnl_metrics)
        execution_metrics.register()
