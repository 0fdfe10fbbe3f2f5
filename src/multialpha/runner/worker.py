"""StrategyWorker: one enabled strategy, its own Cerebro on its own thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import backtrader as bt

from multialpha.alerts.notifier import Notifier
from multialpha.config import ResolvedStrategy
from multialpha.contracts import ContractSpec, require
from multialpha.errors import FatalError, MultialphaError, WorkerError
from multialpha.execution.router import OrderRouter
from multialpha.features import REQUIRED_HISTORY_BARS, FeatureBook, unknown_features
from multialpha.feeds.btfeed import InboxFeed
from multialpha.feeds.history import BarHistory
from multialpha.feeds.inbox import Inbox
from multialpha.models import ModelBundle, bundle_json_name, load_model_bundle
from multialpha.portfolio import PortfolioCoordinator
from multialpha.rolls import RollSchedule
from multialpha.runner.lifecycle import WorkerState, check_transition
from multialpha.runner.market import BookView
from multialpha.runner.params import InstrumentSetup, instrument_setup
from multialpha.strategy.adapter import StepAdapter
from multialpha.strategy.alpha import alpha_spec
from multialpha.strategy.ports import Ledger
from multialpha.strategy.step import InstrumentStep
from multialpha.strategy.tickers import ContinuousTicker, RollTickers, Tickers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerServices:
    """What every worker shares with the others."""

    contracts: Mapping[str, ContractSpec]
    coordinator: PortfolioCoordinator
    router: OrderRouter
    notifier: Notifier
    ledger: Ledger
    references: tuple[str, ...]
    base_dir: Path
    allow_unverified_models: bool = False
    rolls: RollSchedule | None = None  # None: orders name the symbol itself (no contract months)


def tickers_for(rolls: RollSchedule | None, symbol: str) -> Tickers:
    return ContinuousTicker(symbol) if rolls is None else RollTickers(rolls, symbol)


def missing_bundles(strategy: ResolvedStrategy) -> dict[str, str]:
    """Symbols the portfolio file adds that have no bundle: not traded, named in a note."""
    out = {}
    for symbol in strategy.added_symbols:
        path = strategy.models_path / bundle_json_name(symbol)
        if not path.exists():
            out[symbol] = (f"{strategy.name}: {symbol} is added by {strategy.symbols_source} but has no model bundle "
                           f"({path} not found): {symbol} is not traded; the other symbols are")
    return out


def load_bundles(strategy: ResolvedStrategy, references: tuple[str, ...], *,
                 allow_unverified: bool) -> dict[str, ModelBundle]:
    """Every traded symbol's bundle, verified (skipping ``missing_bundles``); raises the first
    BundleError."""
    refs = set(references) | set(strategy.symbols)
    skip = missing_bundles(strategy)

    def unknown(names: object) -> list[str]:
        return unknown_features(names, refs)  # type: ignore[arg-type]

    return {s: load_model_bundle(s, strategy.models_path, allow_unverified=allow_unverified,
                                 unknown_features=unknown) for s in strategy.symbols if s not in skip}


class StrategyWorker:
    def __init__(self, strategy: ResolvedStrategy, services: WorkerServices,
                 exit_only: tuple[str, ...] = ()) -> None:
        self.strategy = strategy
        self.exit_only = exit_only  # held positions in symbols no longer configured: exits only
        self.name = strategy.name
        self.services = services
        self.state = WorkerState.CREATED
        self.error: str | None = None
        self.fatal: FatalError | None = None  # an error that must stop the whole process
        self.setups: dict[str, InstrumentSetup] = {}
        self.notes: list[str] = []  # reported at start-up
        self.steps: dict[str, InstrumentStep] = {}
        self._thread: threading.Thread | None = None
        self._cerebro: bt.Cerebro | None = None
        traded = list(strategy.symbols) + list(exit_only)
        symbols = traded + [r for r in services.references if r not in traded]
        self.history = BarHistory(symbols, REQUIRED_HISTORY_BARS)
        # One feature engine per symbol, fed every bar (warm-up included); a symbol without a
        # contract spec has none and makes prepare() fail, naming it.
        specs = [services.contracts[s] for s in symbols if s in services.contracts]
        self.features = FeatureBook({c.symbol: c.tick_size for c in specs},
                                    negative_prices={c.symbol for c in specs if c.allows_negative_prices})
        self.inbox = Inbox(symbols, self.history, self.features)
        self._feed_symbols = symbols

    def _move(self, new: WorkerState) -> None:
        check_transition(self.state, new)
        log.info("worker.state strategy=%s from=%s to=%s", self.name, self.state, new)
        self.state = new

    def fail(self, message: str) -> None:
        self.error = message
        if self.state not in (WorkerState.FAILED, WorkerState.FINISHED):
            self._move(WorkerState.FAILED)
        self.inbox.stop()

    def prepare(self) -> None:
        """Load and verify every bundle, merge params, build the Cerebro. Raises WorkerError."""
        sv = self.services
        try:
            bundles = load_bundles(self.strategy, sv.references, allow_unverified=sv.allow_unverified_models)
            for symbol in self._feed_symbols:  # the feature engines need every tick size
                require(sv.contracts, symbol)
            spec = alpha_spec(self.strategy.strategy, key=f"strategies.{self.name}.strategy")
            self.notes.extend(missing_bundles(self.strategy).values())
            for symbol in (*[s for s in self.strategy.symbols if s in bundles], *self.exit_only):
                orphan = symbol in self.exit_only  # held, but no longer configured: exits only
                bundle = None if orphan else bundles[symbol]
                setup = instrument_setup(self.strategy, symbol, bundle, sv.base_dir)
                self.setups[symbol] = setup
                contract = sv.contracts[symbol]
                self.steps[symbol] = InstrumentStep(
                    strategy=self.name, symbol=symbol, tickers=tickers_for(sv.rolls, symbol),
                    alpha=spec.build(setup.params, contract), contract=contract, gate=sv.coordinator,
                    orders=sv.router, ledger=sv.ledger, market=BookView(self.features, self.history, symbol),
                    model=bundle, exit_only=orphan, entry_reason=f"{spec.name}_entry",
                    broker_stop_mult=self.strategy.broker_stop_mult)
        except MultialphaError as exc:
            self.fail(str(exc))
            raise WorkerError(f"strategy {self.name} cannot start: {exc}") from exc
        # exactbars=1: every line keeps only the bars it needs (here one), so memory stays flat
        # over months of bars; history lives in the bar history and the feature engines.
        cerebro = bt.Cerebro(preload=False, runonce=False, stdstats=False, exactbars=1)
        for symbol in self._feed_symbols:
            cerebro.adddata(InboxFeed(inbox=self.inbox, symbol=symbol), name=symbol)
        cerebro.addstrategy(StepAdapter, steps=list(self.steps.values()), current=lambda: self.inbox.current,
                            done=self.inbox.mark_step_done)
        self._cerebro = cerebro
        self._move(WorkerState.READY)

    def start(self) -> None:
        self._move(WorkerState.RUNNING)
        self._thread = threading.Thread(target=self._run, name=f"worker-{self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._cerebro is not None
        try:
            self._cerebro.run()
        except FatalError as exc:  # e.g. the state store is unusable: the process must stop
            log.critical("worker.fatal strategy=%s error=%s", self.name, exc)
            self.fatal = exc
            self.fail(str(exc))
            return
        except Exception as exc:  # one worker's failure must not take the others down
            log.exception("worker.crashed strategy=%s", self.name)
            self.fail(f"{type(exc).__name__}: {exc}")
            return
        self._move(WorkerState.FINISHED)
        self.inbox.stop()

    def bars_held_in_memory(self) -> int:
        """Bars the Backtrader engine keeps across all its lines' feeds (stays flat over a long run)."""
        return 0 if self._cerebro is None else sum(len(d.close.array) for d in self._cerebro.datas)

    @property
    def alive(self) -> bool:
        return self.state is WorkerState.RUNNING and not self.inbox.stopped

    @property
    def thread_alive(self) -> bool:
        """Its thread is running (False before ``start`` and once it has ended)."""
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout_secs: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout_secs)
