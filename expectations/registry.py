"""What the gate runs: every table suite and metric check, in report order, in two gates.

* `raw`: the landing contract's suites and the raw metric checks (truncated export,
  referential integrity, snapshot duplicates, quarantine). Runs after the extract, on the
  raw assets' own blocking asset checks: a failure stops dbt and the publish, and shows on
  the raw table that failed.
* `marts`: the marts' suites and metric checks. Runs after dbt, on the marts' blocking
  asset checks, in front of the publish.
"""

from __future__ import annotations

from expectations.base import MetricCheck, TableSuite
from expectations.marts import area_daily_loss, kpis, problems, theft_suspects, work_orders
from expectations.raw import contract, e_mp_day_read, quarantine

MART_TABLE_SUITES: tuple[TableSuite, ...] = (
    area_daily_loss.SUITE,
    *problems.SUITES,
    *kpis.SUITES,
    theft_suspects.SUITE,
    *work_orders.SUITES,
)
MART_METRIC_CHECKS: tuple[MetricCheck, ...] = (
    *area_daily_loss.METRIC_CHECKS,
    *problems.METRIC_CHECKS,
    *theft_suspects.METRIC_CHECKS,
    *work_orders.METRIC_CHECKS,
)

RAW_TABLE_SUITES: tuple[TableSuite, ...] = contract.SUITES  # every raw table of the contract
RAW_METRIC_CHECKS: tuple[MetricCheck, ...] = (
    *e_mp_day_read.METRIC_CHECKS,
    *contract.METRIC_CHECKS,
    *quarantine.METRIC_CHECKS,
)

GATES: dict[str, tuple[tuple[TableSuite, ...], tuple[MetricCheck, ...]]] = {
    "raw": (RAW_TABLE_SUITES, RAW_METRIC_CHECKS),
    "marts": (MART_TABLE_SUITES, MART_METRIC_CHECKS),
}

TABLE_SUITES: tuple[TableSuite, ...] = (*MART_TABLE_SUITES, *RAW_TABLE_SUITES)
METRIC_CHECKS: tuple[MetricCheck, ...] = (*MART_METRIC_CHECKS, *RAW_METRIC_CHECKS)
