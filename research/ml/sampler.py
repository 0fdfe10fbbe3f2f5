"""Random trials, then TPE: one sampler, seeded per trial so studies are reproducible and shareable.

A trial's *position* is the number of earlier trials of the study (lower trial number) that
did not fail. Positions below ``n_random`` draw uniformly at random; the others draw from a
multivariate TPE model of every finished trial (pruned trials included, as TPE does), with a
constant liar so that workers sharing the study do not all propose the same point.

Each trial gets a fresh sampler seeded from ``(seed, position)``. So one process running a
study from scratch always draws the same trials, a study resumed after an interruption goes on
where it stopped instead of repeating its first draws (a fresh ``RandomSampler(seed)`` would
restart its sequence), and workers sharing a study through its storage draw different points
(trials running at the same time have different positions).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler, TPESampler
from optuna.trial import FrozenTrial, TrialState

_COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


def trial_seed(seed: int, position: int) -> int:
    """A 32-bit seed for the trial at ``position`` of a study seeded with ``seed``."""
    return int(np.random.SeedSequence([seed, position]).generate_state(1)[0])


class RandomThenTpeSampler(BaseSampler):
    """``n_random`` random trials, then TPE (see the module docstring)."""

    def __init__(self, n_random: int, seed: int) -> None:
        self.n_random = n_random
        self.seed = seed
        self._current: dict[int, BaseSampler] = {}

    def position(self, study: optuna.Study, trial: FrozenTrial) -> int:
        earlier = study.get_trials(deepcopy=False, states=_COUNTED)
        return sum(1 for t in earlier if t.number < trial.number)

    def is_random(self, position: int) -> bool:
        return position < self.n_random

    def _sampler(self, trial: FrozenTrial) -> BaseSampler:
        return self._current[trial.number]

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        position = self.position(study, trial)
        seed = trial_seed(self.seed, position)
        sampler: BaseSampler
        if self.is_random(position):
            sampler = RandomSampler(seed=seed)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = TPESampler(seed=seed, n_startup_trials=0, multivariate=True, constant_liar=True)
        self._current[trial.number] = sampler
        sampler.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._sampler(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return self._sampler(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._sampler(trial).sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        sampler = self._current.pop(trial.number, None)
        if sampler is not None:
            sampler.after_trial(study, trial, state, values)
