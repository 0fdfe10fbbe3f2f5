"""Many worker threads share one coordinator: limits hold and every public call is atomic."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from multialpha.portfolio import DenyReason

SYMBOLS = ("ES", "NQ", "CL", "GC", "SI", "HG", "PL", "6E", "6J", "YM")


@pytest.fixture(autouse=True)
def _switch_threads_often() -> Iterator[None]:
    # Make the interpreter switch threads far more often, so a missing lock shows up as a race.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def _race(n_threads: int, work: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(n_threads)
    results: list[object] = [None] * n_threads

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
        assert not t.is_alive()
    return results


def test_can_open_from_many_threads_never_exceeds_strategy_max_positions(make) -> None:
    for _ in range(20):
        pc = make(ibs={"symbols": set(SYMBOLS), "max_positions": 3})
        decisions = _race(40, lambda i, pc=pc: pc.can_open("ibs", SYMBOLS[i % len(SYMBOLS)]))
        allowed = [d for d in decisions if d]
        assert len(allowed) == 3
        assert len({d.symbol for d in allowed}) == 3
        assert {d.reason for d in decisions if not d} <= {DenyReason.STRATEGY_MAX_POSITIONS,
                                                         DenyReason.ALREADY_OPEN}
        assert pc.status().strategies["ibs"].reserved == 3


def test_can_open_same_symbol_from_many_threads_allows_exactly_one(make) -> None:
    pc = make(ibs={"symbols": {"ES"}})
    decisions = _race(32, lambda i: pc.can_open("ibs", "ES"))
    assert sum(1 for d in decisions if d) == 1


def test_can_open_from_many_strategies_never_exceeds_account_max_positions(make) -> None:
    names = [f"s{i}" for i in range(8)]
    pc = make(account={"max_positions": 5}, **{n: {"symbols": set(SYMBOLS), "account": n} for n in names})
    decisions = _race(64, lambda i: pc.can_open(names[i % 8], SYMBOLS[i % len(SYMBOLS)]))
    assert sum(1 for d in decisions if d) == 5
    assert pc.status().account.reserved == 5


def test_concurrent_trading_keeps_pnl_and_counts_consistent(make, clock) -> None:
    names = [f"s{i}" for i in range(6)]
    pc = make(**{n: {"symbols": {"ES", "NQ"}, "max_positions": 2, "account": n} for n in names})
    now = clock.now()

    def trade(i: int) -> float:
        strategy, total = names[i], 0.0
        for k in range(50):
            symbol = ("ES", "NQ")[k % 2]
            assert pc.can_open(strategy, symbol)
            pc.on_opened(strategy, symbol, price=5000.0, quantity=1, when=now)
            pc.mark(strategy, symbol, 5000.0 + k % 7, now + timedelta(seconds=k))
            total += pc.on_closed(strategy, symbol, price=5000.0 + (k % 5) - 2, when=now, reason="exit")
        return total

    totals = _race(len(names), trade)
    status = pc.status()
    assert status.positions == () and status.reservations == ()
    assert status.account.pnl.realized == sum(totals)  # type: ignore[arg-type]
    for name, total in zip(names, totals, strict=True):
        assert status.strategies[name].pnl.realized == total
    assert status.stats_run.entries_allowed == 300 and status.stats_run.exits == {"exit": 300}
