"""Development stand-ins (market simulator, venues) for `make run` and the tests; they own no tables."""

from django.apps import AppConfig


class DevstackConfig(AppConfig):
    name = "torghut.devstack"
    label = "devstack"
    verbose_name = "torghut development stack"
