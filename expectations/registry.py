"""What the gate runs: every table suite and metric check, in report order."""

from __future__ import annotations

from expectations.base import MetricCheck, TableSuite
from expectations.marts import area_daily_loss, kpis, problems, theft_suspects
from expectations.raw import contract, e_mp_day_read, quarantine

TABLE_SUITES: tuple[TableSuite, ...] = (
    area_daily_loss.SUITE,
    *problems.SUITES,
    *kpis.SUITES,
    theft_suspects.SUITE,
    *contract.SUITES,  # every raw table of the landing contract (E_MP_DAY_READ included)
)

METRIC_CHECKS: tuple[MetricCheck, ...] = (
    *area_daily_loss.METRIC_CHECKS,
    *problems.METRIC_CHECKS,
    *theft_suspects.METRIC_CHECKS,
    *e_mp_day_read.METRIC_CHECKS,
    *contract.METRIC_CHECKS,
    *quarantine.METRIC_CHECKS,
)
