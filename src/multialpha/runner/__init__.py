"""MultiAlphaRunner, StrategyWorker, the run summary, and the daemon's monitoring."""

from multialpha.runner.health import HealthReport, HealthSnapshot, Verdict, assess
from multialpha.runner.metrics import Metrics
from multialpha.runner.monitoring import Monitoring
from multialpha.runner.ops_server import OpsServer
from multialpha.runner.progress import ProgressReporter
from multialpha.runner.runner import MultiAlphaRunner, RunOptions, RunReport
from multialpha.runner.summary import format_summary
from multialpha.runner.watchdog import Watchdog
from multialpha.runner.worker import StrategyWorker, WorkerServices

__all__ = [
    "HealthReport",
    "HealthSnapshot",
    "Metrics",
    "Monitoring",
    "MultiAlphaRunner",
    "OpsServer",
    "ProgressReporter",
    "RunOptions",
    "RunReport",
    "StrategyWorker",
    "Verdict",
    "Watchdog",
    "WorkerServices",
    "assess",
    "format_summary",
]
