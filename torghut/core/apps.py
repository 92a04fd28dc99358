"""The core app keeps the label `torghut`, so its tables, permissions and admin URLs stay where they were."""
from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "torghut.core"
    label = "torghut"
    verbose_name = "torghut infrastructure"
    default_auto_field = "django.db.models.BigAutoField"
