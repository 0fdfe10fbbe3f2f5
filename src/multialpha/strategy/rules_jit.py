"""The rules of ``rules.py``, compiled by numba from the very same source.

Each function is re-bound to globals in which its sibling rules are the compiled ones, so
research loops over whole arrays with exactly the code the live strategy runs per bar.
"""

from __future__ import annotations

import types
from typing import Any

from numba import njit

from multialpha.strategy import rules


def _compile(fn: Any, deps: dict[str, Any]) -> Any:
    glb = dict(fn.__globals__)
    glb.update(deps)
    clone = types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)
    return njit(cache=False)(clone)


in_window = _compile(rules.in_window, {})
ticks = _compile(rules.ticks, {})
ibs_value = _compile(rules.ibs_value, {"ticks": ticks})
entry_signal = _compile(rules.entry_signal, {"in_window": in_window})
stop_price = _compile(rules.stop_price, {})
take_profit_price = _compile(rules.take_profit_price, {})
exit_code = _compile(rules.exit_code, {})
