"""MultiAlphaRunner, StrategyWorker and the run summary."""

from multialpha.runner.runner import MultiAlphaRunner, RunOptions, RunReport
from multialpha.runner.summary import format_summary
from multialpha.runner.worker import StrategyWorker, WorkerServices

__all__ = ["MultiAlphaRunner", "RunOptions", "RunReport", "StrategyWorker", "WorkerServices", "format_summary"]
