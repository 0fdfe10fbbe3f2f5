"""Decision latency inside the running daemon: bar arrival to the order committed in the outbox,
and to the webhook POST done (by its webhook's background sender).

The repo's config (ibs_a and ibs_b, 10 symbols each) replays deterministic sample bars with demo
bundles trained into a temp dir by the demo's own functions, against a local webhook sink. For
every order the arrival time of the bar group that produced it (``inbox.current.arrived_ns``,
stamped by the hub when it releases the bar time) is read by an ``on_routed`` observer, which
runs inside the router's submit, so the worker is still on that group; an ``on_delivered``
observer adds when the POST was done and an ``on_committed`` one when the decision's
transaction (the outbox row with its fill) committed. Baseline, measured in the same run: the same replay with every
bundle scoring through scikit-learn's ``predict_proba`` at ``n_jobs=-1``.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from _common import Timing, markdown_table, ratio, section, time_calls
from _daemon_setup import (
    CONFIG,
    CONTRACTS,
    DATA_END,
    DATA_START,
    REFERENCES,
    SEED,
    TRAIN_END,
    Inputs,
    prepare_inputs,
    sink_process,
    variant,
)

from multialpha.calendar import trading_day
from multialpha.config import load_app_config
from multialpha.contracts import load_contracts
from multialpha.domain import OrderStatus
from multialpha.execution.router import Routed
from multialpha.execution.sender import Delivered
from multialpha.execution.sink import read_sink_log
from multialpha.features import REQUIRED_HISTORY_BARS, FeatureBook
from multialpha.feeds.replay_files import load_symbols
from multialpha.models import ModelBundle, SklearnProbability, load_model_bundle
from multialpha.runner import MultiAlphaRunner, RunOptions
from multialpha.runner.demo import demo_environment
from multialpha.runner.worker import StrategyWorker

REPLAY_START, REPLAY_END = date(2024, 7, 1), date(2024, 8, 30)  # two months after the training period
BASELINE_END = date(2024, 7, 14)  # sklearn scores a row in tens of ms: its replay is the first two weeks
TARGET_P99_US = 2000.0
WINDOW = f"{REPLAY_START:%b %d}-{BASELINE_END:%b %d %Y}"
FEATURE_CALLS, SCORE_CALLS, SKLEARN_CALLS = 600, 3000, 30
DISK_CALLS = 1000


class Sample(NamedTuple):
    """One order: which worker, what, for which bar time, and its perf_counter_ns stamps."""

    strategy: str
    action: str
    intent_id: str
    seq: int
    day: date  # CME trading day of the bar time
    arrived_ns: int
    outbox_ns: int
    done_ns: int
    at_strategy_ns: int  # when the bar reached the strategy that decided
    submitted_ns: int  # when that strategy handed the intent to the router (decided)

    @property
    def to_outbox_ns(self) -> int:
        return self.outbox_ns - self.arrived_ns

    @property
    def strategy_to_outbox_ns(self) -> int:
        return self.outbox_ns - self.at_strategy_ns

    @property
    def deciding_ns(self) -> int:
        return self.submitted_ns - self.at_strategy_ns

    @property
    def commit_ns(self) -> int:
        return self.outbox_ns - self.submitted_ns

    @property
    def strategy_to_done_ns(self) -> int:
        return self.done_ns - self.at_strategy_ns

    @property
    def to_done_ns(self) -> int:
        return self.done_ns - self.arrived_ns


class LatencyLog:
    """``on_routed`` observer: pairs each order with the arrival time of the group that made it;
    ``delivered`` completes it with the commit (the sender reading the row) and the POST."""

    def __init__(self) -> None:
        self.runner: MultiAlphaRunner | None = None
        self._routed: dict[str, tuple[Routed, int, int]] = {}
        self._committed: dict[str, int] = {}
        self._delivered: dict[str, Delivered] = {}
        self.problems: list[str] = []

    def __call__(self, routed: Routed) -> None:
        if getattr(routed, "replayed", False):
            return
        intent = routed.intent
        assert self.runner is not None
        group = next(w for w in self.runner.workers if w.name == intent.strategy).inbox.current
        if group is None or group.close_time != intent.signal_time:
            self.problems.append(f"{intent.intent_id}: not the worker's current bar group")
            return
        self._routed[intent.intent_id] = (routed, group.seq, group.arrived_ns)

    def committed(self, routed: Routed) -> None:
        self._committed[routed.intent.intent_id] = routed.committed_ns

    def delivered(self, done: Delivered) -> None:
        if done.row.status is not OrderStatus.SENT:
            self.problems.append(f"{done.row.intent_id}: {done.row.status}")
        self._delivered[done.row.intent_id] = done

    @property
    def samples(self) -> list[Sample]:
        out = []
        for intent_id, (routed, seq, arrived_ns) in self._routed.items():
            done, committed_ns = self._delivered.get(intent_id), self._committed.get(intent_id)
            if done is None or committed_ns is None:
                continue
            intent = routed.intent
            out.append(Sample(intent.strategy, intent.action.value, intent_id, seq, trading_day(intent.signal_time),
                              arrived_ns, committed_ns, done.done_ns, routed.arrival_ns or arrived_ns,
                              routed.submitted_ns or routed.outbox_ns))
        return out


class SklearnRunner(MultiAlphaRunner):
    """The daemon with every bundle scoring through ``predict_proba`` at ``n_jobs=-1``."""

    def prepare(self, *, held: bool = False) -> list[StrategyWorker]:
        ready = super().prepare(held=held)
        for worker in ready:
            for step in worker.steps.values():
                if isinstance(step.model, ModelBundle):
                    step.model = sklearn_bundle(step.model, n_jobs=-1)
        return ready


def sklearn_bundle(bundle: ModelBundle, n_jobs: int) -> ModelBundle:
    estimator = copy.copy(bundle.model)  # shallow: the same fitted trees, its own n_jobs
    predictor = SklearnProbability(estimator, len(bundle.features))  # sets n_jobs=1 ...
    estimator.n_jobs = n_jobs  # ... so set the wanted value after it
    predictor.score(np.zeros(len(bundle.features)))
    return dataclasses.replace(bundle, predictor=predictor)


def latency_configs(inputs: Inputs) -> dict[str, Path]:
    """The repo config and two smaller variants (how latency scales with the work per bar time)."""
    first = [p.symbol for p in inputs.pairs if p.strategy == "ibs_a"]
    return {
        "2 strategies x 10 symbols": CONFIG,
        "1 strategy x 10 symbols": variant(inputs.root / "one_strategy.yml", {"ibs_a": first}),
        "1 strategy x 5 symbols": variant(inputs.root / "five_symbols.yml", {"ibs_a": first[:5]}),
    }


def replay(inputs: Inputs, config: Path, name: str, end: date,
           runner_class: type[MultiAlphaRunner] = MultiAlphaRunner) -> tuple[list[Sample], float]:
    """One replay into a fresh local sink and state file; the orders' samples and wall seconds."""
    workdir = inputs.root / "runs" / name
    (workdir / "state").mkdir(parents=True)
    log = LatencyLog()
    # The sink stands in for the broker's endpoint, whose storage is not the daemon's disk: its
    # log goes to memory (tmpfs) when there is one, so its fsyncs do not queue with the store's.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="bench_sink_", dir=shm if shm.is_dir() else workdir) as sink_dir, \
            sink_process(Path(sink_dir) / "webhooks.jsonl") as url:
        env = demo_environment(config, workdir, url)
        env.update(MULTIALPHA_DATA=str(inputs.data), MULTIALPHA_MODELS=str(inputs.models),
                   MULTIALPHA_STATE=str(workdir / "state" / "multialpha.sqlite"))
        runner = runner_class(load_app_config(config, env=env), options=RunOptions(start=REPLAY_START, end=end),
                              on_routed=log, on_delivered=log.delivered, on_committed=log.committed)
        log.runner = runner
        report = runner.run()
        received = len(read_sink_log(Path(sink_dir) / "webhooks.jsonl"))
    if report.failed or log.problems:
        raise RuntimeError(f"replay {name}: failed={report.failed} problems={log.problems[:3]}")
    if received != len(log.samples) or not log.samples:
        raise RuntimeError(f"replay {name}: {len(log.samples)} orders routed, {received} received by the sink")
    return log.samples, report.wall_secs


def disk_fsync(directory: Path, calls: int = DISK_CALLS) -> Timing:
    """The disk's own floor under the outbox commit: one 4 KiB overwrite + fdatasync per call, in
    ``directory`` (where the replays' state files were), paced like orders rather than back to back."""
    path = directory / "fsync_probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"\0" * 4096 * 64)
        os.fsync(fd)
        samples = np.empty(calls, dtype=np.int64)
        for i in range(calls):
            os.lseek(fd, 4096 * (i % 64), os.SEEK_SET)
            t0 = time.perf_counter_ns()
            os.write(fd, b"x" * 4096)
            os.fdatasync(fd)
            samples[i] = time.perf_counter_ns() - t0
            time.sleep(0.001)
    finally:
        os.close(fd)
        path.unlink()
    return Timing.of(samples)


def timing(samples: Sequence[Sample], key: Callable[[Sample], int]) -> Timing:
    return Timing.of(np.array([key(s) for s in samples], dtype=np.int64))


def outbox(s: Sample) -> int:
    return s.to_outbox_ns


def done(s: Sample) -> int:
    return s.to_done_ns


def at_strategy_outbox(s: Sample) -> int:
    return s.strategy_to_outbox_ns


def at_strategy_done(s: Sample) -> int:
    return s.strategy_to_done_ns


def post(s: Sample) -> int:
    return s.done_ns - s.outbox_ns


def first_in_step(samples: Sequence[Sample]) -> set[str]:
    """Intent ids of the first order each worker routed for a bar time."""
    seen: set[tuple[str, int]] = set()
    first = set()
    for s in samples:
        if (s.strategy, s.seq) not in seen:
            seen.add((s.strategy, s.seq))
            first.add(s.intent_id)
    return first


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_decision_") as tmp:
        inputs, setup_secs = prepare_inputs(Path(tmp))
        configs = latency_configs(inputs)
        main_cfg = configs["2 strategies x 10 symbols"]
        compiled, compiled_secs = replay(inputs, main_cfg, "compiled", REPLAY_END)
        baseline, baseline_secs = replay(inputs, main_cfg, "sklearn", BASELINE_END, SklearnRunner)
        scaled = {label: replay(inputs, cfg, label.replace(" ", "_"), BASELINE_END)[0]
                  for label, cfg in configs.items() if cfg != main_cfg}
        stages = stage_timings(inputs)
        disk = disk_fsync(Path(tmp))

    same = [s for s in compiled if s.day <= BASELINE_END]
    same_orders = {s.intent_id for s in same} == {s.intent_id for s in baseline}
    full_out, full_done = timing(compiled, outbox), timing(compiled, done)
    c_out, c_done = timing(same, outbox), timing(same, done)
    b_out, b_done = timing(baseline, outbox), timing(baseline, done)

    def line(name: str, n: int, t_out: Timing, t_done: Timing) -> list[Any]:
        return [name, n, t_out.p50_us, t_out.p99_us, t_done.p50_us, t_done.p99_us]

    s_full, s_full_done = timing(compiled, at_strategy_outbox), timing(compiled, at_strategy_done)
    s_c, s_c_done = timing(same, at_strategy_outbox), timing(same, at_strategy_done)
    s_b, s_b_done = timing(baseline, at_strategy_outbox), timing(baseline, at_strategy_done)
    strategy_table = markdown_table(
        ["from the bar reaching its strategy", "orders", "to outbox p50 us", "to outbox p99 us",
         "to POST done p50 us", "to POST done p99 us"],
        [line(f"compiled forest, {REPLAY_START:%b}-{REPLAY_END:%b %Y}", len(compiled), s_full, s_full_done),
         line(f"compiled forest, {WINDOW} only", len(same), s_c, s_c_done),
         line(f"sklearn predict_proba n_jobs=-1, {WINDOW} (baseline)", len(baseline), s_b, s_b_done),
         ["baseline / compiled, same orders", "", ratio(s_b.p50_us, s_c.p50_us), ratio(s_b.p99_us, s_c.p99_us),
          ratio(s_b_done.p50_us, s_c_done.p50_us), ratio(s_b_done.p99_us, s_c_done.p99_us)]])
    table = markdown_table(
        ["from the hub releasing the bar time", "orders", "to outbox p50 us",
         "to outbox p99 us", "to POST done p50 us", "to POST done p99 us"],
        [line(f"compiled forest, {REPLAY_START:%b}-{REPLAY_END:%b %Y}", len(compiled), full_out, full_done),
         line(f"compiled forest, {WINDOW} only", len(same), c_out, c_done),
         line(f"sklearn predict_proba n_jobs=-1, {WINDOW} (baseline)", len(baseline), b_out, b_done),
         ["baseline / compiled, same orders", "", ratio(b_out.p50_us, c_out.p50_us), ratio(b_out.p99_us, c_out.p99_us),
          ratio(b_done.p50_us, c_done.p50_us), ratio(b_done.p99_us, c_done.p99_us)]])
    t_decide, t_commit = timing(compiled, lambda x: x.deciding_ns), timing(compiled, lambda x: x.commit_ns)
    split_table = markdown_table(
        [f"from the bar reaching its strategy, compiled forest, {REPLAY_START:%b}-{REPLAY_END:%b %Y}", "orders",
         "p50 us", "p99 us"],
        [["deciding: rules, features, forest, coordinator, the intent", len(compiled), t_decide.p50_us,
          t_decide.p99_us],
         ["the outbox row and the fill, committed together (one SQLite WAL transaction; its sender fsyncs the WAL before the POST)",
          len(compiled), t_commit.p50_us, t_commit.p99_us],
         ["both: to the outbox", len(compiled), s_full.p50_us, s_full.p99_us],
         ["the disk alone, same run: a 4 KiB write + fdatasync, no SQLite", disk.calls, disk.p50_us, disk.p99_us]])

    def verdict_of(us: float) -> str:
        return "met" if us <= TARGET_P99_US else "MISSED"

    verdict = (f"Target: p99 <= {TARGET_P99_US / 1e3:.0f} ms from a bar reaching a strategy to its order in the "
               "outbox, compiled forest. Handed to the outbox (the decision: rules, features, forest, "
               f"coordinator, intent): {verdict_of(t_decide.p99_us)}, p99 {t_decide.p99_us / 1e3:,.2f} ms "
               f"(p50 {t_decide.p50_us / 1e3:,.2f} ms). Committed in the outbox as well (one SQLite WAL "
               f"transaction, handed to the operating system; the sender fsyncs it before the POST, so the "
               f"decision does not wait for the disk): {verdict_of(s_full.p99_us)} in this run, p99 "
               f"{s_full.p99_us / 1e3:,.2f} ms (p50 {s_full.p50_us / 1e3:,.2f} ms); the commit alone takes p50 "
               f"{t_commit.p50_us:,.0f} us, p99 {t_commit.p99_us:,.0f} us, its tail set by the senders' threads "
               f"and the store lock they share, not the disk, which alone (one 4 KiB write + fdatasync, same "
               f"run) takes p50 {disk.p50_us:,.0f} us, p99 {disk.p99_us:,.0f} us and is paid on the way to "
               f"the POST. "
               f"Against sklearn at n_jobs=-1 over the same {len(same)} orders, to the commit: p50 "
               f"{ratio(s_b.p50_us, s_c.p50_us)}, p99 {ratio(s_b.p99_us, s_c.p99_us)} faster "
               f"({'the same orders in both replays' if same_orders else 'NOT the same orders'}). "
               f"From the hub releasing the bar time (which adds the instruments and workers stepped before "
               f"the deciding strategy, and their commits) p50 is {full_out.p50_us / 1e3:,.1f} ms and p99 "
               f"{full_out.p99_us / 1e3:,.1f} ms.")
    print(verdict)
    note = "\n\n".join([
        verdict,
        "**The strategy's own path**, split at the hand-over to the router:\n\n" + split_table,
        f"**Where the time goes.** Per order, from the whole compiled replay ({REPLAY_START} to {REPLAY_END}):\n\n"
        + breakdown_table(compiled),
        "Per signal, measured on their own in the same run (the strategy's own calls):\n\n" + stages.table,
        stages.reading(compiled),
        "**Scaling.** Latency does not grow with years of data: features update in O(1) per bar "
        f"and the forest is fixed, so {stages.history_line} Month by month in "
        f"the compiled replay: {by_month(compiled)}. It grows with the work queued ahead of an order in "
        "its bar time: the other instruments' features and commits in the same worker step, and every "
        "worker the hub steps before it (workers take a bar time one after the other). Trees cost about "
        "trees x depth in the compiled kernel (see the forest benchmark), a few microseconds at the demo's "
        "150 trees x depth 6, so they do not matter next to the features. Measured over "
        f"{WINDOW} with the compiled forest (with under 100 orders, p99 is close to the single slowest order, "
        "often a bar time where a daily stop flattens several positions at once):\n\n"
        + scaling_table(same, scaled),
        f"Inputs: sample bars {DATA_START} to {DATA_END} (seed {SEED}); demo bundles trained on data before "
        f"{TRAIN_END} (setup {setup_secs:.0f} s, once per run, in a temp dir); replays start at {REPLAY_START} "
        f"after 500 warm-up bar times; the local sink (`multialpha webhook-sink`) runs in its own process on 127.0.0.1, as a remote "
        "endpoint would, and fsyncs every request to a log in memory (tmpfs) when the machine has one, "
        "since the endpoint's storage is not the daemon's disk. "
        f"Replay wall time: compiled {compiled_secs:.0f} s ({REPLAY_START} to {REPLAY_END}), sklearn baseline "
        f"{baseline_secs:.0f} s ({WINDOW}). Other processes shared the 2 cores during the run (see the load "
        "average above); p99 figures move by tens of percent from run to run.",
    ])
    return section("Decision latency in the daemon: bar arrival to outbox and to POST done",
                   strategy_table + "\n\n" + table, note)


def breakdown_table(samples: Sequence[Sample]) -> str:
    first = first_in_step(samples)
    groups = [
        ("entries (features + forest + coordinator)", [s for s in samples if s.action == "buy"]),
        ("exits (rules only)", [s for s in samples if s.action != "buy"]),
        ("ibs_a (stepped first by the hub)", [s for s in samples if s.strategy == "ibs_a"]),
        ("ibs_b (waits for ibs_a's whole step)", [s for s in samples if s.strategy == "ibs_b"]),
        ("ibs_a, first order of its bar time", [s for s in samples if s.strategy == "ibs_a" and s.intent_id in first]),
        ("ibs_a, first order of its bar time, an exit (no features)",
         [s for s in samples if s.strategy == "ibs_a" and s.intent_id in first and s.action != "buy"]),
        ("any worker, an order after another in the same step", [s for s in samples if s.intent_id not in first]),
    ]
    rows = []
    for name, part in groups:
        if part:
            t = timing(part, outbox)
            rows.append([name, len(part), t.p50_us, t.p99_us])
    p = timing(samples, post)
    rows.append(["the POST alone (outbox to done), every order", len(samples), p.p50_us, p.p99_us])
    return markdown_table(["orders", "count", "to outbox p50 us", "to outbox p99 us"], rows)


def scaling_table(both: Sequence[Sample], scaled: dict[str, list[Sample]]) -> str:
    rows = []
    for label, samples in [("2 strategies x 10 symbols", list(both)), *scaled.items()][::-1]:
        t_out, t_done = timing(samples, outbox), timing(samples, done)
        a = [s for s in samples if s.strategy == "ibs_a"]
        ta = timing(a, outbox)
        rows.append([label, len(samples), t_out.p50_us, t_out.p99_us, t_done.p99_us, ta.p50_us, ta.p99_us])
    return markdown_table(["config", "orders", "to outbox p50 us", "to outbox p99 us", "to POST done p99 us",
                           "ibs_a orders p50 us", "ibs_a orders p99 us"], rows)


def by_month(samples: Sequence[Sample]) -> str:
    parts = []
    for month in sorted({s.day.month for s in samples}):
        t = timing([s for s in samples if s.day.month == month], outbox)
        parts.append(f"{date(2000, month, 1):%B}: p50 {t.p50_us / 1e3:.1f} ms, p99 {t.p99_us / 1e3:.1f} ms")
    return "; ".join(parts)


class Stages(NamedTuple):
    table: str
    features: Timing
    compiled: Timing
    sklearn_all: Timing
    history_line: str

    def reading(self, samples: Sequence[Sample]) -> str:
        first = first_in_step(samples)

        def p50_ms(keep: Callable[[Sample], bool]) -> float:
            return timing([x for x in samples if keep(x)], outbox).p50_us / 1e3

        floor = p50_ms(lambda x: x.strategy == "ibs_a" and x.intent_id in first and x.action != "buy")
        entry = p50_ms(lambda x: x.strategy == "ibs_a" and x.intent_id in first and x.action == "buy")
        queued = p50_ms(lambda x: x.intent_id not in first)
        a, b = p50_ms(lambda x: x.strategy == "ibs_a"), p50_ms(lambda x: x.strategy == "ibs_b")
        posted = timing(samples, post).p50_us / 1e3
        return (f"Reading the two tables together (p50s): the first exit ibs_a sends in a bar time reaches the "
                f"outbox after {floor:.1f} ms, the daemon's floor: the hub hands the bar time over, Backtrader "
                f"steps every feed and the strategies ahead of it, the exit rules run and the outbox row is "
                f"committed. A first entry takes {entry:.1f} ms: the floor plus one feature row "
                f"({self.features.p50_us:.1f} us) and the compiled forest's score ({self.compiled.p50_us:.1f} us), "
                "both negligible next to the outbox commit and Backtrader's step. An order behind "
                f"another in the same step waits {queued:.1f} ms, because each earlier order's commit "
                f"runs inside the step, while its fsync and POST ({posted:.1f} ms here) runs on the webhook's sender "
                "thread and delays no decision; and ibs_b's orders wait "
                f"{b:.1f} ms against ibs_a's {a:.1f} ms, because the hub steps the workers one after the other. "
                f"sklearn at n_jobs=-1 adds {self.sklearn_all.p50_us / 1e3:.0f} ms per signal scored, and "
                "every order queued behind that signal pays it too.")


def stage_timings(inputs: Inputs) -> Stages:
    """The feature row and the score as ``IbsStrategy._consider_entry`` gets them, on ES in ibs_a."""
    symbols = ["ES", *REFERENCES]
    contracts = load_contracts(CONTRACTS)
    ticks = {s: contracts[s].tick_size for s in symbols}
    negative = {s for s in symbols if contracts[s].allows_negative_prices}
    bars = load_symbols(inputs.data, symbols, tick_sizes=ticks, negative_prices=negative)
    bundle = load_model_bundle("ES", inputs.models / "ibs_a")
    names = bundle.features
    book = FeatureBook(ticks, negative)
    events = sorted((int(b.ts[i]), s, i) for s, b in bars.items() for i in range(len(b)))
    update_ns: list[int] = []
    row_ns: list[int] = []
    rows_: list[np.ndarray] = []
    seen_es = 0
    for ts, sym, i in events:
        b = bars[sym]
        t0 = time.perf_counter_ns()
        book.update(sym, ts, float(b.open[i]), float(b.high[i]), float(b.low[i]), float(b.close[i]),
                    float(b.volume[i]))
        update_ns.append(time.perf_counter_ns() - t0)
        if sym == "ES":
            seen_es += 1
            if seen_es > REQUIRED_HISTORY_BARS and seen_es % 5 == 0:
                t0 = time.perf_counter_ns()
                rows_.append(book.row("ES", names))
                row_ns.append(time.perf_counter_ns() - t0)
    upd, features = Timing.of(np.asarray(update_ns[len(update_ns) // 2:])), Timing.of(np.asarray(row_ns))
    early = Timing.of(np.asarray(update_ns[:len(update_ns) // 10]))
    finite = [r for r in rows_ if np.all(np.isfinite(r))][:400]
    compiled = time_calls(bundle.score, finite, calls=SCORE_CALLS)
    one = time_calls(sklearn_bundle(bundle, 1).score, finite, calls=SKLEARN_CALLS)
    every = time_calls(sklearn_bundle(bundle, -1).score, finite, calls=SKLEARN_CALLS)
    table = markdown_table(
        ["per bar / per signal (ES, 29 features, 150 trees x depth 6)", "calls", "p50 us", "p99 us"],
        [["feature update, every bar of every symbol (O(1))", upd.calls, upd.p50_us, upd.p99_us],
         ["feature row for a signal (+ ZB, VX cross features)", features.calls, features.p50_us, features.p99_us],
         ["score, compiled forest", compiled.calls, compiled.p50_us, compiled.p99_us],
         ["score, sklearn predict_proba n_jobs=1", one.calls, one.p50_us, one.p99_us],
         ["score, sklearn predict_proba n_jobs=-1", every.calls, every.p50_us, every.p99_us]])
    history = (f"a feature update costs {early.p50_us:.1f} us at p50 over the first tenth of "
               f"{len(events):,} updates and {upd.p50_us:.1f} us over the second half.")
    return Stages(table, features, compiled, every, history)


if __name__ == "__main__":
    from _common import format_section

    print(format_section(run()))
