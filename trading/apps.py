"""The trading app: plugs its packages together once Django has loaded the models."""

from django.apps import AppConfig

from torghut.core.metrics import register_database_collector


class TradingConfig(AppConfig):
    name = "trading"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing these at module level would load models before the app registry is ready.
        from trading.orders.consumers import signals_consume  # noqa: PLC0415
        from trading.orders.metrics import execution_ratios  # noqa: PLC0415
        from trading.pnl.metrics import pnl_metrics  # noqa: PLC0415
        from trading.signals.ingest import signal_consumer_register  # noqa: PLC0415
        from trading.signals.metrics import continuity_metrics  # noqa: PLC0415
        from trading.signals.universe import universe_assert_authoritative  # noqa: PLC0415

        # Live/autonomous trading must not start on a static universe: fail at process start, loudly.
        universe_assert_authoritative()
        signal_consumer_register(signals_consume)
        register_database_collector("signal_continuity", continuity_metrics)
        register_database_collector("pnl", pnl_metrics)
        register_database_collector("trading_executions", execution_ratios)
