"""The Celery queues, named once. Workers consume them by name (`-Q ingest,execution,...`)."""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    INGEST = "ingest"
    EXECUTION = "execution"
    RESEARCH = "research"
    GOVERNANCE = "governance"
    DEFAULT = "default"


ALL_QUEUES = tuple(q.value for q in Queue)
