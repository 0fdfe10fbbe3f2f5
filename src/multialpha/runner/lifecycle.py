"""Worker lifecycle: an enum and its transition table."""

from __future__ import annotations

from enum import StrEnum

from multialpha.errors import IllegalTransition


class WorkerState(StrEnum):
    CREATED = "created"
    READY = "ready"  # bundles loaded, Cerebro built
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


_ALLOWED: dict[WorkerState, frozenset[WorkerState]] = {
    WorkerState.CREATED: frozenset({WorkerState.READY, WorkerState.FAILED}),
    WorkerState.READY: frozenset({WorkerState.RUNNING, WorkerState.FAILED}),
    WorkerState.RUNNING: frozenset({WorkerState.FINISHED, WorkerState.FAILED}),
    WorkerState.FINISHED: frozenset(),
    WorkerState.FAILED: frozenset(),
}


def check_transition(current: WorkerState, new: WorkerState) -> None:
    if new not in _ALLOWED[current]:
        raise IllegalTransition(f"worker cannot go from {current} to {new}")
