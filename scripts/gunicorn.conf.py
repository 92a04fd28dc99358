"""gunicorn settings for `make run`; prometheus files of exited workers are marked dead."""

import os

from prometheus_client import multiprocess

bind = f"{os.environ.get('WEB_HOST', '127.0.0.1')}:{os.environ.get('WEB_PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
timeout = 30
accesslog = "-"


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
