"""The baseline task of bench/execution.py: a bare no-op, loaded into the bench worker with --include."""

from torghut.core.tasks import torghut_task


@torghut_task(name="bench.noop")
def noop() -> None:
    return None
