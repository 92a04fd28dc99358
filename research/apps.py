"""The research app: answers trading's question about gated strategy versions."""

from django.apps import AppConfig

from trading import ports


class ResearchConfig(AppConfig):
    name = "research"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from research.selectors import strategy_versions_with_passing_gates  # noqa: PLC0415  (loads models)

        ports.gated_versions_register(strategy_versions_with_passing_gates)
