"""HealthBoard and its sources: hub hooks, worker and scope states, outbox counts on their own connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from multialpha.clock import ManualClock
from multialpha.contracts import load_contracts
from multialpha.domain import Action, OrderStatus
from multialpha.portfolio import AccountLimits, PortfolioCoordinator, StrategyLimits
from multialpha.runner.health import ProblemCode, Verdict, assess
from multialpha.runner.health_board import HealthBoard, OutboxReader, trading_states, worker_health
from multialpha.state import OutboxIntent, StateStore

CONTRACTS = Path(__file__).resolve().parents[2] / "config" / "contracts.yml"
T0 = datetime(2024, 3, 12, 15, tzinfo=UTC)


def test_board_when_hub_reports_bar_times_then_snapshot_has_last_bars_and_busy_time() -> None:
    clock = ManualClock(T0)
    board = HealthBoard(mode="paper", now=clock.now)
    board.set_running()
    board.bar_time_started()
    clock.set(T0 + timedelta(seconds=400))
    snap = board()
    assert snap.bar_time_started_at == T0 and snap.running
    assert [p.code for p in assess(snap).problems] == [ProblemCode.BAR_TIME_STALLED]
    board.bar_time_done(T0, ["ES", "NQ"])
    snap = board()
    assert snap.bar_time_started_at is None and snap.bar_times == 1
    assert dict(snap.last_bars) == {"ES": T0, "NQ": T0}
    assert assess(snap).verdict is Verdict.OK


def test_worker_health_reads_state_thread_and_error() -> None:
    worker = SimpleNamespace(name="ibs_a", state="failed", thread_alive=False, error="bundle ES: hash mismatch")
    assert worker_health(worker).state == "failed"
    board = HealthBoard(mode="live", workers=lambda: [worker_health(worker)])
    report = assess(board())
    assert [p.code for p in report.problems] == [ProblemCode.NOT_STARTED, ProblemCode.STRATEGY_FAILED]


def test_trading_states_names_every_scope() -> None:
    coordinator = PortfolioCoordinator(
        [StrategyLimits("ibs_a", frozenset({"ES"})), StrategyLimits("ibs_b", frozenset({"NQ"}))],
        AccountLimits(), load_contracts(CONTRACTS), ManualClock(T0))
    coordinator.set_state("ibs_b", "halted", "model review")
    assert trading_states(coordinator.status()) == {"account": "active", "ibs_a": "active", "ibs_b": "halted"}


def _intent(n: int) -> OutboxIntent:
    return OutboxIntent(f"intent-{n}", "ibs_a", "ES", Action.BUY, 1, "5000.25", T0, {"ticker": "ES"})


def test_outbox_reader_counts_pending_and_unknown_on_its_own_read_only_connection(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = StateStore.open(path)
    try:
        store.outbox.add(_intent(1))
        store.outbox.add(_intent(2))
        store.outbox.mark("intent-2", OrderStatus.SENT, http_status=200)
        ticks = iter([0.0, 0.5, 10.0])
        reader = OutboxReader(path, max_age_secs=2.0, clock=lambda: next(ticks))
        first = reader()
        assert (first.pending, first.unknown) == (1, 0) and first.oldest_pending_at is not None
        store.outbox.mark("intent-1", OrderStatus.PENDING, attempts=1)  # its POST started...
        store.outbox.sweep_in_flight("stopped while sending")  # ... so intent-1 becomes UNKNOWN
        assert reader() == first  # cached for max_age_secs
        later = reader()
        assert (later.pending, later.unknown, later.oldest_pending_at) == (0, 1, None)
        reader.close()
    finally:
        store.close()
