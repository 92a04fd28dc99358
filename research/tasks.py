"""Celery tasks of the research app."""
