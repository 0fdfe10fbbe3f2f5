"""Training many pairs: a Dask cluster, local workers, reruns, failures."""

from __future__ import annotations

import dataclasses

import optuna
import pytest
from distributed import LocalCluster
from multialpha.research.ml.batch import slots_per_pair, train_pairs
from multialpha.research.ml.study import open_storage

from multialpha.models import load_model_bundle

from .conftest import TINY, MakeSpec


def test_slots_per_pair_spreads_workers_over_few_pairs_and_gives_many_pairs_one_each() -> None:
    assert slots_per_pair(4, 1) == 4
    assert slots_per_pair(4, 3) == 1
    assert slots_per_pair(2, 20) == 1
    assert slots_per_pair(1, 0) == 1


def test_train_all_on_a_dask_local_cluster_shares_one_study_and_publishes(make_spec: MakeSpec) -> None:
    spec = make_spec("ES")
    # Workers in this process (no interpreter start-up to wait for), reached over TCP on
    # 127.0.0.1 like remote ones: tasks and results go through Dask's serialisation.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        [outcome] = train_pairs([spec], scheduler=cluster.scheduler_address)

    assert outcome.status == "trained", outcome.message
    assert load_model_bundle("ES", spec.bundle_dir).meta["Search"]["Trials"]["finished"] >= TINY.trials
    study = optuna.load_study(study_name=spec.study_name(), storage=open_storage(spec.storage))
    finished = [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE,
                                                       optuna.trial.TrialState.PRUNED)]
    assert len(finished) >= TINY.trials
    assert {t.user_attrs["run"] for t in finished} == {finished[0].user_attrs["run"]}  # one run, two slots


def test_rerun_skips_finished_pairs_and_leaves_their_bundles(make_spec: MakeSpec) -> None:
    spec = make_spec("CL")
    [first] = train_pairs([spec])
    assert first.status == "trained"
    stamp = (spec.bundle_dir / "CL_best.json").stat().st_mtime_ns

    [again] = train_pairs([spec])
    assert again.status == "skipped" and again.json_path == spec.bundle_dir / "CL_best.json"
    assert (spec.bundle_dir / "CL_best.json").stat().st_mtime_ns == stamp

    more = dataclasses.replace(spec, settings=dataclasses.replace(TINY, tpe_trials=TINY.tpe_trials + 2))
    assert more.study_name() == spec.study_name()  # more trials extend the same study
    [extended] = train_pairs([more])
    assert extended.status == "trained"
    assert extended.result is not None and extended.result.trials["finished"] == TINY.trials + 2


@pytest.mark.parametrize("change", [{"seed": 6}, {"min_trades": 25}])
def test_study_name_changes_with_what_trial_values_depend_on(make_spec: MakeSpec, change: dict) -> None:
    spec = make_spec("ES")
    other = dataclasses.replace(spec, settings=dataclasses.replace(TINY, **change))
    assert other.study_name() != spec.study_name()
