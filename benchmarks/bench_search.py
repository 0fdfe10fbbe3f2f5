"""ML search throughput: trials per minute, the projected wall time of one full 120 + 300 trial
CPCV search per symbol on this machine, and pruning against no pruning on the same seed.

Inputs are the desk's shape on sample bars (in memory): ``ibs_a`` on ES with ZB and VX
references, the search on 2010-2021 (about 3,200 candidate trades, 32 candidate features) and
the hold-out on 2022-2024; the default search settings (CPCV 6 groups / 2 test groups / 1 % embargo = 15
forests per trial, the default forest space, 100 trades per path at least). A shortened search
(``RANDOM`` random then ``TPE`` TPE trials) is timed three ways:

* pruned (successive halving over the folds, the default), one worker;
* unpruned, same seed: the same random draws, every fold of every trial;
* pruned, two worker processes sharing the study through its SQLite storage.

The full search is projected from the measured per-trial times of each phase (random and TPE)
and the two-worker speed-up. Baseline, measured in the same run: the unpruned search.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import optuna
from _common import REPO, markdown_table, section, time_once
from joblib import Parallel, delayed
from multialpha.research.engine import BarTimes
from multialpha.research.ml.crossval import CvPlan, cv_plan
from multialpha.research.ml.dataset import HoldoutBars, SearchSet, holdout_bars
from multialpha.research.ml.extract import extract_candidates
from multialpha.research.ml.feature_groups import feature_groups
from multialpha.research.ml.holdout import HoldoutResult, score_holdout
from multialpha.research.ml.manifest import Pair, load_config, pair_params
from multialpha.research.ml.search import CpcvObjective, select
from multialpha.research.ml.settings import Periods, SearchSettings
from multialpha.research.ml.study import load_study, open_storage, run_shared_study, run_trials, sqlite_url
from multialpha.research.ml.train import checked_search_set
from multialpha.research.sampledata import generate_sample_bars
from optuna.trial import TrialState

from multialpha.contracts import ContractSpec, load_contracts
from multialpha.features import Reference, feature_catalog, reference_features
from multialpha.models import load_model_bundle, write_model_bundle
from multialpha.strategy.ibs import IBS
from multialpha.strategy.params import IbsParams

CONFIG = REPO / "config.multi_alpha.yml"
CONTRACTS = REPO / "config" / "contracts.yml"
STRATEGY, SYMBOL, REFERENCES = "ibs_a", "ES", ("ZB", "VX")
DATA_START, HOLDOUT_START, DATA_END = date(2010, 1, 4), date(2022, 1, 3), date(2024, 12, 31)
SEED = 7
RANDOM, TPE = 12, 12  # the timed search; the desk's is 120 + 300
FULL_RANDOM, FULL_TPE = SearchSettings().random_trials, SearchSettings().tpe_trials
WORKERS = 2
TARGET_MINUTES = 30.0


class Inputs(NamedTuple):
    search: SearchSet
    plan: CvPlan
    groups: dict[str, tuple[str, ...]]
    window: HoldoutBars
    params: IbsParams
    contract: ContractSpec
    refs: dict[str, Reference]


def prepare() -> Inputs:
    """The desk's shape in memory: 2010-2021 to search, 2022-2024 held out. (Sample bar files
    start in late 2012: the exchange calendar has Globex open at 15:30 CT before then, off the
    clock hours bar files take, so the bars stay in memory here.)"""
    bars = generate_sample_bars([SYMBOL, *REFERENCES], start=DATA_START, end=DATA_END, seed=SEED,
                                contracts_file=CONTRACTS)
    contract = load_contracts(CONTRACTS)[SYMBOL]
    _, values = pair_params(load_config(CONFIG), Pair(STRATEGY, SYMBOL))
    params = IbsParams.from_mapping(values)
    refs = {r: reference_features(bars[r]) for r in REFERENCES}
    features = feature_catalog(REFERENCES)
    periods = Periods(holdout_start=HOLDOUT_START)
    cand = extract_candidates(bars[SYMBOL], IBS, params, contract, features, refs, times=BarTimes.of(bars[SYMBOL]))
    search = checked_search_set(cand, bars[SYMBOL], periods, SearchSettings(), context=SYMBOL)
    return Inputs(search, cv_plan(search, SearchSettings().cpcv), feature_groups(REFERENCES),
                  holdout_bars(bars[SYMBOL], periods, context=SYMBOL), params, contract, refs)


def _settings(**changes: Any) -> SearchSettings:
    return SearchSettings(random_trials=RANDOM, tpe_trials=TPE, seed=SEED, **changes)


def _study(url: str, name: str, settings: SearchSettings) -> optuna.Study:
    return load_study(open_storage(url), name, settings)


def _search(inputs: Inputs, url: str, name: str, settings: SearchSettings, trials: int) -> None:
    objective = CpcvObjective(inputs.search, inputs.plan, settings, inputs.groups, run_id=name)
    run_trials(_study(url, name, settings), objective, trials)


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]


def _secs(t: optuna.trial.FrozenTrial) -> float:
    assert t.datetime_start is not None and t.datetime_complete is not None
    return (t.datetime_complete - t.datetime_start).total_seconds()


def _span(trials: list[optuna.trial.FrozenTrial]) -> float:
    """Seconds from the first trial's start to the last one's end (no process start-up in it)."""
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    ends = [t.datetime_complete for t in trials if t.datetime_complete is not None]
    return (max(ends) - min(starts)).total_seconds()


def _best(trials: list[optuna.trial.FrozenTrial]) -> float:
    return max((t.value for t in trials if t.state is TrialState.COMPLETE and t.value is not None),
               default=float("nan"))


def _holdout(inputs: Inputs, study: optuna.Study, settings: SearchSettings, directory: Path) -> HoldoutResult:
    """The selected configuration as a saved bundle, on the hold-out."""
    chosen = select(study, inputs.search, inputs.plan, settings, inputs.groups, context=SYMBOL)
    write_model_bundle(directory, SYMBOL, chosen.model, chosen.features, chosen.threshold,
                       dataclasses.asdict(inputs.params), {"Sharpe": 0.0, "Profit_Factor": 0.0, "Trades": 0})
    bundle = load_model_bundle(SYMBOL, directory)
    return score_holdout(inputs.window, IBS, inputs.params, inputs.contract, bundle, inputs.refs, strategy=STRATEGY)


def run() -> dict[str, Any]:
    start = time.perf_counter()
    inputs = prepare()
    data_secs = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="bench_search_") as tmp:
        root = Path(tmp)
        url = sqlite_url(root / "studies.sqlite3")
        pruned_s, unpruned_s = _settings(), _settings(prune=False)
        pruned_secs = time_once(lambda: _search(inputs, url, "pruned", pruned_s, pruned_s.trials))
        unpruned_secs = time_once(lambda: _search(inputs, url, "unpruned", unpruned_s, unpruned_s.trials))
        t_pruned = _finished(_study(url, "pruned", pruned_s))
        t_unpruned = _finished(_study(url, "unpruned", unpruned_s))
        held = {"pruned": _holdout(inputs, _study(url, "pruned", pruned_s), pruned_s, root / "pruned"),
                "unpruned": _holdout(inputs, _study(url, "unpruned", unpruned_s), unpruned_s, root / "unpruned")}
        # The pruned search given the unpruned one's wall time: more TPE trials in the same study.
        longer = _study(url, "pruned", pruned_s)
        longer.optimize(CpcvObjective(inputs.search, inputs.plan, pruned_s, inputs.groups),
                        timeout=max(unpruned_secs - pruned_secs, 1.0))
        t_longer = _finished(longer)
        held["longer"] = _holdout(inputs, longer, pruned_s, root / "longer")
        _study(url, "two", pruned_s)  # created before the workers open it
        start = time.perf_counter()
        objective = CpcvObjective(inputs.search, inputs.plan, pruned_s, inputs.groups, run_id="two")
        Parallel(n_jobs=WORKERS, backend="loky")(
            delayed(run_shared_study)(url, "two", pruned_s, objective, pruned_s.trials) for _ in range(WORKERS))
        two_secs = time.perf_counter() - start
        t_two = _finished(_study(url, "two", pruned_s))

    def phase(trials: list[optuna.trial.FrozenTrial], random: bool) -> list[float]:
        return [_secs(t) for t in trials if (t.number < RANDOM) == random]

    rand_mean, tpe_mean = statistics.mean(phase(t_pruned, True)), statistics.mean(phase(t_pruned, False))
    one_worker_min = (FULL_RANDOM * rand_mean + FULL_TPE * tpe_mean) / 60
    # Throughput from the trials' own clocks, so the workers' interpreter start-up is left out.
    speedup = (_span(t_pruned) / len(t_pruned)) / (_span(t_two) / len(t_two))
    projected = one_worker_min / speedup
    rows = []
    for name, trials, secs, key in (("pruned (default)", t_pruned, pruned_secs, "pruned"),
                                    ("unpruned (baseline)", t_unpruned, unpruned_secs, "unpruned"),
                                    ("pruned, given the unpruned wall time", t_longer, unpruned_secs, "longer"),
                                    (f"pruned, {WORKERS} workers, one shared study", t_two, two_secs, None)):
        h = held.get(key) if key else None
        rows.append([name, len(trials), sum(t.state is TrialState.PRUNED for t in trials), secs,
                     len(trials) / secs * 60, f"{_best(trials):.3f}",
                     "" if h is None else f"{h.unfiltered.sharpe:.2f} -> {h.filtered.sharpe:.2f}",
                     "" if h is None else f"{h.unfiltered.trades} -> {h.filtered.trades}"])
    same = _best(t_pruned) >= _best(t_unpruned) - 1e-12
    verdict = (f"Projected full search ({FULL_RANDOM} random + {FULL_TPE} TPE trials, 15 CPCV forests per trial, "
               f"{len(inputs.search):,} candidate trades) for one symbol on this machine: {one_worker_min:.0f} min "
               f"on one worker, **{projected:.0f} min on {WORKERS} workers** (target <= {TARGET_MINUTES:.0f} min: "
               f"{'met' if projected <= TARGET_MINUTES else 'MISSED'}).")
    prune_line = (f"Pruning, same seed and trial count: best CPCV Sharpe {_best(t_pruned):.3f} pruned against "
                  f"{_best(t_unpruned):.3f} unpruned ({'the same or better' if same else 'worse'}) in "
                  f"{pruned_secs / unpruned_secs:.0%} of the time; given the unpruned search's wall time, the "
                  f"pruned search ran {len(t_longer)} trials and reached {_best(t_longer):.3f}.")
    note = "\n\n".join([
        verdict, prune_line,
        f"Per-trial means (pruned, one worker): random phase {rand_mean:.1f} s, TPE phase {tpe_mean:.1f} s; the "
        f"projection weights them {FULL_RANDOM}:{FULL_TPE}. {WORKERS} worker processes on one SQLite study ran "
        f"{len(t_two)} trials in {_span(t_two):.0f} s from the first trial's start to the last one's end, "
        f"{two_secs:.0f} s with their start-up: a {speedup:.2f}x speed-up in trials per second over one worker. Inputs: ES sample bars {DATA_START} to {DATA_END} ({data_secs:.0f} s to generate and extract), "
        f"ibs_a parameters, {len(inputs.search.features)} candidate features, default search settings (CPCV 6 "
        "groups / 2 test groups / 1 % embargo, 100 trades per path at least). 'CPCV Sharpe' is the best finished "
        "trial's out-of-sample mean path Sharpe; the hold-out columns are the selected forest saved as a bundle "
        "and run as the step's filter on 2022-2024 (unfiltered -> filtered).",
        "**Scaling.** A trial costs its 15 forest fits (each grows with trees x rows sampled x features tried); "
        "a pruned trial stops after 4 or 8 of them. Trials spread over workers through the shared storage "
        "(SQLite on one machine, a server database across machines), so wall time falls with cores until the "
        "storage's write lock or the TPE model (it grows with the finished trials) dominates; pairs are "
        "independent and scale out with `train-all` on a Dask cluster.",
    ])
    table = markdown_table(["search (ES 2010-2021, default settings)", "trials", "pruned", "wall s", "trials/min",
                            "best CPCV Sharpe", "hold-out Sharpe", "hold-out trades"], rows)
    return section("ML search: trials per minute, projected full search, pruning", table, note)


if __name__ == "__main__":
    from _common import format_section

    print(format_section(run()))
