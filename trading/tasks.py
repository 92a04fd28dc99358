"""Celery tasks of the trading app."""
