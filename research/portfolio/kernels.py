"""The compiled portfolio simulation: the coordinator's rules over precomputed arrays.

Same decisions, in the same order, as the exact simulator (the daemon's step and coordinator),
on integer micro-dollars so that a daily stop fires on exactly the same P&L (the coordinator
keeps exact decimals). Scopes are the strategies ``0..NS-1`` and the account ``NS``; limits of
-1 mean none. See ``fast.py`` for the arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

MICRO = 1_000_000  # micro-dollars per USD
_REAL, _UNREAL = 0, 1


@njit(cache=True, inline="always")
def _may_stop(st, acct, money, stopped, stop_u):  # pragma: no cover
    """Whether a stop of ``st`` or the account could fire now (the cheap test before the full one)."""
    return ((stop_u[st] >= 0 and not stopped[st] and money[st, 0] + money[st, 1] <= -stop_u[st])
            or (stop_u[acct] >= 0 and not stopped[acct] and money[acct, 0] + money[acct, 1] <= -stop_u[acct]))


@njit(cache=True)
def _check_stops(st, row, money, stopped, stop_u, counters, s_day, s_scope, s_row, day, record):  # pragma: no cover
    acct = stopped.shape[0] - 1
    for scope in (st, acct):
        limit = stop_u[scope]
        if limit < 0 or stopped[scope]:
            continue
        if money[scope, _REAL] + money[scope, _UNREAL] <= -limit:
            stopped[scope] = True
            n = counters[1]
            if record:
                s_day[n] = day
                s_scope[n] = scope
                s_row[n] = row
            counters[1] = n + 1


@njit(cache=True)
def _close(k, price, reason, row, day, inst_strat, inst_sym, strat_account, pos_open, pos_cand, ref, unreal,
           entry_px, pvq, comm, money, count, held, closed_by, stopped, pending, stop_u, last_exit, counters,
           record, t_inst, t_cand, t_exit_row, t_exit_px, t_pnl, t_reason,
           s_day, s_scope, s_row):  # pragma: no cover
    st = inst_strat[k]
    acct = count.shape[0] - 1
    c = pos_cand[k]
    today = np.int64(np.rint((price - ref[k]) * pvq[k])) - comm[k]
    net = np.int64(np.rint((price - entry_px[k]) * pvq[k])) - 2 * comm[k]
    for scope in (st, acct):
        money[scope, _REAL] += today
        money[scope, _UNREAL] -= unreal[k]
        count[scope] -= 1
    unreal[k] = 0
    a = strat_account[st]
    if a >= 0:
        held[a, inst_sym[k]] -= 1
        closed_by[a, inst_sym[k], 0] = row
        closed_by[a, inst_sym[k], 1] = st
    pos_open[k] = False
    last_exit[k] = row
    n = counters[0]
    if record:
        t_inst[n] = k
        t_cand[n] = c
        t_exit_row[n] = row
        t_exit_px[n] = price
        t_pnl[n] = net
        t_reason[n] = reason
    counters[0] = n + 1
    for scope in (st, acct):
        if pending[scope] and count[scope] == 0:
            pending[scope] = False
    _check_stops(st, row, money, stopped, stop_u, counters, s_day, s_scope, s_row, day, record)


@njit(cache=True)
def _insert(open_list, n_open, k):  # pragma: no cover
    """Add instrument ``k`` to the sorted open list; returns the new length."""
    i = n_open
    while i > 0 and open_list[i - 1] > k:
        open_list[i] = open_list[i - 1]
        i -= 1
    open_list[i] = k
    return n_open + 1


@njit(cache=True)
def _remove(open_list, n_open, k):  # pragma: no cover
    """Take instrument ``k`` out of the sorted open list; returns the new length."""
    i = 0
    while open_list[i] != k:
        i += 1
    while i < n_open - 1:
        open_list[i] = open_list[i + 1]
        i += 1
    return n_open - 1


@njit(cache=True)
def simulate_kernel(r0, r1, day_idx, close, inst_sym, inst_strat, active, strat_account, max_pos, stop_u,
                    c_inst, row_start, row_cand, c_exit_row, c_reason, pvq, comm, stop_reason,
                    daily_out, record, t_inst, t_cand, t_exit_row, t_exit_px, t_pnl, t_reason,
                    s_day, s_scope, s_row, pos_count, open_cand):  # pragma: no cover
    """Trade rows ``[r0, r1)``; daily P&L (micro-dollars) into ``daily_out``. Returns
    ``counters``: [trades closed, daily stops]. ``open_cand`` gets, per instrument, the
    candidate still open at the end (-1 when flat).

    Candidates entering at row ``r`` are ``row_cand[row_start[r]:row_start[r + 1]]``, in
    instrument (evaluation) order. At each bar time only the instruments that can act are
    visited, in evaluation order: those in a position and those with a candidate entry; an
    instrument without either does nothing in the daemon either.
    """
    n_inst = inst_sym.shape[0]
    n_scope = max_pos.shape[0]
    acct = n_scope - 1
    n_accounts = 1
    for s in range(strat_account.shape[0]):
        if strat_account[s] + 1 > n_accounts:
            n_accounts = strat_account[s] + 1
    held = np.zeros((n_accounts, close.shape[1]), dtype=np.int64)
    closed_by = np.full((n_accounts, close.shape[1], 2), -1, dtype=np.int64)  # last exit: row, strategy
    pos_open = np.zeros(n_inst, dtype=np.bool_)
    pos_cand = np.full(n_inst, -1, dtype=np.int64)
    entry_px = np.zeros(n_inst)
    ref = np.zeros(n_inst)
    mark = np.zeros(n_inst)
    unreal = np.zeros(n_inst, dtype=np.int64)
    last_close = np.full(n_inst, np.nan)
    last_exit = np.full(n_inst, -1, dtype=np.int64)
    money = np.zeros((n_scope, 2), dtype=np.int64)
    count = np.zeros(n_scope, dtype=np.int64)
    stopped = np.zeros(n_scope, dtype=np.bool_)
    pending = np.zeros(n_scope, dtype=np.bool_)
    counters = np.zeros(2, dtype=np.int64)
    open_list = np.empty(n_inst + 1, dtype=np.int64)
    n_open = 0
    todo = np.empty(2 * n_inst + 1, dtype=np.int64)
    todo_c = np.empty(2 * n_inst + 1, dtype=np.int64)
    beyond = n_inst  # sorts after every instrument
    base = day_idx[r0]
    cur = base
    for row in range(r0, r1):
        day = day_idx[row]
        if day != cur:
            daily_out[cur - base] = money[acct, _REAL] + money[acct, _UNREAL]
            for scope in range(n_scope):
                money[scope, _REAL] = 0
                money[scope, _UNREAL] = 0
                pending[scope] = (stopped[scope] or pending[scope]) and count[scope] > 0
                stopped[scope] = False
            for i in range(n_open):
                k = open_list[i]
                ref[k] = mark[k]
                unreal[k] = 0
            cur = day
        # the instruments that can act at this bar time, in evaluation order
        n_todo = 0
        i = 0
        j = row_start[row]
        j_end = row_start[row + 1]
        while i < n_open or j < j_end:
            kc = beyond
            c = -1
            if j < j_end:
                c = row_cand[j]
                kc = c_inst[c]
                if not active[kc]:
                    j += 1
                    continue
            ko = open_list[i] if i < n_open else beyond
            if ko < kc:
                todo[n_todo] = ko
                todo_c[n_todo] = -1
                i += 1
            else:
                todo[n_todo] = kc
                todo_c[n_todo] = c
                j += 1
                if ko == kc:
                    i += 1
            n_todo += 1
        for t in range(n_todo):
            k = todo[t]
            px = close[row, inst_sym[k]]
            if math.isnan(px):
                continue
            last_close[k] = px
            st = inst_strat[k]
            if pos_open[k]:
                mark[k] = px
                u = np.int64(np.rint((px - ref[k]) * pvq[k]))
                money[st, _UNREAL] += u - unreal[k]
                money[acct, _UNREAL] += u - unreal[k]
                unreal[k] = u
                if _may_stop(st, acct, money, stopped, stop_u):
                    _check_stops(st, row, money, stopped, stop_u, counters, s_day, s_scope, s_row, day - base,
                                 record)
                c = pos_cand[k]
                if stopped[st] or pending[st] or stopped[acct] or pending[acct]:
                    _close(k, px, stop_reason, row, day - base, inst_strat, inst_sym, strat_account, pos_open,
                           pos_cand, ref, unreal, entry_px, pvq, comm, money, count, held, closed_by, stopped, pending,
                           stop_u, last_exit, counters, record, t_inst, t_cand, t_exit_row, t_exit_px, t_pnl,
                           t_reason, s_day, s_scope, s_row)
                    n_open = _remove(open_list, n_open, k)
                elif c_exit_row[c] <= row:
                    _close(k, px, c_reason[c], row, day - base, inst_strat, inst_sym, strat_account,
                           pos_open, pos_cand, ref, unreal, entry_px, pvq, comm, money, count, held, closed_by, stopped,
                           pending, stop_u, last_exit, counters, record, t_inst, t_cand, t_exit_row, t_exit_px,
                           t_pnl, t_reason, s_day, s_scope, s_row)
                    n_open = _remove(open_list, n_open, k)
                continue
            c = todo_c[t]
            if c < 0 or last_exit[k] >= row:
                continue
            if stopped[acct] or pending[acct] or stopped[st] or pending[st]:
                continue
            a = strat_account[st]
            if a >= 0 and held[a, inst_sym[k]] > 0:
                continue  # another strategy on the broker account holds the symbol
            if a >= 0 and closed_by[a, inst_sym[k], 0] == row and closed_by[a, inst_sym[k], 1] != st:
                continue  # or closed it at this bar time
            if max_pos[st] >= 0 and count[st] >= max_pos[st]:
                continue
            if max_pos[acct] >= 0 and count[acct] >= max_pos[acct]:
                continue
            pos_open[k] = True
            pos_cand[k] = c
            entry_px[k] = px
            ref[k] = px
            mark[k] = px
            unreal[k] = 0
            for scope in (st, acct):
                money[scope, _REAL] -= comm[k]
                count[scope] += 1
            if a >= 0:
                held[a, inst_sym[k]] += 1
            n_open = _insert(open_list, n_open, k)
            _check_stops(st, row, money, stopped, stop_u, counters, s_day, s_scope, s_row, day - base, record)
        if n_open > 0:  # the flatten sweep, in evaluation order
            n_todo = n_open
            for i in range(n_open):
                todo[i] = open_list[i]
            for t in range(n_todo):
                k = todo[t]
                st = inst_strat[k]
                if pos_open[k] and (stopped[st] or pending[st] or stopped[acct] or pending[acct]):
                    _close(k, last_close[k], stop_reason, row, day - base, inst_strat, inst_sym, strat_account,
                           pos_open, pos_cand, ref, unreal, entry_px, pvq, comm, money, count, held, closed_by, stopped,
                           pending, stop_u, last_exit, counters, record, t_inst, t_cand, t_exit_row, t_exit_px,
                           t_pnl, t_reason, s_day, s_scope, s_row)
                    n_open = _remove(open_list, n_open, k)
        if record:
            pos_count[row - r0] = count[acct]
    daily_out[cur - base] = money[acct, _REAL] + money[acct, _UNREAL]
    for i in range(n_inst):
        open_cand[i] = pos_cand[i] if pos_open[i] else -1
    return counters


# -- metrics of a daily P&L series (the same conventions as multialpha.research.stats) --------------
N_SCORES = 9
SHARPE, SORTINO, NET, CAGR, MAX_DD_USD, MAX_DD_FRACTION, BREACHES, TRADES, STOPS = range(N_SCORES)


@njit(cache=True)
def daily_scores(pnl, capital, breach_level, days_per_year, out):  # pragma: no cover
    """Sharpe, Sortino, net, CAGR, max drawdown (USD, fraction of peak), breach events of ``pnl``."""
    n = pnl.shape[0]
    total = 0.0
    for i in range(n):
        total += pnl[i]
    mean = total / n
    ss = 0.0
    down = 0.0
    for i in range(n):
        ss += (pnl[i] - mean) ** 2
        if pnl[i] < 0:
            down += pnl[i] ** 2
    sd = math.sqrt(ss / (n - 1)) if n > 1 else 0.0
    out[SHARPE] = mean / sd * math.sqrt(days_per_year) if sd > 0 else np.nan
    dd = math.sqrt(down / n)
    if dd > 0:
        out[SORTINO] = mean / dd * math.sqrt(days_per_year)
    else:
        out[SORTINO] = np.inf if mean > 0 else np.nan
    out[NET] = total
    final = capital + total
    out[CAGR] = (final / capital) ** (days_per_year / n) - 1.0 if final > 0 else -1.0
    equity = 0.0
    peak = 0.0
    trough = 0.0
    worst_usd = 0.0
    worst_frac = 0.0
    in_episode = False
    breaches = 0
    for i in range(n):
        equity += pnl[i]
        fall = peak - equity
        if fall > worst_usd:
            worst_usd = fall
        if fall / (capital + peak) > worst_frac:
            worst_frac = fall / (capital + peak)
        if in_episode:
            if equity >= peak:
                if peak - trough > breach_level:
                    breaches += 1
                in_episode = False
            elif equity < trough:
                trough = equity
        elif equity < peak:
            in_episode = True
            trough = equity
        if not in_episode and equity >= peak:
            peak = equity
    if in_episode and peak - trough > breach_level:
        breaches += 1
    out[MAX_DD_USD] = worst_usd
    out[MAX_DD_FRACTION] = worst_frac
    out[BREACHES] = breaches


@njit(cache=True, parallel=True)
def score_many(masks, r0, r1, n_days, day_idx, close, inst_sym, inst_strat, strat_account, max_pos, stop_u,
               c_inst, row_start, row_cand, c_exit_row, c_reason, pvq, comm, stop_reason,
               capital, breach_level, days_per_year):  # pragma: no cover
    """``daily_scores`` of each row of ``masks`` (which instruments trade), plus trades and stops."""
    n = masks.shape[0]
    out = np.empty((n, N_SCORES))
    empty_i = np.zeros(0, dtype=np.int64)
    empty_f = np.zeros(0)
    for i in prange(n):
        daily = np.zeros(n_days, dtype=np.int64)
        still = np.zeros(masks.shape[1], dtype=np.int64)
        counters = simulate_kernel(r0, r1, day_idx, close, inst_sym, inst_strat, masks[i], strat_account, max_pos,
                                   stop_u, c_inst, row_start, row_cand, c_exit_row, c_reason,
                                   pvq, comm, stop_reason, daily, False, empty_i, empty_i, empty_i, empty_f,
                                   empty_i, empty_i, empty_i, empty_i, empty_i, empty_i, still)
        usd = daily.astype(np.float64) / MICRO
        daily_scores(usd, capital, breach_level, days_per_year, out[i])
        out[i, TRADES] = counters[0]
        out[i, STOPS] = counters[1]
    return out
