"""Celery tasks of the governance app."""
