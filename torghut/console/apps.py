"""The console reads every app (ops page, success criteria); it owns no tables."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "torghut.console"
    label = "console"
    verbose_name = "torghut console"
