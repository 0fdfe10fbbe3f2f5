"""Training many pairs: locally over worker processes (joblib) or on a Dask cluster.

Every pair's trials go to its study in the shared Optuna storage, so the trials of one study
can be spread over workers: each pair gets ``max(1, workers // pairs)`` slots, each slot adds
trials until the study holds the requested number, and slot 0 then waits for the trials its
siblings still have running and finalizes the pair (selection, bundle, hold-out, report).
A slot only waits for trials that are already running, never for a slot not yet started, so
no schedule can deadlock. With one worker everything runs in this process.

A pair whose bundle was published from its current study with enough trials is skipped
(``finished_bundle``); a pair that fails is reported with its error and the others go on.
Progress: one bar of finished trials (read from the storage) and one of finished pairs.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multialpha.research.errors import ResearchError
from multialpha.research.ml.publish import PairResult
from multialpha.research.ml.study import finished_trials, load_study, open_storage
from multialpha.research.ml.train import PairSpec, finalize_pair, finished_bundle, load_pair, search_pair

from multialpha.errors import MultialphaError

POLL_SECS = 1.0
CONNECT_SECS = 30


@dataclass(frozen=True)
class PairOutcome:
    """What became of one pair."""

    strategy: str
    symbol: str
    status: str  # trained | skipped | failed
    message: str = ""
    result: PairResult | None = None
    json_path: Path | None = None


@dataclass(frozen=True)
class SlotOutcome:
    spec: PairSpec
    slot: int
    outcome: PairOutcome | None  # slot 0's verdict on the pair; None from the other slots
    error: str | None = None


def pair_slot(spec: PairSpec, slot: int, run_id: str) -> SlotOutcome:
    """One worker's share of a pair: add trials; slot 0 then finalizes. Never raises."""
    try:
        data = load_pair(spec)
        search_pair(spec, run_id, data)
        if slot != 0:
            return SlotOutcome(spec, slot, None)
        result = finalize_pair(spec, run_id, data)
        return SlotOutcome(spec, slot, PairOutcome(spec.strategy, spec.symbol, "trained", result=result,
                                                   json_path=result.json_path))
    except MultialphaError as exc:
        return SlotOutcome(spec, slot, _failed(spec, str(exc)) if slot == 0 else None, str(exc))
    except Exception as exc:  # a worker must report, not die: the other pairs go on
        text = f"{spec.context}: unexpected {type(exc).__name__}: {exc}"
        return SlotOutcome(spec, slot, _failed(spec, text) if slot == 0 else None, text)


def _failed(spec: PairSpec, message: str) -> PairOutcome:
    prefix = "" if message.startswith(spec.context) else f"{spec.context}: "
    return PairOutcome(spec.strategy, spec.symbol, "failed", prefix + message)


def slots_per_pair(workers: int, pairs: int) -> int:
    return max(1, workers // max(pairs, 1))


class Progress:
    """Two progress bars: finished trials over every pending study (polled from the storage)
    and finished pairs. Silent when ``enabled`` is False."""

    def __init__(self, specs: Sequence[PairSpec], enabled: bool) -> None:
        self.specs, self.enabled = list(specs), enabled
        self._studies: list[tuple[str, str, int]] = []  # (storage URL, study name, trials wanted)
        if enabled:
            for spec in self.specs:
                try:
                    if spec.storage is not None:
                        self._studies.append((spec.storage, spec.study_name(), spec.settings.trials))
                except MultialphaError:  # e.g. a missing bar file: the pair's worker reports it
                    continue
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.trials: Any = None
        self.pairs: Any = None

    def __enter__(self) -> Progress:
        if self.enabled and self.specs:
            from tqdm import tqdm

            total = sum(s.settings.trials for s in self.specs)
            self.trials = tqdm(total=total, desc="trials", unit="trial", position=0, dynamic_ncols=True)
            self.pairs = tqdm(total=len(self.specs), desc="pairs", unit="pair", position=1, dynamic_ncols=True)
            self._thread = threading.Thread(target=self._poll, name="train-progress", daemon=True)
            self._thread.start()
        return self

    def pair_done(self, outcome: PairOutcome) -> None:
        if self.pairs is not None:
            self.pairs.update(1)
            self.pairs.set_postfix_str(f"{outcome.strategy} {outcome.symbol}: {outcome.status}")

    def _count(self) -> int:
        import optuna

        total = 0
        for url, name, wanted in self._studies:
            try:
                study = optuna.load_study(study_name=name, storage=open_storage(url))
                total += min(len(finished_trials(study)), wanted)
            except Exception:  # the study is not created yet or the storage is busy: next poll
                continue
        return total

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECS):
            n = self._count()
            self.trials.update(max(0, n - self.trials.n))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            n = self._count()
            self.trials.update(max(0, n - self.trials.n))
        for bar in (self.trials, self.pairs):
            if bar is not None:
                bar.close()


def train_pairs(specs: Sequence[PairSpec], *, workers: int = 1, scheduler: str | None = None,
                force: bool = False, progress: bool = False,
                on_outcome: Callable[[PairOutcome], None] | None = None) -> list[PairOutcome]:
    """Train every pair (see the module docstring); outcomes in the order of ``specs``."""
    outcomes: dict[tuple[str, str], PairOutcome] = {}
    pending = []
    for spec in specs:
        done = None
        try:
            done = None if force else finished_bundle(spec)
        except MultialphaError as exc:  # e.g. the bar file is missing: the pair fails, the rest go on
            outcomes[(spec.strategy, spec.symbol)] = _failed(spec, str(exc))
            continue
        if done is not None:
            outcomes[(spec.strategy, spec.symbol)] = PairOutcome(spec.strategy, spec.symbol, "skipped",
                                                                 "already trained from this study", json_path=done)
        else:
            pending.append(spec)
    for outcome in outcomes.values():
        if on_outcome is not None:
            on_outcome(outcome)
    # Create every study here, once, before any worker opens the storage: workers creating the
    # tables of a new storage at the same moment would collide.
    for spec in list(pending):
        try:
            load_study(open_storage(spec.storage), spec.study_name(), spec.settings)
        except MultialphaError as exc:
            outcomes[(spec.strategy, spec.symbol)] = _failed(spec, str(exc))
            pending.remove(spec)
            if on_outcome is not None:
                on_outcome(outcomes[(spec.strategy, spec.symbol)])
    run_id = uuid.uuid4().hex
    n_slots = slots_per_pair(workers if scheduler is None else _cluster_threads(scheduler), len(pending))
    tasks = [(spec, slot) for spec in pending for slot in range(n_slots)]
    with Progress(pending, progress) as bars:
        for done_slot in _run(tasks, run_id, workers, scheduler):
            if done_slot.outcome is None:
                continue
            outcomes[(done_slot.spec.strategy, done_slot.spec.symbol)] = done_slot.outcome
            bars.pair_done(done_slot.outcome)
            if on_outcome is not None:
                on_outcome(done_slot.outcome)
    return [outcomes[(s.strategy, s.symbol)] for s in specs]


def _run(tasks: list[tuple[PairSpec, int]], run_id: str, workers: int, scheduler: str | None) -> Iterable[SlotOutcome]:
    if scheduler is not None:
        yield from _run_dask(tasks, run_id, scheduler)
    elif workers <= 1:
        for spec, slot in tasks:
            yield pair_slot(spec, slot, run_id)
    else:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=workers, backend="loky", batch_size=1, return_as="generator_unordered")
        yield from parallel(delayed(pair_slot)(spec, slot, run_id) for spec, slot in tasks)


def _client(scheduler: str) -> Any:
    from distributed import Client

    try:
        return Client(scheduler, timeout=CONNECT_SECS)
    except (OSError, TimeoutError) as exc:
        raise ResearchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def _cluster_threads(scheduler: str) -> int:
    with _client(scheduler) as client:
        return sum(client.nthreads().values())


def _run_dask(tasks: list[tuple[PairSpec, int]], run_id: str, scheduler: str) -> Iterable[SlotOutcome]:
    from distributed import as_completed

    with _client(scheduler) as client:
        futures = {client.submit(pair_slot, spec, slot, run_id, pure=False,
                                 key=f"train-{spec.strategy}-{spec.symbol}-{slot}-{run_id[:8]}"): (spec, slot)
                   for spec, slot in tasks}
        for future in as_completed(futures):
            spec, slot = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # the worker died or the task could not run there
                text = f"{spec.context}: the Dask task failed: {type(exc).__name__}: {exc}"
                yield SlotOutcome(spec, slot, _failed(spec, text) if slot == 0 else None, text)
