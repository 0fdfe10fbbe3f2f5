"""Optuna studies: where they are stored, how they are named, and running trials into them.

A study lives in an Optuna storage named by a SQLAlchemy URL: a SQLite file by default
(``sqlite:////abs/path/studies.sqlite3``), or a server database such as
``postgresql://user@host/db`` that every machine of a cluster reaches, so that many workers
add trials to one study. A study is created on first use and loaded afterwards
(``load_if_exists``): a run that was interrupted, or a rerun, goes on with the trials already
stored. Trials send a heartbeat; one whose process died is marked failed once its heartbeat
is older than the grace period, and never counts as finished.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
from multialpha.research.errors import ResearchError
from multialpha.research.ml.sampler import RandomThenTpeSampler
from multialpha.research.ml.settings import SearchSettings
from optuna.storages import BaseStorage, InMemoryStorage, RDBStorage
from optuna.trial import FrozenTrial, TrialState

from multialpha.config import redact_url

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
HEARTBEAT_SECS = 30
GRACE_SECS = 120
SQLITE_TIMEOUT_SECS = 60  # wait this long for another process's write lock


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file (absolute, so every worker finds the same file)."""
    return f"sqlite:///{Path(path).resolve()}"


def shown_storage(url: str | None) -> str:
    """The storage URL fit to print or record: any password replaced by ``***``."""
    if url is None:
        return "memory"
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: show only what cannot be a secret
        return redact_url(url)


_OPENED: dict[str, BaseStorage] = {}  # one engine per URL and process: opening one checks the schema
_OPENING = threading.Lock()


_MEMORY = InMemoryStorage()  # url None: studies kept in this process only


def open_storage(url: str | None) -> BaseStorage:
    """The storage at ``url`` (tables created on first use; opened once per process); this
    process's in-memory storage when None."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if url is None:
        return _MEMORY
    with _OPENING:
        if url not in _OPENED:
            _OPENED[url] = _open_rdb(url)
        return _OPENED[url]


def _open_rdb(url: str) -> BaseStorage:
    engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_SECS}} if url.startswith("sqlite") else {}
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_SECS,
                              grace_period=GRACE_SECS)
    except Exception as exc:  # SQLAlchemy and driver errors have no common base worth naming
        raise ResearchError(f"cannot open the study storage {shown_storage(url)}: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}") from None


def load_study(storage: BaseStorage, name: str, settings: SearchSettings) -> optuna.Study:
    """The study ``name`` (created if new), with the sampler and pruner of ``settings``."""
    pruner: optuna.pruners.BasePruner = (
        optuna.pruners.SuccessiveHalvingPruner(min_resource=settings.pruner_min_folds,
                                               reduction_factor=settings.pruner_reduction)
        if settings.prune else optuna.pruners.NopPruner())
    return optuna.create_study(storage=storage, study_name=name, direction="maximize", load_if_exists=True,
                               sampler=RandomThenTpeSampler(settings.random_trials, settings.seed), pruner=pruner)


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    return study.get_trials(deepcopy=False, states=FINISHED)


def run_trials(study: optuna.Study, objective: Callable[[optuna.Trial], float], target: int) -> int:
    """Run trials until the study holds ``target`` finished trials (other workers' included);
    returns how many it holds then. Safe to call from many processes on one study."""
    done = len(finished_trials(study))
    if done < target:
        stop = optuna.study.MaxTrialsCallback(target, states=FINISHED)
        study.optimize(objective, n_trials=target - done, callbacks=[stop])
    return len(finished_trials(study))


def run_shared_study(url: str, name: str, settings: SearchSettings, objective: Callable[[optuna.Trial], float],
                     target: int) -> int:
    """``run_trials`` on the study ``name`` at ``url``: what one of many worker processes sharing
    a study runs (all its arguments pickle)."""
    return run_trials(load_study(open_storage(url), name, settings), objective, target)


def wait_for_running(study: optuna.Study, run_id: str, *, poll_secs: float = 0.5) -> None:
    """Wait until no trial started by run ``run_id`` (this run's other workers) is running.

    Trials of a dead worker end as failed once their heartbeat is stale, so the wait ends.
    """
    while True:
        running = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                   if t.user_attrs.get("run") == run_id]
        if not running:
            return
        optuna.storages.fail_stale_trials(study)  # a no-op for storages without heartbeats
        time.sleep(poll_secs)
