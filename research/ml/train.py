"""Training one (strategy, symbol): bars -> candidate trades -> CPCV search -> bundle -> hold-out.

``train_pair`` runs the whole pipeline in one process; ``search_pair`` and ``finalize_pair``
are its two halves, so that many workers can add trials to one study (``batch``) before one
of them finalizes. ``train_filter`` is the same search and selection on bars in memory, with
an in-memory study and no files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import optuna
from multialpha.research.engine import BarTimes
from multialpha.research.errors import ResearchError
from multialpha.research.ml.crossval import CvPlan, cv_plan
from multialpha.research.ml.dataset import HoldoutBars, SearchSet, holdout_bars, search_set
from multialpha.research.ml.extract import Candidates, extract_candidates
from multialpha.research.ml.feature_groups import feature_groups, resolve_candidates, restrict_groups
from multialpha.research.ml.holdout import score_holdout
from multialpha.research.ml.publish import PairResult, publish
from multialpha.research.ml.search import CpcvObjective, Selection, select
from multialpha.research.ml.settings import Periods, SearchSettings, fingerprint
from multialpha.research.ml.study import (
    finished_trials,
    load_study,
    open_storage,
    run_trials,
    wait_for_running,
)
from optuna.storages import InMemoryStorage

from multialpha.contracts import ContractSpec, load_contracts, require
from multialpha.features import BarArrays, Reference, reference_features
from multialpha.features.bars import iso_utc
from multialpha.feeds.replay_files import find_bar_file, load_symbols
from multialpha.strategy.alpha import AlphaSpec, alpha_spec
from multialpha.strategy.ibs import IBS

MIN_TRADES_PER_GROUP = 10


@dataclass(frozen=True)
class PairSpec:
    """Everything needed to train one (strategy, symbol); plain values, so it travels to workers."""

    strategy: str
    symbol: str
    alpha: str  # the alpha registry name (``strategies.<name>.strategy``)
    params: Mapping[str, Any]  # the alpha's parameters, merged from the config layers
    data_dir: Path
    contracts_path: Path
    references: tuple[str, ...]
    features: tuple[str, ...] | None  # candidate features or groups; None: the whole catalogue
    periods: Periods
    settings: SearchSettings
    out_dir: Path  # bundles go to out_dir/<strategy>/
    storage: str | None  # Optuna storage URL; None keeps the study in memory
    report: bool = True

    @property
    def context(self) -> str:
        return f"{self.strategy} {self.symbol}"

    @property
    def bundle_dir(self) -> Path:
        return self.out_dir / self.strategy

    def bar_files(self) -> list[Path]:
        return [find_bar_file(self.data_dir, s) for s in dict.fromkeys((self.symbol, *self.references))]

    def study_name(self) -> str:
        """The study of this pair under these inputs: a change of data, params, features, periods
        or search settings (trial counts aside) starts a new study."""
        contracts = load_contracts(self.contracts_path)  # an unknown symbol is named before its bar file
        for symbol in (self.symbol, *self.references):
            require(contracts, symbol, file=self.contracts_path)
        hashes = {p.name: _file_sha256(p) for p in self.bar_files()}
        key = fingerprint(self.alpha, dict(self.params), self.references, self.features,
                          self.periods.train_start, self.periods.holdout_start,
                          self.settings.fingerprint_fields(), hashes)
        return f"{self.strategy}.{self.symbol}.{key}"


@dataclass
class PairData:
    """A pair's inputs, loaded and prepared."""

    spec: PairSpec
    alpha: AlphaSpec
    params: Any
    contract: ContractSpec
    bars: BarArrays
    refs: Mapping[str, Reference]
    candidates: Candidates
    search: SearchSet
    window: HoldoutBars
    groups: dict[str, tuple[str, ...]]
    plan: CvPlan = field(repr=False)
    bar_range: tuple[str, str] = ("", "")


def load_pair(spec: PairSpec) -> PairData:
    """Bars, references, candidate trades, the search set and its CV splits of one pair."""
    alpha = alpha_spec(spec.alpha, key=f"strategies.{spec.strategy}.strategy")
    try:
        params = alpha.params(spec.params)
    except ValueError as exc:
        raise ResearchError(f"{spec.context}: {exc}") from None
    contracts = load_contracts(spec.contracts_path)
    symbols = list(dict.fromkeys((spec.symbol, *spec.references)))
    specs = {s: require(contracts, s, file=spec.contracts_path) for s in symbols}
    bars = load_symbols(spec.data_dir, symbols, tick_sizes={s: c.tick_size for s, c in specs.items()},
                        negative_prices={s for s, c in specs.items() if c.allows_negative_prices})
    refs = {r: reference_features(bars[r]) for r in spec.references}
    candidates_features = resolve_candidates(spec.references, spec.features, context=spec.context)
    groups = restrict_groups(feature_groups(spec.references), candidates_features)
    own = bars[spec.symbol]
    window = holdout_bars(own, spec.periods, context=spec.context)  # bad dates fail before any search
    cand = extract_candidates(own, alpha, params, specs[spec.symbol], candidates_features, refs,
                              times=BarTimes.of(own))
    data = checked_search_set(cand, own, spec.periods, spec.settings, context=spec.context)
    return PairData(spec, alpha, params, specs[spec.symbol], own, refs, cand, data, window, groups,
                    cv_plan(data, spec.settings.cpcv), (iso_utc(int(own.ts[0])), iso_utc(int(own.ts[-1]))))


def checked_search_set(cand: Candidates, bars: BarArrays, periods: Periods, settings: SearchSettings, *,
                       context: str) -> SearchSet:
    """The search set, refused when it has too few trades for the CV and the trade minimum."""
    data = search_set(cand, bars, periods, context=context)
    need = max(settings.min_trades, MIN_TRADES_PER_GROUP * settings.cpcv.n_groups)
    if len(data) < need or len(set(data.label.tolist())) < 2:
        period = f"{data.first_day} to {data.last_day}" if data.calendar.size else "(empty)"
        raise ResearchError(
            f"{context}: only {len(data)} candidate trades in the search period {period} (need at least {need}, "
            f"with wins and losses: {settings.min_trades} filtered trades per path and "
            f"{MIN_TRADES_PER_GROUP} per CPCV group); are these hourly bars with enough history?")
    return data


def search_pair(spec: PairSpec, run_id: str, data: PairData | None = None) -> int:
    """Add trials to the pair's study until it holds ``settings.trials`` finished ones."""
    data = data or load_pair(spec)
    study = load_study(open_storage(spec.storage), spec.study_name(), spec.settings)
    objective = CpcvObjective(data.search, data.plan, spec.settings, data.groups, run_id=run_id)
    return run_trials(study, objective, spec.settings.trials)


def finalize_pair(spec: PairSpec, run_id: str, data: PairData | None = None) -> PairResult:
    """Once the study is done: select, refit, publish the bundle, score it on the hold-out."""
    data = data or load_pair(spec)
    name = spec.study_name()
    study = load_study(open_storage(spec.storage), name, spec.settings)
    wait_for_running(study, run_id)
    done = len(finished_trials(study))
    if done < spec.settings.trials:
        raise ResearchError(f"{spec.context}: study {name} holds {done} of {spec.settings.trials} finished trials; "
                            "rerun to resume it")
    selection = select(study, data.search, data.plan, spec.settings, data.groups, context=spec.context)
    window = data.window
    return publish(data, study, name, selection, window,
                   lambda bundle: score_holdout(window, data.alpha, data.params, data.contract, bundle, data.refs,
                                                strategy=spec.strategy))


def train_pair(spec: PairSpec, run_id: str = "local") -> PairResult:
    """Search and finalize one pair in this process."""
    data = load_pair(spec)
    search_pair(spec, run_id, data)
    return finalize_pair(spec, run_id, data)


def finished_bundle(spec: PairSpec) -> Path | None:
    """The pair's bundle if it was published from this pair's current study with at least the
    requested number of trials (a rerun then skips the pair)."""
    path = spec.bundle_dir / f"{spec.symbol}_best.json"
    try:
        meta = json.loads(path.read_text())
        search = meta["Search"]
        if search["Study"] == spec.study_name() and search["Trials"]["finished"] >= spec.settings.trials:
            return path
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


@dataclass(frozen=True)
class FittedFilter:
    """A filter trained in memory by ``train_filter``."""

    model: Any
    threshold: float
    features: tuple[str, ...]
    selection: Selection
    study: optuna.Study


def train_filter(bars: BarArrays, refs: Mapping[str, Reference], params: Any, contract: ContractSpec,
                 features: Sequence[str], holdout_start: date, *, settings: SearchSettings,
                 alpha: AlphaSpec = IBS, train_start: date | None = None) -> FittedFilter:
    """The search and selection of ``train_pair`` on bars in memory, with an in-memory study and
    no files: trades exiting before ``holdout_start`` only; ``features`` are the candidates."""
    context = f"{bars.symbol}"
    periods = Periods(holdout_start=holdout_start, train_start=train_start)
    tables = {r: reference_features(b) if isinstance(b, BarArrays) else b for r, b in refs.items()}
    resolve_candidates(tuple(tables), features, context=context)  # unknown names are an error
    names = list(dict.fromkeys(features))
    groups = restrict_groups(feature_groups(tables), names)
    cand = extract_candidates(bars, alpha, params, contract, names, tables, times=BarTimes.of(bars))
    data = checked_search_set(cand, bars, periods, settings, context=context)
    plan = cv_plan(data, settings.cpcv)
    study = load_study(InMemoryStorage(), f"{bars.symbol}.memory", settings)  # a fresh study every call
    run_trials(study, CpcvObjective(data, plan, settings, groups), settings.trials)
    selection = select(study, data, plan, settings, groups, context=context)
    return FittedFilter(selection.model, selection.threshold, selection.features, selection, study)


def _file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def spec_summary(spec: PairSpec) -> dict[str, Any]:
    """The pair's inputs as recorded in its bundle."""
    return {"strategy": spec.strategy, "symbol": spec.symbol, "alpha": spec.alpha,
            "references": list(spec.references), "periods": {k: str(v) for k, v in asdict(spec.periods).items()}}
