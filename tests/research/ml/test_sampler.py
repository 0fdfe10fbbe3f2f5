"""Random then TPE: the phase by position, reproducible draws, resumed studies that go on."""

from __future__ import annotations

import optuna
from multialpha.research.ml.sampler import RandomThenTpeSampler, trial_seed
from optuna.samplers import RandomSampler, TPESampler
from optuna.trial import TrialState


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -3, 3)
    y = trial.suggest_int("y", 1, 20, log=True)
    return -(x - 1) ** 2 - (y - 4) ** 2


def _study(n_random: int, seed: int, storage: optuna.storages.BaseStorage | None = None) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", sampler=RandomThenTpeSampler(n_random, seed),
                               storage=storage, study_name="s", load_if_exists=True)


class _Recorder(RandomThenTpeSampler):
    """Records which sampler each trial got (a recording fake at the edge of Optuna)."""

    def __init__(self, n_random: int, seed: int) -> None:
        super().__init__(n_random, seed)
        self.kinds: list[str] = []

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        super().before_trial(study, trial)
        kind = self._current[trial.number]
        self.kinds.append("random" if isinstance(kind, RandomSampler) else
                          "tpe" if isinstance(kind, TPESampler) else "?")


def test_first_n_random_trials_then_tpe() -> None:
    sampler = _Recorder(4, seed=1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_objective, n_trials=7)
    assert sampler.kinds == ["random"] * 4 + ["tpe"] * 3


def test_same_seed_same_trials_and_another_seed_other_trials() -> None:
    a, b, c = _study(3, 7), _study(3, 7), _study(3, 8)
    for s in (a, b, c):
        s.optimize(_objective, n_trials=6)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.params for t in a.trials] != [t.params for t in c.trials]


def test_resumed_study_when_interrupted_then_continues_like_an_uninterrupted_one() -> None:
    storage = optuna.storages.InMemoryStorage()
    first = _study(3, 7, storage)
    first.optimize(_objective, n_trials=2)
    resumed = _study(3, 7, storage)  # a new process: a new sampler object, the same storage
    resumed.optimize(_objective, n_trials=4)
    straight = _study(3, 7)
    straight.optimize(_objective, n_trials=6)
    assert [t.params for t in resumed.trials] == [t.params for t in straight.trials]


def test_failed_trials_do_not_take_a_position() -> None:
    def sometimes_fails(trial: optuna.Trial) -> float:
        value = _objective(trial)
        if trial.number == 1:
            raise ValueError("a worker crashed")
        return value

    study = _study(2, 7)
    study.optimize(sometimes_fails, n_trials=4, catch=(ValueError,))
    straight = _study(2, 7)
    straight.optimize(_objective, n_trials=3)
    kept = [t.params for t in study.trials if t.state is TrialState.COMPLETE]
    assert kept[0] == straight.trials[0].params and kept[1] == straight.trials[1].params


def test_trial_seed_differs_by_position_and_by_study_seed() -> None:
    seeds = {trial_seed(s, p) for s in (1, 2) for p in range(50)}
    assert len(seeds) == 100
