"""The Backtrader data feed fed by a worker's inbox."""

from __future__ import annotations

import backtrader as bt

from multialpha.feeds.inbox import Inbox


class InboxFeed(bt.feed.DataBase):
    """One symbol's bars from the hub. ``_load`` returns None when this symbol has no bar
    at the current bar time (the strategy then sees its last value), False at the end."""

    params = (("inbox", None), ("symbol", ""))

    def _load(self) -> bool | None:
        inbox: Inbox = self.p.inbox
        bar = inbox.take(self.p.symbol)
        if bar is False:
            return False
        if bar is None:
            return None
        group = inbox.current
        assert group is not None and not isinstance(bar, bool)
        # Backtrader keeps naive datetimes; ours are the bar close in UTC.
        self.lines.datetime[0] = bt.date2num(group.close_time.replace(tzinfo=None))
        self.lines.open[0] = bar.open
        self.lines.high[0] = bar.high
        self.lines.low[0] = bar.low
        self.lines.close[0] = bar.close
        self.lines.volume[0] = bar.volume
        self.lines.openinterest[0] = 0.0
        return True

