"""Vendor data into the project's hourly bar files (``multialpha-research import-bars``)."""

from multialpha.research.data.bar_length import BarLength, parse_bar_length
from multialpha.research.data.columns import parse_column_map
from multialpha.research.data.importer import ImportOptions, import_bars
from multialpha.research.data.report import ImportReport
from multialpha.research.data.timestamps import TimeRules

__all__ = ["BarLength", "ImportOptions", "ImportReport", "TimeRules", "import_bars", "parse_bar_length",
           "parse_column_map"]
