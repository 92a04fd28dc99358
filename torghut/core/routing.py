"""Task routing by name prefix, so a task's queue follows from its stable name."""

from __future__ import annotations

from torghut.core.queues import Queue

_PREFIX_QUEUES: tuple[tuple[str, Queue], ...] = (
    ("trading.ingest", Queue.INGEST),
    ("trading.evaluate_signal", Queue.INGEST),
    ("trading.prune_ingest", Queue.INGEST),
    ("trading.audit_signals", Queue.INGEST),
    ("trading.", Queue.EXECUTION),
    ("research.", Queue.RESEARCH),
    ("governance.", Queue.GOVERNANCE),
)


# `torghut.heartbeat.<queue>` proves a worker consumes <queue>, so it is routed there.
HEARTBEAT_TASK_PREFIX = "torghut.heartbeat."


def queue_for_task(name: str) -> Queue:
    if name.startswith(HEARTBEAT_TASK_PREFIX):
        return Queue(name.removeprefix(HEARTBEAT_TASK_PREFIX))
    for prefix, queue in _PREFIX_QUEUES:
        if name.startswith(prefix):
            return queue
    return Queue.DEFAULT


def route_task(name, args, kwargs, options, task=None, **kw):
    return {"queue": queue_for_task(name).value}
