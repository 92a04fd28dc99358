from django.apps import AppConfig


class TorghutConfig(AppConfig):
    name = "torghut"
    verbose_name = "torghut infrastructure"
    default_auto_field = "django.db.models.BigAutoField"
