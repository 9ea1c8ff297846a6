"""What the gate runs: every table suite and metric check, in report order."""

from __future__ import annotations

from expectations.base import MetricCheck, TableSuite
from expectations.marts import area_daily_loss
from expectations.raw import e_mp_day_read, quarantine

TABLE_SUITES: tuple[TableSuite, ...] = (
    area_daily_loss.SUITE,
    e_mp_day_read.SUITE,
)

METRIC_CHECKS: tuple[MetricCheck, ...] = (
    *area_daily_loss.METRIC_CHECKS,
    *e_mp_day_read.METRIC_CHECKS,
    *quarantine.METRIC_CHECKS,
)
